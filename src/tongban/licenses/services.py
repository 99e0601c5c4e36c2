"""Every change to a license: issuing, the status moves and automatic expiry.

Each service takes keyword arguments with the actor first, runs in one transaction, appends a
:class:`~tongban.licenses.models.LicenseEvent` and an audit record, and returns the license or
raises :class:`~tongban.licenses.errors.LicenseError`. A refusal rolls the work back and then
appends a *failure* audit record in a transaction of its own (as in :mod:`tongban.seals.services`).

Issuing allocates the serial from :class:`LicenseCounter` under a row lock per (type, issuer): two
issuers never wait for each other, two clerks of one issuer issuing one type are serialized for
the length of one sealing (a few milliseconds). The license's canonical bytes
(:func:`canonical_bytes`) are sealed with the issuing seal (:func:`tongban.seals.services.
seal_document`); the verifier recomputes them from the row, so a changed row reads ``tampered``.

Status moves follow the one table :data:`TRANSITIONS`; a move is a conditional UPDATE that must
touch exactly one row, so two staff members acting at once cannot both win.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tongban.accounts.models import Company, User
from tongban.core.audit import AuditResult, record
from tongban.core.identifiers import LICENSE_ROOT, license_check_char
from tongban.licenses import queries
from tongban.licenses.errors import LicenseError, LicenseErrorCode
from tongban.licenses.models import (
    MAX_VALUE_LENGTH,
    HolderKind,
    License,
    LicenseAction,
    LicenseCounter,
    LicenseEvent,
    LicenseStatus,
    LicenseType,
    LicenseUse,
)
from tongban.seals import services as seal_services
from tongban.seals.errors import SealError, SealErrorCode
from tongban.seals.models import Seal

S = LicenseStatus
A = LicenseAction

DOCUMENT_TYPE = "license"
SERIAL_WIDTH = 9
_OBJECT_TYPE = "licenses.license"


# --- Identifier and canonical form ---------------------------------------------------------------


def build_identifier(type_code: str, issuer_code: str, serial: str, version: int | str) -> str:
    """``root.type.issuer.serial.version.check`` (GB/T 36904) with the MOD 37,36 check."""
    version = f"{int(version):03d}"
    check = license_check_char(f"{type_code}{issuer_code}{serial}{version}")
    return f"{LICENSE_ROOT}.{type_code}.{issuer_code}.{serial}.{version}.{check}"


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_document(lic: License) -> dict[str, Any]:
    """What the issuing seal signs: the identifier (which holds type, issuer, serial and version),
    the holder, the dates and the data. Names that may change later (the type's, the issuer's) are
    not signed: they are looked up by the codes in the identifier."""
    return {
        "identifier": lic.identifier,
        "version": f"{lic.version:03d}",
        "holder_kind": lic.holder_kind,
        "holder_name": lic.holder_name,
        "holder_code": lic.holder_code,
        "holder_code_type": lic.holder_code_type,
        "issued_at": _utc(lic.issued_at),
        "valid_from": lic.valid_from.isoformat(),
        "valid_to": lic.valid_to.isoformat() if lic.valid_to else "",
        "data": lic.data,
    }


def canonical_bytes(lic: License) -> bytes:
    """UTF-8 JSON of :func:`canonical_document`, keys sorted, no spaces."""
    return json.dumps(
        canonical_document(lic), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


# --- Helpers -------------------------------------------------------------------------------------


def _ctx(ip: str | None, user_agent: str) -> dict[str, Any]:
    return {"ip": ip, "user_agent": user_agent}


def _actor_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _fail(*, actor, action: str, error: LicenseError, object_id="", details=None, ctx) -> None:
    with transaction.atomic():
        record(
            actor=actor,
            action=f"license.{action}",
            result=AuditResult.FAILURE,
            object_type=_OBJECT_TYPE,
            object_id=object_id,
            details={**(details or {}), "error": error.code},
            **ctx,
        )


def clean_data(license_type: LicenseType, data: Any) -> dict[str, str]:
    """``data`` checked against the type's fields: a dict of strings, every required key present
    and non-blank, no unknown key. Values are stripped; blank optional values are dropped."""
    if not isinstance(data, dict):
        raise LicenseError(LicenseErrorCode.INVALID_DATA, field="data")
    specs = {spec["key"]: spec for spec in license_type.field_specs()}
    for key in data:
        if key not in specs:
            raise LicenseError(LicenseErrorCode.INVALID_DATA, field=str(key)[:50])
    cleaned: dict[str, str] = {}
    for key, spec in specs.items():
        value = data.get(key)
        if value is None:
            value = ""
        if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH or "\x00" in value:
            raise LicenseError(LicenseErrorCode.INVALID_DATA, field=key)
        value = value.strip()
        if not value:
            if spec.get("required"):
                raise LicenseError(LicenseErrorCode.INVALID_DATA, field=key)
            continue
        cleaned[key] = value
    return cleaned


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def validity(license_type: LicenseType, valid_from: dt.date) -> dt.date | None:
    """The last valid day: ``valid_from`` plus the type's years, less a day; ``None`` when the
    type is valid without limit (长期)."""
    if not license_type.validity_years:
        return None
    return _add_years(valid_from, license_type.validity_years) - dt.timedelta(days=1)


def _holder_fields(license_type: LicenseType, holder: Any) -> dict[str, Any]:
    if license_type.holder_kind == HolderKind.PERSON:
        if not isinstance(holder, User):
            raise LicenseError(LicenseErrorCode.HOLDER_MISMATCH, field="holder")
        if not (holder.real_name and holder.id_number):
            raise LicenseError(LicenseErrorCode.HOLDER_UNVERIFIED, field="holder")
        return {
            "holder_kind": HolderKind.PERSON,
            "person": holder,
            "holder_name": holder.real_name,
            "holder_id_number": holder.id_number,
        }
    if not isinstance(holder, Company):
        raise LicenseError(LicenseErrorCode.HOLDER_MISMATCH, field="holder")
    return {
        "holder_kind": HolderKind.COMPANY,
        "company": holder,
        "holder_name": holder.name,
        "holder_uscc": holder.uscc,
    }


def _next_serial(license_type: LicenseType, issuer_id: int) -> str:
    """The next serial of (type, issuer), under the counter row's lock (held to commit)."""
    LicenseCounter.objects.get_or_create(license_type=license_type, issuer_id=issuer_id)
    counter = LicenseCounter.objects.select_for_update().get(
        license_type=license_type, issuer_id=issuer_id
    )
    counter.last_serial = F("last_serial") + 1
    counter.save(update_fields=["last_serial"])
    counter.refresh_from_db(fields=["last_serial"])
    return f"{counter.last_serial:0{SERIAL_WIDTH}d}"


