"""Machine-readable codes of the licenses domain, each with its Chinese message.

:class:`LicenseErrorCode` names why a service refused; :class:`LicenseVerifyCode` is the answer of
the verifier of a presented QR code (``valid`` or the specific reason it is not).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LicenseErrorCode(models.TextChoices):
    NOT_FOUND = "not_found", _("证照不存在")  # also for a license outside the actor's reach
    FORBIDDEN = "forbidden", _("没有签发或管理该证照的权限")
    INACTIVE_TYPE = "inactive_type", _("该证照类型已停用")
    HOLDER_MISMATCH = "holder_mismatch", _("持证主体与证照类型不符")
    HOLDER_UNVERIFIED = "holder_unverified", _("持证人未完成实名认证")
    INVALID_DATA = "invalid_data", _("证照信息不完整或格式不正确")
    INVALID_VALIDITY = "invalid_validity", _("证照有效期起始日期无效")
    WRONG_SEAL_TYPE = "wrong_seal_type", _("该证照类型须使用指定类型的印章签发")
    SEAL_UNUSABLE = "seal_unusable", _("签发印章当前不可用")
    INVALID_TRANSITION = "invalid_transition", _("证照当前状态不允许该操作")
    REASON_REQUIRED = "reason_required", _("请填写原因")
    NOT_PRESENTABLE = "not_presentable", _("证照当前状态不能亮证")
    INVALID_TTL = "invalid_ttl", _("亮证二维码有效时长无效")
    NOT_HOLDER = "not_holder", _("只能使用本人（或本人代表的企业）持有的证照")
    NOT_USABLE = "not_usable", _("该证照当前无效，不能用于办事")
    WRONG_MATERIAL = "wrong_material", _("该证照不能代替这项材料")


class LicenseError(Exception):
    """A refused license operation: ``code`` for machines, ``message`` for people."""

    def __init__(self, code: LicenseErrorCode, *, field: str = "", detail: str = "") -> None:
        self.code = code.value
        self.field = field
        self.detail = detail
        self.message = str(code.label)
        super().__init__(self.message)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "field": self.field}


class LicenseVerifyCode(models.TextChoices):
    VALID = "valid", _("证照有效")
    INVALID_TOKEN = "invalid_token", _("二维码无效或不是本平台生成的")
    TOKEN_EXPIRED = "token_expired", _("二维码已过期，请持证人刷新后重新出示")
    TAMPERED = "tampered", _("证照数据与签章不符，可能已被篡改")
    SEAL_INVALID = "seal_invalid", _("签发证照的印章无效（已注销或签发时不在有效期内）")
    REVOKED = "revoked", _("证照已撤销")
    SUSPENDED = "suspended", _("证照已暂扣")
    CANCELLED = "cancelled", _("证照已注销")
    EXPIRED = "expired", _("证照已超过有效期")
