"""Staff posts: a person works for an organization in a role, scoped to regions.

The three administrator posts of 等保 level 3 (system, security, audit) are separated: nobody
holds two of them, and an audit administrator holds no other post, so that no one can both act
and erase the trace of acting. The rule lives in :mod:`tongban.accounts.staff`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffRole(models.TextChoices):
    CLERK = "clerk", _("窗口受理人员")
    REVIEWER = "reviewer", _("审核人员")
    ORG_ADMIN = "org_admin", _("部门管理员")
    OPERATOR = "operator", _("平台运营人员")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")


# The three separated posts of 等保 level 3 (GB/T 22239-2019 8.1.4.2 / 8.1.10.3).
SEPARATED_ADMIN_ROLES = frozenset(
    {StaffRole.SYSTEM_ADMIN, StaffRole.SECURITY_ADMIN, StaffRole.AUDIT_ADMIN}
)


class StaffPost(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("人员"),
        on_delete=models.CASCADE,
        related_name="staff_posts",
    )
    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("所属部门"),
        on_delete=models.PROTECT,
        related_name="staff_posts",
    )
    role = models.CharField(_("岗位"), max_length=20, choices=StaffRole.choices)
    regions = models.ManyToManyField(
        "core.Region",
        verbose_name=_("管辖区划"),
        blank=True,
        related_name="+",
        help_text=_("为空时为所属部门的区划；含下级区划"),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授权人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("授权时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工作人员岗位")
        verbose_name_plural = _("工作人员岗位")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "role"], name="accounts_one_post_per_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.get_role_display()}"