_SEAL_REFUSALS_AS_FORBIDDEN = {SealErrorCode.NOT_FOUND, SealErrorCode.FORBIDDEN}


# --- Issuing -------------------------------------------------------------------------------------


def issue_license(
    *,
    actor: Any,
    license_type: LicenseType,
    holder: User | Company,
    data: dict[str, Any],
    issuer_seal: Seal,
    case_reference: str = "",
    valid_from: dt.date | None = None,
    ip: str | None = None,
    user_agent: str = "",
) -> License:
    """Issue a license of ``license_type`` to ``holder``, signed with ``issuer_seal`` (whose
    organization is the issuer). ``valid_from`` defaults to today; the end follows the type.

    Refuses an actor without ``licenses.issue_license`` in the seal's organization (and without
    ``seals.use_seal`` there), an inactive type, a holder of the wrong kind or unverified, data
    that does not fit the type, a seal of the wrong type or one that is not usable.
    """
    ctx = _ctx(ip, user_agent)
    details = {
        "type": getattr(license_type, "code", ""),
        "seal": getattr(issuer_seal, "code", ""),
        "case": str(case_reference)[:100],
    }
    try:
        with transaction.atomic():
            queries.check(actor, issuer_seal.organization_id, queries.ISSUE)
            license_type = LicenseType.objects.get(pk=license_type.pk)
            if not license_type.is_active:
                raise LicenseError(LicenseErrorCode.INACTIVE_TYPE, field="license_type")
            holder_fields = _holder_fields(license_type, holder)
            cleaned = clean_data(license_type, data)
            if issuer_seal.seal_type != license_type.seal_type:
                raise LicenseError(LicenseErrorCode.WRONG_SEAL_TYPE, field="issuer_seal")
            if not isinstance(case_reference, str) or len(case_reference) > 100:
                raise LicenseError(LicenseErrorCode.INVALID_DATA, field="case_reference")
            now = timezone.now().replace(microsecond=0)
            today = timezone.localdate(now)
            valid_from = valid_from or today
            if not isinstance(valid_from, dt.date) or abs((valid_from - today).days) > 100 * 366:
                raise LicenseError(LicenseErrorCode.INVALID_VALIDITY, field="valid_from")
            issuer = issuer_seal.organization
            serial = _next_serial(license_type, issuer.pk)
            lic = License(
                license_type=license_type,
                identifier=build_identifier(license_type.code, issuer.uscc, serial, 1),
                serial=serial,
                version=1,
                data=cleaned,
                issuer=issuer,
                case_reference=case_reference,
                issued_at=now,
                valid_from=valid_from,
                valid_to=validity(license_type, valid_from),
                status=S.VALID,
                **holder_fields,
            )
            try:
                lic.signature = seal_services.seal_document(
                    actor=actor,
                    seal=issuer_seal,
                    data=canonical_bytes(lic),
                    document_type=DOCUMENT_TYPE,
                    reference=lic.identifier,
                    **ctx,
                )
            except SealError as error:
                if error.code in _SEAL_REFUSALS_AS_FORBIDDEN:
                    raise LicenseError(LicenseErrorCode.FORBIDDEN) from error
                raise LicenseError(
                    LicenseErrorCode.SEAL_UNUSABLE, field="issuer_seal", detail=error.code
                ) from error
            lic.save(force_insert=True)
            LicenseEvent.objects.create(
                license=lic, action=A.ISSUE, to_status=S.VALID, actor=_actor_or_none(actor), at=now
            )
            record(
                actor=actor,
                action="license.issue",
                object_type=_OBJECT_TYPE,
                object_id=lic.pk,
                details={**details, "identifier": lic.identifier, "issuer": issuer.uscc},
                **ctx,
            )
            return lic
    except LicenseError as error:
        _fail(actor=actor, action=A.ISSUE, error=error, details=details, ctx=ctx)
        raise


