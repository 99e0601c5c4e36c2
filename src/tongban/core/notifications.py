"""Telling a person something in the app, once (see :class:`tongban.core.models.Notice`).

SMS and e-mail copies are the calling domain's business (they go through the accounts domain's
message backends); this module only stores the in-app message.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from tongban.core.models import Notice


def notify(*, recipient: Any, key: str, subject: str, body: str, link: str = "") -> bool:
    """Store a notice unless ``recipient`` already has one with ``key``. Returns whether it is
    new (so the caller sends an SMS copy only the first time)."""
    try:
        with transaction.atomic():
            Notice.objects.create(
                recipient=recipient,
                key=key[:120],
                subject=subject[:120],
                body=body[:500],
                link=link[:300],
            )
    except IntegrityError:
        return False
    return True


def unread_count(user: Any) -> int:
    return Notice.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user: Any, notice_ids: list[int] | None = None) -> int:
    rows = Notice.objects.filter(recipient=user, read_at__isnull=True)
    if notice_ids is not None:
        rows = rows.filter(pk__in=notice_ids)
    return rows.update(read_at=timezone.now())
