"""Background work of the cases domain, run by the database task worker (``tongban db_worker``).

:func:`post_dispatch` posts one outbox row to its department system: the JSON body is signed with
HMAC-SM3 under the endpoint's secret (``X-Tongban-Signature: sm3=<hex>`` over
``<timestamp>.<body>``) and carries an ``Idempotency-Key`` that stays the same on every retry.
A 2xx answer marks it delivered; anything else (or no answer) schedules the next attempt with
exponential backoff, and after :data:`MAX_ATTEMPTS` the row is marked failed for supervision to
follow up. :func:`sweep` re-enqueues rows whose task was lost (a worker died mid-way).
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

from tongban.cases.effects import backoff, department_payload
from tongban.cases.models import Dispatch, DispatchStatus
from tongban.core import crypto

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 12
TIMEOUT_SECONDS = 10


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return crypto.hmac_sm3(secret.encode(), timestamp.encode() + b"." + body).hex()


def _post(dispatch: Dispatch) -> tuple[bool, str]:
    body = json.dumps(department_payload(dispatch), ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    request = urllib.request.Request(
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
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            return 200 <= answer.status < 300, f"HTTP {answer.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        return False, str(getattr(exc, "reason", exc))[:200]


def attempt(dispatch_id: int, *, now: dt.datetime | None = None) -> str:
    """One delivery attempt; returns the row's status afterwards. Safe to call twice at once:
    the second finds the row locked (or not due) and does nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            Dispatch.objects.select_for_update(skip_locked=True)
            .select_related("endpoint", "case__implementation__item", "case__organization")
            .select_related("case__applicant", "case__company", "event")
            .filter(pk=dispatch_id, status=DispatchStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if row is None:
            found = Dispatch.objects.filter(pk=dispatch_id).values_list("status", flat=True)
            return found[0] if found else "missing"
        ok, note = _post(row)
        row.attempts += 1
        if ok:
            row.status = DispatchStatus.DELIVERED
            row.delivered_at = timezone.now()
            row.last_error = ""
        else:
            row.last_error = note[:300]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = DispatchStatus.FAILED
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


def sweep(*, now: dt.datetime | None = None, grace: dt.timedelta | None = None) -> int:
    """Re-enqueue pending rows overdue by more than ``grace`` (their task was lost)."""
    now = now or timezone.now()
    grace = grace or dt.timedelta(seconds=getattr(settings, "TONGBAN_DISPATCH_GRACE", 300))
    ids = list(
        Dispatch.objects.filter(
            status=DispatchStatus.PENDING, next_attempt_at__lt=now - grace
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in ids:
        post_dispatch.enqueue(pk)
    return len(ids)