# --- Status moves --------------------------------------------------------------------------------

STAFF = "staff"  # licenses.manage_license in the issuing organization, with a reason
SYSTEM = "system"  # the expiry job


def _past_validity(lic: License, now: dt.datetime) -> bool:
    return lic.is_past_validity(timezone.localdate(now))


def _within_validity(lic: License, now: dt.datetime) -> bool:
    return not _past_validity(lic, now)


@dataclass(frozen=True)
class Move:
    next: str
    by: str
    guard: Callable[[License, dt.datetime], bool] | None = None


# (state, action) → (next state, who may, guard). Nothing leaves a final state.
TRANSITIONS: dict[tuple[str, str], Move] = {
    (S.VALID, A.SUSPEND): Move(S.SUSPENDED, STAFF),
    (S.SUSPENDED, A.REINSTATE): Move(S.VALID, STAFF, _within_validity),
    (S.VALID, A.REVOKE): Move(S.REVOKED, STAFF),
    (S.SUSPENDED, A.REVOKE): Move(S.REVOKED, STAFF),
    (S.VALID, A.CANCEL): Move(S.CANCELLED, STAFF),
    (S.SUSPENDED, A.CANCEL): Move(S.CANCELLED, STAFF),
    (S.VALID, A.EXPIRE): Move(S.EXPIRED, SYSTEM, _past_validity),
    (S.SUSPENDED, A.EXPIRE): Move(S.EXPIRED, SYSTEM, _past_validity),
}


