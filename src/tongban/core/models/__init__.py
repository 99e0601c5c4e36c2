from tongban.core.models.audit import AuditAction, AuditRecord, AuditResult
from tongban.core.models.calendar import DayKind, HolidaySchedule, LocalHoliday, ScheduleDay
from tongban.core.models.notices import Notice
from tongban.core.models.organizations import Organization, OrganizationKind, UtilitySector
from tongban.core.models.regions import Region, RegionLevel

__all__ = [
    "AuditAction",
    "AuditRecord",
    "AuditResult",
    "DayKind",
    "HolidaySchedule",
    "LocalHoliday",
    "Notice",
    "Organization",
    "OrganizationKind",
    "Region",
    "RegionLevel",
    "ScheduleDay",
    "UtilitySector",
]
