"""Excel import and export of the catalog: round trip, every kind of bad row, all-or-nothing."""

import io

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.catalog.factories import (
    ImplementationFactory,
    MaterialFactory,
    SituationFactory,
    SituationOptionFactory,
    ThemeFactory,
)
from tests.core.factories import OrganizationFactory, RegionFactory, make_uscc
from tongban.catalog.importexport import SHEETS, export_catalog, import_catalog
from tongban.catalog.models import (
    Fee,
    Implementation,
    Intermediary,
    Item,
    Location,
    Material,
    OnlineDepth,
    PowerListEntry,
    ProcessStep,
    Question,
    ServiceHours,
    Situation,
    SituationOption,
)

pytestmark = pytest.mark.django_db

_MODELS = (
    Item,
    Implementation,
    Location,
    ServiceHours,
    ProcessStep,
    Material,
    Situation,
    SituationOption,
    Fee,
    Intermediary,
    Question,
)


def snapshot() -> dict:
    """Every row of the catalog, ids and timestamps included: equal means nothing changed."""
    state = {m.__name__: sorted(m.objects.values_list(), key=repr) for m in _MODELS}
    state["conditions"] = sorted(Material.conditions.through.objects.values_list())
    state["themes"] = sorted(Item.themes.through.objects.values_list())
    state["powers"] = sorted(Item.power_entries.through.objects.values_list())
    return state


def rich_implementation(**kwargs) -> Implementation:
    impl = ImplementationFactory(complete=True, **kwargs)
    theme = ThemeFactory()
    entry = PowerListEntry.objects.create(code=f"QL-{impl.pk}", name="许可权", item_type="01")
    impl.item.themes.add(theme)
    impl.item.power_entries.add(entry)
    form = MaterialFactory(
        implementation=impl,
        name="申请表",
        source="applicant",
        needs_filling=True,
        originals=1,
        copies=0,
        form="original",
        order=2,
        blank_form=ContentFile(b"blank", name="blank.docx"),
        sample_form=ContentFile(b"sample", name="sample.docx"),
    )
    proof = MaterialFactory(implementation=impl, name="婚姻状况证明", order=3)
    situation = SituationFactory(implementation=impl, question="是否已婚？")
    yes = SituationOptionFactory(situation=situation, label="已婚", order=1)
    SituationOptionFactory(situation=situation, label="未婚", order=2)
    proof.conditions.add(yes)
    form.conditions.add(yes)
    Fee.objects.create(
        implementation=impl, name="工本费", standard="10元/本", basis="价格主管部门文件"
    )
    Intermediary.objects.create(
        implementation=impl, name="房产测绘", basis="《不动产登记暂行条例》"
    )
    impl.has_intermediary = True
    impl.charges_fee = True
    impl.save()
    Question.objects.create(
        implementation=impl, question="可以代办吗？", answer="可以，需授权委托书。"
    )
    return impl


def exported(queryset=None) -> io.BytesIO:
    buffer = export_catalog(queryset, io.BytesIO())
    buffer.seek(0)
    return buffer


def edit(buffer: io.BytesIO, sheet: str, changes: list[tuple[int, str, object]]) -> io.BytesIO:
    """Change cells given as (row, machine key, value) and return the new workbook."""
    buffer.seek(0)
    book = openpyxl.load_workbook(buffer)
    ws = book[sheet]
    keys = {cell.value: cell.column for cell in ws[2]}
    for row, key, value in changes:
        ws.cell(row=row, column=keys[key]).value = value
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def codes(report) -> set[str]:
    return {e.code for e in report.errors}


def test_export_writes_every_sheet_with_chinese_headers_and_key_row():
    impl = rich_implementation()
    book = openpyxl.load_workbook(exported())
    assert book.sheetnames == [s.name for s in SHEETS]
    ws = book["实施清单"]
    assert ws["A1"].value == "实施编码*"
    assert ws["A2"].value == "code"
    row = {ws.cell(2, c).value: ws.cell(3, c).value for c in range(1, ws.max_column + 1)}
    assert row["code"] == impl.code
    assert row["online_depth"] == "Ⅳ级 全程网办"  # code lists as labels
    assert row["statutory_unit"] == "工作日"
    assert row["handle_on_pc"] == "是"
    assert row["is_instant"] == "否"
    situations = book["情形"]
    assert [c.value for c in situations[3]][1:4] == ["是否已婚？", "否", 0]
    assert situations.cell(3, 7).value == "2、3"  # the numbers of the materials it conditions


