"""Claims per client policy and scope, scope restriction, opaque subjects, acting party, client
registration and the signing key (tongban.accounts.oidc, tongban.accounts.clients)."""

from __future__ import annotations

import datetime as dt
import io
import os
import stat

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken
from oauthlib.common import Request

from tests.accounts.factories import AgentGrantFactory, CompanyFactory, UserFactory
from tests.accounts.oidc_support import (
    REDIRECT_URI,
    issue_token,
    make_client,
    make_machine_client,
)
from tests.core.factories import OrganizationFactory
from tongban.accounts import oidc
from tongban.accounts.clients import register_client
from tongban.accounts.errors import AccountError
from tongban.accounts.models import ClientPolicy, SubjectIdentifier
from tongban.conf import ConfigError
from tongban.core.models.audit import AuditAction, AuditRecord

pytestmark = pytest.mark.django_db

ALL_PERSON_SCOPES = ("openid", "profile", "phone", "id_number", "tongban_level", "acting_party")


def _request(user, application, scopes):
    request = Request("https://tongban.example/o/userinfo/")
    request.user = user
    request.client = application
    request.scopes = list(scopes)
    return request


def _claims(user, application, scopes):
    return oidc.TongbanOAuth2Validator().get_userinfo_claims(_request(user, application, scopes))


# --- Claims --------------------------------------------------------------------------------------


def test_openid_gives_only_an_opaque_stable_subject():
    user = UserFactory()
    other = UserFactory()
    app = make_client(scopes=("openid",)).application

    claims = _claims(user, app, ["openid"])

    assert set(claims) == {"sub"}
    assert claims["sub"] != str(user.pk)
    assert len(claims["sub"]) == 32
    assert _claims(user, app, ["openid"])["sub"] == claims["sub"]  # stable
    assert _claims(other, app, ["openid"])["sub"] != claims["sub"]
    assert SubjectIdentifier.objects.get(user=user).sub == claims["sub"]


def test_profile_gives_name_and_masked_id_number_only():
    user = UserFactory(real_name="王小明")
    app = make_client(scopes=("openid", "profile")).application

    claims = _claims(user, app, ["openid", "profile"])

    assert claims["name"] == "王小明"
    assert claims["id_number_masked"] == user.masked_id_number
    assert "*" in claims["id_number_masked"]
    assert "id_number" not in claims
    assert "phone_number" not in claims
    assert "phone_number_masked" not in claims
    assert not AuditRecord.objects.filter(action=AuditAction.PERSONAL_READ).exists()


def test_full_id_number_only_for_a_client_whose_policy_allows_it_and_is_audited():
    user = UserFactory()
    app = make_client(scopes=("openid", "profile", "id_number"), full_id_number=True).application

    claims = _claims(user, app, ["openid", "profile", "id_number"])

    assert claims["id_number"] == user.id_number
    record = AuditRecord.objects.get(action=AuditAction.PERSONAL_READ)
    assert record.subject == f"user:{user.pk}"
    assert record.details["fields"] == ["id_number"]
    assert record.details["client_id"] == app.client_id
    assert record.details["channel"] == "userinfo"


def test_id_number_scope_on_a_token_is_ignored_once_the_policy_no_longer_allows_it():
    user = UserFactory()
    app = make_client(scopes=("openid", "profile", "id_number"), full_id_number=True).application
    ClientPolicy.objects.filter(application=app).update(may_receive_full_id_number=False)
    app.refresh_from_db()

    claims = _claims(user, app, ["openid", "profile", "id_number"])

    assert "id_number" not in claims
    assert claims["id_number_masked"] == user.masked_id_number
    assert not AuditRecord.objects.filter(action=AuditAction.PERSONAL_READ).exists()


def test_phone_is_masked_unless_the_policy_allows_the_full_number():
    user = UserFactory()
    masked_app = make_client(scopes=("openid", "phone")).application
    full_app = make_client(scopes=("openid", "phone"), full_phone=True).application

    masked = _claims(user, masked_app, ["openid", "phone"])
    full = _claims(user, full_app, ["openid", "phone"])

    assert masked["phone_number_masked"] == user.masked_phone
    assert "phone_number" not in masked
    assert full["phone_number"] == "+86" + user.phone
    assert full["phone_number_verified"] is True
    assert AuditRecord.objects.get(action=AuditAction.PERSONAL_READ).details["fields"] == ["phone"]


