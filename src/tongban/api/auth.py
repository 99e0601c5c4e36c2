"""Bearer-token authentication of the JSON API (RFC 6750), with OAuth2 access tokens issued by
Tongban's own authorization server (django-oauth-toolkit).

``auth=BearerToken(scopes=[...])`` on an endpoint:

* no ``Authorization: Bearer …`` header → 401 ``token_missing``;
* unknown, revoked or forged token, or a token of a disabled client or person → 401
  ``token_invalid``; an expired one → 401 ``token_expired``; each 401 carries a
  ``WWW-Authenticate: Bearer`` header with ``error="invalid_token"`` where RFC 6750 asks for it;
* a valid token without every required scope → 403 ``insufficient_scope`` (the header names the
  scopes needed); ``person=True`` endpoints refuse machine (client-credentials) tokens with 403
  ``person_required``.

On success ``request.auth`` is a :class:`TokenContext`. Tokens are looked up by their SHA-256
checksum, one query; the database keeps only the checksum (RFC 9700 token storage).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, JsonResponse
from ninja import NinjaAPI
from ninja.security.base import AuthBase
from oauth2_provider.models import get_access_token_model

from tongban.accounts.errors import AccountErrorCode
from tongban.accounts.oidc import policy_for

REALM = "tongban"


@dataclass(frozen=True)
class TokenContext:
    """Who called: the client (department system), the person if any, the granted scopes."""

    access_token: Any
    application: Any
    user: Any  # None for client-credentials tokens
    scopes: frozenset[str]

    @property
    def is_person(self) -> bool:
        return self.user is not None


class TokenError(Exception):
    """A refused bearer token: rendered by :func:`token_error_response`."""

    def __init__(self, code: AccountErrorCode, *, status: int, scopes: tuple[str, ...] = ()):
        self.code = code
        self.status = status
        self.scopes = scopes
        super().__init__(code.value)


_RFC6750_ERROR = {
    AccountErrorCode.TOKEN_MISSING: "",  # no error attribute when no credentials were sent
    AccountErrorCode.TOKEN_INVALID: "invalid_token",
    AccountErrorCode.TOKEN_EXPIRED: "invalid_token",
    AccountErrorCode.INSUFFICIENT_SCOPE: "insufficient_scope",
    AccountErrorCode.PERSON_REQUIRED: "insufficient_scope",
}

_DESCRIPTION = {
    AccountErrorCode.TOKEN_INVALID: "The access token is invalid",
    AccountErrorCode.TOKEN_EXPIRED: "The access token expired",
    AccountErrorCode.INSUFFICIENT_SCOPE: "The access token lacks a required scope",
    AccountErrorCode.PERSON_REQUIRED: "This endpoint needs a token issued to a person",
}


def token_error_response(request: HttpRequest, exc: TokenError) -> JsonResponse:
    parts = [f'Bearer realm="{REALM}"']
    error = _RFC6750_ERROR.get(exc.code, "")
    if error:
        parts.append(f'error="{error}"')
        parts.append(f'error_description="{_DESCRIPTION[exc.code]}"')
    if exc.scopes:
        parts.append(f'scope="{" ".join(exc.scopes)}"')
    response = JsonResponse(
        {"code": exc.code.value, "message": str(exc.code.label), "field": ""},
        status=exc.status,
        json_dumps_params={"ensure_ascii": False},
    )
    response["WWW-Authenticate"] = ", ".join(parts)
    response["Cache-Control"] = "no-store"
    return response


def install(api: NinjaAPI) -> None:
    """Register the error rendering on ``api`` (done once by :mod:`tongban.api.router`)."""
    api.add_exception_handler(TokenError, token_error_response)


def _checksum(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise TokenError(AccountErrorCode.TOKEN_MISSING, status=401)
    return value.strip()


def authenticate(request: HttpRequest) -> TokenContext:
    """The caller of ``request`` from its bearer token, or :class:`TokenError` (401)."""
    raw = _bearer(request)
    if len(raw) > 512 or not raw.isascii():
        raise TokenError(AccountErrorCode.TOKEN_INVALID, status=401)
    token = (
        get_access_token_model()
        .objects.select_related("application__tongban_policy", "user")
        .filter(token_checksum=_checksum(raw))
        .first()
    )
    if token is None or token.application is None:
        raise TokenError(AccountErrorCode.TOKEN_INVALID, status=401)
    policy = policy_for(token.application)
    user = token.user
    if policy is None or not policy.is_active or (user is not None and not user.is_active):
        raise TokenError(AccountErrorCode.TOKEN_INVALID, status=401)
    if token.resource and not token.allows_audience(request.build_absolute_uri(request.path)):
        raise TokenError(AccountErrorCode.TOKEN_INVALID, status=401)
    if token.is_expired():
        raise TokenError(AccountErrorCode.TOKEN_EXPIRED, status=401)
    # A policy narrowed after issue narrows the token at once.
    scopes = frozenset(token.scope.split()) & policy.effective_scopes
    return TokenContext(access_token=token, application=token.application, user=user, scopes=scopes)


class BearerToken(AuthBase):
    """django-ninja auth: ``auth=BearerToken(scopes=["catalog:read"], person=False)``."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __init__(self, *, scopes: list[str] | tuple[str, ...] = (), person: bool = False):
        self.scopes = tuple(scopes)
        self.person = person
        super().__init__()

    def __call__(self, request: HttpRequest) -> TokenContext:
        context = authenticate(request)
        if self.person and not context.is_person:
            raise TokenError(AccountErrorCode.PERSON_REQUIRED, status=403, scopes=self.scopes)
        if not set(self.scopes) <= context.scopes:
            raise TokenError(AccountErrorCode.INSUFFICIENT_SCOPE, status=403, scopes=self.scopes)
        return context