def test_round_trip_changes_nothing():
    rich_implementation()
    rich_implementation(status="draft")
    before = snapshot()
    report = import_catalog(exported(), actor=None)
    assert report.ok, report.errors
    assert report.applied
    assert report.created == {"items": 0, "implementations": 0}
    assert report.updated == {"items": 0, "implementations": 0}
    assert report.unchanged == {"items": 2, "implementations": 2}
    assert snapshot() == before


def test_import_into_an_empty_catalog_recreates_it():
    impl = rich_implementation()
    buffer = exported()
    org, region = impl.organization, impl.region
    blank_form = impl.materials.get(name="申请表").blank_form.name
    before = {m.__name__: m.objects.count() for m in _MODELS}
    for model in (Implementation, Item):
        model.objects.all().delete()
    report = import_catalog(buffer, actor=None)
    assert report.ok, report.errors
    assert report.created == {"items": 1, "implementations": 1}
    assert {m.__name__: m.objects.count() for m in _MODELS} == before
    again = Implementation.objects.get(code=impl.code)
    assert (again.organization, again.region, again.region_code) == (org, region, region.code)
    proof = again.materials.get(name="婚姻状况证明")
    assert [o.label for o in proof.conditions.all()] == ["已婚"]
    assert again.materials.get(name="申请表").blank_form.name == blank_form
    assert again.item.themes.count() == 1
    assert again.item.power_entries.count() == 1
    # and a second import of the same file is a no-op
    state = snapshot()
    buffer.seek(0)
    assert import_catalog(buffer, actor=None).unchanged["implementations"] == 1
    assert snapshot() == state


def test_changed_rows_update_and_children_are_replaced_as_a_whole():
    impl = rich_implementation()
    buffer = edit(exported(), "实施清单", [(3, "promised_limit", 3), (3, "handle_on_mobile", "否")])
    buffer = edit(buffer, "办理地点", [(3, "window", "12号窗口")])
    report = import_catalog(buffer, actor=None)
    assert report.ok, report.errors
    assert report.updated["implementations"] == 1
    impl.refresh_from_db()
    assert impl.promised_limit == 3
    assert impl.handle_on_mobile is False
    assert list(impl.locations.values_list("window", flat=True)) == ["12号窗口"]
    assert impl.materials.count() == 3  # replaced with the file's rows, conditions kept
    assert impl.materials.get(name="婚姻状况证明").conditions.count() == 1


def test_codes_are_accepted_for_labels_and_numbers_as_text():
    impl = rich_implementation()
    buffer = edit(exported(), "实施清单", [(3, "online_depth", 3), (3, "visits_required", 1)])
    buffer = edit(buffer, "事项", [(3, "item_type", 1), (3, "audiences", "1,2")])
    report = import_catalog(buffer, actor=None)
    assert report.ok, report.errors
    impl.refresh_from_db()
    impl.item.refresh_from_db()
    assert impl.online_depth == OnlineDepth.VERIFIED
    assert impl.item.item_type == "01"
    assert impl.item.audiences == "1,2"


def assert_rejected(buffer, expected: list[tuple[str, int | None, str]]):
    before = snapshot()
    report = import_catalog(buffer, actor=None)
    assert not report.ok
    assert not report.applied
    found = {(e.sheet, e.row, e.code) for e in report.errors}
    for item in expected:
        assert item in found, (item, report.errors)
    assert snapshot() == before
    return report