def test_verification_level_claim():
    user = UserFactory(face_checked=True)
    app = make_client(scopes=("openid", "tongban_level")).application

    assert _claims(user, app, ["openid", "tongban_level"])["tongban_level"] == 3


def test_acting_party_is_the_person_by_default():
    user = UserFactory()
    app = make_client(scopes=("openid", "acting_party")).application

    assert _claims(user, app, ["openid", "acting_party"])["acting_party"] == {"type": "person"}


def test_acting_party_for_a_legal_representative_and_a_live_agent():
    company = CompanyFactory()
    rep = company.legal_rep
    rep.acting_company = company
    rep.save()
    agent = UserFactory(acting_company=company)
    AgentGrantFactory(company=company, agent=agent)
    app = make_client(scopes=("openid", "acting_party")).application
    expected = {"type": "company", "uscc": company.uscc, "name": company.name}

    assert _claims(rep, app, ["openid", "acting_party"])["acting_party"] == expected
    assert _claims(agent, app, ["openid", "acting_party"])["acting_party"] == expected


@pytest.mark.parametrize("trait", ["expired", "revoked"])
def test_acting_party_falls_back_to_the_person_when_the_grant_ended(trait):
    company = CompanyFactory()
    agent = UserFactory(acting_company=company)
    AgentGrantFactory(company=company, agent=agent, **{trait: True})
    app = make_client(scopes=("openid", "acting_party")).application

    assert _claims(agent, app, ["openid", "acting_party"])["acting_party"] == {"type": "person"}


def test_scopes_outside_the_grant_release_nothing():
    user = UserFactory()
    app = make_client(scopes=ALL_PERSON_SCOPES, full_id_number=True, full_phone=True).application

    claims = _claims(user, app, ["openid"])

    assert set(claims) == {"sub"}


def test_discovery_lists_every_claim():
    names = oidc.TongbanOAuth2Validator().get_discovery_claims(None)
    assert {"sub", "name", "id_number", "id_number_masked", "acting_party", "tongban_level"} <= set(
        names
    )


# --- Scope restriction ---------------------------------------------------------------------------


def test_validate_scopes_follows_the_client_policy():
    validator = oidc.TongbanOAuth2Validator()
    app = make_client(scopes=("openid", "profile")).application
    request = _request(None, app, [])

    assert validator.validate_scopes(app.client_id, ["openid", "profile"], app, request)
    assert not validator.validate_scopes(app.client_id, ["openid", "phone"], app, request)
    assert not validator.validate_scopes(app.client_id, ["openid", "nonsense"], app, request)
    assert not validator.validate_scopes(app.client_id, ["catalog:read"], app, request)


def test_validate_scopes_refuses_id_number_without_the_policy_flag():
    validator = oidc.TongbanOAuth2Validator()
    app = make_client(scopes=("openid", "profile")).application
    # An operator edits the JSON directly and forgets the flag: the flag still wins.
    ClientPolicy.objects.filter(application=app).update(allowed_scopes=["openid", "id_number"])
    app.refresh_from_db()

    assert not validator.validate_scopes(
        app.client_id, ["openid", "id_number"], app, _request(None, app, [])
    )


def test_inactive_or_missing_policy_refuses_everything():
    validator = oidc.TongbanOAuth2Validator()
    app = make_client(scopes=("openid",)).application
    ClientPolicy.objects.filter(application=app).update(is_active=False)
    app.refresh_from_db()
    bare = Application.objects.create(
        name="无策略",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
    )

    assert not validator.validate_scopes(app.client_id, ["openid"], app, _request(None, app, []))
    assert not validator.validate_scopes(bare.client_id, ["openid"], bare, _request(None, bare, []))
    assert validator._load_application(app.client_id, _request(None, None, [])) is None
    assert validator._load_application(bare.client_id, _request(None, None, [])) is None


