"""Background work of the cases domain, run by the database task worker (``tongban db_worker``;
``tongban serve`` starts one beside the web server).

:func:`post_dispatch` posts one outbox row to its department system: the JSON body is signed with
HMAC-SM3 under the endpoint's secret (``X-Tongban-Signature: sm3=<hex>`` over
``<timestamp>.<body>``) and carries an ``Idempotency-Key`` that stays the same on every retry.
A 2xx answer marks it delivered; anything else (a redirect too, or no answer) schedules the next
attempt with exponential backoff, and after :data:`MAX_ATTEMPTS` the row is marked failed for
supervision to follow up.

An attempt first *claims* the row with a conditional UPDATE that moves ``next_attempt_at`` a
:data:`LEASE` ahead, and posts outside any transaction: the database (one writer at a time on
SQLite) is never held while a department system takes its time to answer, and a department
system may call the API back while it handles the push. A second worker finds the row claimed
and does nothing. A worker that dies mid-way leaves the row pending with the lease as its next
attempt; :func:`sweep` (``tongban dispatch_sweep``) re-enqueues it once that is overdue.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus

from tongban.cases.effects import backoff, department_payload
from tongban.cases.models import Dispatch, DispatchStatus
from tongban.core import crypto

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 12
TIMEOUT_SECONDS = 10
# How long a claimed row stays with its worker (longer than any one POST can take).
LEASE = dt.timedelta(seconds=6 * TIMEOUT_SECONDS)
SWEEP_BATCH = 1000


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return crypto.hmac_sm3(secret.encode(), timestamp.encode() + b"." + body).hex()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not an acknowledgement: following it would turn the POST into a GET
    without the body (and could lead anywhere), so a 3xx counts as a failed attempt."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _post(dispatch: Dispatch) -> tuple[bool, str]:
    body = json.dumps(department_payload(dispatch), ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the URL is an operator-registered http(s) URL
        dispatch.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": dispatch.idempotency_key,
            "X-Tongban-Timestamp": stamp,
            "X-Tongban-Signature": "sm3=" + signature(dispatch.endpoint.secret, stamp, body),
            "User-Agent": "Tongban/1 (+case dispatch)",
        },
    )
    try:
        opener = urllib.request.build_opener(_NoRedirect)
        with opener.open(request, timeout=TIMEOUT_SECONDS) as answer:
            return 200 <= answer.status < 300, f"HTTP {answer.status}"
    except urllib.error.HTTPError as exc:
        exc.close()
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:
        return False, str(getattr(exc, "reason", exc))[:200] or type(exc).__name__


def _status(dispatch_id: int) -> str:
    found = Dispatch.objects.filter(pk=dispatch_id).values_list("status", flat=True)
    return found[0] if found else "missing"


def attempt(dispatch_id: int, *, now: dt.datetime | None = None) -> str:
    """One delivery attempt if the row is pending and due at ``now``; returns the row's status
    afterwards ("missing" for no row). Safe to call twice at once: the second finds the row
    claimed and does nothing."""
    now = now or timezone.now()
    lease_until = now + LEASE
    with transaction.atomic():
        claimed = Dispatch.objects.filter(
            pk=dispatch_id, status=DispatchStatus.PENDING, next_attempt_at__lte=now
        ).update(next_attempt_at=lease_until)
    if not claimed:
        return _status(dispatch_id)
    row = (
        Dispatch.objects.select_related("endpoint", "event")
        .select_related("case__implementation__item", "case__organization")
        .select_related("case__applicant", "case__company")
        .get(pk=dispatch_id)
    )
    ok, note = _post(row)
    with transaction.atomic():
        # Still ours? (Nobody else touches a claimed row before its lease runs out.)
        row = (
            Dispatch.objects.select_for_update()
            .filter(pk=dispatch_id, status=DispatchStatus.PENDING, next_attempt_at=lease_until)
            .first()
        )
        if row is None:
            return _status(dispatch_id)
        row.attempts += 1
        if ok:
            row.status = DispatchStatus.DELIVERED
            row.delivered_at = timezone.now()
            row.last_error = ""
            row.next_attempt_at = now
        else:
            row.last_error = note[:300]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = DispatchStatus.FAILED
                row.next_attempt_at = now
                logger.warning("dispatch %s failed for good: %s", row.pk, note)
            else:
                row.next_attempt_at = now + backoff(row.attempts)
        row.save(
            update_fields=["attempts", "status", "delivered_at", "last_error", "next_attempt_at"]
        )
        if row.status == DispatchStatus.PENDING:
            post_dispatch.using(run_after=row.next_attempt_at).enqueue(row.pk)
        return row.status


@task()
def post_dispatch(dispatch_id: int) -> str:
    return attempt(dispatch_id)


def _waiting_ids() -> set[int]:
    """Dispatch ids that already have a task waiting in the queue."""
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=post_dispatch.module_path
    ).values_list("args_kwargs", flat=True)
    ids = set()
    for args_kwargs in rows:
        args = (args_kwargs or {}).get("args") or []
        if args and isinstance(args[0], int):
            ids.add(args[0])
    return ids


def sweep(*, now: dt.datetime | None = None, grace: dt.timedelta | None = None) -> int:
    """Re-enqueue pending rows overdue by more than ``grace`` whose task was lost (a worker died
    mid-way, or the row was written without one); returns how many. A row whose task still
    waits in the queue (the worker is merely behind, or stopped) is left alone, so running the
    sweep often never piles up copies."""
    now = now or timezone.now()
    grace = grace or dt.timedelta(seconds=getattr(settings, "TONGBAN_DISPATCH_GRACE", 300))
    overdue = list(
        Dispatch.objects.filter(status=DispatchStatus.PENDING, next_attempt_at__lt=now - grace)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if not overdue:
        return 0
    waiting = _waiting_ids()
    lost = [pk for pk in overdue if pk not in waiting]
    with transaction.atomic():
        for pk in lost:
            post_dispatch.enqueue(pk)
    return len(lost)
