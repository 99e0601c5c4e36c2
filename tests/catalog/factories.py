"""Factories for the catalog. ``ImplementationFactory(complete=True)`` builds a guide that passes
every rule of the guide audit; traits name the states tests need."""

import datetime as dt

import factory

from tests.core.factories import OrganizationFactory, RegionFactory
from tongban.catalog.models import (
    Implementation,
    ImplementationStatus,
    Item,
    ItemType,
    Location,
    Material,
    MaterialForm,
    MaterialMedium,
    MaterialSource,
    Necessity,
    OnlineDepth,
    ProcessStep,
    ServiceHours,
    Situation,
    SituationOption,
    Theme,
    TimeUnit,
)


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"theme-{n}")
    name = factory.Sequence(lambda n: f"主题{n}")
    audience = "1"


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    code = factory.Sequence(lambda n: f"1506{n:06d}")
    name = factory.Sequence(lambda n: f"测试事项{n}")
    item_type = ItemType.LICENSING
    legal_basis = "《中华人民共和国行政许可法》第二十九条"
    level = "3"
    audiences = "1"


class ImplementationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Implementation

    item = factory.SubFactory(ItemFactory)
    organization = factory.SubFactory(OrganizationFactory)
    region = factory.LazyAttribute(lambda o: o.organization.region)
    code = factory.Sequence(lambda n: f"11150600MB0000000X{n:06d}")
    statutory_limit = 20
    statutory_unit = TimeUnit.WORKING_DAYS
    promised_limit = 5
    promised_unit = TimeUnit.WORKING_DAYS
    online_depth = OnlineDepth.FULLY_ONLINE
    visits_required = 0
    handle_on_pc = True
    handle_on_mobile = True
    conditions = "申请人符合法定条件。"
    result_name = "准予许可决定书"
    consultation_phone = "0477-12345"
    complaint_phone = "0477-12345"
    status = ImplementationStatus.ACTIVE
    effective_from = dt.date(2026, 1, 1)

    class Params:
        draft = factory.Trait(status=ImplementationStatus.DRAFT)
        instant = factory.Trait(is_instant=True, promised_limit=0, statutory_limit=1)
        complete = factory.Trait(
            locations=factory.RelatedFactory(
                "tests.catalog.factories.LocationFactory", factory_related_name="implementation"
            ),
            hours=factory.RelatedFactory(
                "tests.catalog.factories.ServiceHoursFactory", factory_related_name="implementation"
            ),
            steps=factory.RelatedFactory(
                "tests.catalog.factories.ProcessStepFactory", factory_related_name="implementation"
            ),
            materials=factory.RelatedFactory(
                "tests.catalog.factories.MaterialFactory", factory_related_name="implementation"
            ),
        )


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    implementation = factory.SubFactory(ImplementationFactory)
    name = "东胜区政务服务中心"
    street = "鄂尔多斯西街"
    number = "1号"
    room = "一楼大厅"
    window = "8号窗口"


class ServiceHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceHours

    implementation = factory.SubFactory(ImplementationFactory)
    weekday_from = 1
    weekday_to = 5
    opens = dt.time(9, 0)
    closes = dt.time(17, 0)
    note = "法定节假日除外"


class ProcessStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProcessStep

    implementation = factory.SubFactory(ImplementationFactory)
    order = factory.Sequence(lambda n: n + 1)
    name = "受理"
    actor = "窗口工作人员"
    time_limit = 1
    time_unit = TimeUnit.WORKING_DAYS
    standard = "材料齐全、符合法定形式"
    result = "受理通知书"


class MaterialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Material

    implementation = factory.SubFactory(ImplementationFactory)
    name = "居民身份证"
    source = MaterialSource.GOVERNMENT
    issuer = "公安机关"
    originals = 1
    copies = 1
    form = MaterialForm.BOTH
    medium = MaterialMedium.PAPER
    necessity = Necessity.REQUIRED


class SituationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Situation

    implementation = factory.SubFactory(ImplementationFactory)
    question = "申请人是否为本市户籍？"


class SituationOptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SituationOption

    situation = factory.SubFactory(SituationFactory)
    label = "是"


__all__ = ["OrganizationFactory", "RegionFactory"]