def test_default_scopes_of_a_machine_client_are_its_api_scopes():
    validator = oidc.TongbanOAuth2Validator()
    app = make_machine_client(scopes=("catalog:read", "cases:read")).application
    request = _request(None, app, [])
    request.grant_type = "client_credentials"

    assert validator.get_default_scopes(app.client_id, request) == ["cases:read", "catalog:read"]


def test_policy_clean_rejects_unknown_scopes_and_id_number_without_flag():
    app = make_client().application
    policy = app.tongban_policy

    policy.allowed_scopes = ["openid", "bogus"]
    with pytest.raises(ValidationError):
        policy.clean()
    policy.allowed_scopes = ["openid", "id_number"]
    with pytest.raises(ValidationError):
        policy.clean()
    policy.may_receive_full_id_number = True
    policy.clean()


# --- Registering clients -------------------------------------------------------------------------


def test_register_client_stores_a_hashed_secret_and_audits():
    registered = make_client(scopes=("openid", "profile", "acting_party"))
    app = registered.application

    assert registered.client_secret
    app.refresh_from_db()
    assert app.client_secret != registered.client_secret
    assert check_password(registered.client_secret, app.client_secret)
    assert app.algorithm == Application.RS256_ALGORITHM
    assert app.tongban_policy.allowed_scopes == ["acting_party", "openid", "profile"]
    record = AuditRecord.objects.get(action="oidc.client_register")
    assert record.details["client_id"] == app.client_id


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"grant": "authorization-code", "redirect_uris": []}, "redirect_uris"),
        ({"grant": "authorization-code", "scopes": ["profile"]}, "scopes"),
        ({"grant": "authorization-code", "redirect_uris": ["ftp://x.example/cb"]}, "redirect_uris"),
        ({"grant": "client-credentials", "scopes": ["openid"], "redirect_uris": []}, "scopes"),
        ({"grant": "authorization-code", "scopes": ["openid", "nope"]}, "scopes"),
        ({"grant": "authorization-code", "scopes": ["openid", "id_number"]}, "scopes"),
        ({"grant": "password"}, "grant"),
        ({"name": "  "}, "name"),
    ],
)
def test_register_client_refuses_bad_configurations_and_creates_nothing(kwargs, field):
    arguments = {
        "actor": None,
        "name": "社保系统",
        "organization": OrganizationFactory(),
        "grant": "authorization-code",
        "scopes": ["openid"],
        "redirect_uris": [REDIRECT_URI],
        **kwargs,
    }
    with pytest.raises(AccountError) as caught:
        register_client(**arguments)

    assert caught.value.code == "client_config_invalid"
    assert caught.value.field == field
    assert not Application.objects.exists()
    assert not ClientPolicy.objects.exists()
    assert not AuditRecord.objects.filter(action="oidc.client_register").exists()


def test_register_client_command_prints_the_secret_once():
    org = OrganizationFactory()
    out = io.StringIO()

    call_command(
        "register_client",
        "--name=公积金系统",
        f"--organization={org.uscc}",
        "--grant=client-credentials",
        "--scopes=catalog:read,cases:read",
        stdout=out,
    )

    lines = dict(line.split("=", 1) for line in out.getvalue().splitlines() if "=" in line)
    app = Application.objects.get(client_id=lines["client_id"])
    assert check_password(lines["client_secret"], app.client_secret)
    assert app.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS
    assert sorted(app.tongban_policy.allowed_scopes) == ["cases:read", "catalog:read"]


def test_register_client_command_reports_an_unknown_organization():
    with pytest.raises(CommandError):
        call_command(
            "register_client",
            "--name=x",
            "--organization=000000000000000000",
            "--grant=client-credentials",
            "--scopes=catalog:read",
            stdout=io.StringIO(),
        )
    assert not Application.objects.exists()


# --- The person's authorizations -----------------------------------------------------------------


