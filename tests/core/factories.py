"""Factories for core data: regions and organizations with valid identifiers."""

import itertools

import factory

from tongban.core.identifiers import organization_code_check_char, uscc_check_char
from tongban.core.models import Organization, OrganizationKind, Region, RegionLevel

_serial = itertools.count(1)


def make_uscc(region_code: str = "150600", authority: str = "1", category: str = "1") -> str:
    """A fresh, valid unified social credit code (inner organization code valid too)."""
    n = next(_serial)
    org8 = f"{n:08d}"
    inner = org8 + organization_code_check_char(org8)
    first17 = authority + category + region_code[:6] + inner
    return first17 + uscc_check_char(first17)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "150600"
    name = "鄂尔多斯市"
    level = RegionLevel.CITY

    class Params:
        province = factory.Trait(code="150000", name="内蒙古自治区", level=RegionLevel.PROVINCE)
        dongsheng = factory.Trait(code="150602", name="东胜区", level=RegionLevel.COUNTY)
        erenhot = factory.Trait(code="152501", name="二连浩特市", level=RegionLevel.COUNTY)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"鄂尔多斯市测试局{n}")
    uscc = factory.LazyAttribute(lambda o: make_uscc(o.region.code))
    kind = OrganizationKind.ORGAN
    region = factory.SubFactory(RegionFactory)
    phone = "0477-8581234"