def test_bad_file_changes_nothing_and_reports_every_bad_row():
    first = rich_implementation()
    second = rich_implementation()
    buffer = edit(
        exported(),
        "实施清单",
        [
            (3, "organization_uscc", "91350100M000100Y44"),  # bad check character
            (3, "promised_limit", 40),  # > statutory 20 working days
            (4, "region_code", "999999"),  # unknown region
            (4, "visits_required", 2),  # depth IV with visits
        ],
    )
    buffer = edit(buffer, "办理地点", [(3, "window", "x" * 60)])
    report = assert_rejected(
        buffer,
        [
            ("实施清单", 3, "uscc_check"),
            ("实施清单", 3, "promised_exceeds_statutory"),
            ("实施清单", 4, "region_unknown"),
            ("实施清单", 4, "depth4_requires_zero_visits"),
            ("办理地点", 3, "too_long"),
        ],
    )
    uscc_error = next(e for e in report.errors if e.code == "uscc_check")
    assert uscc_error.column == "实施主体统一社会信用代码"
    assert "校验码" in uscc_error.message
    promised = next(e for e in report.errors if e.code == "promised_exceeds_statutory")
    assert promised.column == "承诺办结时限"
    assert "40工作日" in promised.message
    assert Implementation.objects.get(pk=first.pk).promised_limit == 5
    assert Implementation.objects.get(pk=second.pk).visits_required == 0


def test_unknown_but_valid_uscc_and_unknown_item_are_reported():
    rich_implementation()
    buffer = edit(
        exported(), "实施清单", [(3, "organization_uscc", make_uscc()), (3, "item_code", "NOPE")]
    )
    assert_rejected(
        buffer, [("实施清单", 3, "organization_unknown"), ("实施清单", 3, "item_unknown")]
    )


def test_missing_required_column_is_reported():
    rich_implementation()
    buffer = exported()
    book = openpyxl.load_workbook(buffer)
    book["实施清单"].delete_cols(1)  # the implementation code
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    report = assert_rejected(out, [("实施清单", 1, "column_missing")])
    assert report.errors[0].column == "实施编码"


def test_wrong_code_list_label_lists_the_accepted_labels():
    rich_implementation()
    buffer = edit(exported(), "实施清单", [(3, "statutory_unit", "小时")])
    report = assert_rejected(buffer, [("实施清单", 3, "invalid_choice")])
    assert "工作日、自然日" in report.errors[0].message


def test_duplicate_codes_in_the_file():
    rich_implementation()
    rich_implementation()
    buffer = edit(exported(), "实施清单", [(4, "code", None)])
    buffer.seek(0)
    book = openpyxl.load_workbook(buffer)
    ws = book["实施清单"]
    ws.cell(4, 1, ws.cell(3, 1).value)
    items = book["事项"]
    items.cell(4, 1, items.cell(3, 1).value)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    assert_rejected(out, [("实施清单", 4, "duplicate_code"), ("事项", 4, "duplicate_code")])


def test_item_name_cannot_be_overridden_by_an_implementation():
    rich_implementation()
    buffer = edit(exported(), "实施清单", [(3, "item_name", "本地改名的事项")])
    report = assert_rejected(buffer, [("实施清单", 3, "item_element_override")])
    assert "只能在事项中修改" in report.errors[0].message


def test_child_rows_must_belong_to_an_implementation_of_the_file():
    rich_implementation()
    buffer = edit(exported(), "办理流程", [(3, "implementation", "UNKNOWN-CODE")])
    assert_rejected(buffer, [("办理流程", 3, "implementation_not_in_file")])


def test_situation_refers_to_unknown_material_and_bad_values():
    rich_implementation()
    buffer = edit(exported(), "情形", [(3, "materials", "2、9")])
    buffer = edit(buffer, "办理时间", [(3, "opens", "18:00"), (3, "weekday_to", "星期八")])
    buffer = edit(buffer, "申请材料", [(3, "originals", -1), (4, "needs_filling", "也许")])
    assert_rejected(
        buffer,
        [
            ("情形", 3, "material_unknown"),
            ("办理时间", 3, "invalid_choice"),
            ("申请材料", 3, "not_a_number"),
            ("申请材料", 4, "invalid_boolean"),
        ],
    )


