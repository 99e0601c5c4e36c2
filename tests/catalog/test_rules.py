"""Every guide rule, each breaking and passing, on raw values and on saved implementations."""

import datetime as dt

import pytest
from django.db.models import prefetch_related_objects

from tests.catalog.factories import (
    ImplementationFactory,
    MaterialFactory,
    SituationFactory,
    SituationOptionFactory,
)
from tongban.catalog import rules
from tongban.catalog.models import Implementation, Intermediary, Location
from tongban.catalog.rules import RULES, Severity, check_implementation, check_values


def good() -> dict:
    """Guide values that break no rule."""
    return {
        "statutory_limit": 20,
        "statutory_unit": "working",
        "promised_limit": 5,
        "promised_unit": "working",
        "is_instant": False,
        "online_depth": 4,
        "visits_required": 0,
        "handle_at_window": True,
        "handle_on_pc": True,
        "handle_on_mobile": False,
        "handle_by_post": False,
        "consultation_phone": "0477-12345",
        "has_intermediary": False,
        "locations": [
            {
                "name": "政务服务中心",
                "street": "鄂尔多斯西街",
                "number": "1号",
                "room": "101",
                "window": "8号",
            }
        ],
        "hours": [{"weekday_from": 1, "weekday_to": 5, "opens": dt.time(9), "closes": dt.time(17)}],
        "steps": [
            {
                "order": 1,
                "name": "受理",
                "time_limit": 1,
                "time_unit": "working",
                "standard": "材料齐全",
                "result": "受理通知书",
            }
        ],
        "materials": [
            {
                "name": "居民身份证",
                "source": "government",
                "issuer": "公安机关",
                "originals": 1,
                "copies": 1,
                "form": "both",
                "medium": "paper",
                "needs_filling": False,
                "blank_form": "",
                "sample_form": "",
                "conditions": ["married"],
            }
        ],
        "situations": [
            {
                "question": "是否已婚？",
                "options": [
                    {"key": "married", "label": "已婚"},
                    {"key": "single", "label": "未婚"},
                ],
            }
        ],
        "intermediaries": [],
    }


def found(data: dict) -> set[str]:
    return {f.code for f in check_values(data)}


def test_good_values_break_no_rule():
    assert check_values(good()) == []


def with_(path: str, value, base: dict | None = None) -> dict:
    data = base or good()
    if "." in path:
        collection, index, name = path.split(".")
        data[collection][int(index)][name] = value
    else:
        data[path] = value
    return data