def _apply(
    *, actor: Any, lic: License, action: str, reason: str, now: dt.datetime, ctx: dict
) -> License:
    """One move of :data:`TRANSITIONS` as a conditional UPDATE, its event and its audit record."""
    move = TRANSITIONS.get((lic.status, action))
    if move is None or (move.guard is not None and not move.guard(lic, now)):
        raise LicenseError(LicenseErrorCode.INVALID_TRANSITION)
    updated = License.objects.filter(pk=lic.pk, status=lic.status).update(
        status=move.next, status_reason=reason, status_changed_at=now
    )
    if updated != 1:  # someone else moved it first
        raise LicenseError(LicenseErrorCode.INVALID_TRANSITION)
    LicenseEvent.objects.create(
        license=lic,
        action=action,
        from_status=lic.status,
        to_status=move.next,
        reason=reason,
        actor=_actor_or_none(actor),
        at=now,
    )
    record(
        actor=actor,
        action=f"license.{action}",
        object_type=_OBJECT_TYPE,
        object_id=lic.pk,
        reason=reason,
        details={"identifier": lic.identifier, "from": lic.status, "to": move.next},
        **ctx,
    )
    lic.status, lic.status_reason, lic.status_changed_at = move.next, reason, now
    return lic


def _staff_move(
    *, actor: Any, license: License, action: str, reason: str, ip: str | None, user_agent: str
) -> License:
    ctx = _ctx(ip, user_agent)
    reason = (reason or "").strip()
    try:
        with transaction.atomic():
            current = License.objects.get(pk=license.pk)
            queries.check(actor, current.issuer_id, queries.MANAGE)
            if not reason or len(reason) > 500:
                raise LicenseError(LicenseErrorCode.REASON_REQUIRED, field="reason")
            move = TRANSITIONS.get((current.status, action))
            if move is not None and move.by != STAFF:
                raise LicenseError(LicenseErrorCode.INVALID_TRANSITION)
            return _apply(
                actor=actor, lic=current, action=action, reason=reason, now=timezone.now(), ctx=ctx
            )
    except License.DoesNotExist:
        error = LicenseError(LicenseErrorCode.NOT_FOUND)
        _fail(actor=actor, action=action, error=error, object_id=license.pk, ctx=ctx)
        raise error from None
    except LicenseError as error:
        _fail(actor=actor, action=action, error=error, object_id=license.pk, ctx=ctx)
        raise


def suspend_license(
    *, actor: Any, license: License, reason: str, ip: str | None = None, user_agent: str = ""
) -> License:
    """暂扣: a valid license is suspended until reinstated, revoked or cancelled."""
    return _staff_move(
        actor=actor, license=license, action=A.SUSPEND, reason=reason, ip=ip, user_agent=user_agent
    )


def reinstate_license(
    *, actor: Any, license: License, reason: str, ip: str | None = None, user_agent: str = ""
) -> License:
    """恢复: a suspended license within its validity becomes valid again."""
    return _staff_move(
        actor=actor,
        license=license,
        action=A.REINSTATE,
        reason=reason,
        ip=ip,
        user_agent=user_agent,
    )


def revoke_license(
    *, actor: Any, license: License, reason: str, ip: str | None = None, user_agent: str = ""
) -> License:
    """撤销: final."""
    return _staff_move(
        actor=actor, license=license, action=A.REVOKE, reason=reason, ip=ip, user_agent=user_agent
    )


