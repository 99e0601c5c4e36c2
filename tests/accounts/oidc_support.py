"""Helpers for tests of the OIDC provider and the bearer-token API: department-system clients
registered through the real service, and access tokens as DOT stores them."""

from __future__ import annotations

import datetime as dt
import secrets

from django.utils import timezone
from oauth2_provider.models import AccessToken

from tests.core.factories import OrganizationFactory
from tongban.accounts.clients import (
    AUTHORIZATION_CODE,
    CLIENT_CREDENTIALS,
    RegisteredClient,
    register_client,
)

REDIRECT_URI = "https://dept.example.gov.cn/callback"


def make_client(
    *,
    grant: str = AUTHORIZATION_CODE,
    scopes: tuple[str, ...] = ("openid", "profile"),
    redirect_uris: tuple[str, ...] = (REDIRECT_URI,),
    post_logout_redirect_uris: tuple[str, ...] = (),
    full_id_number: bool = False,
    full_phone: bool = False,
    organization=None,
    name: str = "不动产登记系统",
) -> RegisteredClient:
    return register_client(
        actor=None,
        name=name,
        organization=organization or OrganizationFactory(),
        grant=grant,
        scopes=list(scopes),
        redirect_uris=list(redirect_uris) if grant == AUTHORIZATION_CODE else [],
        post_logout_redirect_uris=list(post_logout_redirect_uris),
        may_receive_full_id_number=full_id_number,
        may_receive_full_phone=full_phone,
    )


def make_machine_client(scopes: tuple[str, ...] = ("catalog:read",), **kwargs) -> RegisteredClient:
    return make_client(grant=CLIENT_CREDENTIALS, scopes=scopes, redirect_uris=(), **kwargs)


def issue_token(
    application, *, user=None, scopes: tuple[str, ...] = ("openid", "profile"), seconds: int = 600
) -> str:
    """A raw access token of ``application`` (for ``user``, or a machine token), valid for
    ``seconds`` (negative: already expired)."""
    raw = secrets.token_urlsafe(30)
    AccessToken.objects.create(
        user=user,
        application=application,
        token=raw,
        scope=" ".join(scopes),
        expires=timezone.now() + dt.timedelta(seconds=seconds),
    )
    return raw
