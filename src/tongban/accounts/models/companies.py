"""Companies (法人) and the persons authorized to act for them (经办人)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.core.identifiers import uscc_validator
from tongban.core.personal import EncryptedTextField, LookupDigestField, mask_name


class Company(models.Model):
    name = models.CharField(_("名称"), max_length=200)
    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[uscc_validator]
    )
    legal_rep_name = models.CharField(_("法定代表人"), max_length=50)
    legal_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("法定代表人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="represented_companies",
    )
    region = models.ForeignKey(
        "core.Region",
        verbose_name=_("登记地"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_by = models.CharField(_("核验机构"), max_length=50, blank=True)
    verified_at = models.DateTimeField(_("核验时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"

    @property
    def party(self) -> str:
        """How the audit trail and cases name this party: ``company:<uscc>``."""
        return f"company:{self.uscc}"


class EnterpriseRecord(models.Model):
    """The market regulator's register as loaded by operators, against which the local
    verification provider checks a company and its legal representative."""

    uscc = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[uscc_validator]
    )
    name = models.CharField(_("名称"), max_length=200)
    legal_rep_name = models.CharField(_("法定代表人"), max_length=50)
    legal_rep_id_number = EncryptedTextField(_("法定代表人身份证号"), purpose="id_number")
    legal_rep_id_digest = LookupDigestField(source="legal_rep_id_number")
    status = models.CharField(_("登记状态"), max_length=20, default="存续")
    source = models.CharField(_("数据来源"), max_length=100, blank=True)
    loaded_at = models.DateTimeField(_("载入时间"), auto_now=True)

    class Meta:
        verbose_name = _("企业登记信息")
        verbose_name_plural = _("企业登记信息")

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"


class AgentGrant(models.Model):
    """The legal representative authorizes a person to act for the company, for every service
    or for listed items, until an expiry; revocable. Rows are never deleted (they are evidence
    of who could act when)."""

    company = models.ForeignKey(
        Company, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="agent_grants"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.CASCADE,
        related_name="agent_grants",
    )
    all_services = models.BooleanField(_("全部事项"), default=False)
    items = models.ManyToManyField(
        "catalog.Item", verbose_name=_("授权事项"), blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(_("有效期至"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授权人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("授权时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("经办人授权")
        verbose_name_plural = _("经办人授权")
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "agent"],
                condition=Q(revoked_at__isnull=True),
                name="accounts_one_live_grant_per_agent",
            )
        ]
        indexes = [models.Index(fields=["agent", "expires_at"], name="accounts_grant_agent_exp")]

    def __str__(self) -> str:
        return f"{self.company.name} → {mask_name(self.agent.real_name)}"
