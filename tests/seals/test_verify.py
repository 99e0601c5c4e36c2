"""Verifying sealings: ok, tampered, revoked, expired, unknown key, malformed; rotation; and the
signatures checked by two SM2 implementations (gmalglib through core.crypto, and gmalg)."""

import datetime as dt
import random

import pytest
from django.utils import timezone

from tests.seals.factories import SealFactory
from tongban.core import crypto
from tongban.seals import asn1, services
from tongban.seals.errors import VerifyCode
from tongban.seals.models import Seal, SealKey, SealStatus

pytestmark = pytest.mark.django_db
DATA = "营业执照 91150602MA0Q1X2Y3Z 鄂尔多斯市".encode()


def _seal(people, seal, data=DATA):
    return services.seal_document(
        actor=people.reviewer_a, seal=seal, data=data, document_type="license", reference="L-1"
    )


def test_a_sealing_verifies(people, seal):
    record = _seal(people, seal)
    result = services.verify_signature(record)
    assert result.ok
    assert result.code == VerifyCode.OK
    assert (result.seal_code, result.key_version) == (seal.code, 1)
    assert result.signed_at == record.signed_at
    assert services.verify_signature(bytes(record.structure), DATA).ok
    assert services.verify_signature(bytes(record.structure), digest=crypto.sm3(DATA)).ok


def test_structure_contents(people, seal):
    record = _seal(people, seal)
    parsed = asn1.load_signature(bytes(record.structure))
    tbs = parsed["toSign"]
    info = tbs["eseal"]["eSealInfo"]
    assert info["header"].native == {"id": "ES", "version": 4, "vid": "tongban"}
    assert info["esID"].native == seal.code
    assert info["property"]["name"].native == seal.name
    assert info["property"]["type"].native == 2
    assert info["picture"]["type"].native == "SVG"
    assert info["picture"]["width"].native == 40
    assert "<svg" in info["picture"]["data"].native.decode()
    assert tbs["dataHash"].native == crypto.sm3(DATA)
    assert tbs["propertyInfo"].native == "license:L-1"
    assert parsed["signature"].native.hex() == record.signature


def test_signatures_check_with_an_independent_sm2_implementation(people, seal):
    """gmalg (pure Python, other code than gmalglib) verifies both signatures with the default
    user ID's Z value, and refuses them under another ID."""
    gmalg = pytest.importorskip("gmalg")
    record = _seal(people, seal)
    parsed = asn1.load_signature(bytes(record.structure))
    public = bytes.fromhex(record.key.public_key)
    verifier = gmalg.SM2(pk=public, uid=b"1234567812345678")
    other_id = gmalg.SM2(pk=public, uid=b"tongban")
    raw = crypto.signature_from_der(parsed["signature"].native)
    tbs = parsed["toSign"].dump()
    assert verifier.verify(tbs, raw[:32], raw[32:])
    assert not other_id.verify(tbs, raw[:32], raw[32:])
    assert not verifier.verify(tbs + b"x", raw[:32], raw[32:])
    eseal = parsed["toSign"]["eseal"]
    seal_raw = crypto.signature_from_der(eseal["signedValue"].native)
    to_sign = asn1.SESealToSign(
        {"eSealInfo": eseal["eSealInfo"], "cert": eseal["cert"], "signAlgID": eseal["signAlgID"]}
    ).dump()
    assert verifier.verify(to_sign, seal_raw[:32], seal_raw[32:])
    # And gmalglib (core.crypto) agrees.
    assert crypto.verify(public, tbs, parsed["signature"].native, der=True)


def test_tampered_document_or_structure(people, seal):
    record = _seal(people, seal)
    structure = bytes(record.structure)
    assert services.verify_signature(structure, DATA + b" ").code == VerifyCode.TAMPERED
    # Change the reference inside the signed structure (same length): signature fails.
    forged = structure.replace(b"license:L-1", b"license:L-2")
    assert forged != structure
    assert services.verify_signature(forged, DATA).code == VerifyCode.TAMPERED
    # Change the seal's name inside the seal: the maker's signature fails.
    name = seal.name.encode()
    forged = structure.replace(name, name[:-3] + "印".encode())
    assert services.verify_signature(forged, DATA).code == VerifyCode.TAMPERED


def test_revoked_seal(people, seal):
    record = _seal(people, seal)
    services.revoke_seal(actor=people.admin_a, seal=seal, reason="机构撤并")
    assert services.verify_signature(record).code == VerifyCode.SEAL_REVOKED


