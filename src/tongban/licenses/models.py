"""License types, licenses, their history, serial counters and the platform's signing key.

* :class:`LicenseType` (证照类型): name, type code (the defining body's USCC + 3 digits), holder
  kind, the fields a license of the type carries, the validity rule, the items that issue it and
  the type of seal that signs it.
* :class:`License` (电子证照): GB/T 36903-style metadata, the GB/T 36904 identifier, the holder (a
  person or a company: a CHECK constraint holds exactly one, matching ``holder_kind``), the data,
  the status and the :class:`~tongban.seals.models.SignatureRecord` of its canonical bytes
  (:func:`tongban.licenses.services.canonical_bytes`). The holder's ID number is SM4-encrypted
  with a keyed digest for lookup, as in :mod:`tongban.accounts`.
* :class:`LicenseEvent`: the history, one row per state change, written with it.
* :class:`LicenseCounter`: the last serial number per (type, issuer), taken under a row lock.
* :class:`PlatformKey`: the platform's SM2 key that signs presentation tokens (亮证二维码) and the
  revocation list. The private key is stored only as a :func:`tongban.core.crypto.seal_private_key`
  token; retired versions keep their public key so earlier signatures still verify.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from tongban.core.identifiers import (
    IdentifierError,
    license_identifier_validator,
    validate_uscc,
)
from tongban.core.models.history import StatusEvent
from tongban.core.personal import EncryptedTextField, LookupDigestField
from tongban.seals.codes import SealType

TYPE_CODE_LENGTH = 21
FIELD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 50
MAX_VALUE_LENGTH = 1000


def validate_type_code(value: str) -> None:
    """A type code (证照类型代码): the defining body's USCC (valid) and a 3-digit sequence."""
    text = value or ""
    if not re.fullmatch(r"[0-9A-Z]{18}\d{3}", text):
        raise ValidationError(
            _("证照类型代码应为定义机构统一社会信用代码加3位顺序号"), code="type_code"
        )
    try:
        validate_uscc(text[:18])
    except IdentifierError as exc:
        raise ValidationError(exc.message, code="type_code") from None


@deconstructible
class FieldSpecsValidator:
    """``fields`` of a type: a list of ``{"key", "label", "required", "masked"?}``; keys unique
    and machine-like (``^[a-z][a-z0-9_]*$``); ``masked`` fields are masked for verifiers."""

    def __call__(self, value) -> None:
        bad = ValidationError(_("证照字段定义格式不正确"), code="fields")
        if not isinstance(value, list) or len(value) > MAX_FIELDS:
            raise bad
        keys = set()
        for spec in value:
            if not isinstance(spec, dict) or set(spec) - {"key", "label", "required", "masked"}:
                raise bad
            key, label = spec.get("key"), spec.get("label")
            if not isinstance(key, str) or not FIELD_KEY.match(key) or key in keys:
                raise bad
            if not isinstance(label, str) or not label.strip() or len(label) > 100:
                raise bad
            if not isinstance(spec.get("required", False), bool):
                raise bad
            if not isinstance(spec.get("masked", False), bool):
                raise bad
            keys.add(key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldSpecsValidator)

    def __hash__(self) -> int:
        return hash(type(self))


class HolderKind(models.TextChoices):
    PERSON = "person", _("自然人")
    COMPANY = "company", _("法人和其他组织")


# 持证主体代码类型代码 (GB/T 36903-2018): 111 = 公民身份号码, 001 = 统一社会信用代码.
HOLDER_CODE_TYPES = {HolderKind.PERSON: "111", HolderKind.COMPANY: "001"}


