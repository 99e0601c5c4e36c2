"""Tongban as an OpenID Connect provider and OAuth2 server for department systems.

django-oauth-toolkit (DOT) runs the protocol; this module decides *what* a client receives:

* **Scopes** are defined here, once: the OIDC scopes a department system may ask a person to
  consent to (:data:`OIDC_SCOPES`) and the API scopes of machine clients (:data:`API_SCOPES`).
  ``settings.OAUTH2_PROVIDER["SCOPES"]`` is built from :func:`all_scopes`.
* **Per-client policy** (:class:`~tongban.accounts.models.ClientPolicy`): a client may be granted
  only the scopes its policy allows (:meth:`TongbanOAuth2Validator.validate_scopes`); a client
  without an active policy cannot authorize, obtain or use a token.
* **Claims** per scope (:data:`SCOPE_CLAIMS`), identical in the ID token and at the userinfo
  endpoint. Personal numbers are masked unless the client's policy allows the full value; each
  release of a full value is written to the audit trail with ``subject="user:<pk>"``, so the
  person sees in their space which department system received it.
* ``sub`` is a random opaque identifier per person (:class:`SubjectIdentifier`), never the pk.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import Application
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes

from tongban.core import audit
from tongban.core.audit import AuditAction

# --- Scopes ------------------------------------------------------------------------------------

OPENID_SCOPE = "openid"
PROFILE_SCOPE = "profile"
PHONE_SCOPE = "phone"
ID_NUMBER_SCOPE = "id_number"
LEVEL_SCOPE = "tongban_level"
ACTING_PARTY_SCOPE = "acting_party"

#: Scopes a person consents to on the consent screen (authorization code flow).
OIDC_SCOPES: dict[str, Any] = {
    OPENID_SCOPE: _("确认您的身份（一个不含个人信息的用户标识）"),
    PROFILE_SCOPE: _("您的姓名和打码后的身份证号"),
    PHONE_SCOPE: _("您的手机号"),
    ID_NUMBER_SCOPE: _("您的完整身份证号"),
    LEVEL_SCOPE: _("您的实名认证级别"),
    ACTING_PARTY_SCOPE: _("您当前办事的身份（个人，或您代表的企业名称和统一社会信用代码）"),
}

#: Scopes of machine clients (client credentials), one per kind of API action.
CATALOG_READ_SCOPE = "catalog:read"
CASES_READ_SCOPE = "cases:read"
CASES_HANDLE_SCOPE = "cases:handle"
INTROSPECTION_SCOPE = "introspection"  # DOT's token introspection endpoint (RFC 7662)
API_SCOPES: dict[str, Any] = {
    CATALOG_READ_SCOPE: _("读取事项目录和办事指南"),
    CASES_READ_SCOPE: _("读取本部门的办件信息"),
    CASES_HANDLE_SCOPE: _("办理本部门的办件（受理、补正、决定、办结、送达）"),
    INTROSPECTION_SCOPE: _("校验访问令牌是否有效（令牌内省）"),
}

#: Claims released for each scope. ``id_number`` is full only with the ``id_number`` scope;
#: ``phone_number`` is full only when the policy allows it, otherwise ``phone_number_masked``.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    OPENID_SCOPE: ("sub",),
    PROFILE_SCOPE: ("name", "id_number_masked"),
    PHONE_SCOPE: ("phone_number", "phone_number_masked", "phone_number_verified"),
    ID_NUMBER_SCOPE: ("id_number",),
    LEVEL_SCOPE: ("tongban_level",),
    ACTING_PARTY_SCOPE: ("acting_party",),
}


def all_scopes() -> dict[str, Any]:
    """Every scope the server knows, with the description shown on the consent screen."""
    return {**OIDC_SCOPES, **API_SCOPES}


def unknown_scopes(scopes: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    known = all_scopes()
    return sorted(s for s in scopes if s not in known)


def describe_scopes(scopes: list[str] | tuple[str, ...]) -> list[dict[str, Any]]:
    """``[{"name", "description", "sensitive"}]`` for the consent screen, in a stable order."""
    known = all_scopes()
    order = list(known)
    result = []
    for name in sorted(set(scopes), key=lambda s: order.index(s) if s in order else len(order)):
        result.append(
            {
                "name": name,
                "description": known.get(name, name),
                "sensitive": name in (ID_NUMBER_SCOPE, PHONE_SCOPE),
            }
        )
    return result


class TongbanScopes(BaseScopes):
    """DOT's scopes backend (``SCOPES_BACKEND_CLASS``): the scopes of this module. Which of them
    a given client may have is decided by its policy in :class:`TongbanOAuth2Validator`."""

    def get_all_scopes(self):
        return all_scopes()

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return list(all_scopes())

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return [OPENID_SCOPE]


# --- Policy and identity helpers ---------------------------------------------------------------


def policy_for(application: Any):
    """The :class:`ClientPolicy` of a DOT application, or ``None``."""
    from tongban.accounts.models import ClientPolicy

    if application is None:
        return None
    try:
        return application.tongban_policy
    except ClientPolicy.DoesNotExist:
        return None


def client_is_active(application: Any) -> bool:
    policy = policy_for(application)
    return bool(policy is not None and policy.is_active)


def subject_for(user: Any) -> str:
    """The person's opaque ``sub``, created on first use (race-safe)."""
    from tongban.accounts.models import SubjectIdentifier

    try:
        return user.oidc_subject.sub
    except SubjectIdentifier.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            subject = SubjectIdentifier.objects.create(user=user)
    except IntegrityError:
        subject = SubjectIdentifier.objects.get(user=user)
    user.oidc_subject = subject
    return subject.sub


