"""Showing and verifying: valid, tampered, token past its lifetime, forged, each status, random
garbage; who may present; the masked view; audited without personal data."""

import base64
import datetime as dt
import random

import pytest
from django.utils import timezone

from tests.accounts.factories import AgentGrantFactory, UserFactory
from tests.licenses.factories import LicenseFactory
from tests.seals.factories import SealFactory
from tongban.core import crypto
from tongban.core.models import AuditRecord
from tongban.licenses import keys, presentation, services
from tongban.licenses.errors import LicenseError
from tongban.licenses.models import License
from tongban.licenses.presentation import Token, present, verify_presentation
from tongban.seals.codes import SealType
from tongban.seals.models import Seal, SealStatus

pytestmark = pytest.mark.django_db


def _show(lic, **kwargs):
    return present(lic, holder_user=lic.person, **kwargs)


def test_present_then_verify_valid(people, seal):
    lic = LicenseFactory(seal=seal)
    payload = _show(lic)
    assert len(payload.encode()) < 300, len(payload)
    result = verify_presentation(payload)
    assert result.code == "valid"
    assert result.ok
    view = result.license
    assert view["identifier"] == lic.identifier
    assert view["holder_name"] != lic.holder_name
    assert view["holder_name"][0] == lic.holder_name[0]
    assert view["holder_code"] == lic.holder_id_number[:6] + "********" + lic.holder_id_number[-4:]
    fields = {f["key"]: f["value"] for f in view["fields"]}
    assert fields["scope"] == "预包装食品销售"
    assert fields["address"] != "东胜区天骄路1号"
    assert fields["address"].startswith("东")
    assert (view["status"], view["status_code"]) == ("valid", "01")


def test_the_payload_is_decodable_and_compact(people, seal):
    lic = LicenseFactory(seal=seal)
    now = timezone.now()
    token, signed, signature = presentation.decode_token(_show(lic, ttl=30, now=now))
    assert token.identifier == lic.identifier
    assert token.expires_at == int(now.timestamp()) + 30
    assert token.valid_to_days == (lic.valid_to - dt.date(1970, 1, 1)).days
    assert len(signature) == 64
    key = keys.current_key()
    assert crypto.verify(crypto.SM2PublicKey.from_hex(key.public_key), signed, signature)


def test_tampered_license_data(people, seal):
    lic = LicenseFactory(seal=seal)
    payload = _show(lic)
    License.objects.filter(pk=lic.pk).update(data={**lic.data, "scope": "药品零售"})
    result = verify_presentation(payload)
    assert (result.code, result.detail) == ("tampered", "tampered")
    License.objects.filter(pk=lic.pk).update(data=lic.data, holder_name="李四")
    assert verify_presentation(payload).code == "tampered"


def test_token_past_its_lifetime(people, seal):
    lic = LicenseFactory(seal=seal)
    now = timezone.now()
    payload = _show(lic, ttl=60, now=now)
    assert verify_presentation(payload, now=now + dt.timedelta(seconds=59)).code == "valid"
    assert verify_presentation(payload, now=now + dt.timedelta(seconds=61)).code == "token_expired"


def test_forged_tokens(people, seal):
    lic = LicenseFactory(seal=seal)
    payload = _show(lic)
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    # A longer lifetime written into a real token: the signature no longer holds.
    raw[3:7] = (int.from_bytes(raw[3:7], "big") + 3600).to_bytes(4, "big")
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    result = verify_presentation(forged)
    assert (result.code, result.detail) == ("invalid_token", "signature")
    # A token signed with a key that is not the platform's.
    other, _public = crypto.generate_keypair()
    token = Token(
        keys.current_key().version,
        int(timezone.now().timestamp()) + 60,
        0,
        b"n" * 8,
        lic.identifier,
    )
    foreign = presentation.encode_token(token, lambda m: crypto.sign(other, m))
    assert verify_presentation(foreign).code == "invalid_token"
    # An unknown key version.
    token = Token(99, token.expires_at, 0, b"n" * 8, lic.identifier)
    assert (
        verify_presentation(presentation.encode_token(token, lambda m: crypto.sign(other, m))).code
        == "invalid_token"
    )


@pytest.mark.parametrize(
    ("trait", "code"),
    [("revoked", "revoked"), ("suspended", "suspended"), ("cancelled", "cancelled")],
)
def test_status_after_presenting(people, seal, trait, code):
    lic = LicenseFactory(seal=seal)
    payload = _show(lic)
    action = {
        "revoked": services.revoke_license,
        "suspended": services.suspend_license,
        "cancelled": services.cancel_license,
    }[trait]
    action(actor=people.admin_a, license=lic, reason="核查")
    result = verify_presentation(payload)
    assert result.code == code
    assert result.license["status"] == trait


