"""The guide audit on a crafted catalog: percentages, targets, grouping, queries, the command."""

import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.catalog.factories import (
    ImplementationFactory,
    ItemFactory,
    MaterialFactory,
    SituationFactory,
    SituationOptionFactory,
)
from tests.core.factories import OrganizationFactory, RegionFactory
from tongban.catalog.guide_audit import audit, render_text, write_xlsx
from tongban.catalog.models import ItemType, PowerListEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    RegionFactory()  # 150600 鄂尔多斯市
    org_a = OrganizationFactory(name="东胜区行政审批局", region=RegionFactory(dongsheng=True))
    org_b = OrganizationFactory(name="二连浩特市民政局", region=RegionFactory(erenhot=True))
    first = ImplementationFactory(complete=True, organization=org_a, code="A1")
    ImplementationFactory(complete=True, instant=True, organization=org_a, code="A2")
    ImplementationFactory(
        complete=True,
        organization=org_a,
        code="A3",
        online_depth=2,
        visits_required=2,
        promised_limit=20,
    )
    ImplementationFactory(complete=True, organization=org_a, code="A4", visits_required=1)
    ImplementationFactory(
        organization=org_b,
        code="B1",
        online_depth=1,
        visits_required=1,
        item=ItemFactory(item_type=ItemType.PUBLIC_SERVICE),
    )
    sixth = ImplementationFactory(complete=True, organization=org_b, code="B2")
    situation = SituationFactory(implementation=sixth)
    yes = SituationOptionFactory(situation=situation, label="是")
    SituationOptionFactory(situation=situation, label="否")
    MaterialFactory(implementation=sixth, name="户口簿").conditions.add(yes)
    ImplementationFactory(
        complete=True, draft=True, organization=org_a, code="DRAFT", visits_required=5
    )
    linked = PowerListEntry.objects.create(code="QL1", name="许可", item_type="01")
    PowerListEntry.objects.create(code="QL2", name="确认", item_type="07")
    PowerListEntry.objects.create(code="QL3", name="处罚", item_type="02")  # not on application
    first.item.power_entries.add(linked)
    return org_a, org_b


def values(group) -> dict:
    return {
        i.key: (i.count, i.total, None if i.value is None else round(i.value, 4))
        for i in group.indicators
    }


def test_percentages_and_targets_on_a_crafted_catalog(catalog):
    report = audit()
    overall = report.overall
    assert overall.total == 6  # the draft is not counted
    got = values(overall)
    assert got["instant"] == (1, 6, round(1 / 6, 4))
    # cumulative depth shares at the effective depth: A4 declares Ⅳ with one visit → counts as Ⅲ
    assert got["depth2"] == (5, 6, round(5 / 6, 4))
    assert got["depth3"] == (4, 6, round(4 / 6, 4))
    assert got["depth4"] == (3, 6, 0.5)
    # Σpromised 40 vs Σstatutory 101 working days; 5 of 6 individually halved
    assert got["time_reduction"] == (5, 6, round(1 - 40 / 101, 4))
    assert got["power_published"] == (1, 2, 0.5)
    assert got["power_linked"] == (1, 5, 0.2)
    assert got["public_service"] == (0, 2, 0.0)
    assert got["situations"] == (1, 6, round(1 / 6, 4))
    assert got["row14"] == (5, 6, round(5 / 6, 4))
    assert got["row16"] == (6, 6, 1.0)
    assert got["row17"] == (0, 0, None)
    assert got["row23"] == (0, 0, None)
    verdicts = {i.key: i.passed for i in overall.indicators}
    assert verdicts["time_reduction"] is True
    assert verdicts["instant"] is False
    assert verdicts["depth4"] is True  # exactly the target
    assert verdicts["depth2"] is False
    assert verdicts["row16"] is True
    assert verdicts["row17"] is None
    targets = {i.key: i.target for i in overall.indicators}
    assert (targets["depth2"], targets["depth3"], targets["depth4"], targets["situations"]) == (
        0.9,
        0.6,
        0.5,
        0.3,
    )


def test_defects_list_what_to_fix(catalog):
    report = audit()
    listed = {(d.implementation_code, d.code, d.seed_row, d.severity) for d in report.defects}
    assert listed == {
        ("A4", "depth4_requires_zero_visits", 6, "error"),
        ("B1", "location_missing", 14, "defect"),
        ("B1", "hours_missing", 15, "defect"),
        ("B1", "no_steps", 21, "defect"),
    }
    assert report.errors == 1
    a4 = next(d for d in report.defects if d.implementation_code == "A4")
    assert a4.organization_name == "东胜区行政审批局"
    assert "当前为1次" in a4.message


