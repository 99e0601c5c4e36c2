"""Seals, their SM2 keys, their history and what they signed.

* :class:`Seal` is the seal an organization holds (code, name, type, validity, status).
* :class:`SealKey` is one SM2 key pair of a seal. Rotating the key adds a version and retires the
  previous one; the retired public key stays here, so everything signed before still verifies.
  The private key is stored only as the token of :func:`tongban.core.crypto.seal_private_key`
  (SM4-GCM under the data key, bound to its public key); it is not editable, not in any
  ``repr`` or ``str``, and the admin never lists or shows it.
* :class:`SealEvent` is the seal's history: one row per state change, written with it.
* :class:`SignatureRecord` is one sealing: the digest, which seal and key, who, when, the SM2
  signature (hex of the DER ``SEQUENCE { r, s }``, GM/T 0009) and the GB/T 38540
  ``SES_Signature`` DER that anyone can verify (:func:`tongban.seals.services.verify_signature`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.core.models.history import StatusEvent
from tongban.seals.codes import SEAL_CODE_LENGTH, SealType, validate_seal_code


class SealStatus(models.TextChoices):
    ACTIVE = "active", _("正常")
    SUSPENDED = "suspended", _("暂停使用")
    REVOKED = "revoked", _("已注销")


FINAL_STATES = frozenset({SealStatus.REVOKED})


class SealAction(models.TextChoices):
    CREATE = "create", _("制章")
    ROTATE_KEY = "rotate_key", _("更换密钥")
    SUSPEND = "suspend", _("暂停使用")
    REINSTATE = "reinstate", _("恢复使用")
    REVOKE = "revoke", _("注销")
    USE = "use", _("签章")


class Seal(models.Model):
    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("所属部门"),
        on_delete=models.PROTECT,
        related_name="seals",
    )
    name = models.CharField(_("印章名称"), max_length=100)
    code = models.CharField(
        _("印章编码"),
        max_length=SEAL_CODE_LENGTH,
        unique=True,
        validators=[validate_seal_code],
        editable=False,
    )
    seal_type = models.CharField(_("印章类型"), max_length=20, choices=SealType.choices)
    valid_from = models.DateField(_("有效期起"))
    valid_to = models.DateField(_("有效期止"))
    status = models.CharField(
        _("状态"), max_length=20, choices=SealStatus.choices, default=SealStatus.ACTIVE
    )
    status_reason = models.CharField(_("状态变更原因"), max_length=500, blank=True)
    suspended_at = models.DateTimeField(_("暂停时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("注销时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("制章时间"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("制章人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("电子印章")
        verbose_name_plural = _("电子印章")
        ordering = ["organization_id", "code"]
        permissions = [
            ("manage_seal", _("管理电子印章（制章、换钥、暂停、恢复、注销）")),
            ("use_seal", _("使用电子印章签章")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gt=models.F("valid_from")), name="seal_validity_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def is_valid_on(self, day) -> bool:
        return self.valid_from <= day <= self.valid_to


class SealKey(models.Model):
    seal = models.ForeignKey(
        Seal, verbose_name=_("印章"), on_delete=models.PROTECT, related_name="keys"
    )
    version = models.PositiveIntegerField(_("密钥版本"))
    public_key = models.CharField(
        _("SM2公钥"), max_length=130, unique=True, help_text=_("未压缩格式 04||x||y，十六进制")
    )
    # The token of core.crypto.seal_private_key; never shown, never logged.
    private_key_sealed = models.TextField(_("加密的私钥"), editable=False)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now, editable=False)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("印章密钥")
        verbose_name_plural = _("印章密钥")
        ordering = ["seal_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["seal", "version"], name="seal_key_version_unique"),
            models.UniqueConstraint(
                fields=["seal"], condition=Q(retired_at=None), name="seal_one_current_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seal_id}#v{self.version}"

    def __repr__(self) -> str:
        return f"<SealKey seal={self.seal_id} v{self.version} pk={self.public_key[:18]}…>"


class SealEvent(StatusEvent):
    """One state change of a seal, appended in the same transaction as the change."""

    seal = models.ForeignKey(
        Seal, verbose_name=_("印章"), on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField(_("操作"), max_length=20, choices=SealAction.choices)

    class Meta:
        verbose_name = _("印章变更记录")
        verbose_name_plural = _("印章变更记录")
        ordering = ["seal_id", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.seal_id}:{self.action}"


class SignatureRecord(models.Model):
    seal = models.ForeignKey(
        Seal, verbose_name=_("印章"), on_delete=models.PROTECT, related_name="signatures"
    )
    key = models.ForeignKey(
        SealKey, verbose_name=_("密钥"), on_delete=models.PROTECT, related_name="signatures"
    )
    document_digest = models.CharField(_("文件SM3摘要"), max_length=64, db_index=True)
    document_type = models.CharField(_("文件类型"), max_length=50)
    reference = models.CharField(_("文件编号"), max_length=200)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签章人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    signed_at = models.DateTimeField(_("签章时间"))
    signature = models.CharField(
        _("签名值"), max_length=150, help_text=_("SM2签名，DER编码 SEQUENCE {r, s} 的十六进制")
    )
    structure = models.BinaryField(_("签章数据（GB/T 38540 SES_Signature，DER）"))

    class Meta:
        verbose_name = _("签章记录")
        verbose_name_plural = _("签章记录")
        ordering = ["-signed_at", "-pk"]
        indexes = [models.Index(fields=["document_type", "reference"], name="seal_sig_doc_idx")]

    def __str__(self) -> str:
        return f"{self.document_type}:{self.reference}"