def test_expired_by_date_or_by_status(people, seal):
    lic = LicenseFactory(seal=seal)
    now = timezone.now()
    payload = _show(lic, ttl=600, now=now)
    # The license ended meanwhile (a token may outlive nothing but its own 600 s; use a late now).
    late = timezone.make_aware(dt.datetime.combine(lic.valid_to + dt.timedelta(days=1), dt.time()))
    token, _s, _sig = presentation.decode_token(payload)
    key = keys.current_key()
    fresh = presentation.encode_token(
        Token(
            key.version, int(late.timestamp()) + 60, token.valid_to_days, b"x" * 8, lic.identifier
        ),
        lambda m: crypto.sign(keys.private_key(key), m),
    )
    result = verify_presentation(fresh, now=late)
    assert (result.code, result.detail) == ("expired", "past valid_to")
    services.expire_due(late)
    assert verify_presentation(fresh, now=late).code == "expired"


def test_a_revoked_seal_makes_its_licenses_unverifiable(people, seal):
    lic = LicenseFactory(seal=seal)
    payload = _show(lic)
    Seal.objects.filter(pk=seal.pk).update(status=SealStatus.REVOKED)
    result = verify_presentation(payload)
    assert (result.code, result.detail) == ("seal_invalid", "seal_revoked")


def test_random_corrupt_payloads_never_raise(people, seal):
    lic = LicenseFactory(seal=seal)
    payload = _show(lic)
    rng = random.Random(36904)
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    cases = [None, 12, b"bytes", "", "=", "!!!", "A", "AAAA", "a" * 5000, "Ω" * 10, {"x": 1}]
    while len(cases) < 100:
        kind = rng.randrange(4)
        data = bytearray(raw)
        if kind == 0:  # flip bytes
            for _ in range(rng.randint(1, 5)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif kind == 1:  # truncate or extend
            data = data[: rng.randrange(len(data))] if rng.random() < 0.5 else data + b"\0" * 3
        elif kind == 2:  # random bytes
            data = bytearray(rng.randbytes(rng.randint(0, 300)))
        else:  # a broken length byte
            data[17] = rng.randrange(256)
        text = base64.urlsafe_b64encode(bytes(data)).decode()
        cases.append(text.rstrip("=") if rng.random() < 0.7 else text)
    for case in cases:
        result = verify_presentation(case)
        assert result.code == "invalid_token", case
    assert verify_presentation(payload).code == "valid"


def test_only_the_holder_may_present(people, seal):
    lic = LicenseFactory(seal=seal)
    for someone in (UserFactory(), people.admin_a, None):
        with pytest.raises(LicenseError) as exc:
            present(lic, holder_user=someone)
        assert exc.value.code == "not_found"
    assert AuditRecord.objects.filter(action="license.present", result="failure").count() == 3


def test_a_company_license_is_presented_by_its_representatives(people, seal):
    lic = LicenseFactory(seal=seal, company_holder=True)
    company = lic.company
    assert verify_presentation(present(lic, holder_user=company.legal_rep)).ok
    agent = AgentGrantFactory(company=company).agent
    assert verify_presentation(present(lic, holder_user=agent)).ok
    for outsider in (
        UserFactory(),
        AgentGrantFactory(company=company, expired=True).agent,
        AgentGrantFactory(company=company, revoked=True).agent,
    ):
        with pytest.raises(LicenseError) as exc:
            present(lic, holder_user=outsider)
        assert exc.value.code == "not_found"
    view = verify_presentation(present(lic, holder_user=agent)).license
    assert (view["holder_name"], view["holder_code"]) == (company.name, company.uscc)


def test_a_license_that_is_not_valid_cannot_be_presented(people, seal):
    for trait in ("suspended", "revoked", "expired"):
        lic = LicenseFactory(seal=seal, **{trait: True})
        with pytest.raises(LicenseError) as exc:
            _show(lic)
        assert exc.value.code == "not_presentable"
    with pytest.raises(LicenseError) as exc:
        _show(LicenseFactory(seal=seal), ttl=3600)
    assert exc.value.code == "invalid_ttl"


def test_verification_is_audited_without_personal_data(people, seal):
    lic = LicenseFactory(seal=seal)
    verify_presentation(_show(lic), ip="203.0.113.9")
    verify_presentation("garbage")
    ok, bad = AuditRecord.objects.filter(action="license.verify").order_by("seq")
    assert (ok.result, ok.details["result"], ok.object_id, ok.ip) == (
        "success",
        "valid",
        str(lic.pk),
        "203.0.113.9",
    )
    assert (bad.result, bad.details) == (
        "failure",
        {"result": "invalid_token", "detail": "malformed"},
    )
    text = str(ok.details) + ok.object_id + ok.actor_display + ok.subject
    assert lic.holder_id_number not in text
    assert lic.holder_name not in text


def test_tokens_survive_a_platform_key_rotation(people, seal):
    lic = LicenseFactory(seal=seal)
    before = _show(lic)
    keys.rotate_key()
    after = _show(lic)
    assert presentation.decode_token(after)[0].key_version == 2
    assert verify_presentation(before).ok
    assert verify_presentation(after).ok


def test_a_license_signed_by_another_seal_type_cannot_be_issued_even_so(people):
    official = SealFactory(organization=people.org_a, seal_type=SealType.OFFICIAL)
    with pytest.raises(LicenseError):
        LicenseFactory(seal=official)
