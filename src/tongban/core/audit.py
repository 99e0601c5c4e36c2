"""The tamper-evident audit trail (等保 level 3 安全审计; STANDARDS.md §8).

Every login, failure, lockout, permission change, staff action and read of personal data is
appended with :func:`record`: who, acting for whom, when, from which address, what, on whose
data, why, and the result. Each record carries ``digest = SM3(prev_digest || canonical JSON of
the record)``, so a changed, inserted or removed record breaks the chain at that point;
:func:`verify_chain` (command ``tongban verify_audit``) finds the first broken ``seq``.

Linear under concurrency: :func:`record` appends inside the caller's transaction after taking a
transaction-level lock, ``pg_advisory_xact_lock`` on PostgreSQL (held until the caller commits,
so call :func:`record` late in a long transaction); SQLite already serializes writers (Tongban
opens its transactions with ``BEGIN IMMEDIATE``). Under the lock the head is read and ``seq`` is
``head + 1``: a rolled-back transaction leaves no gap.

Retention: records are kept ``TONGBAN_AUDIT_RETENTION_DAYS`` (default and minimum 180, the
Cybersecurity Law's six months). :func:`purge_expired` deletes only a *prefix* of the chain and
then appends an ``audit.purge`` record naming the last deleted ``seq`` and its digest; the
verifier starts from the oldest remaining record and accepts its ``prev_digest`` only when such a
purge record vouches for it. On PostgreSQL the trigger lets DELETE through only for rows older
than 180 days, whatever the application asks.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from tongban.conf import env_int
from tongban.core.crypto import sm3
from tongban.core.models.audit import (
    GENESIS_DIGEST,
    AppendOnlyError,
    AuditAction,
    AuditRecord,
    AuditResult,
)

MIN_RETENTION_DAYS = 180
USER_AGENT_LENGTH = 300
_ADVISORY_LOCK_KEY = 0x7B_A0D1  # "tongban audit": one lock for the one chain

# Fields that enter the digest, in this order (the JSON object is sorted anyway).
_CHAINED_FIELDS = (
    "seq",
    "at",
    "actor_id",
    "actor_display",
    "on_behalf_of",
    "ip",
    "user_agent",
    "action",
    "object_type",
    "object_id",
    "subject",
    "reason",
    "result",
    "details",
)


def retention_days() -> int:
    return env_int("TONGBAN_AUDIT_RETENTION_DAYS", MIN_RETENTION_DAYS, minimum=MIN_RETENTION_DAYS)


def _canonical_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """Details as they will read back from any database: JSON types only, no NaN, no NUL."""
    text = json.dumps(
        details or {}, ensure_ascii=False, sort_keys=True, allow_nan=False, default=str
    )
    if "\\u0000" in text:
        raise ValueError("audit details cannot contain NUL characters")
    return json.loads(text)


def _format_at(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(values: dict[str, Any]) -> bytes:
    """The bytes that are hashed for one record (fields of ``_CHAINED_FIELDS``)."""
    payload = {name: values[name] for name in _CHAINED_FIELDS}
    payload["at"] = _format_at(payload["at"])
    payload["ip"] = payload["ip"] or None
    return json.dumps(
        payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode()


def compute_digest(prev_digest: str, values: dict[str, Any]) -> str:
    return sm3(prev_digest.encode("ascii") + canonical_json(values)).hex()


def _record_values(rec: AuditRecord) -> dict[str, Any]:
    return {name: getattr(rec, name) for name in _CHAINED_FIELDS}


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
    elif connection.vendor != "sqlite":  # pragma: no cover - only the two supported databases
        raise NotImplementedError(f"audit chain locking is not implemented for {connection.vendor}")


def _actor_fields(actor: Any) -> tuple[int | None, str]:
    if actor is None or not getattr(actor, "is_authenticated", True):
        return None, ""
    pk = getattr(actor, "pk", None)
    display = ""
    if hasattr(actor, "get_full_name"):
        display = actor.get_full_name() or ""
    if not display and hasattr(actor, "get_username"):
        display = actor.get_username()
    return (int(pk) if pk is not None else None), (display or str(actor))[:150]


def _clean_ip(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return None


def request_context(request: Any) -> dict[str, Any]:
    """``ip`` and ``user_agent`` of a request, to pass on as ``record(..., **ctx)``.

    The address is ``REMOTE_ADDR``: behind a proxy, the deployment makes the proxy set it.
    """
    meta = getattr(request, "META", {})
    return {"ip": meta.get("REMOTE_ADDR"), "user_agent": meta.get("HTTP_USER_AGENT", "")}


def record(
    *,
    actor: Any,
    action: str,
    result: str = AuditResult.SUCCESS,
    on_behalf_of: str = "",
    ip: str | None = None,
    user_agent: str = "",
    object_type: str = "",
    object_id: str | int = "",
    subject: str = "",
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one record in the caller's transaction and return it.

    ``actor`` is a user (or ``None`` for the system or an unknown party: put what was claimed, for
    example the login name of a failed login, in ``details``). ``subject`` names the person whose
    personal data was read, as ``"person:123"``.
    """
    if not action or len(action) > 64 or "." not in action:
        raise ValueError("audit action must be a code like 'area.verb'")
    if result not in AuditResult.values:
        raise ValueError(f"audit result must be one of {AuditResult.values}")
    actor_id, actor_display = _actor_fields(actor)
    values: dict[str, Any] = {
        "actor_id": actor_id,
        "actor_display": actor_display,
        "on_behalf_of": (on_behalf_of or "")[:200],
        "ip": _clean_ip(ip),
        "user_agent": (user_agent or "")[:USER_AGENT_LENGTH],
        "action": action,
        "object_type": (object_type or "")[:64],
        "object_id": str(object_id or "")[:64],
        "subject": (subject or "")[:100],
        "reason": (reason or "")[:500],
        "result": str(result),
        "details": _canonical_details(details),
    }
    with transaction.atomic():
        _lock_chain()
        head = AuditRecord.objects.order_by("-seq").values_list("seq", "digest", "at").first()
        now = timezone.now()
        if head is None:
            values["seq"], prev = 1, GENESIS_DIGEST
        else:
            values["seq"], prev = head[0] + 1, head[1]
            now = max(now, head[2])  # time never runs backwards along the chain
        values["at"] = now
        rec = AuditRecord(prev_digest=prev, digest=compute_digest(prev, values), **values)
        # The model refuses save() (it guards existing rows); this is the one insert.
        models.Model.save(rec, force_insert=True)
    return rec


