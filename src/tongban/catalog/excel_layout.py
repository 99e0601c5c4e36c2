"""The layout of the catalog workbook (docs/catalog-excel.md): its sheets and columns, and how a
cell's value is read (label or code → stored value) and written (stored value → label).

Shared by :mod:`tongban.catalog.excel_export` (writing) and :mod:`tongban.catalog.importexport`
(reading back). A column's kind, requiredness, length and code list come from the model field it
mirrors, so the workbook follows the models.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from openpyxl.utils.escape import unescape

from tongban.catalog.models import (
    Audience,
    Fee,
    Implementation,
    Intermediary,
    Item,
    Location,
    Material,
    ProcessStep,
    Question,
    ServiceHours,
    Situation,
    SituationOption,
)

TEXT, INT, BOOL, CHOICE, MULTI, DATE, TIME, FILE, CODES, URL = (
    "text",
    "int",
    "bool",
    "choice",
    "multi",
    "date",
    "time",
    "file",
    "codes",
    "url",
)
YES, NO = "是", "否"
_TRUE = {"是", "1", "true", "yes", "y", "√"}
_FALSE = {"否", "0", "false", "no", "n", "×"}
_SPLIT = re.compile(r"[,，、;；\s]+")
# Control characters XML 1.0 cannot hold: stripped from every value written.
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


# eq=False: hashed by identity, never by their lazy translated labels (costly to evaluate).
@dataclass(frozen=True, eq=False)
class Column:
    key: str
    label: Any
    kind: str = TEXT
    required: bool = False
    max_length: int | None = None
    choices: tuple = ()  # (code, label) pairs
    integer_codes: bool = False
    maximum: int | None = None
    info: bool = False  # written on export; on import only checked (never stored)


def _field(model: type[models.Model], name: str, *, key: str | None = None, **overrides) -> Column:
    f = model._meta.get_field(name)
    if isinstance(f, models.BooleanField):
        kind = BOOL
    elif f.choices:
        kind = CHOICE
    elif isinstance(f, models.FileField):
        kind = FILE
    elif isinstance(f, models.URLField):
        kind = URL
    elif isinstance(f, models.DateField):
        kind = DATE
    elif isinstance(f, models.TimeField):
        kind = TIME
    elif isinstance(f, models.IntegerField):
        kind = INT
    else:
        kind = TEXT
    spec = {
        "key": key or name,
        "label": f.verbose_name,
        "kind": kind,
        "required": kind != BOOL and not f.blank and not f.has_default(),
        "max_length": getattr(f, "max_length", None) if kind in (TEXT, URL, FILE) else None,
        "choices": tuple((str(code), label) for code, label in f.choices or () if str(code)),
        "integer_codes": isinstance(f, models.IntegerField),
        "maximum": 32767
        if isinstance(f, models.SmallIntegerField | models.PositiveSmallIntegerField)
        else None,
    }
    spec.update(overrides)
    return Column(**spec)


@dataclass(frozen=True, eq=False)
class Sheet:
    name: str
    key: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)


IMPL_COL = Column("implementation", _("实施编码"), required=True, max_length=36)

ITEMS = Sheet(
    "事项",
    "items",
    (
        _field(Item, "code"),
        _field(Item, "national_code"),
        _field(Item, "name"),
        _field(Item, "item_type"),
        _field(Item, "legal_basis"),
        _field(Item, "level"),
        Column("audiences", _("服务对象"), MULTI, required=True, choices=tuple(Audience.choices)),
        Column("themes", _("服务主题编码"), CODES),
        Column("power_entries", _("权责清单编码"), CODES),
        _field(Item, "keywords"),
        _field(Item, "description"),
        _field(Item, "is_active"),
    ),
)
IMPLEMENTATION_FIELDS = (
    "handling_code",
    "handling_unit",
    "joint_departments",
    "statutory_limit",
    "statutory_unit",
    "statutory_note",
    "promised_limit",
    "promised_unit",
    "promised_note",
    "is_instant",
    "online_depth",
    "visits_required",
    "online_url",
    "handle_at_window",
    "handle_on_pc",
    "handle_on_mobile",
    "handle_by_post",
    "conditions",
    "quantity_limit",
    "jurisdiction",
    "cross_area",
    "result_name",
    "result_sample",
    "charges_fee",
    "consultation_phone",
    "complaint_phone",
    "has_intermediary",
    "supports_appointment",
    "supports_online_payment",
    "supports_express",
    "deliver_at_window",
    "deliver_by_express",
    "deliver_online",
    "status",
    "version",
    "effective_from",
    "effective_to",
)
IMPLEMENTATIONS = Sheet(
    "实施清单",
    "implementations",
    (
        _field(Implementation, "code"),
        Column("item_code", _("基本编码"), required=True, max_length=24),
        Column("item_name", _("事项名称"), info=True),
        Column("organization_uscc", _("实施主体统一社会信用代码"), required=True, max_length=18),
        Column("organization_name", _("实施主体名称"), info=True),
        Column("region_code", _("实施区划代码"), required=True, max_length=12),
        *(_field(Implementation, name) for name in IMPLEMENTATION_FIELDS),
    ),
)
LOCATIONS = Sheet(
    "办理地点",
    "locations",
    (
        IMPL_COL,
        *(
            _field(Location, n)
            for n in ("name", "street", "number", "room", "window", "note", "order")
        ),
    ),
)
HOURS = Sheet(
    "办理时间",
    "hours",
    (
        IMPL_COL,
        *(
            _field(ServiceHours, n)
            for n in ("weekday_from", "weekday_to", "opens", "closes", "note")
        ),
    ),
)
STEPS = Sheet(
    "办理流程",
    "steps",
    (
        IMPL_COL,
        *(
            _field(ProcessStep, n)
            for n in ("order", "name", "actor", "time_limit", "time_unit", "standard", "result")
        ),
    ),
)
MATERIALS = Sheet(
    "申请材料",
    "materials",
    (
        IMPL_COL,
        Column("number", _("材料编号"), INT, required=True, maximum=32767),
        *(
            _field(Material, n)
            for n in (
                "name",
                "source",
                "issuer",
                "originals",
                "copies",
                "form",
                "medium",
                "necessity",
                "needs_filling",
                "blank_form",
                "sample_form",
                "requirements",
                "note",
                "order",
            )
        ),
    ),
)
SITUATIONS = Sheet(
    "情形",
    "situations",
    (
        IMPL_COL,
        _field(Situation, "question"),
        _field(Situation, "multiple"),
        _field(Situation, "order", label=_("情形排序")),
        _field(SituationOption, "label", key="option", required=False),
        _field(SituationOption, "order", key="option_order", label=_("选项排序")),
        Column("materials", _("适用材料编号"), CODES),
    ),
)
FEES = Sheet(
    "收费",
    "fees",
    (IMPL_COL, *(_field(Fee, n) for n in ("name", "standard", "basis", "reducible"))),
)
INTERMEDIARIES = Sheet(
    "中介服务",
    "intermediaries",
    (IMPL_COL, *(_field(Intermediary, n) for n in ("name", "basis", "is_special_step"))),
)
FAQS = Sheet(
    "常见问题", "faqs", (IMPL_COL, *(_field(Question, n) for n in ("question", "answer", "order")))
)

CHILD_SHEETS = (LOCATIONS, HOURS, STEPS, MATERIALS, SITUATIONS, FEES, INTERMEDIARIES, FAQS)
SHEETS = (ITEMS, IMPLEMENTATIONS, *CHILD_SHEETS)
SHEET_BY_KEY = {sheet.key: sheet for sheet in SHEETS}
CHILD_MODELS = {
    "locations": Location,
    "hours": ServiceHours,
    "steps": ProcessStep,
    "fees": Fee,
    "intermediaries": Intermediary,
    "faqs": Question,
}


# --- cell values ---------------------------------------------------------------------------------
class CellError(Exception):
    def __init__(self, code: str, message):
        self.code, self.message = code, message


def cell_text(raw: Any) -> str:
    """A cell's value as trimmed text: whole floats as integers, dates as ISO.

    Text is unescaped from Office Open XML's ``_xHHHH_`` form, which Excel (and XlsxWriter,
    which writes the export) use for a literal ``_xHHHH_`` and for control characters; openpyxl
    returns it as stored. Control characters so decoded are dropped, as on export."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        if "_x" in raw:
            raw = ILLEGAL_CHARACTERS.sub("", unescape(raw))
        return raw.strip()
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, dt.datetime):
        raw = raw.date() if raw.time() == dt.time() else raw
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return str(raw).strip()


