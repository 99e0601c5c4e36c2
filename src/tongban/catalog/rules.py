"""Every rule about an implementation's service guide (办事指南), in one place.

The Django admin forms, the Excel import and the guide audit all ask this module, so that a guide
the admin accepts is a guide the import accepts and the audit counts the same way.

Each :class:`Rule` has a stable ``code``, a :class:`Severity`, the row of seed 001 attachment 1 it
enforces and a Chinese message:

* ``error``: the guide contradicts itself (depth Ⅳ with on-site visits, a promised limit longer
  than the statutory one, an instant item with a time limit). An error blocks publication, the
  admin save and the import.
* ``defect``: an element the seed requires is missing (no street or window in the address, no
  blank form for a table the applicant fills in). The audit lists defects to fix; the admin saves
  and warns; the import imports and reports them as warnings.

Rules read a plain dictionary, the *guide values*: the implementation's own fields under their
model names plus one list of dictionaries per child collection (``locations``, ``hours``,
``steps``, ``materials``, ``situations``, ``intermediaries``). :func:`check_values` checks such a
dictionary (the import builds it from spreadsheet rows before anything is saved; the admin builds
it from a form's cleaned data); :func:`check_implementation` builds it from a saved instance whose
children are prefetched (:data:`GUIDE_PREFETCH`), so checking adds no query per rule.

A rule belongs to one *scope*: ``implementation`` rules read only the implementation's fields; a
collection rule reads that collection (and may read the implementation's fields). A scope whose
collection is absent from the dictionary is not checked, which lets an admin inline check only
its own rows.

Time-limit units (seed 001 rows 1, 12, 13)
------------------------------------------
Promised and statutory limits are compared in the same unit. When one is in working days (工作日)
and the other in natural days (自然日), natural days are converted with **5 working days ≈ 7
natural days** (a week) rather than flagged as a separate defect: seed rows 12–13 ask that the
unit be stated, not that both be the same. The comparison is then approximate (holidays are
ignored), and the message says so; an operator who disagrees states both limits in one unit.

Visits and depth (rows 4–6, 22)
-------------------------------
Depth Ⅱ allows at most 2 on-site visits, Ⅲ at most 1, Ⅳ none
(:data:`~tongban.catalog.models.choices.MAX_VISITS_FOR_DEPTH`). Depth Ⅱ and above means the
application is submitted online, so at least one online channel (PC or mobile) must be offered.
Zero visits at depth Ⅰ is only possible when the application can be posted (快递申请).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.db.models import prefetch_related_objects
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tongban.catalog.models import (
    MaterialForm,
    MaterialMedium,
    MaterialSource,
    OnlineDepth,
    TimeUnit,
)
from tongban.catalog.models.choices import MAX_VISITS_FOR_DEPTH

__all__ = [
    "COLLECTIONS",
    "GUIDE_PREFETCH",
    "IMPLEMENTATION_FIELDS",
    "RULES",
    "Finding",
    "Rule",
    "Severity",
    "check_implementation",
    "check_values",
    "errors",
    "guide_values",
    "to_working_days",
]


class Severity(enum.StrEnum):
    ERROR = "error"
    DEFECT = "defect"

    @property
    def label(self) -> str:
        return str(_("错误") if self is Severity.ERROR else _("缺项"))


IMPLEMENTATION = "implementation"
COLLECTIONS = ("locations", "hours", "steps", "materials", "situations", "intermediaries")
SCOPES = (IMPLEMENTATION, *COLLECTIONS)

# What check_implementation needs prefetched: every child collection and the material conditions.
GUIDE_PREFETCH = (
    "locations",
    "hours",
    "steps",
    "materials__conditions",
    "situations__options",
    "intermediaries",
)


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    severity: Severity
    seed_row: int
    scope: str
    field: str
    message: Any  # a lazy translation with %(name)s placeholders
    check: Callable[[Mapping[str, Any]], Iterable[tuple[int | None, dict]]]

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule broken by one guide; ``index`` is the child row within its collection."""

    rule: Rule
    message: str
    index: int | None = None

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def is_error(self) -> bool:
        return self.rule.is_error

    @property
    def seed_row(self) -> int:
        return self.rule.seed_row

    @property
    def scope(self) -> str:
        return self.rule.scope

    @property
    def field(self) -> str:
        return self.rule.field

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "seed_row": self.seed_row,
            "scope": self.scope,
            "index": self.index,
            "field": self.field,
            "message": self.message,
        }


RULES: dict[str, Rule] = {}


