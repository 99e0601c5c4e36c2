"""The audit trail: append-only records chained by SM3 digests (see :mod:`tongban.core.audit`).

The model refuses every change in Python (``save`` of an existing row, ``delete``, and the
queryset's ``update``/``delete``/``bulk_*``); on PostgreSQL a trigger created by the migration
rejects UPDATE, and DELETE of any row younger than the legal minimum of 180
days. Records are appended only by :func:`tongban.core.audit.record`.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_DIGEST = "0" * 64


class AuditResult(models.TextChoices):
    SUCCESS = "success", _("成功")
    FAILURE = "failure", _("失败")


class AuditAction(models.TextChoices):
    """Known action codes. ``record`` accepts others of the form ``area.verb`` as well."""

    LOGIN = "auth.login", _("登录")
    LOGIN_FAILED = "auth.login_failed", _("登录失败")
    LOGOUT = "auth.logout", _("退出登录")
    LOCKOUT = "auth.lockout", _("账号锁定")
    PERMISSION_CHANGE = "auth.permission_change", _("权限变更")
    PERSONAL_READ = "personal.read", _("查阅个人信息")
    PERSONAL_REVEAL = "personal.reveal", _("查看完整个人信息")
    AUDIT_READ = "audit.read", _("查阅审计记录")
    AUDIT_PURGE = "audit.purge", _("清理过期审计记录")
    KEY_ROTATION = "crypto.key_rotation", _("密钥轮换")


class AppendOnlyError(RuntimeError):
    """Raised by any attempt to change or remove an audit record through the ORM."""

    code = "append_only"

    def __init__(self) -> None:
        super().__init__(str(_("审计记录只能追加，不能修改或删除")))


class AuditRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError

    def delete(self):
        raise AppendOnlyError

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError

    def bulk_create(self, objs, *args, **kwargs):
        raise AppendOnlyError

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError

    def get_or_create(self, *args, **kwargs):
        raise AppendOnlyError

    def create(self, **kwargs):
        raise AppendOnlyError

    def _raw_delete(self, using):
        raise AppendOnlyError


class AuditRecord(models.Model):
    seq = models.BigIntegerField(_("序号"), primary_key=True)
    at = models.DateTimeField(_("时间"))
    actor_id = models.BigIntegerField(_("操作人编号"), null=True, blank=True)
    actor_display = models.CharField(_("操作人"), max_length=150, blank=True)
    on_behalf_of = models.CharField(_("代办对象"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    user_agent = models.CharField(_("客户端"), max_length=300, blank=True)
    action = models.CharField(_("事件类型"), max_length=64)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    subject = models.CharField(
        _("信息主体"),
        max_length=100,
        blank=True,
        help_text=_("其个人信息被读取的人，如 person:123"),
    )
    reason = models.CharField(_("事由"), max_length=500, blank=True)
    result = models.CharField(_("结果"), max_length=8, choices=AuditResult.choices)
    details = models.JSONField(_("详情"), default=dict, blank=True)
    prev_digest = models.CharField(_("前一记录摘要"), max_length=64)
    digest = models.CharField(_("本记录摘要"), max_length=64, unique=True)

    objects = AuditRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ("-seq",)
        default_permissions = ("view",)
        permissions = (("reveal_personal_data", _("可查看完整的个人信息（每次查看均记入审计）")),)
        indexes = (
            models.Index(fields=["at"], name="core_audit_at"),
            models.Index(fields=["actor_id", "at"], name="core_audit_actor_at"),
            models.Index(fields=["subject", "at"], name="core_audit_subject_at"),
            models.Index(fields=["action", "at"], name="core_audit_action_at"),
        )

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.actor_display or '-'}"

    def save(self, *args, **kwargs):
        raise AppendOnlyError

    def delete(self, *args, **kwargs):
        raise AppendOnlyError