def choice_map(col: Column) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for code, label in col.choices:
        label = str(label)
        aliases = [code, label, *label.split()]
        if code.isdigit():
            aliases.append(str(int(code)))  # "01" typed as a number in Excel
        for alias in aliases:
            mapping.setdefault(alias.lower(), code)
    if col.key in ("weekday_from", "weekday_to"):
        for code, label in col.choices:
            mapping.setdefault("周" + str(label)[-1], code)
    return mapping


def parse_cell(col: Column, raw: Any, aliases: dict[str, str]) -> Any:
    text = cell_text(raw)
    if not text:
        if col.required:
            raise CellError("required", _("必填项“%(col)s”为空") % {"col": col.label})
        return None
    if col.kind in (TEXT, URL, FILE):
        if col.max_length and len(text) > col.max_length:
            raise CellError(
                "too_long", _("长度%(n)d超过上限%(max)d") % {"n": len(text), "max": col.max_length}
            )
        if col.kind == URL:
            try:
                URLValidator()(text)
            except ValidationError:
                raise CellError("invalid_url", _("“%(v)s”不是有效的网址") % {"v": text}) from None
        return text
    if col.kind == INT:
        try:
            number = float(text)
        except ValueError:
            raise CellError("not_a_number", _("“%(v)s”不是整数") % {"v": text}) from None
        if not number.is_integer() or number < 0:
            raise CellError("not_a_number", _("“%(v)s”不是非负整数") % {"v": text})
        if col.maximum is not None and number > col.maximum:
            raise CellError(
                "too_large", _("%(v)s超过上限%(max)d") % {"v": text, "max": col.maximum}
            )
        return int(number)
    if col.kind == BOOL:
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise CellError("invalid_boolean", _("应填“是”或“否”，而不是“%(v)s”") % {"v": text})
    if col.kind == CHOICE:
        code = aliases.get(text.lower())
        if code is None:
            raise CellError(
                "invalid_choice",
                _("“%(v)s”不在代码表中，可填：%(labels)s")
                % {"v": text, "labels": "、".join(str(label) for _c, label in col.choices)},
            )
        return int(code) if col.integer_codes else code
    if col.kind == MULTI:
        codes: list[str] = []
        for part in filter(None, _SPLIT.split(text)):
            code = aliases.get(part.lower())
            if code is None:
                raise CellError(
                    "invalid_choice",
                    _("“%(v)s”不在代码表中，可填：%(labels)s")
                    % {"v": part, "labels": "、".join(str(label) for _c, label in col.choices)},
                )
            if code not in codes:
                codes.append(code)
        return ",".join(codes)
    if col.kind == CODES:
        return [part for part in _SPLIT.split(text) if part]
    if col.kind == DATE:
        if isinstance(raw, dt.datetime | dt.date):
            return raw.date() if isinstance(raw, dt.datetime) else raw
        for fmt in ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d"):
            try:
                return dt.datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        raise CellError("invalid_date", _("“%(v)s”不是日期（应为YYYY-MM-DD）") % {"v": text})
    if col.kind == TIME:
        if isinstance(raw, dt.time):
            return raw
        if isinstance(raw, dt.datetime):
            return raw.time()
        for fmt in ("%H:%M", "%H:%M:%S", "%H：%M"):
            try:
                return dt.datetime.strptime(text, fmt).time()
            except ValueError:
                continue
        raise CellError("invalid_time", _("“%(v)s”不是时间（应为HH:MM）") % {"v": text})
    raise AssertionError(col.kind)  # pragma: no cover


def export_value(col: Column, value: Any) -> Any:
    if value is None:
        return None
    if col.kind == BOOL:
        return YES if value else NO
    if col.kind == CHOICE:
        if value == "":
            return None
        return str(dict(col.choices).get(str(value), value))
    if col.kind == MULTI:
        labels = dict(col.choices)
        return "、".join(str(labels.get(code, code)) for code in value.split(",") if code)
    if col.kind == CODES:
        return "、".join(str(v) for v in value) or None
    if col.kind == TIME:
        return value.strftime("%H:%M" if not value.second else "%H:%M:%S")
    if col.kind == FILE:
        return value.name or None if hasattr(value, "name") else value or None
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS.sub("", value) or None
    return value