def _rule(code: str, severity: Severity, *, row: int, scope: str, field: str, message):
    def register(func):
        if code in RULES:  # pragma: no cover - a programming error caught at import
            raise ValueError(f"duplicate rule code {code}")
        RULES[code] = Rule(code, severity, row, scope, field, message, func)
        return func

    return register


# --- helpers --------------------------------------------------------------------------------------
_UNIT_LABELS = dict(TimeUnit.choices)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def to_working_days(limit: int, unit: str) -> Fraction:
    """A limit in working days; natural days convert at 5 working ≈ 7 natural (see above)."""
    if unit == TimeUnit.NATURAL_DAYS:
        return Fraction(limit * 5, 7)
    return Fraction(limit)


def _limit_text(limit: int, unit: str) -> str:
    # Translators: a time limit, e.g. "5工作日" / "5 working days".
    return gettext("%(limit)d%(unit)s") % {"limit": limit, "unit": _UNIT_LABELS.get(unit, unit)}


def _rows(data: Mapping[str, Any], collection: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    yield from enumerate(data.get(collection) or ())


def _missing(row: Mapping[str, Any], fields: Iterable[tuple[str, Any]]) -> str:
    return "、".join(str(label) for name, label in fields if _blank(row.get(name)))


# --- implementation: time limits (rows 1, 2, 12, 13) ----------------------------------------------
@_rule(
    "statutory_limit_missing",
    Severity.DEFECT,
    row=12,
    scope=IMPLEMENTATION,
    field="statutory_limit",
    message=_("未标注法定办结时限或未说明是工作日还是自然日"),
)
def _statutory_missing(data):
    if _int(data.get("statutory_limit")) is None or data.get("statutory_unit") not in _UNIT_LABELS:
        yield None, {}


@_rule(
    "promised_limit_missing",
    Severity.DEFECT,
    row=13,
    scope=IMPLEMENTATION,
    field="promised_limit",
    message=_("未标注承诺办结时限或未说明是工作日还是自然日"),
)
def _promised_missing(data):
    if _int(data.get("promised_limit")) is None or data.get("promised_unit") not in _UNIT_LABELS:
        yield None, {}


@_rule(
    "promised_exceeds_statutory",
    Severity.ERROR,
    row=13,
    scope=IMPLEMENTATION,
    field="promised_limit",
    message=_("承诺办结时限（%(promised)s）长于法定办结时限（%(statutory)s）%(note)s"),
)
def _promised_exceeds(data):
    promised, statutory = _int(data.get("promised_limit")), _int(data.get("statutory_limit"))
    p_unit, s_unit = data.get("promised_unit"), data.get("statutory_unit")
    if promised is None or statutory is None or p_unit not in _UNIT_LABELS:
        return
    if s_unit not in _UNIT_LABELS:
        return
    if to_working_days(promised, p_unit) > to_working_days(statutory, s_unit):
        note = "" if p_unit == s_unit else str(_("（按5个工作日约合7个自然日折算）"))
        yield (
            None,
            {
                "promised": _limit_text(promised, p_unit),
                "statutory": _limit_text(statutory, s_unit),
                "note": note,
            },
        )


@_rule(
    "instant_with_limit",
    Severity.ERROR,
    row=2,
    scope=IMPLEMENTATION,
    field="promised_limit",
    message=_("即办件应当场办结，承诺办结时限应为0，当前为%(promised)s"),
)
def _instant_with_limit(data):
    promised = _int(data.get("promised_limit"))
    if data.get("is_instant") and promised:
        yield None, {"promised": _limit_text(promised, data.get("promised_unit") or "")}


# --- implementation: depth and visits (rows 4–6, 22) ----------------------------------------------
def _depth_visits(depth: int):
    def check(data):
        visits = _int(data.get("visits_required"))
        if (
            data.get("online_depth") == depth
            and visits is not None
            and visits > MAX_VISITS_FOR_DEPTH[depth]
        ):
            yield None, {"visits": visits}

    return check


_rule(
    "depth4_requires_zero_visits",
    Severity.ERROR,
    row=6,
    scope=IMPLEMENTATION,
    field="visits_required",
    message=_("全程网办（Ⅳ级）事项无需到现场，到办事现场次数应为0，当前为%(visits)s次"),
)(_depth_visits(OnlineDepth.FULLY_ONLINE))
_rule(
    "depth3_max_one_visit",
    Severity.ERROR,
    row=5,
    scope=IMPLEMENTATION,
    field="visits_required",
    message=_("材料核验（Ⅲ级）事项到现场不超过1次，当前为%(visits)s次"),
)(_depth_visits(OnlineDepth.VERIFIED))
_rule(
    "depth2_max_two_visits",
    Severity.ERROR,
    row=4,
    scope=IMPLEMENTATION,
    field="visits_required",
    message=_("材料预审（Ⅱ级）事项到现场不超过2次，当前为%(visits)s次"),
)(_depth_visits(OnlineDepth.PREREVIEW))


@_rule(
    "online_depth_without_online_channel",
    Severity.ERROR,
    row=4,
    scope=IMPLEMENTATION,
    field="online_depth",
    message=_("网上办理深度为Ⅱ级及以上，但未提供电脑端或移动端网上办理渠道"),
)
def _depth_without_channel(data):
    depth = _int(data.get("online_depth"))
    online = data.get("handle_on_pc") or data.get("handle_on_mobile")
    if depth is not None and depth >= OnlineDepth.PREREVIEW and not online:
        yield None, {}


@_rule(
    "zero_visits_without_remote_channel",
    Severity.ERROR,
    row=22,
    scope=IMPLEMENTATION,
    field="visits_required",
    message=_("到办事现场次数为0，但事项既不能网上办理也不能快递申请"),
)
def _zero_visits_without_channel(data):
    if (
        _int(data.get("visits_required")) == 0
        and data.get("online_depth") == OnlineDepth.PUBLISHED
        and not data.get("handle_by_post")
    ):
        yield None, {}


@_rule(
    "visits_missing",
    Severity.DEFECT,
    row=22,
    scope=IMPLEMENTATION,
    field="visits_required",
    message=_("未标注申请人到办事现场次数"),
)
def _visits_missing(data):
    if _int(data.get("visits_required")) is None:
        yield None, {}


# --- implementation: consultation (row 16) --------------------------------------------------------
@_rule(
    "phone_missing",
    Severity.DEFECT,
    row=16,
    scope=IMPLEMENTATION,
    field="consultation_phone",
    message=_("未标注受理部门的咨询电话"),
)
def _phone_missing(data):
    if _blank(data.get("consultation_phone")):
        yield None, {}


# --- locations (row 14) ---------------------------------------------------------------------------
_LOCATION_PARTS = (
    ("street", _("街道")),
    ("number", _("门牌号")),
    ("room", _("房间号")),
    ("window", _("窗口号")),
)


@_rule(
    "location_missing",
    Severity.DEFECT,
    row=14,
    scope="locations",
    field="name",
    message=_("未标注办理地点"),
)
def _location_missing(data):
    if not data.get("locations"):
        yield None, {}


@_rule(
    "location_incomplete",
    Severity.DEFECT,
    row=14,
    scope="locations",
    field="street",
    message=_("办理地点“%(name)s”缺少%(missing)s"),
)
def _location_incomplete(data):
    for index, row in _rows(data, "locations"):
        missing = _missing(row, _LOCATION_PARTS)
        if missing:
            yield index, {"name": row.get("name") or "", "missing": missing}


# --- hours (row 15) -------------------------------------------------------------------------------
@_rule(
    "hours_missing",
    Severity.DEFECT,
    row=15,
    scope="hours",
    field="opens",
    message=_("未标注受理的时间周期（办理时间）"),
)
def _hours_missing(data):
    if not data.get("hours"):
        yield None, {}


@_rule(
    "hours_invalid",
    Severity.ERROR,
    row=15,
    scope="hours",
    field="closes",
    message=_("办理时间有误：%(problem)s"),
)
def _hours_invalid(data):
    for index, row in _rows(data, "hours"):
        first, last = row.get("weekday_from"), row.get("weekday_to")
        opens, closes = row.get("opens"), row.get("closes")
        if isinstance(first, int) and isinstance(last, int) and first > last:
            yield index, {"problem": _("起始星期晚于结束星期")}
        elif opens is not None and closes is not None and opens >= closes:
            yield index, {"problem": _("开始时间不早于结束时间")}


# --- intermediaries (row 17) ----------------------------------------------------------------------
@_rule(
    "intermediary_missing",
    Severity.DEFECT,
    row=17,
    scope="intermediaries",
    field="name",
    message=_("已标注涉及中介服务或特殊环节，但未列明具体名称及设定依据"),
)
def _intermediary_missing(data):
    if data.get("has_intermediary") and not data.get("intermediaries"):
        yield None, {}


@_rule(
    "intermediary_undeclared",
    Severity.ERROR,
    row=17,
    scope="intermediaries",
    field="name",
    message=_("列有中介服务或特殊环节“%(name)s”，但事项标注为不涉及中介服务"),
)
def _intermediary_undeclared(data):
    if "has_intermediary" in data and not data.get("has_intermediary"):
        for index, row in _rows(data, "intermediaries"):
            yield index, {"name": row.get("name") or ""}


@_rule(
    "intermediary_without_basis",
    Severity.DEFECT,
    row=17,
    scope="intermediaries",
    field="basis",
    message=_("中介服务或特殊环节“%(name)s”未提供设定依据"),
)
def _intermediary_without_basis(data):
    for index, row in _rows(data, "intermediaries"):
        if _blank(row.get("basis")):
            yield index, {"name": row.get("name") or ""}


# --- materials (rows 18–20, 23, 24) ---------------------------------------------------------------
_ISSUER_NOT_NEEDED = {MaterialSource.APPLICANT, MaterialSource.ONLINE_FORM}
_PAPER = {MaterialMedium.PAPER, MaterialMedium.BOTH}


@_rule(
    "material_issuer_missing",
    Severity.DEFECT,
    row=18,
    scope="materials",
    field="issuer",
    message=_("材料“%(name)s”未注明来源渠道或出具单位"),
)
def _material_issuer(data):
    for index, row in _rows(data, "materials"):
        source = row.get("source")
        if _blank(source) or (source not in _ISSUER_NOT_NEEDED and _blank(row.get("issuer"))):
            yield index, {"name": row.get("name") or ""}


@_rule(
    "material_quantity_missing",
    Severity.DEFECT,
    row=19,
    scope="materials",
    field="originals",
    message=_("纸质材料“%(name)s”未注明份数（原件与复印件份数均为0）"),
)
def _material_quantity(data):
    for index, row in _rows(data, "materials"):
        if row.get("medium") in _PAPER and not (row.get("originals") or row.get("copies")):
            yield index, {"name": row.get("name") or ""}


@_rule(
    "material_form_quantity_mismatch",
    Severity.ERROR,
    row=19,
    scope="materials",
    field="copies",
    message=_("材料“%(name)s”的类型为“%(form)s”，但%(problem)s"),
)
def _material_form_quantity(data):
    labels = dict(MaterialForm.choices)
    for index, row in _rows(data, "materials"):
        form, originals, copies = row.get("form"), row.get("originals") or 0, row.get("copies") or 0
        if row.get("medium") not in _PAPER or not (originals or copies):
            continue  # no paper counts to contradict (row 19 reports missing counts)
        problem = None
        if form == MaterialForm.ORIGINAL and copies and not originals:
            problem = _("只要求复印件")
        elif form == MaterialForm.COPY and originals and not copies:
            problem = _("只要求原件")
        elif form == MaterialForm.BOTH and not (originals and copies):
            problem = _("原件或复印件份数为0")
        if problem:
            yield index, {"name": row.get("name") or "", "form": labels[form], "problem": problem}


@_rule(
    "material_form_missing",
    Severity.DEFECT,
    row=20,
    scope="materials",
    field="form",
    message=_("材料“%(name)s”未注明材料类型（原件/复印件）或材料形式（纸质/电子）"),
)
def _material_form_missing(data):
    for index, row in _rows(data, "materials"):
        if _blank(row.get("form")) or _blank(row.get("medium")):
            yield index, {"name": row.get("name") or ""}


@_rule(
    "blank_form_missing",
    Severity.DEFECT,
    row=23,
    scope="materials",
    field="blank_form",
    message=_("需申请人填写的表格“%(name)s”未提供空白表格下载"),
)
def _blank_form(data):
    for index, row in _rows(data, "materials"):
        if row.get("needs_filling") and not row.get("blank_form"):
            yield index, {"name": row.get("name") or ""}


@_rule(
    "sample_form_missing",
    Severity.DEFECT,
    row=24,
    scope="materials",
    field="sample_form",
    message=_("需申请人填写的表格“%(name)s”未提供示范样表下载"),
)
def _sample_form(data):
    for index, row in _rows(data, "materials"):
        if row.get("needs_filling") and not row.get("sample_form"):
            yield index, {"name": row.get("name") or ""}


# --- process (row 21) -----------------------------------------------------------------------------
_STEP_PARTS = (
    ("name", _("环节名称")),
    ("time_limit", _("办理时限")),
    ("time_unit", _("时限单位")),
    ("standard", _("审查标准")),
    ("result", _("办理结果")),
)


@_rule(
    "no_steps",
    Severity.DEFECT,
    row=21,
    scope="steps",
    field="name",
    message=_("未列明办理流程"),
)
def _no_steps(data):
    if not data.get("steps"):
        yield None, {}


@_rule(
    "process_step_incomplete",
    Severity.DEFECT,
    row=21,
    scope="steps",
    field="standard",
    message=_("办理环节“%(name)s”缺少%(missing)s"),
)
def _step_incomplete(data):
    for index, row in _rows(data, "steps"):
        missing = _missing(row, _STEP_PARTS)
        if missing:
            yield index, {"name": row.get("name") or row.get("order") or "", "missing": missing}


# --- situations (row 11) --------------------------------------------------------------------------
@_rule(
    "situation_without_options",
    Severity.DEFECT,
    row=11,
    scope="situations",
    field="question",
    message=_("情形“%(question)s”的选项少于2个"),
)
def _situation_options(data):
    for index, row in _rows(data, "situations"):
        if len(row.get("options") or ()) < 2:
            yield index, {"question": row.get("question") or ""}


@_rule(
    "situation_unused",
    Severity.DEFECT,
    row=11,
    scope="situations",
    field="question",
    message=_("情形“%(question)s”未用于区分任何申请材料"),
)
def _situation_unused(data):
    if "materials" not in data:
        return  # cannot tell without the materials
    used = {
        key for material in data.get("materials") or () for key in material.get("conditions") or ()
    }
    for index, row in _rows(data, "situations"):
        options = row.get("options") or ()
        if options and not any(option.get("key") in used for option in options):
            yield index, {"question": row.get("question") or ""}


# --- the API --------------------------------------------------------------------------------------
def check_values(data: Mapping[str, Any], *, scopes: Iterable[str] | None = None) -> list[Finding]:
    """Check guide values (see the module docstring); returns errors and defects.

    Without ``scopes``, the implementation's fields are checked and every collection present in
    ``data``; with ``scopes``, only those (a collection scope still needs its key in ``data``).
    """
    wanted = set(SCOPES if scopes is None else scopes)
    findings: list[Finding] = []
    for rule in RULES.values():
        if rule.scope not in wanted:
            continue
        if rule.scope != IMPLEMENTATION and rule.scope not in data:
            continue
        for index, params in rule.check(data):
            message = (
                str(rule.message) % {k: str(v) for k, v in params.items()}
                if params
                else rule.message
            )
            findings.append(Finding(rule, str(message), index))
    return findings


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.is_error]