def test_authorized_clients_and_revoking_one():
    user = UserFactory()
    kept = make_client(name="甲系统").application
    dropped = make_client(name="乙系统").application
    issue_token(kept, user=user)
    issue_token(dropped, user=user)
    old = AccessToken.objects.get(application=dropped)
    RefreshToken.objects.create(user=user, application=dropped, token="r1", access_token=old)
    issue_token(kept, user=UserFactory())  # someone else's

    names = [entry["application"].name for entry in oidc.authorized_clients(user=user)]
    assert sorted(names) == ["乙系统", "甲系统"]

    revoked = oidc.revoke_authorization(actor=user, client_id=dropped.client_id)

    assert revoked == 2  # the refresh token and its access token
    assert [e["application"].name for e in oidc.authorized_clients(user=user)] == ["甲系统"]
    assert not AccessToken.objects.filter(user=user, application=dropped).exists()
    assert RefreshToken.objects.get(token="r1").revoked is not None
    record = AuditRecord.objects.get(action="oidc.revoke")
    assert record.subject == f"user:{user.pk}"


def test_revoking_nothing_changes_nothing():
    user = UserFactory()
    app = make_client().application
    other = UserFactory()
    issue_token(app, user=other)

    assert oidc.revoke_authorization(actor=user, client_id=app.client_id) == 0
    assert oidc.revoke_authorization(actor=user, client_id="no-such-client") == 0
    assert AccessToken.objects.filter(user=other).count() == 1
    assert not AuditRecord.objects.filter(action="oidc.revoke").exists()


def test_expired_access_token_without_refresh_is_not_an_authorization():
    user = UserFactory()
    app = make_client().application
    issue_token(app, user=user, seconds=-5)

    assert oidc.authorized_clients(user=user) == []


# --- Signing key ---------------------------------------------------------------------------------


def test_signing_key_is_generated_once_with_private_permissions(tmp_path, monkeypatch):
    import tongban.settings as tongban_settings

    monkeypatch.setattr(tongban_settings, "VAR_DIR", tmp_path)
    monkeypatch.delenv("TONGBAN_OIDC_RSA_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("TONGBAN_OIDC_RSA_PRIVATE_KEY_FILE", raising=False)

    first = tongban_settings._oidc_private_key(False)
    second = tongban_settings._oidc_private_key(False)

    path = tmp_path / "oidc-rsa-private.pem"
    assert first == second == path.read_text()
    assert "PRIVATE KEY" in first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["oidc-rsa-private.pem"]


def test_production_refuses_to_start_without_a_signing_key(tmp_path, monkeypatch):
    import tongban.settings as tongban_settings

    monkeypatch.setattr(tongban_settings, "VAR_DIR", tmp_path)
    monkeypatch.delenv("TONGBAN_OIDC_RSA_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("TONGBAN_OIDC_RSA_PRIVATE_KEY_FILE", raising=False)

    with pytest.raises(ConfigError):
        tongban_settings._oidc_private_key(True)
    assert not (tmp_path / "oidc-rsa-private.pem").exists()


def test_a_bad_signing_key_fails_at_start(monkeypatch):
    import tongban.settings as tongban_settings

    monkeypatch.setenv("TONGBAN_OIDC_RSA_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\nnope\n")
    with pytest.raises(ConfigError):
        tongban_settings._oidc_private_key(True)


def test_a_key_from_the_environment_is_used(tmp_path, monkeypatch):
    import tongban.settings as tongban_settings

    pem = tmp_path / "k.pem"
    monkeypatch.setattr(tongban_settings, "VAR_DIR", tmp_path / "var")
    tongban_settings._oidc_private_key(False)  # generate one to reuse as "the operator's key"
    pem.write_text((tmp_path / "var" / "oidc-rsa-private.pem").read_text())
    monkeypatch.setenv("TONGBAN_OIDC_RSA_PRIVATE_KEY_FILE", str(pem))

    assert tongban_settings._oidc_private_key(True) == pem.read_text().strip()


def test_a_grant_that_just_expired_is_not_live():
    # acting_company_of compares with the current time: a grant expiring now is no longer live.
    company = CompanyFactory()
    agent = UserFactory(acting_company=company)
    AgentGrantFactory(
        company=company, agent=agent, expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert oidc.acting_company_of(agent) is None
