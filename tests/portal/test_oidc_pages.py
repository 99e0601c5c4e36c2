"""The citizen's pages of the OIDC provider: consent screen content, authorized systems and
revoking one (tongban.portal.oidc). The whole protocol runs in tests/api/test_oidc_e2e.py."""

from __future__ import annotations

import base64
import hashlib

import pytest
from django.shortcuts import resolve_url
from django.urls import reverse
from oauth2_provider.models import AccessToken

from tests.accounts.factories import UserFactory
from tests.accounts.oidc_support import REDIRECT_URI, issue_token, make_client
from tongban.core.models.audit import AuditRecord

pytestmark = pytest.mark.django_db

APPS = "/account/apps/"


def _authorize_url(client_id: str, scope: str) -> str:
    verifier = "v" * 50
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return (
        f"{reverse('oauth2_provider:authorize')}?response_type=code&client_id={client_id}"
        f"&redirect_uri={REDIRECT_URI}&scope={scope}&state=s1&nonce=n1"
        f"&code_challenge={challenge}&code_challenge_method=S256"
    )


def test_consent_screen_says_when_the_full_id_number_is_included(client):
    user = UserFactory()
    registered = make_client(
        scopes=("openid", "profile", "id_number"), full_id_number=True, name="出入境管理系统"
    )
    client.force_login(user)

    response = client.get(_authorize_url(registered.application.client_id, "openid+id_number"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "出入境管理系统" in page
    assert registered.policy.organization.name in page
    assert "您的完整身份证号" in page
    assert "该系统将获得您的完整身份证号" in page
    assert user.display_name in page  # acting as themself
    assert 'name="allow"' in page


def test_consent_screen_without_id_number_scope_does_not_warn(client):
    client.force_login(UserFactory())
    registered = make_client(scopes=("openid", "profile"))

    page = client.get(_authorize_url(registered.application.client_id, "openid+profile"))

    assert "该系统将获得您的完整身份证号" not in page.content.decode()


def test_unknown_client_shows_an_error_page(client):
    client.force_login(UserFactory())

    response = client.get(_authorize_url("no-such-client", "openid"))

    assert response.status_code == 400
    assert "无法完成授权" in response.content.decode()


def test_apps_page_needs_login(client):
    response = client.get(APPS)

    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url("portal:account_login"))


def test_apps_page_lists_and_revokes_only_my_authorizations(client):
    me = UserFactory()
    other = UserFactory()
    mine = make_client(name="医保服务系统").application
    theirs = make_client(name="公积金系统").application
    issue_token(mine, user=me)
    issue_token(theirs, user=other)
    client.force_login(me)

    page = client.get(APPS).content.decode()
    assert "医保服务系统" in page
    assert "公积金系统" not in page

    # Someone else's authorization: not found, nothing changes.
    denied = client.post(reverse("oidc_account:revoke", args=[theirs.client_id]))
    assert denied.status_code == 404
    assert AccessToken.objects.filter(user=other).count() == 1

    done = client.post(reverse("oidc_account:revoke", args=[mine.client_id]))
    assert done.status_code == 302
    assert not AccessToken.objects.filter(user=me).exists()
    assert "医保服务系统" not in client.get(APPS).content.decode()
    assert AuditRecord.objects.filter(action="oidc.revoke", actor_id=me.pk).count() == 1


def test_revoke_needs_post(client):
    me = UserFactory()
    app = make_client().application
    issue_token(app, user=me)
    client.force_login(me)

    assert client.get(reverse("oidc_account:revoke", args=[app.client_id])).status_code == 405
    assert AccessToken.objects.filter(user=me).count() == 1
