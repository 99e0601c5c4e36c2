"""Department systems that use Tongban as their identity provider (OIDC) or call its API.

The OAuth2 client itself is django-oauth-toolkit's ``Application`` (client id, hashed secret,
redirect URIs, grant type). :class:`ClientPolicy` says what that client may receive: which
organization answers for it, which scopes it may ask for, and whether it may receive a person's
full ID number. A client without a policy, or with an inactive one, gets nothing.

:class:`SubjectIdentifier` is the ``sub`` claim of a person: a random opaque value created the
first time the person signs in to any department system, so relying parties never see (or
depend on) our primary keys.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings


def _new_subject() -> str:
    return secrets.token_hex(16)


class ClientPolicy(models.Model):
    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        verbose_name=_("客户端"),
        on_delete=models.CASCADE,
        related_name="tongban_policy",
    )
    organization = models.ForeignKey(
        "core.Organization",
        verbose_name=_("责任部门"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("对该部门系统的数据使用负责的单位"),
    )
    allowed_scopes = models.JSONField(
        _("可申请的授权范围"),
        default=list,
        blank=True,
        help_text=_("该客户端可以申请的 scope 列表，如 openid、profile、catalog:read"),
    )
    may_receive_full_id_number = models.BooleanField(
        _("可获取完整身份证号"),
        default=False,
        help_text=_("仅在法律法规要求核对完整身份证号的业务系统开启；每次提供都记入审计"),
    )
    may_receive_full_phone = models.BooleanField(
        _("可获取完整手机号"),
        default=False,
        help_text=_("关闭时只提供打码后的手机号"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("部门系统接入策略")
        verbose_name_plural = _("部门系统接入策略")

    def __str__(self) -> str:
        return str(self.application)

    def clean(self) -> None:
        from tongban.accounts.oidc import ID_NUMBER_SCOPE, unknown_scopes

        scopes = list(self.allowed_scopes or [])
        if not isinstance(self.allowed_scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValidationError({"allowed_scopes": _("授权范围必须是字符串列表")})
        unknown = unknown_scopes(scopes)
        if unknown:
            raise ValidationError(
                {"allowed_scopes": _("未定义的授权范围：%(names)s") % {"names": ", ".join(unknown)}}
            )
        if ID_NUMBER_SCOPE in scopes and not self.may_receive_full_id_number:
            raise ValidationError(
                {"allowed_scopes": _("未开启“可获取完整身份证号”时不能授予 id_number 范围")}
            )

    @property
    def effective_scopes(self) -> frozenset[str]:
        """The scopes this client may be granted right now (none when inactive)."""
        from tongban.accounts.oidc import ID_NUMBER_SCOPE

        if not self.is_active:
            return frozenset()
        scopes = set(self.allowed_scopes or [])
        if not self.may_receive_full_id_number:
            scopes.discard(ID_NUMBER_SCOPE)
        return frozenset(scopes)


class SubjectIdentifier(models.Model):
    """The stable, opaque OIDC ``sub`` of a person (one for all clients)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="oidc_subject",
    )
    sub = models.CharField(_("主体标识"), max_length=64, unique=True, default=_new_subject)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("OIDC 主体标识")
        verbose_name_plural = _("OIDC 主体标识")

    def __str__(self) -> str:
        return self.sub
