from tongban.core.models.organizations import Organization, OrganizationKind, UtilitySector
from tongban.core.models.regions import Region, RegionLevel

__all__ = ["Organization", "OrganizationKind", "Region", "RegionLevel", "UtilitySector"]
