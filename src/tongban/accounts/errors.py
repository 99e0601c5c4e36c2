"""Machine-readable error codes of the accounts domain, each with its Chinese message.

The API returns ``{"code": ..., "message": ..., "field": ...}``; pages show the message beside
the field. Messages about logging in never reveal whether an account exists.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountErrorCode(models.TextChoices):
    # Input
    INVALID_ID_NUMBER = "invalid_id_number", _("身份证号码无效")
    INVALID_USCC = "invalid_uscc", _("统一社会信用代码无效")
    INVALID_PHONE = "invalid_phone", _("请输入正确的11位手机号码")
    INVALID_NAME = "invalid_name", _("请输入与身份证一致的姓名")
    WEAK_PASSWORD = "weak_password", _("密码不符合复杂度要求")
    # Login (one message for every failure, so nobody learns whether an account exists)
    LOGIN_FAILED = "login_failed", _("账号或密码错误，或验证码无效")
    LOCKED = "locked", _("尝试次数过多，请稍后再试")
    RATE_LIMITED = "rate_limited", _("操作过于频繁，请稍后再试")
    CODE_INVALID = "code_invalid", _("验证码错误或已失效")
    SECOND_FACTOR_REQUIRED = "second_factor_required", _("请输入动态口令")
    SECOND_FACTOR_INVALID = "second_factor_invalid", _("动态口令错误")
    SECOND_FACTOR_NOT_ENROLLED = "second_factor_not_enrolled", _("请先绑定动态口令")
    SESSION_EXPIRED = "session_expired", _("登录已过期，请重新登录")
    # Identity
    PHONE_TAKEN = "phone_taken", _("该手机号无法用于注册")
    ID_NUMBER_TAKEN = "id_number_taken", _("该身份证号已被其他账号认证，请联系客服")
    VERIFICATION_FAILED = "verification_failed", _("身份核验未通过")
    LEVEL_TOO_LOW = "level_too_low", _("该服务要求更高的实名认证级别")
    # Companies and agents
    COMPANY_VERIFICATION_FAILED = "company_verification_failed", _("企业信息核验未通过")
    COMPANY_TAKEN = "company_taken", _("该企业已注册")
    NOT_LEGAL_REP = "not_legal_rep", _("只有法定代表人可以进行此操作")
    NOT_AGENT = "not_agent", _("您未获得该企业的授权")
    OUT_OF_SCOPE = "out_of_scope", _("该事项不在您的授权范围内")
    GRANT_EXPIRED = "grant_expired", _("授权已过期")
    # Staff
    ROLE_CONFLICT = "role_conflict", _("系统管理员、安全管理员、审计管理员岗位必须分设")
    FORBIDDEN = "forbidden", _("没有权限")
    NOT_FOUND = "not_found", _("对象不存在")
    # Tokens (API)
    TOKEN_MISSING = "token_missing", _("缺少访问令牌")
    TOKEN_INVALID = "token_invalid", _("访问令牌无效")
    TOKEN_EXPIRED = "token_expired", _("访问令牌已过期")
    INSUFFICIENT_SCOPE = "insufficient_scope", _("访问令牌的授权范围不足")
    # Persons: passwords and verification
    WRONG_PASSWORD = "wrong_password", _("原密码错误")
    ALREADY_VERIFIED = "already_verified", _("您已完成该级别的实名认证")
    VERIFICATION_UNAVAILABLE = "verification_unavailable", _("核验服务暂不可用，请稍后再试")
    # Companies, agents and staff posts (helper B)
    AGENT_NOT_FOUND = "agent_not_found", _("未找到已完成实名认证的该用户")
    AGENT_IS_LEGAL_REP = "agent_is_legal_rep", _("法定代表人无需授权")
    GRANT_EXPIRY_INVALID = "grant_expiry_invalid", _("授权有效期须晚于现在且不超过三年")
    GRANT_SCOPE_EMPTY = "grant_scope_empty", _("请授权全部事项或至少选择一个事项")
    SELF_GRANT = "self_grant", _("不能为自己授予或撤销岗位")
    # OIDC clients and the API (helper C)
    PERSON_REQUIRED = (
        "person_required",
        _("该接口需要个人授权的访问令牌，部门系统自身的令牌不能调用"),
    )
    CLIENT_CONFIG_INVALID = "client_config_invalid", _("部门系统接入配置不正确")


class AccountError(Exception):
    """A refused account operation: ``code`` for machines, ``message`` for people, ``field``
    naming the input at fault (or ``""``)."""

    def __init__(self, code: AccountErrorCode, *, field: str = "", message: str = "") -> None:
        self.code = code.value
        self.field = field
        self.message = message or str(code.label)
        super().__init__(self.message)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "field": self.field}
