"""Machine-readable codes of the seals domain, each with its Chinese message.

:class:`SealErrorCode` names why a service refused; :class:`VerifyCode` is the answer of the
verifier (``ok`` or the reason a signature is not accepted).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SealErrorCode(models.TextChoices):
    NOT_FOUND = "not_found", _("印章不存在")  # also for a seal outside the actor's scope
    FORBIDDEN = "forbidden", _("没有管理或使用该印章的权限")
    SEAL_SUSPENDED = "seal_suspended", _("印章已暂停使用")
    SEAL_REVOKED = "seal_revoked", _("印章已注销")
    SEAL_EXPIRED = "seal_expired", _("印章已过有效期")
    SEAL_NOT_YET_VALID = "seal_not_yet_valid", _("印章尚未生效")
    INVALID_TRANSITION = "invalid_transition", _("印章当前状态不允许该操作")
    REASON_REQUIRED = "reason_required", _("请填写原因")
    INVALID_NAME = "invalid_name", _("印章名称无效")
    INVALID_TYPE = "invalid_type", _("印章类型无效")
    INVALID_VALIDITY = "invalid_validity", _("有效期无效：终止日期须晚于起始日期")
    INVALID_DOCUMENT = "invalid_document", _("待签文件或其类型、编号无效")
    SERIAL_EXHAUSTED = "serial_exhausted", _("该部门该类型的印章编号已用完")


class SealError(Exception):
    """A refused seal operation: ``code`` for machines, ``message`` for people."""

    def __init__(self, code: SealErrorCode, *, field: str = "") -> None:
        self.code = code.value
        self.field = field
        self.message = str(code.label)
        super().__init__(self.message)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "field": self.field}


class VerifyCode(models.TextChoices):
    OK = "ok", _("签章有效")
    TAMPERED = "tampered", _("文件或签章数据已被篡改")
    SEAL_REVOKED = "seal_revoked", _("印章已注销")
    SEAL_EXPIRED = "seal_expired", _("签章时印章不在有效期内")
    UNKNOWN_KEY = "unknown_key", _("签章所用的印章或密钥不是本平台签发的")
    MALFORMED = "malformed", _("签章数据格式错误")
