"""End to end: an independent OpenID Connect client library (Authlib) against a running Tongban.

Discovery → authorization (the citizen signed in, consent) → code exchange with PKCE (S256) →
ID token verified against the published JWKS (iss, aud, nonce, exp, at_hash) → userinfo → the
API → RP-initiated logout. Machine clients: client credentials and /api/v1/me's refusal.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.jose.errors import BadSignatureError
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client

from tests.accounts.factories import AgentGrantFactory, CompanyFactory, UserFactory
from tests.accounts.oidc_support import make_client, make_machine_client
from tongban.core.models.audit import AuditRecord

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK = "http://rp.example.gov.cn/callback"
LOGGED_OUT = "http://rp.example.gov.cn/logged-out"
SCOPE = "openid profile tongban_level acting_party"


@pytest.fixture
def issuer(live_server, settings, monkeypatch):
    """The issuer is the running server's address; Authlib may use plain HTTP on loopback."""
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": live_server.url}
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    return live_server.url


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") == "hidden" and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""


def _hidden_fields(html: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(html)
    return parser.fields


def _browser_for(user) -> requests.Session:
    """A browser holding a signed-in session of ``user`` (made the way Django's test client
    logs in; the session policy middleware adopts it on the first request)."""
    django_client = Client()
    django_client.force_login(user)
    browser = requests.Session()
    browser.cookies.set(
        settings.SESSION_COOKIE_NAME, django_client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    return browser


def _discover(issuer: str) -> dict:
    response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10)
    assert response.status_code == 200
    return response.json()


def _authorize(browser, rp, meta, *, allow=True, nonce=None, verifier=None):
    """Run the authorization request through the consent screen; return (location, state)."""
    uri, state = rp.create_authorization_url(
        meta["authorization_endpoint"], nonce=nonce or generate_token(20), code_verifier=verifier
    )
    page = browser.get(uri, allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.text[:500]
    fields = _hidden_fields(page.text)
    if allow:
        fields["allow"] = "on"
    answer = browser.post(page.url, data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["Location"], state, page


def test_authorization_code_flow_with_pkce_end_to_end(issuer):
    company = CompanyFactory(name="鄂尔多斯市通达商贸有限公司")
    citizen = UserFactory(real_name="赵敏", acting_company=company)
    AgentGrantFactory(company=company, agent=citizen)
    registered = make_client(
        name="市不动产登记系统",
        scopes=("openid", "profile", "tongban_level", "acting_party"),
        redirect_uris=(CALLBACK,),
        post_logout_redirect_uris=(LOGGED_OUT,),
    )
    client_id = registered.application.client_id

    # Discovery at the root, per OpenID Connect Discovery 1.0.
    meta = _discover(issuer)
    assert meta["issuer"] == issuer
    assert meta["authorization_endpoint"] == f"{issuer}/o/authorize/"
    assert meta["token_endpoint"] == f"{issuer}/o/token/"
    assert meta["userinfo_endpoint"] == f"{issuer}/o/userinfo/"
    assert meta["end_session_endpoint"] == f"{issuer}/o/logout/"
    assert "RS256" in meta["id_token_signing_alg_values_supported"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert {"openid", "acting_party", "catalog:read"} <= set(meta["scopes_supported"])

    rp = OAuth2Session(
        client_id,
        registered.client_secret,
        scope=SCOPE,
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    nonce = generate_token(20)
    verifier = generate_token(48)

    # Not signed in: sent to the portal login and back.
    uri, _ = rp.create_authorization_url(
        meta["authorization_endpoint"], nonce=nonce, code_verifier=verifier
    )
    anonymous = requests.get(uri, allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302
    assert urlsplit(anonymous.headers["Location"]).path == resolve_url(settings.LOGIN_URL)
    assert "next=" in anonymous.headers["Location"]

    # Signed in: the consent screen names the system, its organization, the data and the party.
    browser = _browser_for(citizen)
    location, state, page = _authorize(browser, rp, meta, nonce=nonce, verifier=verifier)
    assert "市不动产登记系统" in page.text
    assert registered.policy.organization.name in page.text
    assert "鄂尔多斯市通达商贸有限公司" in page.text
    assert "您的实名认证级别" in page.text
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(CALLBACK)
    assert query["state"] == [state]
    assert query["iss"] == [issuer]  # RFC 9207
    consent = AuditRecord.objects.get(action="oidc.consent")
    assert consent.result == "success"
    assert consent.subject == f"user:{citizen.pk}"

    # Code exchange, proving possession of the PKCE verifier.
    token = rp.fetch_token(
        meta["token_endpoint"], authorization_response=location, state=state, code_verifier=verifier
    )
    assert token["token_type"].lower() == "bearer"
    assert 0 < token["expires_in"] <= 600
    assert set(token["scope"].split()) == set(SCOPE.split())
    assert token.get("refresh_token")

    # The ID token, verified with the published keys only.
    jwks = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    claims = jwt.decode(
        token["id_token"],
        jwks,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": issuer}},
        claims_params={
            "nonce": nonce,
            "client_id": client_id,
            "access_token": token["access_token"],
        },
    )
    claims.validate()  # iss, aud, exp, iat, nonce, at_hash
    assert claims.header["alg"] == "RS256"
    assert claims["aud"] == client_id
    assert claims["nonce"] == nonce
    assert claims["sub"] != str(citizen.pk)
    assert claims["name"] == "赵敏"
    assert claims["tongban_level"] == 2
    assert claims["acting_party"] == {"type": "company", "uscc": company.uscc, "name": company.name}
    assert "id_number" not in claims
    assert "phone_number" not in claims

    header, payload, signature = token["id_token"].split(".")
    forged = ".".join(
        [header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")]
    )
    with pytest.raises(BadSignatureError):
        jwt.decode(forged, jwks)

    # Userinfo: the same subject and claims.
    userinfo = rp.get(meta["userinfo_endpoint"], timeout=10)
    assert userinfo.status_code == 200
    info = userinfo.json()
    assert info["sub"] == claims["sub"]
    assert info["acting_party"]["uscc"] == company.uscc
    assert info["id_number_masked"] == citizen.masked_id_number

    # The API with the same access token.
    me = rp.get(f"{issuer}/api/v1/me", timeout=10)
    assert me.status_code == 200
    assert me.json()["acting_for"]["uscc"] == company.uscc
    assert me.json()["person"]["sub"] == claims["sub"]

    # RP-initiated logout: back to the registered address with the state; session and tokens end.
    logout = browser.get(
        meta["end_session_endpoint"],
        params={
            "id_token_hint": token["id_token"],
            "post_logout_redirect_uri": LOGGED_OUT,
            "state": "bye",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert logout.status_code == 302
    assert logout.headers["Location"] == f"{LOGGED_OUT}?state=bye"
    again = browser.get(uri, allow_redirects=False, timeout=10)
    assert urlsplit(again.headers["Location"]).path == resolve_url(settings.LOGIN_URL)
    after = rp.get(f"{issuer}/api/v1/me", timeout=10)
    assert after.status_code == 401
    assert after.json()["code"] == "token_invalid"
    assert AuditRecord.objects.filter(action="auth.logout", actor_id=citizen.pk).exists()


def test_logout_to_an_unregistered_address_is_refused(issuer):
    citizen = UserFactory()
    registered = make_client(redirect_uris=(CALLBACK,), post_logout_redirect_uris=(LOGGED_OUT,))
    meta = _discover(issuer)
    rp = OAuth2Session(
        registered.application.client_id,
        registered.client_secret,
        scope="openid profile",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    browser = _browser_for(citizen)
    verifier = generate_token(48)
    location, state, _ = _authorize(browser, rp, meta, verifier=verifier)
    token = rp.fetch_token(
        meta["token_endpoint"], authorization_response=location, state=state, code_verifier=verifier
    )

    refused = browser.get(
        meta["end_session_endpoint"],
        params={
            "id_token_hint": token["id_token"],
            "post_logout_redirect_uri": "http://evil.example/",
        },
        allow_redirects=False,
        timeout=10,
    )

    assert refused.status_code == 400
    assert rp.get(f"{issuer}/api/v1/me", timeout=10).status_code == 200  # still signed in


def test_denied_consent_returns_access_denied_and_issues_nothing(issuer):
    citizen = UserFactory()
    registered = make_client(redirect_uris=(CALLBACK,))
    meta = _discover(issuer)
    rp = OAuth2Session(
        registered.application.client_id,
        registered.client_secret,
        scope="openid profile",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )

    location, _state, _ = _authorize(
        _browser_for(citizen), rp, meta, allow=False, verifier=generate_token(48)
    )

    query = parse_qs(urlsplit(location).query)
    assert query["error"] == ["access_denied"]
    assert "code" not in query
    assert AuditRecord.objects.get(action="oidc.consent").result == "failure"
    from oauth2_provider.models import AccessToken, Grant

    assert not Grant.objects.exists()
    assert not AccessToken.objects.exists()


def test_pkce_is_required(issuer):
    citizen = UserFactory()
    registered = make_client(redirect_uris=(CALLBACK,))
    meta = _discover(issuer)
    rp = OAuth2Session(
        registered.application.client_id,
        registered.client_secret,
        scope="openid",
        redirect_uri=CALLBACK,
    )
    uri, _ = rp.create_authorization_url(meta["authorization_endpoint"])  # no code_challenge

    response = _browser_for(citizen).get(uri, allow_redirects=False, timeout=10)

    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["invalid_request"]


def test_a_scope_outside_the_client_policy_is_refused(issuer):
    citizen = UserFactory()
    registered = make_client(scopes=("openid", "profile"), redirect_uris=(CALLBACK,))
    meta = _discover(issuer)
    rp = OAuth2Session(
        registered.application.client_id,
        registered.client_secret,
        scope="openid id_number",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    uri, _ = rp.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=generate_token(48)
    )

    response = _browser_for(citizen).get(uri, allow_redirects=False, timeout=10)

    assert response.status_code == 302
    assert parse_qs(urlsplit(response.headers["Location"]).query)["error"] == ["invalid_scope"]


def test_client_credentials_token_gets_policy_scopes_and_no_person(issuer):
    registered = make_machine_client(scopes=("catalog:read", "cases:read"))
    meta = _discover(issuer)
    rp = OAuth2Session(registered.application.client_id, registered.client_secret)

    token = rp.fetch_token(meta["token_endpoint"], grant_type="client_credentials")

    assert set(token["scope"].split()) == {"catalog:read", "cases:read"}
    assert "id_token" not in token
    me = rp.get(f"{issuer}/api/v1/me", timeout=10)
    assert me.status_code == 403
    assert me.json()["code"] == "person_required"
    whoami = rp.get(f"{issuer}/api/v1/client", timeout=10)
    assert whoami.status_code == 200
    assert whoami.json()["person_token"] is False
    assert (
        requests.get(f"{issuer}/api/v1/catalog/search", params={"q": "x"}, timeout=10).status_code
        == 200
    )


def test_client_credentials_outside_the_policy_or_with_a_wrong_secret_fail(issuer):
    registered = make_machine_client(scopes=("catalog:read",))
    meta = _discover(issuer)

    with pytest.raises(OAuthError) as caught:
        OAuth2Session(
            registered.application.client_id, registered.client_secret, scope="cases:read"
        ).fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    assert caught.value.error == "invalid_scope"

    with pytest.raises(OAuthError) as caught:
        OAuth2Session(registered.application.client_id, "wrong-secret").fetch_token(
            meta["token_endpoint"], grant_type="client_credentials"
        )
    assert caught.value.error == "invalid_client"
