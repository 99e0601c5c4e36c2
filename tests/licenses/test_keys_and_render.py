"""What the platform publishes (keys, the signed revocation list, checked offline with gmalg, an
independent SM2 implementation) and the PDF of a license."""

import re
import zlib

import pytest

from tests.licenses.factories import LicenseFactory
from tongban.licenses import keys, render
from tongban.licenses.models import PlatformKey

pytestmark = pytest.mark.django_db


def test_public_keys_list_platform_and_seal_keys(people, seal):
    lic = LicenseFactory(seal=seal)
    published = keys.public_keys()
    (platform,) = published["platform_keys"]
    assert platform["public_key"] == PlatformKey.objects.get().public_key
    assert platform["retired_at"] is None
    assert platform["uid"] == "1234567812345678"
    (seal_key,) = [k for k in published["seal_keys"] if k["seal_code"] == seal.code]
    assert seal_key["public_key"] == lic.signature.key.public_key
    assert (seal_key["valid_from"], seal_key["valid_to"]) == (
        seal.valid_from.isoformat(),
        seal.valid_to.isoformat(),
    )
    assert "private" not in str(published)
    keys.rotate_key()
    versions = [
        (k["version"], k["retired_at"] is None) for k in keys.public_keys()["platform_keys"]
    ]
    assert versions == [(1, False), (2, True)]


def _verify_offline(published_key_hex: str, signed: dict) -> bool:
    gmalg = pytest.importorskip("gmalg")
    message = keys.canonical_json(signed["list"])
    signature = bytes.fromhex(signed["signature"])
    verifier = gmalg.SM2(pk=bytes.fromhex(published_key_hex), uid=signed["uid"].encode())
    return verifier.verify(message, signature[:32], signature[32:])


def test_revocation_list_verifies_offline_with_gmalg(people, seal):
    LicenseFactory(seal=seal)
    revoked = LicenseFactory(seal=seal, revoked=True)
    suspended = LicenseFactory(seal=seal, suspended=True)
    cancelled = LicenseFactory(seal=seal, cancelled=True)
    LicenseFactory(seal=seal, expired=True)
    signed = keys.revocation_list()
    entries = {e["identifier"]: (e["status"], e["status_code"]) for e in signed["list"]["entries"]}
    assert entries == {
        revoked.identifier: ("revoked", "03"),
        suspended.identifier: ("suspended", "02"),
        cancelled.identifier: ("cancelled", "04"),
    }
    public = keys.public_keys()["platform_keys"][0]["public_key"]
    assert _verify_offline(public, signed)
    signed["list"]["entries"].pop()
    assert not _verify_offline(public, signed)


def test_pdf_shows_the_identifier(people, seal):
    lic = LicenseFactory(seal=seal)
    pdf = render.render_pdf(lic)
    assert pdf.startswith(b"%PDF-")
    text = pdf
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            text += zlib.decompress(stream)
        except zlib.error:
            continue
    assert f"({lic.identifier})".encode() in text
    assert b"/Subtype /Image" in pdf  # the seal
    assert render.verify_url(lic).endswith(lic.identifier)