class LicenseType(models.Model):
    name = models.CharField(_("证照名称"), max_length=100)
    code = models.CharField(
        _("证照类型代码"),
        max_length=TYPE_CODE_LENGTH,
        unique=True,
        validators=[validate_type_code],
        help_text=_("定义机构统一社会信用代码 + 3位顺序号，如 11100000000013338W032"),
    )
    holder_kind = models.CharField(_("持证主体类别"), max_length=10, choices=HolderKind.choices)
    fields = models.JSONField(
        _("证照字段"),
        default=list,
        blank=True,
        validators=[FieldSpecsValidator()],
        help_text=_('列表，每项 {"key": "scope", "label": "经营范围", "required": true}'),
    )
    validity_years = models.PositiveSmallIntegerField(
        _("有效期（年）"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("留空表示长期有效"),
    )
    items = models.ManyToManyField(
        "catalog.Item", verbose_name=_("签发事项"), blank=True, related_name="license_types"
    )
    seal_type = models.CharField(
        _("签发用印章类型"), max_length=20, choices=SealType.choices, default=SealType.LICENSE
    )
    materials = models.ManyToManyField(
        "catalog.Material",
        verbose_name=_("可替代的申请材料"),
        blank=True,
        related_name="license_types",
        help_text=_("申请这些材料时，持证人可授权使用该电子证照代替提交（用证、免提交）"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("证照类型")
        verbose_name_plural = _("证照类型")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def field_specs(self) -> list[dict]:
        return list(self.fields or [])


class LicenseStatus(models.TextChoices):
    VALID = "valid", _("有效")
    SUSPENDED = "suspended", _("暂扣")
    REVOKED = "revoked", _("撤销")
    CANCELLED = "cancelled", _("注销")
    EXPIRED = "expired", _("失效")


# Status codes of one ministry's interface (STANDARDS.md §2.1, "treat as configurable").
# 06 办理转出 and 07 吊销 (revoked as a penalty) are not modelled yet; ``revoked`` is 03 撤销.
STATUS_CODES: dict[str, str] = {
    LicenseStatus.VALID: "01",
    LicenseStatus.SUSPENDED: "02",
    LicenseStatus.REVOKED: "03",
    LicenseStatus.CANCELLED: "04",
    LicenseStatus.EXPIRED: "05",
}
FINAL_STATES = frozenset({LicenseStatus.REVOKED, LicenseStatus.CANCELLED, LicenseStatus.EXPIRED})
# Listed in the signed revocation list (expired licenses are not: the token carries valid_to).
LISTED_STATES = frozenset({LicenseStatus.SUSPENDED, LicenseStatus.REVOKED, LicenseStatus.CANCELLED})


class LicenseAction(models.TextChoices):
    ISSUE = "issue", _("签发")
    SUSPEND = "suspend", _("暂扣")
    REINSTATE = "reinstate", _("恢复")
    REVOKE = "revoke", _("撤销")
    CANCEL = "cancel", _("注销")
    EXPIRE = "expire", _("到期失效")


class License(models.Model):
    license_type = models.ForeignKey(
        LicenseType, verbose_name=_("证照类型"), on_delete=models.PROTECT, related_name="licenses"
    )
    identifier = models.CharField(
        _("电子证照标识"),
        max_length=128,
        unique=True,
        validators=[license_identifier_validator],
        editable=False,
    )
    serial = models.CharField(_("流水号"), max_length=64, editable=False)
    version = models.PositiveSmallIntegerField(_("版本号"), default=1, editable=False)
    holder_kind = models.CharField(_("持证主体类别"), max_length=10, choices=HolderKind.choices)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("持证人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="licenses",
    )
    company = models.ForeignKey(
        "accounts.Company",
        verbose_name=_("持证单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="licenses",
    )
    holder_name = models.CharField(_("持证主体"), max_length=200)
    holder_id_number = EncryptedTextField(
        _("持证人身份证号"), purpose="id_number", blank=True, default=""
    )
    holder_id_number_digest = LookupDigestField(source="holder_id_number")
    holder_uscc = models.CharField(_("持证单位统一社会信用代码"), max_length=18, blank=True)
    data = models.JSONField(_("证照信息"), default=dict)
    issuer = models.ForeignKey(
        "core.Organization",
        verbose_name=_("颁发机构"),
        on_delete=models.PROTECT,
        related_name="issued_licenses",
    )
    case_reference = models.CharField(_("关联办件编号"), max_length=100, blank=True)
    issued_at = models.DateTimeField(_("颁发时间"))
    valid_from = models.DateField(_("有效期起"))
    valid_to = models.DateField(_("有效期止"), null=True, blank=True, help_text=_("空为长期"))
    status = models.CharField(
        _("状态"), max_length=20, choices=LicenseStatus.choices, default=LicenseStatus.VALID
    )
    status_reason = models.CharField(_("状态变更原因"), max_length=500, blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    signature = models.OneToOneField(
        "seals.SignatureRecord",
        verbose_name=_("签章记录"),
        on_delete=models.PROTECT,
        related_name="license",
        editable=False,
    )

    class Meta:
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        ordering = ["-issued_at", "-pk"]
        permissions = [
            ("issue_license", _("签发电子证照")),
            ("manage_license", _("管理电子证照状态（暂扣、恢复、撤销、注销）")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        holder_kind=HolderKind.PERSON,
                        person__isnull=False,
                        company__isnull=True,
                        holder_uscc="",
                    )
                    | Q(
                        holder_kind=HolderKind.COMPANY,
                        company__isnull=False,
                        person__isnull=True,
                        holder_id_number_digest__isnull=True,
                    )
                ),
                name="license_one_holder_of_its_kind",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="license_validity_order",
            ),
        ]
        indexes = [
            # expire_due: the live licenses whose validity has ended.
            models.Index(
                fields=["valid_to"],
                condition=Q(status__in=["valid", "suspended"]),
                name="license_expiry_due_idx",
            ),
            # revocation_list: the few licenses listed.
            models.Index(
                fields=["status"],
                condition=Q(status__in=["suspended", "revoked", "cancelled"]),
                name="license_listed_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.identifier

    @property
    def holder_code(self) -> str:
        """持证主体代码: the ID number of a person, the USCC of a company."""
        return self.holder_id_number if self.holder_kind == HolderKind.PERSON else self.holder_uscc

    @property
    def holder_code_type(self) -> str:
        return HOLDER_CODE_TYPES[HolderKind(self.holder_kind)]

    @property
    def status_code(self) -> str:
        return STATUS_CODES[LicenseStatus(self.status)]

    def is_past_validity(self, day) -> bool:
        return self.valid_to is not None and day > self.valid_to


class LicenseEvent(StatusEvent):
    """One state change of a license, appended in the same transaction as the change."""

    license = models.ForeignKey(
        License, verbose_name=_("证照"), on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField(_("操作"), max_length=20, choices=LicenseAction.choices)

    class Meta:
        verbose_name = _("证照变更记录")
        verbose_name_plural = _("证照变更记录")
        ordering = ["license_id", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.license_id}:{self.action}"


class LicenseCounter(models.Model):
    """The last serial number allocated for one (type, issuer); updated under a row lock."""

    license_type = models.ForeignKey(LicenseType, on_delete=models.PROTECT, related_name="+")
    issuer = models.ForeignKey("core.Organization", on_delete=models.PROTECT, related_name="+")
    last_serial = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("证照流水号")
        verbose_name_plural = _("证照流水号")
        constraints = [
            models.UniqueConstraint(
                fields=["license_type", "issuer"], name="license_counter_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.license_type_id}/{self.issuer_id}: {self.last_serial}"


class PlatformKey(models.Model):
    # One signing purpose today; the column lets the one-current-key rule be a partial index.
    purpose = models.CharField(_("用途"), max_length=20, default="platform", editable=False)
    version = models.PositiveIntegerField(_("密钥版本"))
    public_key = models.CharField(
        _("SM2公钥"), max_length=130, unique=True, help_text=_("未压缩格式 04||x||y，十六进制")
    )
    # The token of core.crypto.seal_private_key; never shown, never logged.
    private_key_sealed = models.TextField(_("加密的私钥"), editable=False)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now, editable=False)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("平台签名密钥")
        verbose_name_plural = _("平台签名密钥")
        ordering = ["version"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose", "version"], name="platform_key_version_unique"
            ),
            models.UniqueConstraint(
                fields=["purpose"], condition=Q(retired_at=None), name="platform_one_current_key"
            ),
        ]

    def __str__(self) -> str:
        return f"platform key v{self.version}"

    def __repr__(self) -> str:
        return f"<PlatformKey v{self.version} pk={self.public_key[:18]}…>"


class LicenseUse(models.Model):
    """用证: the holder's recorded consent that one license stands in for a material — which
    license, for which case at which organization, until when."""

    license = models.ForeignKey(
        License, verbose_name=_("证照"), on_delete=models.PROTECT, related_name="uses"
    )
    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("使用部门"),
        on_delete=models.PROTECT,
        related_name="license_uses",
    )
    case_reference = models.CharField(_("办件编号"), max_length=100)
    material_name = models.CharField(_("代替的材料"), max_length=200)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授权人"),
        on_delete=models.PROTECT,
        related_name="license_uses",
    )
    granted_at = models.DateTimeField(_("授权时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("授权截止"))

    class Meta:
        verbose_name = _("用证授权")
        verbose_name_plural = _("用证授权")
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["license", "-granted_at"], name="license_use_license")]

    def __str__(self) -> str:
        return f"{self.license_id} → {self.case_reference}"