# --- Verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    count: int
    first_seq: int | None = None
    last_seq: int | None = None
    broken_seq: int | None = None
    problem: str = ""

    def __str__(self) -> str:
        if self.ok:
            span = f"seq {self.first_seq}–{self.last_seq}"
            return f"audit chain intact: {self.count} records ({span})"
        return f"audit chain BROKEN at seq {self.broken_seq}: {self.problem} ({self.count} checked)"


def _anchor_for(first: AuditRecord) -> str | None:
    """The digest that the oldest remaining record may follow, vouched for by a purge record."""
    if first.seq == 1:
        return GENESIS_DIGEST
    purge = (
        AuditRecord.objects.filter(
            action=AuditAction.AUDIT_PURGE, details__through_seq=first.seq - 1
        )
        .order_by("seq")
        .first()
    )
    if purge is None:
        return None
    return purge.details.get("through_digest")


def verify_chain(
    start: int | None = None, end: int | None = None, *, chunk_size: int = 2000
) -> VerifyReport:
    """Recompute every digest from ``start`` to ``end`` (inclusive, by ``seq``).

    Checks each record's digest, that ``seq`` has no gap, and that each ``prev_digest`` is the
    previous record's digest. The first record checked is linked to the record before it, to
    genesis (seq 1), or to the anchor of a purge record.
    """
    qs = AuditRecord.objects.order_by("seq")
    if start is not None:
        qs = qs.filter(seq__gte=start)
    if end is not None:
        qs = qs.filter(seq__lte=end)
    count = 0
    prev_digest: str | None = None
    prev_seq: int | None = None
    first_seq: int | None = None
    for rec in qs.iterator(chunk_size=chunk_size):
        if prev_seq is None:
            first_seq = rec.seq
            before = (
                AuditRecord.objects.filter(seq__lt=rec.seq)
                .order_by("-seq")
                .values_list("seq", "digest")
                .first()
            )
            if before is not None:
                if before[0] != rec.seq - 1:
                    return VerifyReport(False, count, first_seq, rec.seq, rec.seq, "gap in seq")
                prev_digest = before[1]
            else:
                prev_digest = _anchor_for(rec)
                if prev_digest is None:
                    return VerifyReport(
                        False, count, first_seq, rec.seq, rec.seq, "oldest record has no anchor"
                    )
        elif rec.seq != prev_seq + 1:
            return VerifyReport(False, count, first_seq, rec.seq, rec.seq, "gap in seq")
        if rec.prev_digest != prev_digest:
            return VerifyReport(False, count, first_seq, rec.seq, rec.seq, "link to previous")
        if compute_digest(rec.prev_digest, _record_values(rec)) != rec.digest:
            return VerifyReport(False, count, first_seq, rec.seq, rec.seq, "content changed")
        count += 1
        prev_digest, prev_seq = rec.digest, rec.seq
    return VerifyReport(True, count, first_seq, prev_seq)


