"""A small, realistic catalog for portal, API and browser tests (built with the shared factories).

``build_catalog()`` makes Ordos (鄂尔多斯市) with two counties, themes for persons and companies,
and a handful of guides; the marriage registration guide (婚姻登记) has two situations that
decide its materials:

- 户籍: 本市户籍 / 外地户籍 — 外地户籍 needs 户口簿 of the other place … (one situation)
- 是否再婚: 初婚 / 再婚 — 再婚 needs 离婚证或配偶死亡证明
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.files.base import ContentFile

from tests.catalog.factories import (
    ImplementationFactory,
    ItemFactory,
    LocationFactory,
    MaterialFactory,
    ProcessStepFactory,
    ServiceHoursFactory,
    SituationFactory,
    SituationOptionFactory,
    ThemeFactory,
)
from tests.core.factories import OrganizationFactory, RegionFactory
from tongban.catalog.models import (
    Fee,
    Implementation,
    ImplementationStatus,
    Intermediary,
    MaterialForm,
    MaterialMedium,
    MaterialSource,
    Necessity,
    OnlineDepth,
    Question,
    TimeUnit,
)
from tongban.catalog.search import reindex_items
from tongban.core.models import RegionLevel

MARRIAGE = "11150602MB0000001A000001"
BUSINESS = "11150600MB0000002B000001"
KANGBASHI_ID_CARD = "11150603MB0000003C000001"


@dataclass
class Catalog:
    marriage: Implementation
    business: Implementation
    kangbashi: Implementation
    draft: Implementation
    options: dict[str, int] = field(default_factory=dict)
    situations: dict[str, int] = field(default_factory=dict)
    materials: dict[str, int] = field(default_factory=dict)


def build_catalog() -> Catalog:
    province = RegionFactory(province=True)
    ordos = RegionFactory(code="150600", name="鄂尔多斯市", level=RegionLevel.CITY, parent=province)
    dongsheng = RegionFactory(dongsheng=True, parent=ordos)
    kangbashi = RegionFactory(
        code="150603", name="康巴什区", level=RegionLevel.COUNTY, parent=ordos
    )

    civil = OrganizationFactory(
        name="东胜区民政局", region=dongsheng, address="东胜区鄂尔多斯西街1号"
    )
    market = OrganizationFactory(name="鄂尔多斯市市场监督管理局", region=ordos)
    police = OrganizationFactory(name="康巴什区公安分局", region=kangbashi)

    marriage_theme = ThemeFactory(code="hunyin", name="婚姻", audience="1", icon="💍", order=4)
    ThemeFactory(code="shengyu", name="生育", audience="1", icon="👶", order=1)
    ThemeFactory(code="ruxue", name="入学", audience="1", icon="🎒", order=2)
    ThemeFactory(code="jiuye", name="就业", audience="1", icon="💼", order=3)
    ThemeFactory(code="tuixiu", name="退休", audience="1", icon="🧓", order=5)
    business_theme = ThemeFactory(code="kaiban", name="开办企业", audience="2", icon="🏢", order=1)
    ThemeFactory(code="gongcheng", name="工程建设", audience="2", icon="🏗", order=2)

    marriage_item = ItemFactory(
        code="1506000001",
        name="内地居民婚姻登记",
        item_type="07",
        legal_basis="《婚姻登记条例》第四条",
        level="4",
        audiences="1",
        keywords="结婚 领证",
        popularity=900,
    )
    marriage_item.themes.add(marriage_theme)
    business_item = ItemFactory(
        code="1506000002",
        name="企业设立登记",
        legal_basis="《中华人民共和国市场主体登记管理条例》",
        audiences="2",
        keywords="营业执照 开公司",
        popularity=700,
    )
    business_item.themes.add(business_theme)
    id_item = ItemFactory(
        code="1506000003",
        name="居民身份证换领",
        item_type="20",
        audiences="1",
        legal_basis="《中华人民共和国居民身份证法》",
        popularity=500,
    )
    draft_item = ItemFactory(code="1506000004", name="草稿中的婚姻证明事项", popularity=10)

    marriage = ImplementationFactory(
        item=marriage_item,
        organization=civil,
        code=MARRIAGE,
        online_depth=OnlineDepth.VERIFIED,
        visits_required=1,
        is_instant=True,
        statutory_limit=1,
        promised_limit=0,
        handle_at_window=True,
        supports_appointment=True,
        conditions="男女双方自愿结婚，达到法定婚龄，双方均无配偶。",
        result_name="结婚证",
        consultation_phone="0477-8321234",
        complaint_phone="0477-12345",
        popularity=300,
    )
    LocationFactory(implementation=marriage, name="东胜区婚姻登记处", room="二楼", window="3号窗口")
    ServiceHoursFactory(implementation=marriage)
    ProcessStepFactory(implementation=marriage, order=1, name="申请与受理", result="受理")
    ProcessStepFactory(implementation=marriage, order=2, name="审查与登记", result="颁发结婚证")
    Fee.objects.create(
        implementation=marriage,
        name="结婚证工本费",
        standard="9元/本",
        basis="《国家发展改革委 财政部关于收取婚姻登记证书工本费的通知》",
    )
    marriage.charges_fee = True
    Intermediary.objects.create(
        implementation=marriage,
        name="婚前医学检查",
        basis="《母婴保健法》第七条",
        is_special_step=True,
    )
    Question.objects.create(
        implementation=marriage,
        question="可以在外地登记吗？",
        answer="内地居民可在一方户籍地登记。",
    )
    marriage.save()

    residence = SituationFactory(implementation=marriage, question="申请人户籍", order=1)
    local = SituationOptionFactory(situation=residence, label="本市户籍", order=1)
    other = SituationOptionFactory(situation=residence, label="外地户籍", order=2)
    remarriage = SituationFactory(implementation=marriage, question="是否再婚", order=2)
    first = SituationOptionFactory(situation=remarriage, label="初婚", order=1)
    again = SituationOptionFactory(situation=remarriage, label="再婚", order=2)

    id_card = MaterialFactory(implementation=marriage, name="居民身份证", order=1)
    hukou = MaterialFactory(
        implementation=marriage,
        name="居民户口簿",
        issuer="户籍所在地公安派出所",
        order=2,
        form=MaterialForm.ORIGINAL,
        copies=0,
    )
    residence_proof = MaterialFactory(
        implementation=marriage,
        name="外地户籍居住证明",
        source=MaterialSource.APPLICANT,
        issuer="居住地社区",
        order=3,
        necessity=Necessity.REQUIRED,
    )
    residence_proof.conditions.add(other)
    divorce = MaterialFactory(
        implementation=marriage,
        name="离婚证或配偶死亡证明",
        issuer="民政部门或医疗机构",
        order=4,
        medium=MaterialMedium.PAPER,
    )
    divorce.conditions.add(again)
    declaration = MaterialFactory(
        implementation=marriage,
        name="申请结婚登记声明书",
        source=MaterialSource.ONLINE_FORM,
        issuer="",
        order=5,
        needs_filling=True,
        originals=1,
        copies=0,
        form=MaterialForm.ORIGINAL,
    )
    declaration.blank_form.save("declaration.pdf", ContentFile(b"%PDF-1.4 blank"), save=False)
    declaration.sample_form.save(
        "declaration-sample.pdf", ContentFile(b"%PDF-1.4 sample"), save=False
    )
    declaration.save()

    business = ImplementationFactory(
        item=business_item,
        organization=market,
        code=BUSINESS,
        complete=True,
        popularity=200,
        supports_express=True,
        deliver_by_express=True,
    )
    kangbashi_impl = ImplementationFactory(
        item=id_item,
        organization=police,
        code=KANGBASHI_ID_CARD,
        complete=True,
        online_depth=OnlineDepth.PREREVIEW,
        visits_required=2,
        promised_unit=TimeUnit.NATURAL_DAYS,
        promised_limit=15,
        popularity=150,
    )
    draft = ImplementationFactory(
        item=draft_item,
        organization=civil,
        status=ImplementationStatus.DRAFT,
        effective_from=dt.date(2026, 1, 1),
    )
    reindex_items()
    return Catalog(
        marriage=marriage,
        business=business,
        kangbashi=kangbashi_impl,
        draft=draft,
        options={"local": local.id, "other": other.id, "first": first.id, "again": again.id},
        situations={"residence": residence.id, "remarriage": remarriage.id},
        materials={
            "id_card": id_card.id,
            "hukou": hukou.id,
            "residence_proof": residence_proof.id,
            "divorce": divorce.id,
            "declaration": declaration.id,
        },
    )