def test_grouped_per_organization_and_region(catalog):
    report = audit()
    orgs = {g.name: g for g in report.organizations}
    assert (orgs["东胜区行政审批局"].total, orgs["二连浩特市民政局"].total) == (4, 2)
    assert orgs["东胜区行政审批局"].errors == 1
    assert orgs["二连浩特市民政局"].defects == 3
    assert orgs["二连浩特市民政局"].public_service_guides == 1
    assert values(orgs["二连浩特市民政局"])["depth4"] == (1, 2, 0.5)
    regions = {g.key: (g.name, g.total) for g in report.regions}
    assert regions == {
        "150600": ("鄂尔多斯市", 4),
        "150602": ("东胜区", 4),
        "152500": ("152500", 2),  # a city not in the region table keeps its code
        "152501": ("二连浩特市", 2),
    }
    assert "power_published" not in values(report.regions[0])


def test_filters_by_region_and_organization(catalog):
    org_a, _org_b = catalog
    report = audit(region="152501")
    assert report.overall.total == 2
    assert report.overall.name == "二连浩特市"
    assert "power_published" not in values(report.overall)  # only for the whole catalog
    assert {d.implementation_code for d in report.defects} == {"B1"}
    report = audit(organization=org_a.pk)
    assert report.overall.total == 4
    assert report.overall.name == "东胜区行政审批局"
    assert audit(region="150600").overall.total == 4


def test_empty_scope_has_no_values():
    report = audit(region="150000")
    assert report.overall.total == 0
    assert all(i.value is None for i in report.overall.indicators if i.key != "power_published")
    assert report.defects == []


def test_query_count_does_not_grow_with_the_catalog(catalog):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            audit()
        return len(ctx.captured_queries)

    small = count()
    for n in range(8):
        ImplementationFactory(complete=True, code=f"MORE{n}")
    assert count() == small


def test_chunks_give_the_same_result(catalog):
    whole = audit()
    chunked = audit(chunk_size=2)
    assert whole.overall.as_dict() == chunked.overall.as_dict()
    assert [d.as_dict() for d in whole.defects] == [d.as_dict() for d in chunked.defects]


def test_renderings(catalog, tmp_path):
    report = audit()
    text = render_text(report, max_defects=2)
    assert "即办件占比：16.7%（目标20.0%，1/6）未达标" in text
    assert "另有2处" in text
    data = json.loads(report.to_json())
    assert data["overall"]["total"] == 6
    path = tmp_path / "audit.xlsx"
    with path.open("wb") as fileobj:
        write_xlsx(report, fileobj)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["指标", "按部门", "按区划", "问题清单"]
    assert book["问题清单"].max_row == 5


def test_command(catalog, tmp_path):
    org_a, _org_b = catalog
    out = io.StringIO()
    call_command("guide_audit", stdout=out)
    assert "待整改问题（共4处）" in out.getvalue()
    out = io.StringIO()
    call_command("guide_audit", "--organization", org_a.uscc, "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["overall"]["total"] == 4
    target = tmp_path / "a.xlsx"
    call_command("guide_audit", "--format", "xlsx", "--output", str(target), stdout=io.StringIO())
    assert target.stat().st_size > 0
    with pytest.raises(CommandError, match="校验码"):
        call_command("guide_audit", "--organization", "91350100M000100Y44")
    with pytest.raises(CommandError, match="不存在"):
        call_command("guide_audit", "--region", "999999")
    with pytest.raises(CommandError, match="--output"):
        call_command("guide_audit", "--format", "xlsx")


@pytest.mark.django_db
def test_excel_report_never_turns_department_text_into_formulas():
    import io

    import openpyxl

    from tongban.catalog.guide_audit import audit, write_xlsx

    impl = ImplementationFactory(item__name='=HYPERLINK("http://evil.example","点击")')
    impl.locations.all().delete()  # a defect, so the item name appears in the findings sheet
    buffer = io.BytesIO()
    write_xlsx(audit(), buffer)
    buffer.seek(0)
    book = openpyxl.load_workbook(buffer)
    values = [cell for row in book.worksheets[-1].iter_rows() for cell in row]
    evil = [cell for cell in values if str(cell.value).startswith("=HYPERLINK")]
    assert evil
    assert all(cell.data_type == "s" for cell in evil)
