"""The shape shared by every state-change history row (STYLE rule 6: each move of a stateful
model appends one event in the same transaction). A domain subclasses it with its own foreign key
to the object that moved and an ``action`` field with its own choices."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StatusEvent(models.Model):
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20)
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        abstract = True
