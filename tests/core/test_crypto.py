"""National cryptography: every vector of STANDARDS.md §3.3, malformed input, a cross-check with
an independent implementation, and data-key rotation."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys

import pytest

from tongban.conf import ConfigError
from tongban.core import crypto
from tongban.core.crypto import CryptoError, CryptoErrorCode, KeyRing, SM2PrivateKey, SM2PublicKey

# --- STANDARDS.md §3.3 -------------------------------------------------------------------------

D = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
P = (
    "04 09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    " CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
K = "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21"
R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
SM2_CIPHERTEXT = (
    "04 04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73"
    " E858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF0"
    " 59983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766"
    " 21886CA989CA9C7D58087307CA93092D651EFA"
)
SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


@pytest.fixture
def vector_key() -> SM2PrivateKey:
    return SM2PrivateKey(h(D))


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing(data_keys={"v1": os.urandom(16)}, lookup_key=os.urandom(32))


def test_sm3_abc():
    assert crypto.sm3(b"abc").hex() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )


def test_sm3_abcd_times_16():
    assert crypto.sm3(b"abcd" * 16).hex() == (
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )
    assert crypto.sm3_stream([b"abcd" * 5, b"", b"abcd" * 11]) == crypto.sm3(b"abcd" * 16)


def test_sm4_single_block():
    cipher = crypto.SM4Block(SM4_KEY)
    assert cipher.encrypt(SM4_KEY).hex() == "681edf34d206965e86b3e94f536e4246"
    assert cipher.decrypt(h("681edf34d206965e86b3e94f536e4246")) == SM4_KEY


def test_sm4_one_million_iterations():
    """GB/T 32907 Appendix A.2; about 1 s with the C implementation."""
    cipher = crypto.SM4Block(SM4_KEY)
    block = SM4_KEY
    for _ in range(1_000_000):
        block = cipher.encrypt(block)
    assert block.hex() == "595298c7c6fd271f0402f804c33d3f66"


def test_sm4_gcm_rfc8998_vector():
    """RFC 8998 Appendix A.1: SM4-GCM, the mode used for data at rest."""
    sealed = crypto.sm4_gcm_encrypt(
        SM4_KEY,
        h("00001234567800000000ABCD"),
        h("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD" * 1)
        + h("EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"),
        h("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2"),
    )
    assert sealed.hex().upper() == (
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
        "83DE3541E4C2B58177E065A9BF7B62EC"
    )


def test_sm2_public_key_of_vector_private_key(vector_key):
    assert vector_key.public_key.to_bytes() == h(P)


def test_sm2_signature_vector_with_fixed_k(vector_key):
    signature = crypto._sign_with_k(vector_key, b"message digest", h(K))
    assert signature.hex().upper() == R + S
    assert crypto.verify(SM2PublicKey.from_hex(P), b"message digest", signature)


def test_sm2_encryption_vector_c1_c3_c2(vector_key):
    ciphertext = crypto._sm2_encrypt_with_k(vector_key.public_key, b"encryption standard", h(K))
    assert ciphertext == h(SM2_CIPHERTEXT)
    assert len(ciphertext) == 116
    assert crypto.sm2_decrypt(vector_key, h(SM2_CIPHERTEXT)) == b"encryption standard"


def test_sm2_decrypt_rejects_tampered_ciphertext(vector_key):
    tampered = bytearray(h(SM2_CIPHERTEXT))
    tampered[-1] ^= 1
    with pytest.raises(CryptoError) as exc:
        crypto.sm2_decrypt(vector_key, bytes(tampered))
    assert exc.value.code == CryptoErrorCode.BAD_CIPHERTEXT


def test_hmac_sm3_matches_rfc2104_construction():
    """HMAC from the library equals RFC 2104 written out over SM3 (64-byte block)."""
    key, data = b"k" * 20, b"what do ya want for nothing?"
    padded = key.ljust(64, b"\0")
    inner = crypto.sm3(bytes(b ^ 0x36 for b in padded) + data)
    expected = crypto.sm3(bytes(b ^ 0x5C for b in padded) + inner)
    assert crypto.hmac_sm3(key, data) == expected
    long_key = b"L" * 100  # longer than a block: hashed first
    padded = crypto.sm3(long_key).ljust(64, b"\0")
    inner = crypto.sm3(bytes(b ^ 0x36 for b in padded) + data)
    assert crypto.hmac_sm3(long_key, data) == crypto.sm3(bytes(b ^ 0x5C for b in padded) + inner)
    with pytest.raises(CryptoError):
        crypto.hmac_sm3(b"", data)


# --- Signatures: round trip, encodings, uid ----------------------------------------------------


def test_sign_and_verify_round_trip_raw_and_der():
    private, public = crypto.generate_keypair()
    raw = crypto.sign(private, b"licence 42")
    der = crypto.sign(private, b"licence 42", der=True)
    assert len(raw) == 64
    assert der[0] == 0x30
    assert crypto.verify(public, b"licence 42", raw)
    assert crypto.verify(public, b"licence 42", der, der=True)
    assert crypto.signature_from_der(crypto.signature_to_der(raw)) == raw
    assert not crypto.verify(public, b"licence 43", raw)
    assert not crypto.verify(public, b"licence 42", der)  # DER given as raw
    assert not crypto.verify(public, b"licence 42", raw, der=True)  # raw given as DER


def test_uid_enters_the_signature():
    private, public = crypto.generate_keypair()
    signature = crypto.sign(private, b"m", uid=b"ALICE123@YAHOO.COM")
    assert crypto.verify(public, b"m", signature, uid=b"ALICE123@YAHOO.COM")
    assert not crypto.verify(public, b"m", signature)  # default uid: another Z value
    with pytest.raises(CryptoError):
        crypto.sign(private, b"m", uid=b"x" * 8192)


def test_public_key_forms():
    public = SM2PublicKey.from_hex(P)
    compressed = public.to_bytes(compressed=True)
    assert len(compressed) == 33
    assert compressed[0] in (2, 3)
    assert SM2PublicKey.from_bytes(compressed) == public
    assert SM2PublicKey.from_bytes(public.to_bytes()[1:]) == public  # 64 bytes x||y
    # The 04 prefix survives a round trip and the signature still verifies with each form.
    signature = h(R + S)
    for form in (public.to_bytes(), compressed, public.to_bytes()[1:]):
        assert crypto.verify(form, b"message digest", signature)
    assert len(public.fingerprint()) == 64


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x04" + bytes(64),  # point at (0, 0), not on the curve
        h(P)[:-1] + bytes([h(P)[-1] ^ 1]),  # y changed: off the curve
        b"\x05" + h(P)[1:],  # unknown prefix
        b"\x04" + h(P)[1:33],  # 33 bytes with the 04 prefix
        b"\x02" + b"\xff" * 32,  # x ≥ p
        h(P) + b"\x00",
    ],
)
def test_bad_public_keys_raise_crypto_error(data):
    with pytest.raises(CryptoError) as exc:
        SM2PublicKey.from_bytes(data)
    assert exc.value.code == CryptoErrorCode.BAD_PUBLIC_KEY
    with pytest.raises(CryptoError):
        crypto.verify(data, b"message digest", h(R + S))


@pytest.mark.parametrize("d", [bytes(32), b"\xff" * 32, crypto.SM2_N.to_bytes(32, "big"), b"\x01"])
def test_bad_private_keys(d):
    with pytest.raises(CryptoError) as exc:
        SM2PrivateKey(d)
    assert exc.value.code == CryptoErrorCode.BAD_PRIVATE_KEY


N = crypto.SM2_N
MALFORMED_SIGNATURES = {
    "empty": b"",
    "garbage": b"not a signature at all",
    "short": h(R + S)[:63],
    "long": h(R + S) + b"\x00",
    "r zero": bytes(32) + h(S),
    "s zero": h(R) + bytes(32),
    "r = n": N.to_bytes(32, "big") + h(S),
    "s = n": h(R) + N.to_bytes(32, "big"),
    "r > n": (N + 1).to_bytes(32, "big") + h(S),
    "all ff": b"\xff" * 64,
    "r + n as s": h(R) + ((int(S, 16) + N) % 2**256).to_bytes(32, "big"),
    "flipped bit": h(R + S)[:-1] + bytes([h(R + S)[-1] ^ 1]),
}


@pytest.mark.parametrize("name", list(MALFORMED_SIGNATURES))
def test_malformed_signatures_are_false(name):
    public = SM2PublicKey.from_hex(P)
    assert crypto.verify(public, b"message digest", MALFORMED_SIGNATURES[name]) is False
    assert crypto.verify(public, b"message digest", MALFORMED_SIGNATURES[name], der=True) is False


@pytest.mark.parametrize(
    "der",
    [
        b"\x30\x00",
        b"\x30\x06\x02\x01\x01\x02\x01",  # truncated
        b"\x30\x06\x02\x01\x01\x02\x01\x01\x00",  # trailing byte
        b"\x30\x06\x02\x01\x81\x02\x01\x01",  # negative r
        b"\x30\x07\x02\x02\x00\x01\x02\x01\x01",  # non-minimal r
        b"\x30\x80\x02\x01\x01\x02\x01\x01\x00\x00",  # indefinite length
        b"\x31\x06\x02\x01\x01\x02\x01\x01",  # SET, not SEQUENCE
        b"\x30\x26\x02\x21\x01" + b"\x00" * 32 + b"\x02\x01\x01",  # r longer than 32 bytes
    ],
)
def test_bad_der_rejected(der):
    with pytest.raises(CryptoError):
        crypto.signature_from_der(der)
    assert not crypto.verify(SM2PublicKey.from_hex(P), b"message digest", der, der=True)


def test_malformed_input_never_crashes_the_process():
    """Run the malformed cases in a child: a library that aborts would kill it, not us."""
    code = (
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE']='tongban.settings'; "
        "django.setup()\n"
        "from tests.core.test_crypto import MALFORMED_SIGNATURES, P\n"
        "from tongban.core import crypto\n"
        "import random\n"
        "rnd = random.Random(7)\n"
        "pub = crypto.SM2PublicKey.from_hex(P)\n"
        "for sig in list(MALFORMED_SIGNATURES.values()) + [rnd.randbytes(rnd.randrange(0, 80))"
        " for _ in range(2000)]:\n"
        "    assert crypto.verify(pub, b'message digest', sig) is False\n"
        "    assert crypto.verify(pub, b'message digest', sig, der=True) is False\n"
        "for _ in range(2000):\n"
        "    try:\n"
        "        crypto.SM2PublicKey.from_bytes(bytes([rnd.choice([2, 3, 4])]) +"
        " rnd.randbytes(rnd.choice([32, 64])))\n"
        "    except crypto.CryptoError:\n"
        "        pass\n"
        "print('survived')\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "survived" in result.stdout


# --- Cross-check with an independent implementation (gmalg, pure Python) ----------------------


def test_cross_verify_with_independent_implementation():
    gmalg = pytest.importorskip("gmalg")
    private, public = crypto.generate_keypair()
    message = "营业执照 91150602MA0Q1X2Y3Z".encode()
    uid = b"tongban-seal-01"
    # Ours signs, gmalg verifies.
    ours = crypto.sign(private, message, uid=uid)
    theirs_verifier = gmalg.SM2(pk=public.to_bytes(), uid=uid)
    assert theirs_verifier.verify(message, ours[:32], ours[32:])
    assert not theirs_verifier.verify(message + b"!", ours[:32], ours[32:])
    # gmalg signs, ours verifies.
    other = gmalg.SM2(sk=private.to_bytes(), uid=uid, pk=public.to_bytes())
    r, s = other.sign(message)
    theirs = r.rjust(32, b"\0") + s.rjust(32, b"\0")
    assert crypto.verify(public, message, theirs, uid=uid)
    assert not crypto.verify(public, message, theirs, uid=b"1234567812345678")
    # Same hash and block cipher.
    assert _gmalg_sm3(gmalg, message) == crypto.sm3(message)
    assert gmalg.SM4(SM4_KEY).encrypt(SM4_KEY) == crypto.SM4Block(SM4_KEY).encrypt(SM4_KEY)


def _gmalg_sm3(gmalg, data: bytes) -> bytes:
    digest = gmalg.SM3()
    digest.update(data)
    return digest.value()


def test_vector_signature_reproduced_by_independent_implementation():
    gmalg = pytest.importorskip("gmalg")
    k = int(K, 16)
    signer = gmalg.SM2(sk=h(D), uid=b"1234567812345678", pk=h(P), rnd_fn=lambda _bits: k)
    r, s = signer.sign(b"message digest")
    assert (r + s).hex().upper() == R + S


def _openssl_sm2(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        ["openssl", "pkeyutl", *args, "-rawin", "-digest", "sm3",  # noqa: S607
         "-pkeyopt", "distid:1234567812345678"],
        cwd=cwd, capture_output=True, timeout=30, check=False,
    )  # fmt: skip


def _pem(label: str, der: bytes) -> str:
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----\n"


def test_cross_verify_with_system_openssl(tmp_path):
    """A second implementation by other authors: OpenSSL 3's native SM2 (command line)."""
    probe = subprocess.run(
        ["openssl", "list", "-public-key-algorithms"],  # noqa: S607
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if probe.returncode != 0 or "SM2" not in probe.stdout:
        pytest.skip("no openssl command with SM2")
    private, public = crypto.generate_keypair()
    sm2_oid = bytes.fromhex("06082a811ccf5501822d")
    algorithm = bytes.fromhex("301306072a8648ce3d0201") + sm2_oid
    bits = b"\x03\x42\x00" + public.to_bytes()
    spki = b"\x30" + bytes([len(algorithm) + len(bits)]) + algorithm + bits
    sec1_body = (
        b"\x02\x01\x01\x04\x20" + private.to_bytes() + b"\xa0\x0a" + sm2_oid + b"\xa1\x44" + bits
    )
    sec1 = b"\x30" + bytes([len(sec1_body)]) + sec1_body
    (tmp_path / "pub.pem").write_text(_pem("PUBLIC KEY", spki))
    (tmp_path / "key.pem").write_text(_pem("EC PRIVATE KEY", sec1))
    message = "不动产权证书 2026 第 0001 号".encode()
    (tmp_path / "msg").write_bytes(message)
    # Ours signs (DER), OpenSSL verifies; a changed message fails there too.
    (tmp_path / "sig").write_bytes(crypto.sign(private, message, der=True))
    verify_args = ("-verify", "-pubin", "-inkey", "pub.pem", "-in", "msg", "-sigfile", "sig")
    assert _openssl_sm2(*verify_args, cwd=tmp_path).returncode == 0
    (tmp_path / "msg").write_bytes(message + b".")
    assert _openssl_sm2(*verify_args, cwd=tmp_path).returncode != 0
    # OpenSSL signs, ours verifies.
    (tmp_path / "msg").write_bytes(message)
    signed = _openssl_sm2("-sign", "-inkey", "key.pem", "-in", "msg", cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    assert crypto.verify(public, message, signed.stdout, der=True)
    assert not crypto.verify(public, message + b".", signed.stdout, der=True)


# --- Data keys, encryption and rotation -------------------------------------------------------


def test_encrypt_round_trip_and_token_shape(ring):
    token = crypto.encrypt(b"15060219900101123X", purpose="id_number", ring=ring)
    assert token.startswith("v1:")
    assert b"15060219900101123X" not in token.encode()
    assert crypto.decrypt(token, purpose="id_number", ring=ring) == b"15060219900101123X"
    # A fresh nonce each time.
    assert token != crypto.encrypt(b"15060219900101123X", purpose="id_number", ring=ring)


def test_ciphertext_is_bound_to_purpose_and_integrity(ring):
    token = crypto.encrypt(b"13812345678", purpose="phone", ring=ring)
    with pytest.raises(CryptoError) as exc:
        crypto.decrypt(token, purpose="id_number", ring=ring)
    assert exc.value.code == CryptoErrorCode.BAD_CIPHERTEXT
    version, body = token.split(":")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[14] ^= 0x01
    forged = version + ":" + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(CryptoError):
        crypto.decrypt(forged, purpose="phone", ring=ring)
    for bad in ("", "v1", "v1:", "v1:@@@", "v1:" + "A" * 10, "v?:AAAA"):
        with pytest.raises(CryptoError):
            crypto.decrypt(bad, purpose="phone", ring=ring)


def test_rotation_old_tokens_still_open_and_move_to_new_key():
    v1 = os.urandom(16)
    lookup = os.urandom(32)
    old_ring = KeyRing(data_keys={"v1": v1}, lookup_key=lookup)
    token = crypto.encrypt(b"secret", purpose="p", ring=old_ring)
    new_ring = KeyRing(data_keys={"v2": os.urandom(16), "v1": v1}, lookup_key=lookup)
    assert new_ring.current_version == "v2"
    assert crypto.decrypt(token, purpose="p", ring=new_ring) == b"secret"
    assert crypto.needs_rotation(token, ring=new_ring)
    rotated = crypto.rotate(token, purpose="p", ring=new_ring)
    assert rotated.startswith("v2:")
    assert not crypto.needs_rotation(rotated, ring=new_ring)
    assert crypto.rotate(rotated, purpose="p", ring=new_ring) == rotated
    assert crypto.decrypt(rotated, purpose="p", ring=new_ring) == b"secret"
    # Once v1 is dropped, old tokens fail loudly, rotated ones still open.
    final_ring = KeyRing(data_keys={"v2": new_ring.key("v2")}, lookup_key=lookup)
    with pytest.raises(CryptoError) as exc:
        crypto.decrypt(token, purpose="p", ring=final_ring)
    assert exc.value.code == CryptoErrorCode.UNKNOWN_KEY_VERSION
    assert crypto.decrypt(rotated, purpose="p", ring=final_ring) == b"secret"


def test_keyring_from_environment(monkeypatch):
    k2, k1, lk = (base64.b64encode(os.urandom(n)).decode() for n in (16, 16, 32))
    monkeypatch.setenv("TONGBAN_DATA_KEYS", f"v2:{k2}, v1:{k1}")
    monkeypatch.setenv("TONGBAN_LOOKUP_KEY", lk)
    ring = KeyRing.from_environment()
    assert ring.versions == ["v2", "v1"]
    assert ring.current_version == "v2"
    assert not ring.derived
    assert k2 not in repr(ring)
    assert ring.key("v1") == base64.b64decode(k1)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


GOOD_DATA_KEY, GOOD_LOOKUP = "v1:" + _b64(b"k" * 16), _b64(b"x" * 32)


@pytest.mark.parametrize(
    ("data_keys", "lookup_key"),
    [
        ("v1:" + _b64(b"short"), GOOD_LOOKUP),
        ("v1:not base64!", GOOD_LOOKUP),
        ("nocolon", GOOD_LOOKUP),
        (GOOD_DATA_KEY + ",v1:" + _b64(b"j" * 16), GOOD_LOOKUP),  # version twice
        ("bad version!:" + _b64(b"k" * 16), GOOD_LOOKUP),
        (GOOD_DATA_KEY, _b64(b"x" * 8)),  # lookup key too short
        ("", GOOD_LOOKUP),
    ],
)
def test_keyring_rejects_bad_configuration(data_keys, lookup_key):
    with pytest.raises(ConfigError):
        KeyRing.parse(data_keys, lookup_key)


def test_keyring_requires_both_or_neither(monkeypatch):
    monkeypatch.setenv("TONGBAN_DATA_KEYS", "v1:" + base64.b64encode(b"k" * 16).decode())
    monkeypatch.delenv("TONGBAN_LOOKUP_KEY", raising=False)
    with pytest.raises(ConfigError):
        KeyRing.from_environment()


def test_keyring_refuses_derived_keys_in_production(monkeypatch):
    monkeypatch.delenv("TONGBAN_DATA_KEYS", raising=False)
    monkeypatch.delenv("TONGBAN_LOOKUP_KEY", raising=False)
    monkeypatch.setenv("TONGBAN_PRODUCTION", "true")
    with pytest.raises(ConfigError):
        KeyRing.from_environment()


def test_development_keys_are_derived_with_a_warning_that_shows_no_key(
    monkeypatch, caplog, settings
):
    monkeypatch.delenv("TONGBAN_DATA_KEYS", raising=False)
    monkeypatch.delenv("TONGBAN_LOOKUP_KEY", raising=False)
    monkeypatch.delenv("TONGBAN_PRODUCTION", raising=False)
    with caplog.at_level(logging.WARNING, logger="tongban.core.crypto"):
        ring = KeyRing.from_environment()
    assert ring.derived
    assert ring.current_version == "dev"
    assert "development only" in caplog.text
    for key in (ring.key("dev"), ring.lookup_key):
        assert key.hex() not in caplog.text
        assert base64.b64encode(key).decode() not in caplog.text
    # Deterministic from SECRET_KEY, different for another one.
    assert KeyRing.from_environment().key("dev") == ring.key("dev")
    settings.SECRET_KEY = "another-secret-key-for-this-test-0123456789"
    assert KeyRing.from_environment().key("dev") != ring.key("dev")


# --- Private keys at rest ----------------------------------------------------------------------


def test_sealed_private_key_round_trip_and_rotation(vector_key):
    v1, lookup = os.urandom(16), os.urandom(32)
    old_ring = KeyRing(data_keys={"v1": v1}, lookup_key=lookup)
    blob = crypto.seal_private_key(vector_key, ring=old_ring)
    assert D.lower() not in blob.lower()
    assert crypto.sealed_public_key(blob) == vector_key.public_key
    signature = crypto.sign(vector_key, b"sealed before rotation")

    new_ring = KeyRing(data_keys={"v2": os.urandom(16), "v1": v1}, lookup_key=lookup)
    rotated = crypto.rotate_sealed_private_key(blob, ring=new_ring)
    assert rotated != blob
    assert crypto.rotate_sealed_private_key(rotated, ring=new_ring) == rotated
    reopened = crypto.open_private_key(rotated, ring=new_ring)
    assert reopened == vector_key
    # What was signed before rotation still verifies; the key signs the same way after.
    assert crypto.verify(reopened.public_key, b"sealed before rotation", signature)
    assert crypto._sign_with_k(reopened, b"message digest", h(K)).hex().upper() == R + S


def test_sealed_private_key_refuses_swapped_public_key(vector_key):
    ring = KeyRing(data_keys={"v1": os.urandom(16)}, lookup_key=os.urandom(32))
    blob = crypto.seal_private_key(vector_key, ring=ring)
    _other, other_public = crypto.generate_keypair()
    swapped = other_public.to_bytes().hex() + "." + blob.split(".", 1)[1]
    with pytest.raises(CryptoError):
        crypto.open_private_key(swapped, ring=ring)
    for bad in ("", "no-dot", "zz." + blob.split(".", 1)[1]):
        with pytest.raises(CryptoError):
            crypto.open_private_key(bad, ring=ring)


def test_private_key_never_shows_in_repr_or_pickle(vector_key):
    import pickle

    assert D.lower() not in repr(vector_key).lower()
    with pytest.raises(TypeError):
        pickle.dumps(vector_key)


def test_curve_order_constant_matches_the_library():
    from gmalglib import sm2

    assert int.from_bytes(sm2.SM2_PARAMS_N, "big") == crypto.SM2_N