def cancel_license(
    *, actor: Any, license: License, reason: str, ip: str | None = None, user_agent: str = ""
) -> License:
    """注销 (the holder gave it up, the company was dissolved …): final."""
    return _staff_move(
        actor=actor, license=license, action=A.CANCEL, reason=reason, ip=ip, user_agent=user_agent
    )


EXPIRY_BATCH = 500


def expire_due(now: dt.datetime | None = None, *, batch: int = EXPIRY_BATCH) -> int:
    """Move every valid or suspended license whose last valid day is before today (of ``now``) to
    ``expired``: one transaction per batch, each license by the table's conditional UPDATE with
    its event and audit record. Idempotent: a second run finds nothing. Returns how many moved."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    moved = 0
    reason = "有效期届满"
    while True:
        with transaction.atomic():
            due = License.objects.filter(
                status__in=[S.VALID, S.SUSPENDED], valid_to__lt=today
            ).order_by("pk")
            rows = list(due.select_for_update(skip_locked=True)[:batch])
            for lic in rows:
                try:
                    _apply(actor=None, lic=lic, action=A.EXPIRE, reason=reason, now=now, ctx={})
                except LicenseError:  # moved by someone else meanwhile
                    continue
                moved += 1
        if len(rows) < batch:
            return moved


__all__ = [
    "DOCUMENT_TYPE",
    "TRANSITIONS",
    "build_identifier",
    "cancel_license",
    "canonical_bytes",
    "canonical_document",
    "clean_data",
    "expire_due",
    "issue_license",
    "reinstate_license",
    "revoke_license",
    "suspend_license",
    "validity",
]


# --- Using a license instead of a paper material (用证) -------------------------------------------

USE_DAYS = 365


def check_use(*, actor: Any, license: License, material: Any) -> License:
    """Whether ``actor`` may offer ``license`` for catalog ``material``: the holder (or an agent
    of the holding company), a valid license within its validity, of a type that stands in for
    the material. Returns the fresh row or raises ``not_holder`` / ``not_usable`` /
    ``wrong_material`` after recording the refusal."""
    current = (
        License.objects.select_related("license_type", "company")
        .filter(pk=getattr(license, "pk", None))
        .first()
    )
    code = None
    if current is None or not queries.may_present(actor, current):
        code = LicenseErrorCode.NOT_HOLDER
    elif current.status != LicenseStatus.VALID or current.is_past_validity(timezone.localdate()):
        code = LicenseErrorCode.NOT_USABLE
    elif not current.license_type.materials.filter(pk=getattr(material, "pk", None)).exists():
        code = LicenseErrorCode.WRONG_MATERIAL
    if code is None:
        return current
    with transaction.atomic():
        record(
            actor=actor,
            action="license.use",
            result=AuditResult.FAILURE,
            object_type=_OBJECT_TYPE,
            object_id=getattr(license, "pk", "") or "",
            details={"error": code.value, "material": getattr(material, "pk", None)},
        )
    raise LicenseError(code, field="license")


def grant_use(
    *,
    actor: Any,
    license: License,
    material: Any,
    organization_id: int,
    case_reference: str,
    days: int = USE_DAYS,
) -> LicenseUse:
    """Record the holder's consent that ``license`` stands in for ``material`` in one case, for
    the handling organization, for ``days`` (call inside the case's transaction)."""
    current = check_use(actor=actor, license=license, material=material)
    now = timezone.now()
    use = LicenseUse.objects.create(
        license=current,
        organization_id=organization_id,
        case_reference=str(case_reference)[:100],
        material_name=str(getattr(material, "name", ""))[:200],
        granted_by=actor,
        granted_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    record(
        actor=actor,
        action="license.use",
        object_type=_OBJECT_TYPE,
        object_id=current.pk,
        details={"case": use.case_reference, "organization": organization_id},
    )
    return use
