"""Registering department systems as OAuth2 / OpenID Connect clients (operators' verbs).

A client is django-oauth-toolkit's ``Application`` plus Tongban's :class:`ClientPolicy`; both are
created together here, in one transaction, with an audit record. The client secret is returned
once and stored only as a hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Application
from oauth2_provider.settings import oauth2_settings

from tongban.accounts.errors import AccountError, AccountErrorCode
from tongban.accounts.models import ClientPolicy
from tongban.accounts.oidc import API_SCOPES, ID_NUMBER_SCOPE, OIDC_SCOPES, OPENID_SCOPE
from tongban.core import audit

AUTHORIZATION_CODE = "authorization-code"
CLIENT_CREDENTIALS = "client-credentials"
GRANTS = {
    AUTHORIZATION_CODE: Application.GRANT_AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS: Application.GRANT_CLIENT_CREDENTIALS,
}


@dataclass(frozen=True)
class RegisteredClient:
    application: Application
    policy: ClientPolicy
    client_secret: str  # plaintext, shown once; "" for public clients


def _invalid(field: str, message: str) -> AccountError:
    return AccountError(AccountErrorCode.CLIENT_CONFIG_INVALID, field=field, message=message)


def _check_uris(uris: list[str], field: str) -> None:
    schemes = oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES
    for uri in uris:
        parsed = urlparse(uri)
        if parsed.scheme not in schemes or not parsed.netloc or parsed.fragment:
            raise _invalid(
                field,
                _("回调地址无效或协议不被允许（允许：%(schemes)s）：%(uri)s")
                % {"schemes": ", ".join(schemes), "uri": uri},
            )


def register_client(
    *,
    actor: Any,
    name: str,
    organization: Any,
    grant: str,
    scopes: list[str],
    redirect_uris: list[str] = (),
    post_logout_redirect_uris: list[str] = (),
    public: bool = False,
    may_receive_full_id_number: bool = False,
    may_receive_full_phone: bool = False,
    notes: str = "",
) -> RegisteredClient:
    """Register a department system. ``grant`` is ``authorization-code`` (people log in; needs
    redirect URIs and the ``openid`` scope) or ``client-credentials`` (the system calls the API;
    API scopes only). ``public`` clients (mobile apps) get no secret and must use PKCE."""
    name = (name or "").strip()
    if not name:
        raise _invalid("name", _("请填写部门系统名称"))
    if grant not in GRANTS:
        raise _invalid("grant", _("授权方式只能是 authorization-code 或 client-credentials"))
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in OIDC_SCOPES and s not in API_SCOPES]
    if unknown:
        raise _invalid("scopes", _("未定义的授权范围：%(names)s") % {"names": ", ".join(unknown)})
    if ID_NUMBER_SCOPE in scopes and not may_receive_full_id_number:
        raise _invalid("scopes", _("授予 id_number 范围须同时开启“可获取完整身份证号”"))
    redirect_uris = [u.strip() for u in redirect_uris if u.strip()]
    post_logout_redirect_uris = [u.strip() for u in post_logout_redirect_uris if u.strip()]
    if grant == AUTHORIZATION_CODE:
        if not redirect_uris:
            raise _invalid("redirect_uris", _("授权码方式必须登记回调地址"))
        if OPENID_SCOPE not in scopes:
            raise _invalid("scopes", _("授权码方式须包含 openid 范围"))
        _check_uris(redirect_uris, "redirect_uris")
        _check_uris(post_logout_redirect_uris, "post_logout_redirect_uris")
    else:
        oidc_scopes = [s for s in scopes if s in OIDC_SCOPES]
        if oidc_scopes:
            raise _invalid(
                "scopes",
                _("客户端凭证方式只能授予接口范围，不能授予：%(names)s")
                % {"names": ", ".join(oidc_scopes)},
            )
        if public:
            raise _invalid("public", _("客户端凭证方式必须是机密客户端"))
        if redirect_uris:
            raise _invalid("redirect_uris", _("客户端凭证方式不使用回调地址"))
    secret = "" if public else generate_client_secret()
    with transaction.atomic():
        application = Application(
            name=name,
            client_type=Application.CLIENT_PUBLIC if public else Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=GRANTS[grant],
            redirect_uris=" ".join(redirect_uris),
            post_logout_redirect_uris=" ".join(post_logout_redirect_uris),
            algorithm=Application.RS256_ALGORITHM if grant == AUTHORIZATION_CODE else "",
            client_secret=secret,
            hash_client_secret=True,
        )
        try:
            application.full_clean(exclude=["client_secret", "user"])
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise _invalid(field, "; ".join(messages)) from exc
        application.save()
        policy = ClientPolicy.objects.create(
            application=application,
            organization=organization,
            allowed_scopes=scopes,
            may_receive_full_id_number=may_receive_full_id_number,
            may_receive_full_phone=may_receive_full_phone,
            notes=notes,
        )
        audit.record(
            actor=actor,
            action="oidc.client_register",
            object_type="oauth2_provider.application",
            object_id=application.pk,
            details={
                "client_id": application.client_id,
                "name": name,
                "organization": organization.uscc,
                "grant": grant,
                "scopes": scopes,
                "full_id_number": may_receive_full_id_number,
                "full_phone": may_receive_full_phone,
            },
        )
    return RegisteredClient(application=application, policy=policy, client_secret=secret)
