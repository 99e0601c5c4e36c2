"""The login identity of a natural person (citizen, company agent or staff member).

One row per person: a staff member who also applies for their own services logs in with the
same identity (一次认证，全网通办). ID and mobile numbers are SM4-encrypted with a keyed SM3
digest for exact lookup (:mod:`tongban.core.personal`); they are shown masked everywhere.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.levels import VerificationLevel
from tongban.core.personal import (
    EncryptedTextField,
    LookupDigestField,
    mask_id_number,
    mask_name,
    mask_phone,
)


class User(AbstractUser):
    real_name = models.CharField(_("姓名"), max_length=50, blank=True)
    id_number = EncryptedTextField(_("身份证号"), purpose="id_number", blank=True, default="")
    id_number_digest = LookupDigestField(source="id_number", unique=True)
    phone = EncryptedTextField(_("手机号"), purpose="phone", blank=True, default="")
    phone_digest = LookupDigestField(source="phone", unique=True)
    level = models.PositiveSmallIntegerField(
        _("认证级别"), choices=VerificationLevel.choices, default=VerificationLevel.L0
    )
    verified_by = models.CharField(_("核验机构"), max_length=50, blank=True)
    verified_at = models.DateTimeField(_("核验时间"), null=True, blank=True)
    acting_company = models.ForeignKey(
        "accounts.Company",
        verbose_name=_("当前代表的企业"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("为空表示以个人身份办事"),
    )
    session_epoch = models.PositiveIntegerField(
        _("会话代次"), default=0, help_text=_("加一即令所有已登录会话失效（退出所有设备）")
    )
    totp_secret = EncryptedTextField(_("动态口令密钥"), purpose="totp", blank=True, default="")
    totp_confirmed_at = models.DateTimeField(_("动态口令绑定时间"), null=True, blank=True)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The masked name for screens and logs (张**), or the login name."""
        return mask_name(self.real_name) if self.real_name else self.username

    def get_full_name(self) -> str:
        return self.real_name or self.username

    def get_short_name(self) -> str:
        return self.real_name or self.username

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number) if self.id_number else ""

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone) if self.phone else ""

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_secret and self.totp_confirmed_at)


class PopulationRecord(models.Model):
    """The platform's own population registry, against which the local verification provider
    checks name and ID number (L2). Operators load it from a file; later fed by data sharing."""

    name = models.CharField(_("姓名"), max_length=50)
    id_number = EncryptedTextField(_("身份证号"), purpose="id_number")
    id_number_digest = LookupDigestField(source="id_number", unique=True)
    source = models.CharField(_("数据来源"), max_length=100, blank=True)
    loaded_at = models.DateTimeField(_("载入时间"), auto_now=True)

    class Meta:
        verbose_name = _("人口基础信息")
        verbose_name_plural = _("人口基础信息")

    def __str__(self) -> str:
        return f"{mask_name(self.name)} {mask_id_number(self.id_number)}"
