"""In-app messages (站内消息): what a person is told about their cases, payments and tickets.

Each notice has a key naming the change it reports, unique per recipient, so a retried or repeated
call tells the person once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notice(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notices",
    )
    key = models.CharField(_("消息键"), max_length=120)
    subject = models.CharField(_("标题"), max_length=120)
    body = models.CharField(_("内容"), max_length=500)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notice_once"),
        ]
        indexes = [models.Index(fields=["recipient", "-created_at"], name="notice_recipient")]

    def __str__(self) -> str:
        return self.subject
