"""Counters in fixed windows with optional lockout, on the :class:`Throttle` table.

Two uses: *failures* (wrong passwords and codes) that lock an account or an address once a limit
is reached (:func:`fail`), and *requests* (SMS codes) that are refused past a limit
(:func:`consume`). Keys are keyed SM3 digests (:func:`key_for`), never a plain phone number or
address.

Concurrency: each counter row is read ``SELECT … FOR UPDATE`` inside the caller's transaction, so
on PostgreSQL two simultaneous failures are counted as two; SQLite serializes writers anyway
(Tongban opens its transactions with ``BEGIN IMMEDIATE``). Rows are locked in a fixed order
(scope, key) so two requests never wait on each other crosswise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.accounts.models import Throttle
from tongban.core.personal import lookup_digest


@dataclass(frozen=True)
class Rule:
    """``limit`` events per ``window``; with ``lock_for``, reaching the limit locks the key."""

    scope: str
    limit: int
    window: dt.timedelta
    lock_for: dt.timedelta | None = None


@dataclass(frozen=True)
class Count:
    scope: str
    count: int
    locked_until: dt.datetime | None
    just_locked: bool = False


def key_for(kind: str, value: str | int) -> str:
    """The digest under which ``value`` (a user id, a login name, an address) is counted."""
    return lookup_digest("throttle", f"{kind}:{value}")


def _locked_row(scope: str, key: str, now: dt.datetime) -> Throttle:
    """The row of ``(scope, key)`` locked for update, created if missing."""
    row = Throttle.objects.select_for_update().filter(scope=scope, key=key).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            Throttle.objects.create(scope=scope, key=key, count=0, window_started_at=now)
    except IntegrityError:  # created by a concurrent request: take its row
        pass
    return Throttle.objects.select_for_update().get(scope=scope, key=key)


def _in_window(row: Throttle, rule: Rule, now: dt.datetime) -> bool:
    return row.window_started_at > now - rule.window


def locked_until(scope: str, key: str, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """When the lock on ``(scope, key)`` ends, or ``None`` if it is not locked."""
    now = now or timezone.now()
    until = (
        Throttle.objects.filter(scope=scope, key=key, locked_until__gt=now)
        .values_list("locked_until", flat=True)
        .first()
    )
    return until


def fail(rule: Rule, key: str, *, now: dt.datetime | None = None) -> Count:
    """Count one failure; lock the key when the count reaches the limit. Call inside a
    transaction that commits even though the request fails."""
    now = now or timezone.now()
    with transaction.atomic():
        row = _locked_row(rule.scope, key, now)
        if not _in_window(row, rule, now):
            row.count, row.window_started_at = 0, now
        row.count += 1
        just_locked = False
        if (
            rule.lock_for is not None
            and row.count >= rule.limit
            and not (row.locked_until and row.locked_until > now)
        ):
            row.locked_until = now + rule.lock_for
            just_locked = True
        row.save(update_fields=["count", "window_started_at", "locked_until"])
    return Count(rule.scope, row.count, row.locked_until, just_locked)


def consume(rules: list[tuple[Rule, str]], *, now: dt.datetime | None = None) -> Rule | None:
    """Count one request against every ``(rule, key)`` if all allow it.

    Returns ``None`` when the request is allowed (every counter went up by one), or the first
    rule that refuses it (no counter changed)."""
    now = now or timezone.now()
    ordered = sorted(rules, key=lambda pair: (pair[0].scope, pair[1]))
    with transaction.atomic():
        rows = []
        for rule, key in ordered:
            row = _locked_row(rule.scope, key, now)
            if not _in_window(row, rule, now):
                row.count, row.window_started_at = 0, now
            if row.count >= rule.limit:
                return rule
            rows.append(row)
        for row in rows:
            row.count += 1
            row.save(update_fields=["count", "window_started_at"])
    return None


def reset(scope: str, key: str) -> None:
    """Forget the failures of a key (after a successful login)."""
    Throttle.objects.filter(scope=scope, key=key).update(count=0, locked_until=None)
