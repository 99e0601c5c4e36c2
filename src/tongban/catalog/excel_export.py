"""Writing the catalog as an Excel workbook (layout: docs/catalog-excel.md).

The workbook is written with XlsxWriter in its ``constant_memory`` mode: each sheet's rows are
streamed to a temporary file as they are written, so memory stays flat however large the catalog.
Row 1 holds the Chinese headers (bold, on a light-blue fill; ``*`` marks a required column), row 2
the machine keys (small, grey); panes are frozen below row 2 and after column A. Text is always
written as a string, never as a formula or a link, so a value starting with "=" stays text; code
lists are written as Chinese labels, booleans as 是/否, dates and times as ISO text; control
characters that XML cannot hold are dropped. :mod:`tongban.catalog.importexport` reads it back.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, BinaryIO

import xlsxwriter
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from tongban.catalog.excel_layout import (
    CHILD_MODELS,
    ILLEGAL_CHARACTERS,
    IMPLEMENTATION_FIELDS,
    ITEMS,
    MATERIALS,
    NO,
    SHEET_BY_KEY,
    SHEETS,
    YES,
    Sheet,
    export_value,
)
from tongban.catalog.models import Implementation, Item, Material, Situation

_CHUNK = 1000
_HEADER_FORMAT = {"bold": True, "bg_color": "#DDEBF7", "pattern": 1}
_KEY_FORMAT = {"font_size": 9, "font_color": "#808080"}
# XlsxWriter's return code when it had to cut a string to Excel's limit of 32,767 characters.
_TRUNCATED = -2


class ExportError(ValueError):
    """A stored value the workbook cannot hold; nothing usable was written.

    ``code`` is the machine code (``cell_too_long``); the message (Chinese) names the sheet, the
    row as Excel numbers it and the column, so that the value can be shortened first."""

    def __init__(self, *, code: str, sheet: str, row: int, column: str, message: str):
        super().__init__(message)
        self.code, self.sheet, self.row, self.column = code, sheet, row, column


def export_catalog(queryset=None, fileobj: BinaryIO | None = None) -> BinaryIO:
    """Write implementations (all when ``queryset`` is None) and their items to ``fileobj``.

    ``queryset`` is a queryset of :class:`Implementation`; the items written are those of the
    implementations, plus, for a full export, every item without one. ``fileobj`` may be any
    writable binary file (an ``HttpResponse`` too); it is returned. Raises :class:`ExportError`
    when a value exceeds what an Excel cell holds.
    """
    if fileobj is None:
        fileobj = io.BytesIO()
    with (
        translation.override("zh-hans"),
        tempfile.TemporaryDirectory(prefix="tongban-export-") as tmpdir,
    ):
        # On an error the workbook is never closed, so nothing is written to ``fileobj``; the
        # temporary row files go with the directory.
        workbook = xlsxwriter.Workbook(fileobj, {"constant_memory": True, "tmpdir": tmpdir})
        header = workbook.add_format(_HEADER_FORMAT)
        keys = workbook.add_format(_KEY_FORMAT)
        sheets = {sheet.key: _SheetWriter(workbook, sheet, header, keys) for sheet in SHEETS}
        full = queryset is None
        impls = (Implementation.objects.all() if full else queryset).order_by("code")
        impls = impls.select_related("item", "organization", "region").prefetch_related(
            "locations",
            "hours",
            "steps",
            "fees",
            "intermediaries",
            "faqs",
            models.Prefetch("materials", queryset=Material.objects.prefetch_related("conditions")),
            models.Prefetch("situations", queryset=Situation.objects.prefetch_related("options")),
        )
        item_ids: set[int] = set()
        for impl in impls.iterator(chunk_size=_CHUNK):
            item_ids.add(impl.item_id)
            _write_implementation(sheets, impl)
        items = Item.objects.order_by("code").prefetch_related("themes", "power_entries")
        if not full:
            items = items.filter(pk__in=item_ids)
        for item in items.iterator(chunk_size=_CHUNK):
            row = {c.key: getattr(item, c.key, None) for c in ITEMS.columns}
            row["themes"] = [t.code for t in item.themes.all()]
            row["power_entries"] = [p.code for p in item.power_entries.all()]
            sheets["items"].append(row)
        workbook.close()
    return fileobj


class _SheetWriter:
    """One sheet of the workbook, written row after row (``constant_memory`` needs that order)."""

    def __init__(self, workbook: xlsxwriter.Workbook, sheet: Sheet, header, keys) -> None:
        self.sheet = sheet
        self.worksheet = workbook.add_worksheet(sheet.name)
        self.worksheet.freeze_panes(2, 1)
        self.row = 0
        self._write([str(c.label) + ("*" if c.required else "") for c in sheet.columns], header)
        self._write([c.key for c in sheet.columns], keys)

    def append(self, values: dict) -> None:
        """Write one data row from ``values`` (stored values by column key)."""
        self._write([export_value(col, values.get(col.key)) for col in self.sheet.columns])

    def _write(self, values: Iterable[Any], cell_format=None) -> None:
        ws, row = self.worksheet, self.row
        for index, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                value = YES if value else NO
            if isinstance(value, int | float):
                ws.write_number(row, index, value, cell_format)
                continue
            if isinstance(value, dt.date):
                value = value.isoformat()
            text = ILLEGAL_CHARACTERS.sub("", str(value))
            if ws.write_string(row, index, text, cell_format) == _TRUNCATED:
                column = str(self.sheet.columns[index].label)
                raise ExportError(
                    code="cell_too_long",
                    sheet=self.sheet.name,
                    row=row + 1,
                    column=column,
                    message=str(
                        _("%(sheet)s 第%(row)d行 %(col)s：内容超过Excel单元格上限32767个字符")
                        % {"sheet": self.sheet.name, "row": row + 1, "col": column}
                    ),
                )
        self.row += 1


def _write_implementation(sheets: dict[str, _SheetWriter], impl: Implementation) -> None:
    row = {name: getattr(impl, name) for name in IMPLEMENTATION_FIELDS}
    row.update(
        code=impl.code,
        item_code=impl.item.code,
        item_name=impl.item.name,
        organization_uscc=impl.organization.uscc,
        organization_name=impl.organization.name,
        region_code=impl.region.code,
    )
    sheets["implementations"].append(row)
    for key in CHILD_MODELS:
        columns = SHEET_BY_KEY[key].columns[1:]
        for obj in getattr(impl, key).all():
            values = {c.key: getattr(obj, c.key, None) for c in columns}
            values["implementation"] = impl.code
            sheets[key].append(values)
    numbers: dict[int, int] = {}
    for number, material in enumerate(impl.materials.all(), start=1):
        numbers[material.pk] = number
        values = {c.key: getattr(material, c.key, None) for c in MATERIALS.columns[2:]}
        values.update(implementation=impl.code, number=number)
        sheets["materials"].append(values)
    by_option: dict[int, list[int]] = defaultdict(list)
    for material in impl.materials.all():
        for option in material.conditions.all():
            by_option[option.pk].append(numbers[material.pk])
    for situation in impl.situations.all():
        base = {
            "implementation": impl.code,
            "question": situation.question,
            "multiple": situation.multiple,
            "order": situation.order,
        }
        options = list(situation.options.all())
        if not options:
            sheets["situations"].append(base)
        for option in options:
            sheets["situations"].append(
                {
                    **base,
                    "option": option.label,
                    "option_order": option.order,
                    "materials": [str(n) for n in sorted(by_option.get(option.pk, []))],
                }
            )