# (rule code, changes that break it, changes that keep it, expected severity)
CASES = [
    ("statutory_limit_missing", {"statutory_limit": None}, {"statutory_limit": 0}, "defect"),
    ("statutory_limit_missing", {"statutory_unit": ""}, {"statutory_unit": "natural"}, "defect"),
    ("promised_limit_missing", {"promised_limit": None}, {"promised_limit": 20}, "defect"),
    ("promised_limit_missing", {"promised_unit": "hours"}, {"promised_unit": "working"}, "defect"),
    ("promised_exceeds_statutory", {"promised_limit": 21}, {"promised_limit": 20}, "error"),
    # 28 natural days = 20 working days: not longer; 29 natural days is.
    (
        "promised_exceeds_statutory",
        {"promised_limit": 29, "promised_unit": "natural"},
        {"promised_limit": 28, "promised_unit": "natural"},
        "error",
    ),
    (
        "instant_with_limit",
        {"is_instant": True, "promised_limit": 1},
        {"is_instant": True, "promised_limit": 0},
        "error",
    ),
    ("depth4_requires_zero_visits", {"visits_required": 1}, {"visits_required": 0}, "error"),
    (
        "depth3_max_one_visit",
        {"online_depth": 3, "visits_required": 2},
        {"online_depth": 3, "visits_required": 1},
        "error",
    ),
    (
        "depth2_max_two_visits",
        {"online_depth": 2, "visits_required": 3},
        {"online_depth": 2, "visits_required": 2},
        "error",
    ),
    (
        "online_depth_without_online_channel",
        {"handle_on_pc": False},
        {"handle_on_pc": False, "handle_on_mobile": True},
        "error",
    ),
    (
        "zero_visits_without_remote_channel",
        {"online_depth": 1, "handle_on_pc": False},
        {"online_depth": 1, "handle_by_post": True},
        "error",
    ),
    ("visits_missing", {"visits_required": None}, {"visits_required": 0}, "defect"),
    ("phone_missing", {"consultation_phone": "  "}, {"consultation_phone": "12345"}, "defect"),
    ("location_missing", {"locations": []}, {}, "defect"),
    ("location_incomplete", {"locations.0.window": ""}, {"locations.0.note": ""}, "defect"),
    ("location_incomplete", {"locations.0.room": None}, {}, "defect"),
    ("hours_missing", {"hours": []}, {}, "defect"),
    ("hours_invalid", {"hours.0.closes": dt.time(9)}, {"hours.0.closes": dt.time(9, 1)}, "error"),
    ("hours_invalid", {"hours.0.weekday_from": 6}, {"hours.0.weekday_from": 5}, "error"),
    (
        "intermediary_missing",
        {"has_intermediary": True},
        {"has_intermediary": True, "intermediaries": [{"name": "测绘", "basis": "条例"}]},
        "defect",
    ),
    (
        "intermediary_undeclared",
        {"intermediaries": [{"name": "测绘", "basis": "条例"}]},
        {"intermediaries": []},
        "error",
    ),
    (
        "intermediary_without_basis",
        {"has_intermediary": True, "intermediaries": [{"name": "测绘", "basis": ""}]},
        {"has_intermediary": True, "intermediaries": [{"name": "测绘", "basis": "条例"}]},
        "defect",
    ),
    (
        "material_issuer_missing",
        {"materials.0.issuer": ""},
        {"materials.0.issuer": "派出所"},
        "defect",
    ),
    (
        "material_issuer_missing",
        {"materials.0.source": ""},
        {"materials.0.source": "applicant", "materials.0.issuer": ""},
        "defect",
    ),
    (
        "material_quantity_missing",
        {"materials.0.originals": 0, "materials.0.copies": 0},
        {"materials.0.originals": 0, "materials.0.copies": 0, "materials.0.medium": "electronic"},
        "defect",
    ),
    (
        "material_form_quantity_mismatch",
        {"materials.0.form": "original", "materials.0.originals": 0},
        {"materials.0.form": "copy", "materials.0.originals": 0},
        "error",
    ),
    (
        "material_form_quantity_mismatch",
        {"materials.0.form": "both", "materials.0.copies": 0},
        {"materials.0.form": "original", "materials.0.copies": 0},
        "error",
    ),
    ("material_form_missing", {"materials.0.medium": ""}, {"materials.0.medium": "both"}, "defect"),
    ("material_form_missing", {"materials.0.form": None}, {"materials.0.form": "copy"}, "defect"),
    (
        "blank_form_missing",
        {"materials.0.needs_filling": True, "materials.0.sample_form": "s.docx"},
        {
            "materials.0.needs_filling": True,
            "materials.0.blank_form": "b.docx",
            "materials.0.sample_form": "s.docx",
        },
        "defect",
    ),
    (
        "sample_form_missing",
        {"materials.0.needs_filling": True, "materials.0.blank_form": "b.docx"},
        {
            "materials.0.needs_filling": True,
            "materials.0.blank_form": "b.docx",
            "materials.0.sample_form": "s.docx",
        },
        "defect",
    ),
    ("no_steps", {"steps": []}, {}, "defect"),
    ("process_step_incomplete", {"steps.0.time_limit": None}, {"steps.0.time_limit": 0}, "defect"),
    ("process_step_incomplete", {"steps.0.standard": ""}, {"steps.0.actor": ""}, "defect"),
    ("process_step_incomplete", {"steps.0.result": " "}, {}, "defect"),
    (
        "situation_without_options",
        {"situations.0.options": [{"key": "married", "label": "已婚"}]},
        {},
        "defect",
    ),
    (
        "situation_unused",
        {"materials.0.conditions": []},
        {"materials.0.conditions": ["single"]},
        "defect",
    ),
]


@pytest.mark.parametrize(("code", "breaks", "keeps", "severity"), CASES, ids=[c[0] for c in CASES])
def test_rule_breaks_and_passes(code, breaks, keeps, severity):
    data = good()
    for path, value in breaks.items():
        data = with_(path, value, data)
    findings = [f for f in check_values(data) if f.code == code]
    assert len(findings) == 1, check_values(data)
    finding = findings[0]
    assert finding.severity == Severity(severity)
    assert finding.seed_row == RULES[code].seed_row
    assert finding.message
    assert "%(" not in finding.message
    data = good()
    for path, value in keeps.items():
        data = with_(path, value, data)
    assert code not in found(data)


def test_every_rule_has_a_case_and_a_seed_row_in_attachment_1():
    assert {c[0] for c in CASES} == set(RULES)
    for rule in RULES.values():
        assert 1 <= rule.seed_row <= 24
        assert rule.scope in rules.SCOPES


def test_messages_name_the_element():
    data = with_("locations.0.window", "")
    data = with_("locations.0.room", "", data)
    (finding,) = check_values(data)
    assert finding.message == "办理地点“政务服务中心”缺少房间号、窗口号"
    assert (finding.scope, finding.index, finding.field) == ("locations", 0, "street")
    data = with_("promised_limit", 30, with_("promised_unit", "natural"))
    (finding,) = check_values(data)
    assert "30自然日" in finding.message
    assert "20工作日" in finding.message
    assert "折算" in finding.message


def test_the_index_points_at_the_bad_row():
    data = good()
    data["materials"].append(dict(data["materials"][0], name="户口簿", issuer=""))
    (finding,) = check_values(data)
    assert (finding.code, finding.index) == ("material_issuer_missing", 1)