def test_suspended_seal_keeps_earlier_signatures(people, seal):
    record = _seal(people, seal)
    services.suspend_seal(actor=people.admin_a, seal=seal, reason="核查")
    assert services.verify_signature(record).ok


def test_signature_made_outside_validity_is_expired(people, seal):
    record = _seal(people, seal)
    # The seal's validity as recorded ends before the signing day (e.g. corrected after).
    Seal.objects.filter(pk=seal.pk).update(
        valid_from=timezone.localdate() - dt.timedelta(days=60),
        valid_to=timezone.localdate() - dt.timedelta(days=1),
    )
    assert services.verify_signature(record).code == VerifyCode.SEAL_EXPIRED


def test_a_seal_past_its_validity_keeps_what_it_signed_in_time(people, seal, monkeypatch):
    record = _seal(people, seal)
    later = timezone.now() + dt.timedelta(days=4000)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert services.verify_signature(record).ok


def test_rotation_keeps_old_signatures_verifiable(people, seal):
    before = _seal(people, seal)
    services.rotate_key(actor=people.admin_a, seal=seal)
    after = _seal(people, seal)
    assert after.key.version == 2
    assert before.key.version == 1
    assert services.verify_signature(before).ok
    result = services.verify_signature(after)
    assert result.ok
    assert result.key_version == 2


def test_unknown_key(people, seal):
    record = _seal(people, seal)
    structure = bytes(record.structure)
    SealKey.objects.filter(seal=seal).update(public_key="04" + "00" * 64)
    assert services.verify_signature(structure, DATA).code == VerifyCode.UNKNOWN_KEY
    # A seal that is not in this platform at all.
    other = SealFactory()
    elsewhere = _seal_of(people, other)
    Seal.objects.filter(pk=other.pk).update(code=seal.code[:-2] + "99")
    assert (
        services.verify_signature(bytes(elsewhere.structure), DATA).code == VerifyCode.UNKNOWN_KEY
    )


def _seal_of(people, seal):
    """Seal with a superuser (any organization)."""
    from tests.accounts.factories import UserFactory

    boss = UserFactory(is_superuser=True, is_staff=True)
    return services.seal_document(
        actor=boss, seal=seal, data=DATA, document_type="license", reference="L-1"
    )


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x00", b"\x30", b"\x30\x80\x00\x00", b"\x30\x82\xff\xff" + b"\x00" * 10, b"not der"],
)
def test_malformed_input_never_crashes(people, seal, garbage):
    assert services.verify_signature(garbage, DATA).code == VerifyCode.MALFORMED


def test_random_corruption_gives_a_code_never_an_exception(people, seal):
    structure = bytes(_seal(people, seal).structure)
    rng = random.Random(38540)
    codes = set()
    for _ in range(300):
        data = bytearray(structure)
        for _flip in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        if rng.random() < 0.2:
            data = data[: rng.randrange(len(data))]
        codes.add(services.verify_signature(bytes(data), DATA).code)
    assert codes <= {VerifyCode.MALFORMED, VerifyCode.TAMPERED, VerifyCode.UNKNOWN_KEY}
    assert VerifyCode.MALFORMED in codes
    assert VerifyCode.TAMPERED in codes


def test_malformed_signature_value_inside_valid_der(people, seal):
    record = _seal(people, seal)
    parsed = asn1.load_signature(bytes(record.structure))
    for value in (b"", b"\x30\x00", b"\x01" * 64, b"\x30\x06\x02\x01\x00\x02\x01\x00"):
        broken = asn1.SESSignature(
            {
                "toSign": parsed["toSign"],
                "cert": parsed["cert"],
                "signatureAlgID": parsed["signatureAlgID"],
                "signature": value,
            }
        ).dump()
        assert services.verify_signature(broken, DATA).code in {
            VerifyCode.MALFORMED,
            VerifyCode.TAMPERED,
        }
    bad_cert = asn1.SESSignature(
        {
            "toSign": parsed["toSign"],
            "cert": b"\x04" + b"\x01" * 64,
            "signatureAlgID": parsed["signatureAlgID"],
            "signature": parsed["signature"],
        }
    ).dump()
    assert services.verify_signature(bad_cert, DATA).code == VerifyCode.MALFORMED


def test_status_revoked_trait_and_verify(people):
    seal = SealFactory(organization=people.org_a)
    record = _seal(people, seal)
    Seal.objects.filter(pk=seal.pk).update(status=SealStatus.REVOKED)
    assert services.verify_signature(record).code == VerifyCode.SEAL_REVOKED
