"""The workbook written by XlsxWriter: the layout the import relies on, values that must stay text,
characters Excel cannot hold, and a value too long for a cell."""

import io
import os
import tempfile

import openpyxl
import pytest
from django.http import HttpResponse

from tests.catalog.factories import ImplementationFactory
from tests.catalog.test_importexport import exported, snapshot
from tongban.catalog.excel_export import ExportError
from tongban.catalog.excel_layout import SHEETS, cell_text
from tongban.catalog.importexport import ExportError as ReexportedExportError
from tongban.catalog.importexport import export_catalog, import_catalog

pytestmark = pytest.mark.django_db


def cells(ws, row: int) -> dict:
    """Row ``row`` of a sheet by machine key (row 2)."""
    keys = [c.value for c in ws[2]]
    return {key: cell for key, cell in zip(keys, ws[row], strict=False) if key}


def test_headers_are_styled_and_panes_frozen_on_every_sheet():
    ImplementationFactory(complete=True)
    book = openpyxl.load_workbook(exported())
    assert book.sheetnames == [s.name for s in SHEETS]
    for sheet in SHEETS:
        ws = book[sheet.name]
        assert ws.freeze_panes == "B3", sheet.name
        labels = [c.value for c in ws[1]]
        assert labels == [str(c.label) + ("*" if c.required else "") for c in sheet.columns]
        assert [c.value for c in ws[2]] == [c.key for c in sheet.columns]
        head, key = ws["A1"], ws["A2"]
        assert head.font.b
        assert head.fill.fill_type == "solid"
        assert head.fill.fgColor.rgb.endswith("DDEBF7")
        assert not key.font.b
        assert key.font.sz == 9
        assert key.font.color.rgb.endswith("808080")
    data = book["实施清单"]["A3"]
    assert not data.font.b
    assert data.fill.fill_type is None


def test_values_keep_their_types_and_the_dimension_is_declared():
    impl = ImplementationFactory(complete=True, statutory_limit=20, is_instant=False)
    buffer = exported()
    book = openpyxl.load_workbook(buffer, read_only=True)
    ws = book["实施清单"]
    # Read-only openpyxl trusts the declared dimension: three rows, every column.
    assert ws.max_row == 3
    assert ws.max_column == len(SHEETS[1].columns)
    book.close()
    row = cells(openpyxl.load_workbook(buffer)["实施清单"], 3)
    assert row["code"].value == impl.code
    assert row["statutory_limit"].value == 20  # numbers as numbers
    assert row["statutory_limit"].data_type == "n"
    assert row["is_instant"].value == "否"  # booleans as 是/否
    assert row["effective_from"].value == "2026-01-01"  # dates as ISO text
    assert row["effective_from"].data_type == "s"


def test_text_that_looks_like_a_formula_or_an_escape_stays_text_and_round_trips():
    impl = ImplementationFactory(complete=True)
    item = impl.item
    item.description = '=HYPERLINK("http://example.com")'
    item.keywords = "_x0041_ 原样"
    item.save()
    impl.conditions = "+1 与 -1 都是文字；https://example.com 不是链接"
    impl.save()
    buffer = exported()
    book = openpyxl.load_workbook(buffer)
    items = cells(book["事项"], 3)
    assert items["description"].data_type == "s"  # a string, never a formula
    assert items["description"].value == item.description
    assert cells(book["实施清单"], 3)["conditions"].hyperlink is None
    before = snapshot()
    report = import_catalog(buffer, actor=None)
    assert report.ok, report.errors
    assert report.unchanged == {"items": 1, "implementations": 1}
    assert snapshot() == before


def test_control_characters_are_dropped():
    impl = ImplementationFactory(complete=True, conditions="第一条\x01\x0b第二条\n第三条")
    row = cells(openpyxl.load_workbook(exported())["实施清单"], 3)
    assert row["conditions"].value == "第一条第二条\n第三条"
    assert impl.conditions != row["conditions"].value


def test_cell_text_decodes_office_escapes_and_drops_control_characters():
    assert cell_text("_x005F_x0041_") == "_x0041_"  # a literal escape, as Excel writes it
    assert cell_text("a_x000A_b") == "a\nb"
    assert cell_text("a_x0001_b") == "ab"
    assert cell_text("  plain  ") == "plain"
    assert cell_text(3.0) == "3"
    assert cell_text(None) == ""


def test_a_value_longer_than_a_cell_fails_and_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ImplementationFactory(complete=True, conditions="长" * 32_768)
    buffer = io.BytesIO()
    with pytest.raises(ExportError) as caught:
        export_catalog(None, buffer)
    error = caught.value
    assert (error.code, error.sheet, error.row) == ("cell_too_long", "实施清单", 3)
    assert error.column == "受理条件"
    assert "32767" in str(error)
    assert buffer.getvalue() == b""  # the workbook was never closed into the file
    assert os.listdir(tmp_path) == []  # and its temporary row files are gone
    assert ReexportedExportError is ExportError


def test_a_value_at_the_cell_limit_is_written_whole():
    ImplementationFactory(complete=True, conditions="长" * 32_767)
    row = cells(openpyxl.load_workbook(exported())["实施清单"], 3)
    assert len(row["conditions"].value) == 32_767


def test_export_into_a_write_only_response():
    impl = ImplementationFactory(complete=True)
    response = HttpResponse()
    assert export_catalog(None, response) is response
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    assert next(book["实施清单"].iter_rows(min_row=3, values_only=True))[0] == impl.code
    book.close()


def test_empty_catalog_has_headers_only():
    book = openpyxl.load_workbook(exported())
    for sheet in SHEETS:
        assert book[sheet.name].max_row == 2
