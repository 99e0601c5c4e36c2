"""Reading a catalog workbook into typed rows, and the report of what is wrong with it.

The workbook is opened with openpyxl in read-only mode (rows are streamed, never held as cell
objects). Each sheet's columns are found by their machine key in row 2, or, without a key row, by
their Chinese header in row 1 (data then start on row 2); every cell is parsed by its column's
kind (:func:`tongban.catalog.excel_layout.parse_cell`), and every bad cell is reported with its
sheet, row number as Excel shows it, column header, machine code and Chinese message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from tongban.catalog.excel_layout import (
    CHILD_SHEETS,
    CHOICE,
    IMPLEMENTATIONS,
    ITEMS,
    MULTI,
    SHEETS,
    CellError,
    Column,
    Sheet,
    cell_text,
    choice_map,
    parse_cell,
)


# --- the report ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ImportIssue:
    sheet: str
    row: int | None
    column: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = (
            self.sheet
            + (f" 第{self.row}行" if self.row else "")
            + (f" {self.column}" if self.column else "")
        )
        return f"{where}：{self.message}（{self.code}）"


@dataclass
class ImportReport:
    dry_run: bool = False
    applied: bool = False
    created: dict[str, int] = field(default_factory=lambda: {"items": 0, "implementations": 0})
    updated: dict[str, int] = field(default_factory=lambda: {"items": 0, "implementations": 0})
    unchanged: dict[str, int] = field(default_factory=lambda: {"items": 0, "implementations": 0})
    errors: list[ImportIssue] = field(default_factory=list)
    warnings: list[ImportIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, sheet: str, row: int | None, column: str, code: str, message) -> None:
        self.errors.append(ImportIssue(sheet, row, str(column), code, str(message)))

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [w.as_dict() for w in self.warnings],
        }

    def summary(self) -> str:
        if self.errors:
            return _g("发现%(n)d处错误，未导入任何数据。") % {"n": len(self.errors)}
        verb = _g("预检通过，将") if self.dry_run or not self.applied else _g("已")
        return _g(
            "%(verb)s新增事项%(ci)d项、更新%(ui)d项，新增实施清单%(cm)d项、更新%(um)d项；"
            "未变化事项%(ni)d项、实施清单%(nm)d项；缺项提示%(w)d处。"
        ) % {
            "verb": verb,
            "ci": self.created["items"],
            "ui": self.updated["items"],
            "cm": self.created["implementations"],
            "um": self.updated["implementations"],
            "ni": self.unchanged["items"],
            "nm": self.unchanged["implementations"],
            "w": len(self.warnings),
        }


# --- reading --------------------------------------------------------------------------------------
@dataclass
class Row:
    number: int
    values: dict[str, Any]


def read_sheet(ws, sheet: Sheet, report: ImportReport) -> list[Row]:
    """The rows of ``ws`` whose every cell parsed; each bad cell goes to ``report``."""
    rows = ws.iter_rows(values_only=True)
    first = next(rows, None) or ()
    second = next(rows, None) or ()
    by_key = {c.key: c for c in sheet.columns}
    by_label = {str(c.label): c for c in sheet.columns}
    positions: dict[int, Column] = {}
    for index, raw in enumerate(second):
        col = by_key.get(cell_text(raw))
        if col:
            positions[index] = col
    data_start = 3
    if not positions:  # no key row: headers only, data from row 2
        data_start = 2
        for index, raw in enumerate(first):
            col = by_label.get(cell_text(raw)) or by_key.get(cell_text(raw))
            if col:
                positions[index] = col
        pending = [second] if second else []
    else:
        pending = []
    found = {c.key for c in positions.values()}
    missing = [c for c in sheet.columns if c.required and c.key not in found]
    for col in missing:
        report.error(
            sheet.name,
            1,
            col.label,
            "column_missing",
            _("缺少必需的列“%(col)s”") % {"col": col.label},
        )
    if missing:
        return []
    maps = {c.key: choice_map(c) for c in sheet.columns if c.kind in (CHOICE, MULTI)}
    result: list[Row] = []

    def all_rows() -> Iterator[tuple]:
        yield from pending
        yield from rows

    for number, raw_row in enumerate(all_rows(), start=data_start):
        if not any(cell_text(v) for v in raw_row):
            continue
        values: dict[str, Any] = {}
        bad = False
        for index, col in positions.items():
            raw = raw_row[index] if index < len(raw_row) else None
            try:
                values[col.key] = parse_cell(col, raw, maps.get(col.key, {}))
            except CellError as exc:
                bad = True
                report.error(sheet.name, number, col.label, exc.code, exc.message)
        if not bad:
            result.append(Row(number, values))
    return result


def read_workbook(fileobj: BinaryIO, report: ImportReport) -> dict[str, list[Row]] | None:
    """Every sheet's valid rows by sheet key, or None when the file cannot be used at all
    (unreadable, or a required sheet missing); the problems go to ``report``."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception:  # any unreadable file is reported, never raised
        report.error(
            "", None, "", "file_unreadable", _("文件无法读取，请上传 .xlsx 格式的Excel工作簿")
        )
        return None
    try:
        present = set(workbook.sheetnames)
        if ITEMS.name not in present and IMPLEMENTATIONS.name not in present:
            report.error(ITEMS.name, None, "", "sheet_missing", _("缺少工作表“事项”或“实施清单”"))
            return None
        needed = (
            [IMPLEMENTATIONS.name, *(s.name for s in CHILD_SHEETS)]
            if IMPLEMENTATIONS.name in present
            else []
        )
        for name in needed:
            if name not in present:
                report.error(name, None, "", "sheet_missing", _("缺少工作表“%(s)s”") % {"s": name})
        if report.errors:
            return None
        return {
            sheet.key: read_sheet(workbook[sheet.name], sheet, report)
            if sheet.name in present
            else []
            for sheet in SHEETS
        }
    finally:
        workbook.close()