IMPLEMENTATION_FIELDS = (
    "statutory_limit",
    "statutory_unit",
    "promised_limit",
    "promised_unit",
    "is_instant",
    "online_depth",
    "visits_required",
    "handle_at_window",
    "handle_on_pc",
    "handle_on_mobile",
    "handle_by_post",
    "consultation_phone",
    "has_intermediary",
)


def guide_values(impl) -> dict[str, Any]:
    """The guide values of an implementation, reading its prefetched children (an unsaved
    implementation has none)."""
    data: dict[str, Any] = {name: getattr(impl, name) for name in IMPLEMENTATION_FIELDS}
    if impl.pk is None:
        data.update({name: [] for name in COLLECTIONS})
        return data
    data["locations"] = [
        {"name": x.name, "street": x.street, "number": x.number, "room": x.room, "window": x.window}
        for x in impl.locations.all()
    ]
    data["hours"] = [
        {
            "weekday_from": x.weekday_from,
            "weekday_to": x.weekday_to,
            "opens": x.opens,
            "closes": x.closes,
        }
        for x in impl.hours.all()
    ]
    data["steps"] = [
        {
            "order": x.order,
            "name": x.name,
            "time_limit": x.time_limit,
            "time_unit": x.time_unit,
            "standard": x.standard,
            "result": x.result,
        }
        for x in impl.steps.all()
    ]
    data["materials"] = [
        {
            "name": x.name,
            "source": x.source,
            "issuer": x.issuer,
            "originals": x.originals,
            "copies": x.copies,
            "form": x.form,
            "medium": x.medium,
            "needs_filling": x.needs_filling,
            "blank_form": x.blank_form.name if x.blank_form else "",
            "sample_form": x.sample_form.name if x.sample_form else "",
            "conditions": [o.pk for o in x.conditions.all()],
        }
        for x in impl.materials.all()
    ]
    data["situations"] = [
        {
            "question": x.question,
            "options": [{"key": o.pk, "label": o.label} for o in x.options.all()],
        }
        for x in impl.situations.all()
    ]
    data["intermediaries"] = [{"name": x.name, "basis": x.basis} for x in impl.intermediaries.all()]
    return data


def check_implementation(impl, *, prefetched: bool = True) -> list[Finding]:
    """Check a saved implementation. With ``prefetched=False`` its children are loaded first
    (one query per collection); with the default, :data:`GUIDE_PREFETCH` must already be applied
    or each collection costs a query."""
    if not prefetched and impl.pk is not None:
        prefetch_related_objects([impl], *GUIDE_PREFETCH)
    return check_values(guide_values(impl))
