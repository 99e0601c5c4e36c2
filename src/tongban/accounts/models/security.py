"""Login security state: failure counters and lockouts, one-time codes, outgoing messages."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.personal import EncryptedTextField


class Throttle(models.Model):
    """Failures (or requests) counted per scope and key within a window; ``locked_until`` set
    once the limit is passed. Keys are digests, never plain phone numbers or addresses."""

    scope = models.CharField(_("范围"), max_length=30)
    key = models.CharField(_("键摘要"), max_length=64)
    count = models.PositiveIntegerField(_("次数"), default=0)
    window_started_at = models.DateTimeField(_("窗口开始"))
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)

    class Meta:
        verbose_name = _("登录限制")
        verbose_name_plural = _("登录限制")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="accounts_throttle_scope_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key[:8]}… {self.count}"


class OneTimeCodePurpose(models.TextChoices):
    LOGIN = "login", _("登录")
    REGISTER = "register", _("注册")
    RESET_PASSWORD = "reset_password", _("重置密码")
    CHANGE_PHONE = "change_phone", _("更换手机号")


class OneTimeCode(models.Model):
    """An SMS code: only its keyed digest is stored; wrong entries count toward lockout."""

    purpose = models.CharField(_("用途"), max_length=20, choices=OneTimeCodePurpose.choices)
    phone_digest = models.CharField(_("手机号摘要"), max_length=64)
    code_digest = models.CharField(_("验证码摘要"), max_length=64)
    created_at = models.DateTimeField(_("发送时间"))
    expires_at = models.DateTimeField(_("失效时间"))
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    consumed_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [
            models.Index(
                fields=["phone_digest", "purpose", "-created_at"], name="accounts_otc_phone"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.created_at:%Y-%m-%d %H:%M}"


class MessageChannel(models.TextChoices):
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")


class OutgoingMessage(models.Model):
    """Every SMS and e-mail the platform sends, whatever the backend; the local backend only
    records, so the demo shows the messages on a page instead of sending them."""

    channel = models.CharField(_("渠道"), max_length=10, choices=MessageChannel.choices)
    recipient = EncryptedTextField(_("接收人"), purpose="recipient")
    recipient_masked = models.CharField(_("接收人（脱敏）"), max_length=100)
    subject = models.CharField(_("主题"), max_length=200, blank=True)
    body = EncryptedTextField(_("内容"), purpose="message")
    backend = models.CharField(_("发送通道"), max_length=50)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("外发消息")
        verbose_name_plural = _("外发消息")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["-created_at"], name="accounts_msg_created")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.recipient_masked}"
