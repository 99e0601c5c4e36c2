"""The demo data: complete guides by seed 001 rows 12–24, loaded idempotently."""

import json
import shutil
from collections import Counter

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import override_settings

from tongban.catalog import demo
from tongban.catalog.demo import DemoDataError, demo_uscc, load_demo, read_demo_data
from tongban.catalog.models import (
    Implementation,
    ImplementationStatus,
    Item,
    ItemTranslation,
    Material,
    MaterialMedium,
    Necessity,
    OnlineDepth,
    PowerListEntry,
    ProcessStep,
    Situation,
    Synonym,
    Theme,
)
from tongban.catalog.models.choices import MAX_VISITS_FOR_DEPTH, ON_APPLICATION_POWER_TYPES
from tongban.core.identifiers import IdentifierError, validate_uscc
from tongban.core.models import Organization, OrganizationKind, Region

ORDOS_CHILDREN = {"150602", "150603", "150621", "150622", "150627"}


def counts() -> dict[str, int]:
    return {
        "organizations": Organization.objects.count(),
        "items": Item.objects.count(),
        "implementations": Implementation.objects.count(),
        "themes": Theme.objects.count(),
        "power_entries": PowerListEntry.objects.count(),
        "synonyms": Synonym.objects.count(),
        "translations": ItemTranslation.objects.count(),
        "materials": Material.objects.count(),
        "steps": ProcessStep.objects.count(),
        "situations": Situation.objects.count(),
        "regions": Region.objects.count(),
    }


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("demo-media")


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, media_root):
    """The demo, loaded once for this module inside a transaction rolled back at the end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(MEDIA_ROOT=media_root):
                report = load_demo()
            yield report
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            # Row ids are reused after the rollback: no cached page or stamp may outlive it.
            cache.clear()


@pytest.fixture
def impls(loaded, db):
    return list(
        Implementation.objects.select_related("item", "organization", "region").prefetch_related(
            "locations", "hours", "steps", "materials", "situations__options", "fees"
        )
    )


# --- scale and coverage ------------------------------------------------------------------------


def test_loads_enough_items_and_active_implementations(loaded, impls):
    active = [i for i in impls if i.status == ImplementationStatus.ACTIVE]
    assert loaded.active_implementations == len(active) >= 60
    assert Item.objects.count() >= 20
    assert loaded.created["implementation"] == len(impls)
    assert not loaded.updated
    assert loaded.changed


def test_covers_ordos_banners_districts_and_erenhot(impls):
    codes = {i.region_code for i in impls}
    assert codes >= ORDOS_CHILDREN
    assert {"150600", "152501"} <= codes
    ordos = Region.objects.get(code="150600")
    for code in ORDOS_CHILDREN:
        assert Region.objects.get(code=code).parent_id == ordos.pk
    assert Region.objects.get(code="152501").parent.code == "152500"


def test_high_frequency_services_of_seeds_001_and_003_are_there(impls):
    names = {i.item.name for i in impls}
    for word in (
        "结婚",
        "公积金提取",
        "居住证",
        "护照",
        "不动产",
        "公司设立",
        "入学",
        "健康",
        "社会保障卡",
    ):
        assert any(word in name for name in names), word
    popular = {i.name: i.popularity for i in Item.objects.all()}
    assert popular["住房公积金提取"] > popular["建筑工程施工许可证核发"]
    assert popular["内地居民结婚登记"] > popular["燃气开户（居民及非居民用户）"]


# --- organizations ------------------------------------------------------------------------------


def test_every_organization_has_a_valid_and_plausible_uscc(loaded, db):
    orgs = list(Organization.objects.select_related("region"))
    assert len(orgs) == loaded.total("organization") >= 60
    for org in orgs:
        assert validate_uscc(org.uscc) == org.uscc
        assert org.uscc[2:8] == org.region.code, org.name
        if org.kind == OrganizationKind.ORGAN:
            assert org.uscc.startswith("11"), org.name
        if org.sector:
            assert org.uscc.startswith("91"), org.name
            assert org.uscc[8:10] == "MA", org.name
    assert {o.sector for o in orgs} >= {"water", "power", "gas"}
    assert any(o.uscc.startswith("12") for o in orgs)


def test_demo_uscc_is_deterministic_and_a_bad_code_fails():
    first = demo_uscc(region_code="150602", key="mz", prefix="11")
    assert first == demo_uscc(region_code="150602", key="mz", prefix="11")
    assert first != demo_uscc(region_code="150603", key="mz", prefix="11")
    broken = first[:-1] + ("0" if first[-1] != "0" else "1")
    with pytest.raises(IdentifierError) as caught:
        validate_uscc(broken)
    assert caught.value.reason == "check"


# --- the guide, element by element (seed 001 rows 1–24) ----------------------------------------


def test_depth_and_visits_are_consistent(impls):
    depths = Counter(i.online_depth for i in impls)
    for impl in impls:
        assert impl.online_depth >= OnlineDepth.PREREVIEW, impl.code
        assert impl.visits_required <= MAX_VISITS_FOR_DEPTH[impl.online_depth], impl.code
        assert impl.handle_on_pc or impl.handle_on_mobile, impl.code
        if impl.online_depth == OnlineDepth.FULLY_ONLINE:
            assert impl.deliver_online or impl.deliver_by_express, impl.code
    assert depths[OnlineDepth.FULLY_ONLINE] / len(impls) >= 0.5


def test_time_limits_promised_within_statutory_and_mostly_halved(impls):
    halved = 0
    for impl in impls:
        assert impl.promised_unit == impl.statutory_unit, impl.code
        assert impl.promised_limit <= impl.statutory_limit, impl.code
        assert impl.statutory_limit > 0, impl.code
        assert impl.statutory_note, impl.code
        if impl.is_instant:
            assert impl.promised_limit == 0, impl.code
        halved += impl.promised_limit * 2 <= impl.statutory_limit
        steps = list(impl.steps.all())
        same_unit = [s.time_limit for s in steps if s.time_unit == impl.promised_unit]
        assert sum(same_unit) <= impl.promised_limit, impl.code
    assert halved / len(impls) >= 0.8
    assert sum(i.is_instant for i in impls) / len(impls) >= 0.2


def test_every_location_is_complete_and_hours_phones_are_given(impls):
    for impl in impls:
        locations = list(impl.locations.all())
        assert locations, impl.code
        for location in locations:
            for part in ("name", "street", "number", "room", "window"):
                assert getattr(location, part).strip(), (impl.code, part)
        hours = list(impl.hours.all())
        assert hours, impl.code
        for span in hours:
            assert span.weekday_from <= span.weekday_to
            assert span.opens < span.closes
            assert "法定节假日" in span.note or "春节" in span.note
        assert impl.consultation_phone.startswith(("0477-", "0479-")), impl.code
        assert impl.complaint_phone == "12345"
        assert impl.result_name
        assert impl.conditions
        assert "{" not in impl.conditions


def test_steps_materials_fees_and_intermediaries_are_complete(impls):
    for impl in impls:
        steps = list(impl.steps.all())
        assert steps
        assert [s.order for s in steps] == list(range(1, len(steps) + 1))
        for step in steps:
            assert step.time_limit is not None, impl.code
            assert step.time_unit, impl.code
            assert step.standard.strip()
            assert step.result.strip()
            assert step.name.strip()
        materials = list(impl.materials.all())
        assert materials, impl.code
        for m in materials:
            assert m.issuer.strip(), (impl.code, m.name)
            assert m.form
            assert m.medium
            assert m.necessity
            if m.necessity != Necessity.EXEMPT:
                assert m.originals + m.copies >= 1, (impl.code, m.name)
            if m.medium in (MaterialMedium.PAPER, MaterialMedium.BOTH):
                assert m.originals + m.copies >= 1, (impl.code, m.name)
        fees = list(impl.fees.all())
        assert impl.charges_fee == bool(fees), impl.code
        for fee in fees:
            assert fee.standard
            assert fee.basis
        if impl.has_intermediary:
            assert all(x.basis for x in impl.intermediaries.all())
            assert impl.intermediaries.exists()
    necessities = Counter(m.necessity for i in impls for m in i.materials.all())
    assert necessities[Necessity.DEFERRABLE] >= 10
    assert sum(not i.charges_fee for i in impls) / len(impls) >= 0.7


def test_situations_cover_at_least_30_percent_and_decide_materials(impls):
    with_situations = [i for i in impls if i.situations.exists()]
    assert len(with_situations) / len(impls) >= 0.3
    for impl in with_situations:
        for situation in impl.situations.all():
            options = list(situation.options.all())
            assert len(options) >= 2
            used = Material.objects.filter(conditions__in=options).exists()
            assert used, (impl.code, situation.question)
    marriage = next(i for i in with_situations if i.item.name == "内地居民结婚登记")
    divorce_papers = marriage.materials.get(name__startswith="离婚证")
    assert [o.label for o in divorce_papers.conditions.all()] == ["一方或双方离婚"]
    fund = next(i for i in with_situations if i.item.name == "住房公积金提取")
    reasons = {o.label for o in fund.situations.get().options.all()}
    assert {"购买自住住房", "租赁自住住房", "离休、退休"} <= reasons


def test_forms_to_fill_have_blank_and_sample_files_in_storage(impls, settings, media_root):
    settings.MEDIA_ROOT = media_root
    filled = [m for i in impls for m in i.materials.all() if m.needs_filling]
    assert len(filled) >= len(impls)
    for material in filled:
        assert material.blank_form.name.endswith(".xlsx")
        assert material.sample_form.name.endswith(".pdf")
        assert default_storage.exists(material.blank_form.name), material.blank_form.name
        assert default_storage.exists(material.sample_form.name), material.sample_form.name
    sample = filled[0].sample_form
    with default_storage.open(sample.name) as handle:
        assert handle.read(5) == b"%PDF-"
    with default_storage.open(filled[0].blank_form.name) as handle:
        assert handle.read(2) == b"PK"  # an OOXML (zip) workbook


def test_power_items_are_linked_to_the_power_list(loaded, db):
    for item in Item.objects.prefetch_related("power_entries"):
        if item.item_type in ON_APPLICATION_POWER_TYPES:
            assert item.power_entries.exists(), item.name
    shared = PowerListEntry.objects.get(code="NMQZ-QR-ZR-001")
    assert shared.items.count() == 2  # one entry, two items (seed 001 row 9: many-to-one)


def test_themes_synonyms_and_translations(loaded, db):
    assert Theme.objects.filter(audience="1").count() >= 12
    assert Theme.objects.filter(audience="2").count() >= 8
    assert all(t.icon for t in Theme.objects.all())
    assert "婚姻登记" in Synonym.objects.get(term="结婚").expansions
    assert "护照" in Synonym.objects.get(term="办护照").expansions
    assert Synonym.objects.get(term="开公司").expansions == "企业开办 设立登记"
    top = Item.objects.order_by("-popularity")[:5]
    assert all(ItemTranslation.objects.filter(item=i, language="en").exists() for i in top)


def test_search_documents_are_built_when_search_exists(loaded, db):
    if demo._optional("tongban.catalog.search", "reindex_items") is None:
        pytest.skip("catalog.search not installed")
    assert not Item.objects.filter(search_document="").exists()
    assert loaded.search.startswith("已重建")


def test_no_rule_of_the_guide_audit_fails(impls):
    rules = pytest.importorskip("tongban.catalog.rules")
    findings = [
        (i.code, f.rule.code)
        for i in impls
        for f in rules.check_implementation(i, prefetched=False)
    ]
    assert [f for f in findings if f] == []


# --- idempotency -------------------------------------------------------------------------------


def test_second_run_changes_nothing(loaded, db, settings, media_root):
    settings.MEDIA_ROOT = media_root
    before = counts()
    ids = dict(Implementation.objects.values_list("code", "pk"))
    stamps = dict(Implementation.objects.values_list("code", "updated_at"))
    material_ids = set(Material.objects.values_list("pk", flat=True))

    again = load_demo()

    assert not again.changed
    assert sum(again.created.values()) == sum(again.updated.values()) == 0
    assert counts() == before
    assert dict(Implementation.objects.values_list("code", "pk")) == ids
    assert dict(Implementation.objects.values_list("code", "updated_at")) == stamps
    assert set(Material.objects.values_list("pk", flat=True)) == material_ids
    assert again.search == "无需重建" or again.search.startswith("未重建")


def test_rerun_restores_edited_rows_without_duplicates(loaded, db, settings, media_root):
    settings.MEDIA_ROOT = media_root
    before = counts()
    impl = Implementation.objects.filter(item__name="普通护照签发").first()
    impl.promised_limit = 14
    impl.save()
    impl.locations.update(window="")
    impl.materials.filter(needs_filling=True).delete()
    Item.objects.filter(pk=impl.item_id).update(name="被改动的名称")
    impl.item.themes.clear()

    again = load_demo()

    impl.refresh_from_db()
    assert impl.promised_limit == 7
    assert all(location.window for location in impl.locations.all())
    assert impl.materials.filter(needs_filling=True).exists()
    assert Item.objects.get(pk=impl.item_id).name == "普通护照签发"
    assert impl.item.themes.exists()
    assert again.updated["implementation"] == 1
    assert again.updated["guide"] == 1
    assert again.updated["item"] == 1
    assert sum(again.created.values()) == 0
    assert counts() == before


def test_rerun_rewrites_a_missing_form_file(loaded, db, settings, media_root, tmp_path):
    copy = tmp_path / "media"
    shutil.copytree(media_root, copy)
    settings.MEDIA_ROOT = copy
    material = Material.objects.filter(needs_filling=True).first()
    default_storage.delete(material.blank_form.name)

    again = load_demo()

    assert default_storage.exists(material.blank_form.name)
    assert again.created["form_file"] == 1
    assert again.created["implementation"] == again.updated["implementation"] == 0


def test_regions_fallback_when_the_region_loader_is_absent(loaded, db, monkeypatch):
    monkeypatch.setattr(demo, "_optional", lambda module, name: None)
    report = demo.DemoReport()
    definitions = [
        {"code": "150600", "name": "鄂尔多斯市", "level": 2, "parent": "150000"},
        {"code": "150699", "name": "演示测试区", "level": 3, "parent": "150600"},
    ]
    found = demo._ensure_regions(definitions, report)
    assert found["150699"].parent.code == "150600"
    assert report.created["region"] == 1
    assert report.unchanged["region"] == 1
    assert "尚不可用" in report.regions_source


# --- bad data fails clearly, before anything is written -----------------------------------------


@pytest.fixture
def data_copy(tmp_path):
    target = tmp_path / "demo"
    shutil.copytree(demo.DATA_DIR, target)
    return target


def edit_item(path, change):
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_shipped_data_reads_cleanly():
    data = read_demo_data()
    assert len(data.items) >= 20
    assert sum(len(i["implementations"]) for i in data.items) >= 60


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["implementations"].append({"org": "150602/nowhere"}), "unknown organization"),
        (lambda d: d["guide"]["materials"][0].update(template="no-such-form"), "no form"),
        (lambda d: d["guide"]["materials"][0].update(when=["history:nope"]), "no option"),
        (lambda d: d["guide"].update(colour="red"), "unknown guide keys"),
        (lambda d: d.update(themes=["no-theme"]), "unknown theme"),
        (lambda d: d["implementations"][0].update(typo=1), "unknown keys"),
    ],
)
def test_inconsistent_data_is_refused(data_copy, change, message):
    edit_item(data_copy / "items" / "01-marriage-registration.json", change)
    with pytest.raises(DemoDataError, match=message):
        read_demo_data(data_copy)


def test_duplicate_item_codes_and_broken_json_are_refused(data_copy):
    shutil.copy(
        data_copy / "items" / "01-marriage-registration.json", data_copy / "items" / "99-copy.json"
    )
    with pytest.raises(DemoDataError, match="duplicate item code"):
        read_demo_data(data_copy)
    (data_copy / "items" / "99-copy.json").write_text("{", encoding="utf-8")
    with pytest.raises(DemoDataError, match=r"99-copy\.json"):
        read_demo_data(data_copy)


def test_invalid_values_fail_the_whole_load_and_write_nothing(db, monkeypatch, data_copy):
    edit_item(
        data_copy / "items" / "01-marriage-registration.json",
        lambda d: d["guide"].update(online_depth=9),
    )
    monkeypatch.setattr(demo, "DATA_DIR", data_copy)
    monkeypatch.setattr(demo.read_demo_data, "__defaults__", (data_copy,))
    before = (Organization.objects.count(), Item.objects.count(), Implementation.objects.count())
    with pytest.raises(DemoDataError, match="online_depth"):
        load_demo()
    after = (Organization.objects.count(), Item.objects.count(), Implementation.objects.count())
    assert after == before