# --- Retention ---------------------------------------------------------------------------------


def purge_expired(*, actor: Any = None, now: dt.datetime | None = None) -> int:
    """Delete the prefix of the chain older than the retention period; return how many.

    Appends an ``audit.purge`` record that anchors the new oldest record (see module doc).
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=retention_days())
    with transaction.atomic():
        _lock_chain()
        first_kept = (
            AuditRecord.objects.filter(at__gte=cutoff).order_by("seq").values_list("seq", flat=True)
        ).first()
        head = AuditRecord.objects.order_by("-seq").values_list("seq", flat=True).first()
        if head is None:
            return 0
        # Never the head itself: the purge record must follow a surviving record.
        through = min(first_kept - 1 if first_kept is not None else head, head - 1)
        last = AuditRecord.objects.filter(seq=through).values_list("digest", flat=True).first()
        if last is None:
            return 0
        oldest = AuditRecord.objects.order_by("seq").values_list("seq", flat=True).first()
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {AuditRecord._meta.db_table} WHERE seq <= %s AND at < %s",  # noqa: S608
                [through, cutoff],
            )
            deleted = cursor.rowcount
        record(
            actor=actor,
            action=AuditAction.AUDIT_PURGE,
            details={
                "through_seq": through,
                "through_digest": last,
                "from_seq": oldest,
                "deleted": deleted,
                "cutoff": _format_at(cutoff),
                "retention_days": retention_days(),
            },
        )
    return deleted


# --- Reading (audit administrators only) --------------------------------------------------------

VIEW_PERMISSION = "core.view_auditrecord"


def can_read_audit(user: Any) -> bool:
    """Whether ``user`` was *granted* ``core.view_auditrecord`` (directly or by a group).

    Superuser status does not count: the audit administrator is a separate post from the system
    administrator (三权分立), so the grant must be explicit.
    """
    if not (user and getattr(user, "is_active", False) and getattr(user, "pk", None)):
        return False
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    app_label, codename = VIEW_PERMISSION.split(".")
    return (
        Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        .filter(Q(user=user) | Q(group__user=user))
        .exists()
    )


def search(
    *,
    actor_id: int | None = None,
    subject: str | None = None,
    action: str | None = None,
    result: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[AuditRecord]:
    """Records newest first, filtered on the indexed columns. Callers check
    :func:`can_read_audit` (the admin does)."""
    qs = AuditRecord.objects.all()
    if actor_id is not None:
        qs = qs.filter(actor_id=actor_id)
    if subject:
        qs = qs.filter(subject=subject)
    if action:
        qs = qs.filter(action=action)
    if result:
        qs = qs.filter(result=result)
    if since is not None:
        qs = qs.filter(at__gte=since)
    if until is not None:
        qs = qs.filter(at__lt=until)
    return qs.order_by("-seq")


__all__ = [
    "AppendOnlyError",
    "AuditAction",
    "AuditRecord",
    "AuditResult",
    "VerifyReport",
    "can_read_audit",
    "purge_expired",
    "record",
    "request_context",
    "retention_days",
    "search",
    "verify_chain",
]