def test_scopes_limit_the_check():
    data = with_("visits_required", 3, with_("hours.0.closes", dt.time(8)))
    assert {f.code for f in check_values(data, scopes=["hours"])} == {"hours_invalid"}
    assert {f.code for f in check_values(data, scopes=["implementation"])} == {
        "depth4_requires_zero_visits"
    }
    del data["hours"]  # an absent collection is not checked
    assert "hours_missing" not in found(data)


def test_to_working_days():
    assert rules.to_working_days(7, "natural") == 5
    assert rules.to_working_days(3, "working") == 3


@pytest.mark.django_db
def test_complete_factory_passes_every_rule():
    impl = ImplementationFactory(complete=True)
    assert check_implementation(impl, prefetched=False) == []


@pytest.mark.django_db
def test_saved_implementation_is_checked_from_its_children():
    impl = ImplementationFactory(complete=True, visits_required=2)
    Location.objects.filter(implementation=impl).update(window="")
    MaterialFactory(implementation=impl, name="申请表", needs_filling=True)
    situation = SituationFactory(implementation=impl)
    SituationOptionFactory(situation=situation, label="是")
    Intermediary.objects.create(implementation=impl, name="评估", basis="")
    impl = Implementation.objects.get(pk=impl.pk)
    codes = {f.code for f in check_implementation(impl, prefetched=False)}
    assert codes == {
        "depth4_requires_zero_visits",
        "location_incomplete",
        "blank_form_missing",
        "sample_form_missing",
        "situation_without_options",
        "situation_unused",
        "intermediary_undeclared",
        "intermediary_without_basis",
    }
    assert rules.errors(check_implementation(impl, prefetched=False))[0].is_error


@pytest.mark.django_db
def test_check_implementation_makes_no_query_when_prefetched(django_assert_num_queries):
    impl = ImplementationFactory(complete=True)
    impl = Implementation.objects.get(pk=impl.pk)
    prefetch_related_objects([impl], *rules.GUIDE_PREFETCH)
    with django_assert_num_queries(0):
        assert check_implementation(impl) == []


def test_unsaved_implementation_has_no_children():
    impl = Implementation(
        statutory_limit=5,
        statutory_unit="working",
        promised_limit=6,
        promised_unit="working",
        online_depth=1,
        visits_required=1,
    )
    codes = {f.code for f in check_implementation(impl, prefetched=False)}
    assert "promised_exceeds_statutory" in codes
    assert {"location_missing", "hours_missing", "no_steps", "phone_missing"} <= codes


# --- the services that enforce the rules ---------------------------------------------------------
@pytest.mark.django_db
def test_publish_refuses_errors_and_changes_nothing():
    from tongban.catalog import services

    impl = ImplementationFactory(complete=True, draft=True, visits_required=1)
    with pytest.raises(services.CatalogError) as caught:
        services.publish_implementation(actor=None, implementation=impl)
    assert caught.value.code == services.CatalogErrorCode.GUIDE_HAS_ERRORS
    assert [f.code for f in caught.value.findings] == ["depth4_requires_zero_visits"]
    assert "到办事现场次数应为0" in caught.value.message
    impl.refresh_from_db()
    assert impl.status == "draft"
    Implementation.objects.filter(pk=impl.pk).update(visits_required=0, effective_from=None)
    services.publish_implementation(actor=None, implementation=impl)
    impl.refresh_from_db()
    assert impl.status == "active"
    assert impl.effective_from is not None
    Implementation.objects.filter(pk=impl.pk).update(status="retired")
    with pytest.raises(services.CatalogError) as caught:
        services.publish_implementation(actor=None, implementation=impl)
    assert caught.value.code == services.CatalogErrorCode.NOT_PUBLISHABLE


@pytest.mark.django_db
def test_save_implementation_checks_the_whole_guide():
    from tongban.catalog import services

    impl = ImplementationFactory(complete=True)
    impl.promised_limit = 40
    with pytest.raises(services.CatalogError):
        services.save_implementation(actor=None, implementation=impl)
    assert Implementation.objects.get(pk=impl.pk).promised_limit == 5
    impl.promised_limit = 4
    impl.consultation_phone = ""
    findings = services.save_implementation(actor=None, implementation=impl)
    assert [f.code for f in findings] == ["phone_missing"]
    assert Implementation.objects.get(pk=impl.pk).promised_limit == 4


@pytest.mark.django_db
def test_update_item_changes_the_one_definition():
    from tongban.catalog import services

    impl = ImplementationFactory()
    item = services.update_item(actor=None, item=impl.item, name="婚姻登记（结婚）")
    assert Implementation.objects.get(pk=impl.pk).item.name == "婚姻登记（结婚）"
    assert item.name == "婚姻登记（结婚）"
    with pytest.raises(services.CatalogError) as caught:
        services.update_item(actor=None, item=item, popularity=5)
    assert caught.value.code == services.CatalogErrorCode.UNKNOWN_FIELD
    with pytest.raises(services.CatalogError) as caught:
        services.update_item(actor=None, item=item, item_type="99")
    assert caught.value.code == services.CatalogErrorCode.INVALID_ITEM
    item.refresh_from_db()
    assert item.item_type == "01"
