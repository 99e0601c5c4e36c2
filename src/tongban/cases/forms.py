"""Reading, prefilling and checking an application form defined as data.

:func:`form_for` resolves an implementation's fields (dictionary elements and its own) into
:class:`FieldSpec` rows; :func:`applicable` keeps those that apply to the chosen situations;
:func:`validate` checks every answer and returns all problems at once; :func:`prefill` fills what
the platform already knows about the applicant (seed 002 第十二条).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from tongban.cases.models import FieldKind, FormField, ProfileSource
from tongban.core.identifiers import IdentifierError, validate_id_number, validate_uscc
from tongban.core.models import Region
from tongban.core.personal import mask_id_number, mask_phone

MOBILE = re.compile(r"^1[3-9]\d{9}$")
DEFAULT_MAX_LENGTH = {FieldKind.TEXT: 100, FieldKind.LONG_TEXT: 2000, FieldKind.ADDRESS: 200}


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    kind: str
    required: bool
    rules: dict[str, Any] = field(default_factory=dict)
    choices: tuple[str, ...] = ()
    condition_id: int | None = None
    profile_source: str = ""
    personal: bool = False
    help_text: str = ""

    @property
    def input_type(self) -> str:
        return {
            FieldKind.NUMBER: "number",
            FieldKind.DATE: "date",
            FieldKind.PHONE: "tel",
        }.get(self.kind, "text")


def _spec(row: FormField) -> FieldSpec:
    element = row.element
    if element is not None:
        rules = {**element.rules, **row.rules}
        return FieldSpec(
            key=element.key,
            label=row.label or element.label,
            kind=element.kind,
            required=row.required,
            rules=rules,
            choices=tuple(row.choices or element.choices),
            condition_id=row.condition_id,
            profile_source=element.profile_source,
            personal=element.personal,
            help_text=element.help_text,
        )
    return FieldSpec(
        key=row.key,
        label=row.label,
        kind=row.kind,
        required=row.required,
        rules=dict(row.rules),
        choices=tuple(row.choices),
        condition_id=row.condition_id,
        personal=row.kind in (FieldKind.ID_NUMBER, FieldKind.PHONE),
    )


def form_for(implementation: Any) -> list[FieldSpec]:
    rows = FormField.objects.filter(implementation=implementation).select_related("element")
    return [_spec(row) for row in rows]


def applicable(specs: Iterable[FieldSpec], answers: Iterable[int]) -> list[FieldSpec]:
    chosen = set(answers)
    return [s for s in specs if s.condition_id is None or s.condition_id in chosen]


def _check(spec: FieldSpec, raw: Any) -> tuple[Any, str | None]:
    """The cleaned value of one answer, or the reason it is wrong."""
    value = raw.strip() if isinstance(raw, str) else raw
    if value in (None, "", []):
        if not spec.required:
            return "", None
        missing = _("请上传%(label)s") if spec.kind == FieldKind.FILE else _("请填写%(label)s")
        return "", missing % {"label": spec.label}
    rules = spec.rules
    kind = spec.kind
    if kind in (FieldKind.TEXT, FieldKind.LONG_TEXT, FieldKind.ADDRESS):
        value = str(value)
        longest = int(rules.get("max_length", DEFAULT_MAX_LENGTH.get(kind, 100)))
        shortest = int(rules.get("min_length", 0))
        if len(value) > longest:
            return value, _("%(label)s不能超过%(n)d个字") % {"label": spec.label, "n": longest}
        if len(value) < shortest:
            return value, _("%(label)s至少%(n)d个字") % {"label": spec.label, "n": shortest}
        if rules.get("pattern") and not re.fullmatch(rules["pattern"], value):
            return value, rules.get("pattern_message") or (
                _("%(label)s格式不正确") % {"label": spec.label}
            )
        return value, None
    if kind == FieldKind.NUMBER:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return value, _("%(label)s应为数字") % {"label": spec.label}
        if not number.is_finite():
            return value, _("%(label)s应为数字") % {"label": spec.label}
        if "min" in rules and number < Decimal(str(rules["min"])):
            return value, _("%(label)s不能小于%(n)s") % {"label": spec.label, "n": rules["min"]}
        if "max" in rules and number > Decimal(str(rules["max"])):
            return value, _("%(label)s不能大于%(n)s") % {"label": spec.label, "n": rules["max"]}
        return str(number), None
    if kind == FieldKind.DATE:
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            return value, _("%(label)s应为日期，如2026-01-31") % {"label": spec.label}
        for bound, message in (
            ("min", _("%(label)s不能早于%(d)s")),
            ("max", _("%(label)s不能晚于%(d)s")),
        ):
            if bound in rules:
                limit = dt.date.fromisoformat(rules[bound])
                if (bound == "min" and day < limit) or (bound == "max" and day > limit):
                    return value, message % {"label": spec.label, "d": rules[bound]}
        return day.isoformat(), None
    if kind == FieldKind.CHOICE:
        if str(value) not in spec.choices:
            return value, _("请从列表中选择%(label)s") % {"label": spec.label}
        return str(value), None
    if kind == FieldKind.REGION:
        if not Region.objects.filter(code=str(value)).exists():
            return value, _("%(label)s不是有效的行政区划代码") % {"label": spec.label}
        return str(value), None
    if kind == FieldKind.ID_NUMBER:
        try:
            return validate_id_number(str(value)), None
        except IdentifierError as exc:
            return value, f"{spec.label}：{exc.message}"
    if kind == FieldKind.USCC:
        try:
            return validate_uscc(str(value)), None
        except IdentifierError as exc:
            return value, f"{spec.label}：{exc.message}"
    if kind == FieldKind.PHONE:
        digits = re.sub(r"[\s-]", "", str(value))
        if not MOBILE.match(digits):
            return value, _("%(label)s应为11位手机号码") % {"label": spec.label}
        return digits, None
    if kind == FieldKind.FILE:
        # A file field holds a reference to the applicant's materials library ("library:<id>");
        # the owner is checked by the application (tongban.cases.applications).
        if not re.fullmatch(r"library:\d{1,12}", str(value)):
            return value, _("请上传%(label)s") % {"label": spec.label}
        return str(value), None
    return value, None


def validate(
    specs: Iterable[FieldSpec], data: dict[str, Any], answers: Iterable[int]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Every applicable answer cleaned, and every problem by field key (all at once)."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for spec in applicable(specs, answers):
        value, problem = _check(spec, data.get(spec.key))
        if problem:
            errors.setdefault(spec.key, []).append(problem)
        if value not in ("", None):
            cleaned[spec.key] = value
    return cleaned, errors


def profile_values(user: Any, company: Any = None) -> dict[str, str]:
    """What the platform knows, by :class:`ProfileSource`."""
    values = {
        ProfileSource.PERSON_NAME: user.real_name or "",
        ProfileSource.PERSON_ID_NUMBER: user.id_number or "",
        ProfileSource.PERSON_PHONE: user.phone or "",
    }
    if company is not None:
        values.update(
            {
                ProfileSource.COMPANY_NAME: company.name,
                ProfileSource.COMPANY_USCC: company.uscc,
                ProfileSource.COMPANY_LEGAL_REP: company.legal_rep_name,
                ProfileSource.COMPANY_REGION: getattr(company, "region_id", "") or "",
            }
        )
    return {str(k): str(v) for k, v in values.items() if v}


def prefill(
    specs: Iterable[FieldSpec], user: Any, company: Any = None, known: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Initial answers: the applicant's earlier answers (``known``, e.g. a draft), else what the
    profile says. Returns only fields that have a value."""
    profile = profile_values(user, company)
    out: dict[str, Any] = {}
    for spec in specs:
        if known and known.get(spec.key) not in (None, ""):
            out[spec.key] = known[spec.key]
        elif spec.profile_source and profile.get(spec.profile_source):
            out[spec.key] = profile[spec.profile_source]
    return out


def locked_keys(specs: Iterable[FieldSpec], user: Any, company: Any = None) -> set[str]:
    """Fields filled from verified identity data, which the applicant cannot change."""
    profile = profile_values(user, company)
    return {s.key for s in specs if s.profile_source and profile.get(s.profile_source)}


def display_value(spec: FieldSpec, value: Any) -> str:
    """How a staff page or the applicant's timeline shows an answer (personal data masked)."""
    if value in (None, ""):
        return ""
    if spec.kind == FieldKind.ID_NUMBER:
        return mask_id_number(str(value))
    if spec.kind == FieldKind.PHONE:
        return mask_phone(str(value))
    if spec.kind == FieldKind.FILE:
        return _("已上传附件")
    return str(value)


def library_id(value: Any) -> int | None:
    """The library file id a file field's value refers to, or None."""
    match = re.fullmatch(r"library:(\d{1,12})", str(value or ""))
    return int(match.group(1)) if match else None