def test_hours_contradiction_is_an_error_on_its_row():
    rich_implementation()
    buffer = edit(exported(), "办理时间", [(3, "opens", "18:00")])
    report = assert_rejected(buffer, [("办理时间", 3, "hours_invalid")])
    assert report.errors[0].column == "结束时间"


def test_missing_file_reference_is_an_error():
    rich_implementation()
    buffer = edit(exported(), "申请材料", [(4, "blank_form", "catalog/forms/none.docx")])
    assert_rejected(buffer, [("申请材料", 4, "file_not_found")])


def test_defects_are_warnings_and_do_not_block():
    impl = rich_implementation()
    buffer = edit(exported(), "实施清单", [(3, "consultation_phone", None)])
    report = import_catalog(buffer, actor=None)
    assert report.ok
    assert [(w.sheet, w.row, w.code) for w in report.warnings] == [("实施清单", 3, "phone_missing")]
    impl.refresh_from_db()
    assert impl.consultation_phone == ""


def test_dry_run_changes_nothing_but_counts():
    rich_implementation()
    buffer = edit(exported(), "实施清单", [(3, "promised_limit", 2)])
    before = snapshot()
    report = import_catalog(buffer, actor=None, dry_run=True)
    assert report.ok
    assert not report.applied
    assert report.updated["implementations"] == 1
    assert "预检通过" in report.summary()
    assert snapshot() == before


def test_unreadable_file_and_missing_sheets():
    before = snapshot()
    report = import_catalog(io.BytesIO(b"not a workbook"), actor=None)
    assert codes(report) == {"file_unreadable"}
    book = openpyxl.Workbook()
    book.active.title = "实施清单"
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    report = import_catalog(out, actor=None)
    assert codes(report) == {"sheet_missing"}
    assert len(report.errors) == 8
    assert snapshot() == before


def test_headers_without_key_row_are_matched_by_label():
    region = RegionFactory()
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "事项"
    ws.append(["基本编码", "事项名称", "事项类型", "设定依据", "行使层级", "服务对象"])
    ws.append(["1506000099", "新事项", "行政许可", "《某某条例》", "市级", "自然人、企业法人"])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    report = import_catalog(out, actor=None)
    assert report.ok, report.errors
    item = Item.objects.get(code="1506000099")
    assert (item.item_type, item.level, item.audiences) == ("01", "3", "1,2")
    assert region.pk


def test_export_of_a_region_only_and_command_line(tmp_path):
    inside = rich_implementation()
    other_org = OrganizationFactory(region=RegionFactory(erenhot=True))
    ImplementationFactory(complete=True, organization=other_org)
    out = tmp_path / "ordos.xlsx"
    call_command("export_catalog", str(out), "--region", "150600", stdout=io.StringIO())
    book = openpyxl.load_workbook(out)
    assert [r[0].value for r in book["实施清单"].iter_rows(min_row=3)] == [inside.code]
    stdout = io.StringIO()
    call_command("import_catalog", str(out), "--dry-run", stdout=stdout)
    assert "预检通过" in stdout.getvalue()
    bad = edit(io.BytesIO(out.read_bytes()), "实施清单", [(3, "visits_required", 3)])
    bad_path = tmp_path / "bad.xlsx"
    bad_path.write_bytes(bad.getvalue())
    stdout = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_catalog", str(bad_path), stdout=stdout)
    assert "depth4_requires_zero_visits" in stdout.getvalue()
    with pytest.raises(CommandError):
        call_command("export_catalog", str(out), "--region", "999999", stdout=io.StringIO())


def test_import_queries_do_not_grow_with_rows(django_assert_max_num_queries):
    for _ in range(3):
        rich_implementation()
    small = exported()
    for _ in range(9):
        rich_implementation()
    large = exported()
    Implementation.objects.all().delete()
    Item.objects.all().delete()
    assert default_storage  # files stay in storage for the re-import
    with django_assert_max_num_queries(80):
        assert import_catalog(small, actor=None).ok
    Implementation.objects.all().delete()
    Item.objects.all().delete()
    with django_assert_max_num_queries(80):
        report = import_catalog(large, actor=None)
    assert report.created["implementations"] == 12