def acting_company_of(user: Any):
    """The company the person currently acts for, if they still may (legal representative, or
    a live unexpired grant: :func:`tongban.accounts.companies.acting_party`); ``None`` means
    acting for themself."""
    from tongban.accounts.companies import acting_party

    party = acting_party(user)
    return party.company if party.is_company else None


def acting_party_claim(user: Any) -> dict[str, str]:
    company = acting_company_of(user)
    if company is None:
        return {"type": "person"}
    return {"type": "company", "uscc": company.uscc, "name": company.name}


def _e164(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        return "+86" + digits
    return phone


def claims_for(*, user: Any, application: Any, scopes: list[str] | tuple[str, ...]) -> dict:
    """The claims about ``user`` that ``application`` receives for the granted ``scopes``.

    Scopes outside the client's effective policy are ignored here as well (defence in depth:
    tokens granted before a policy was narrowed release only what the policy allows now).
    Returns the claims and, under the key ``"_released_full"``, which full values were included
    (popped by the caller before sending).
    """
    policy = policy_for(application)
    allowed = policy.effective_scopes if policy is not None else frozenset()
    granted = set(scopes) & allowed
    claims: dict[str, Any] = {}
    released: list[str] = []
    if OPENID_SCOPE in granted:
        claims["sub"] = subject_for(user)
    if PROFILE_SCOPE in granted:
        claims["name"] = user.real_name or ""
        claims["id_number_masked"] = user.masked_id_number
    if PHONE_SCOPE in granted and user.phone:
        if policy.may_receive_full_phone:
            claims["phone_number"] = _e164(user.phone)
            claims["phone_number_verified"] = user.level >= 1
            released.append("phone")
        else:
            claims["phone_number_masked"] = user.masked_phone
    if ID_NUMBER_SCOPE in granted and user.id_number:
        claims["id_number"] = user.id_number
        released.append("id_number")
    if LEVEL_SCOPE in granted:
        claims["tongban_level"] = int(user.level)
    if ACTING_PARTY_SCOPE in granted:
        claims["acting_party"] = acting_party_claim(user)
    claims["_released_full"] = released
    return claims


def record_release(*, user: Any, application: Any, fields: list[str], channel: str) -> None:
    """Audit that a department system received full personal values of ``user``."""
    policy = policy_for(application)
    audit.record(
        actor=None,
        action=AuditAction.PERSONAL_READ,
        object_type="oauth2_provider.application",
        object_id=application.pk,
        subject=f"user:{user.pk}",
        reason="部门系统经本人授权获取个人信息",
        details={
            "client_id": application.client_id,
            "client_name": application.name,
            "organization": policy.organization.name if policy is not None else "",
            "fields": sorted(fields),
            "channel": channel,
        },
    )


# --- The validator DOT uses ---------------------------------------------------------------------


class TongbanOAuth2Validator(OAuth2Validator):
    """DOT's validator with per-client scope policy, Tongban's claims and opaque subjects."""

    # Claims are chosen per scope in :func:`claims_for`; DOT's own filter is not used.
    oidc_claim_scope = None

    # Clients ---------------------------------------------------------------------------------

    def _load_application(self, client_id, request):
        application = super()._load_application(client_id, request)
        if application is not None and not client_is_active(application):
            request.client = None
            return None
        return application

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        if not super().validate_scopes(client_id, scopes, client, request, *args, **kwargs):
            return False
        policy = policy_for(client)
        if policy is None:
            return False
        return set(scopes).issubset(policy.effective_scopes)

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        """Without a ``scope`` parameter: ``openid`` for people, every API scope of the policy
        for machine clients."""
        policy = policy_for(request.client)
        if policy is None:
            return []
        if request.grant_type == "client_credentials":
            return sorted(s for s in policy.effective_scopes if s in API_SCOPES)
        return [OPENID_SCOPE] if OPENID_SCOPE in policy.effective_scopes else []

    def validate_bearer_token(self, token, scopes, request):
        """Used by DOT's userinfo endpoint: also refuse tokens of disabled clients and users."""
        if not super().validate_bearer_token(token, scopes, request):
            return False
        access_token = request.access_token
        user = access_token.user
        if not client_is_active(access_token.application) or (
            user is not None and not user.is_active
        ):
            request.oauth2_error = {"error": "invalid_token"}
            return False
        return True

    # Claims ----------------------------------------------------------------------------------

    def _claims(self, request, channel: str) -> dict:
        claims = claims_for(user=request.user, application=request.client, scopes=request.scopes)
        released = claims.pop("_released_full")
        if released:
            record_release(
                user=request.user, application=request.client, fields=released, channel=channel
            )
        return claims

    def get_oidc_claims(self, token, token_handler, request):
        return self._claims(request, "id_token")

    def get_userinfo_claims(self, request):
        return self._claims(request, "userinfo")

    def get_discovery_claims(self, request):
        names: list[str] = []
        for claims in SCOPE_CLAIMS.values():
            names.extend(claims)
        return names


# --- The person's authorized department systems -------------------------------------------------


def authorized_clients(*, user: Any) -> list[dict[str, Any]]:
    """The clients holding a usable access or refresh token of ``user``: each as
    ``{"application", "organization", "scopes" (described), "last_authorized"}``, newest first."""
    from datetime import timedelta

    from django.db.models import Q
    from oauth2_provider.models import get_access_token_model, get_refresh_token_model
    from oauth2_provider.settings import oauth2_settings

    now = timezone.now()
    live_refresh = Q(revoked__isnull=True)
    if oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS:
        live_refresh &= Q(
            created__gt=now - timedelta(seconds=oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS)
        )
    refresh = get_refresh_token_model().objects.filter(live_refresh, user=user)
    access = (
        get_access_token_model()
        .objects.filter(user=user)
        .filter(Q(expires__gt=now) | Q(refresh_token__in=refresh))
    )
    by_app: dict[int, dict[str, Any]] = {}
    for token in access.select_related("application__tongban_policy__organization").order_by(
        "-created"
    ):
        entry = by_app.setdefault(
            token.application_id,
            {
                "application": token.application,
                "organization": getattr(policy_for(token.application), "organization", None),
                "scope_names": set(),
                "last_authorized": token.created,
            },
        )
        entry["scope_names"].update(token.scope.split())
    for entry in by_app.values():
        entry["scopes"] = describe_scopes(sorted(entry.pop("scope_names")))
    return sorted(by_app.values(), key=lambda e: e["last_authorized"], reverse=True)


def revoke_authorization(
    *, actor: Any, client_id: str, ip: str | None = None, user_agent: str = ""
) -> int:
    """The person withdraws a department system's access: every token and pending code of
    ``actor`` for that client is revoked. Returns how many tokens were revoked (0: nothing to
    revoke, the caller answers not-found)."""
    from oauth2_provider.models import (
        get_access_token_model,
        get_grant_model,
        get_id_token_model,
        get_refresh_token_model,
    )

    application = Application.objects.filter(client_id=client_id).first()
    if application is None:
        return 0
    with transaction.atomic():
        refresh_tokens = list(
            get_refresh_token_model().objects.filter(
                user=actor, application=application, revoked__isnull=True
            )
        )
        access_tokens = get_access_token_model().objects.filter(user=actor, application=application)
        count = len(refresh_tokens) + access_tokens.count()
        for refresh in refresh_tokens:
            refresh.revoke()  # also deletes its access token
        for access in access_tokens:
            access.revoke()
        get_id_token_model().objects.filter(user=actor, application=application).delete()
        get_grant_model().objects.filter(user=actor, application=application).delete()
        if count:
            audit.record(
                actor=actor,
                action="oidc.revoke",
                object_type="oauth2_provider.application",
                object_id=application.pk,
                subject=f"user:{actor.pk}",
                ip=ip,
                user_agent=user_agent,
                details={"client_id": application.client_id, "client_name": application.name},
            )
    return count


def revoke_all_for(user: Any) -> int:
    """Revoke every token, ID token and pending code of ``user`` at every client (log out
    everywhere, password reset or change). Run inside the caller's transaction; the caller's
    audit record covers it. Returns how many access and refresh tokens were revoked."""
    from oauth2_provider.models import (
        get_access_token_model,
        get_grant_model,
        get_id_token_model,
        get_refresh_token_model,
    )

    refresh_tokens = list(get_refresh_token_model().objects.filter(user=user, revoked__isnull=True))
    access_tokens = list(get_access_token_model().objects.filter(user=user))
    for refresh in refresh_tokens:
        refresh.revoke()
    for access in access_tokens:
        access.revoke()
    get_id_token_model().objects.filter(user=user).delete()
    get_grant_model().objects.filter(user=user).delete()
    return len(refresh_tokens) + len(access_tokens)
