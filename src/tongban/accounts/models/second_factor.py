"""State of a staff member's second factor (TOTP) beyond the secret kept on the user."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TotpUse(models.Model):
    """The last accepted TOTP time step of a user: a code is accepted only for a later step,
    so a code seen over someone's shoulder (or replayed by a proxy) cannot be used again."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    last_step = models.BigIntegerField(_("最近使用的时间步"), default=0)

    class Meta:
        verbose_name = _("动态口令使用记录")
        verbose_name_plural = _("动态口令使用记录")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.last_step}"
