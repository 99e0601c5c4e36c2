"""Bearer tokens on the API: 401 with a reason code for missing, forged and expired tokens, 403
for scopes and machine tokens, and GET /api/v1/me, /api/v1/client (tongban.api.auth, .me)."""

from __future__ import annotations

import pytest
from ninja import NinjaAPI
from ninja.testing import TestClient

from tests.accounts.factories import AgentGrantFactory, CompanyFactory, UserFactory
from tests.accounts.oidc_support import issue_token, make_client, make_machine_client
from tongban.accounts.models import ClientPolicy
from tongban.api import auth

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"


def _get(client, path, token=None, scheme="Bearer"):
    headers = {"HTTP_AUTHORIZATION": f"{scheme} {token}"} if token is not None else {}
    return client.get(path, **headers)


def _assert_401(response, code, *, rfc6750_error):
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == code
    assert body["message"]  # Chinese text for people
    challenge = response["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="tongban"')
    if rfc6750_error:
        assert 'error="invalid_token"' in challenge
    else:
        assert "error=" not in challenge


# --- 401 ----------------------------------------------------------------------------------------


def test_missing_token(client):
    _assert_401(_get(client, ME), "token_missing", rfc6750_error=False)


def test_other_authorization_scheme_counts_as_missing(client):
    _assert_401(
        _get(client, ME, "dXNlcjpwYXNz", scheme="Basic"), "token_missing", rfc6750_error=False
    )


def test_forged_token(client):
    app = make_client().application
    issue_token(app, user=UserFactory())

    _assert_401(_get(client, ME, "forged-token-value"), "token_invalid", rfc6750_error=True)


def test_expired_token(client):
    token = issue_token(make_client().application, user=UserFactory(), seconds=-1)

    response = _get(client, ME, token)

    _assert_401(response, "token_expired", rfc6750_error=True)
    assert response.json()["message"] == "访问令牌已过期"


def test_token_of_a_disabled_client_is_invalid(client):
    app = make_client().application
    token = issue_token(app, user=UserFactory())
    ClientPolicy.objects.filter(application=app).update(is_active=False)

    _assert_401(_get(client, ME, token), "token_invalid", rfc6750_error=True)


def test_token_of_a_deactivated_person_is_invalid(client):
    user = UserFactory()
    token = issue_token(make_client().application, user=user)
    user.is_active = False
    user.save()

    _assert_401(_get(client, ME, token), "token_invalid", rfc6750_error=True)


# --- 403 ----------------------------------------------------------------------------------------


def test_person_token_without_profile_scope_is_insufficient(client):
    token = issue_token(make_client().application, user=UserFactory(), scopes=("openid",))

    response = _get(client, ME, token)

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert 'scope="profile"' in response["WWW-Authenticate"]


def test_machine_token_cannot_read_me(client):
    token = issue_token(make_machine_client().application, scopes=("catalog:read",))

    response = _get(client, ME, token)

    assert response.status_code == 403
    assert response.json()["code"] == "person_required"


def test_scope_removed_from_the_policy_no_longer_counts():
    """A token keeps the scopes it was issued with, but the policy in force decides."""
    api = NinjaAPI(urls_namespace="test-bearer-scopes")
    auth.install(api)

    @api.get("/cases", auth=auth.BearerToken(scopes=["cases:read"]))
    def cases(request):
        return {"scopes": sorted(request.auth.scopes)}

    app = make_machine_client(scopes=("catalog:read", "cases:read")).application
    token = issue_token(app, scopes=("catalog:read", "cases:read"))
    client = TestClient(api)

    ok = client.get("/cases", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    assert ok.json() == {"scopes": ["cases:read", "catalog:read"]}

    ClientPolicy.objects.filter(application=app).update(allowed_scopes=["catalog:read"])
    refused = client.get("/cases", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_scope"


# --- /me and /client ---------------------------------------------------------------------------


def test_me_for_a_person_acting_for_themself(client):
    user = UserFactory(real_name="李四")
    app = make_client().application
    token = issue_token(app, user=user)

    response = _get(client, ME, token)

    assert response.status_code == 200
    body = response.json()
    person = body["person"]
    assert person["name"] == "李四"
    assert person["id_number"] == user.masked_id_number
    assert user.id_number not in response.content.decode()
    assert person["phone"] == user.masked_phone
    assert user.phone not in response.content.decode()
    assert person["level"] == 2
    assert person["sub"] != str(user.pk)
    assert body["acting_for"] == {"type": "person", "name": "李四", "uscc": None}
    assert body["client"]["client_id"] == app.client_id
    assert body["scopes"] == ["openid", "profile"]


def test_me_for_an_agent_acting_for_a_company(client):
    company = CompanyFactory()
    agent = UserFactory(acting_company=company)
    AgentGrantFactory(company=company, agent=agent)
    token = issue_token(make_client().application, user=agent)

    body = _get(client, ME, token).json()

    assert body["acting_for"] == {"type": "company", "name": company.name, "uscc": company.uscc}


def test_client_endpoint_for_a_machine_token(client):
    registered = make_machine_client(scopes=("catalog:read",))
    token = issue_token(registered.application, scopes=("catalog:read",))

    response = _get(client, "/api/v1/client", token)

    assert response.status_code == 200
    body = response.json()
    assert body["client_id"] == registered.application.client_id
    assert body["organization"]["uscc"] == registered.policy.organization.uscc
    assert body["scopes"] == ["catalog:read"]
    assert body["person_token"] is False


def test_client_endpoint_needs_a_token(client):
    _assert_401(_get(client, "/api/v1/client"), "token_missing", rfc6750_error=False)


def test_public_catalog_stays_public(client):
    assert client.get("/api/v1/catalog/search", {"q": "婚姻"}).status_code == 200
