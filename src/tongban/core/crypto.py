"""National cryptography (国密): SM3 digests and HMAC-SM3, SM4 authenticated encryption, SM2
signatures and encryption, and the ring of data keys that protects personal data and seal keys.

Libraries (docs/adr/0003-national-crypto-library.md): SM2 comes from ``gmalglib`` (a C
extension; about 6,000 signatures and 1,000–1,500 verifications per second per core here), SM3,
HMAC-SM3 and SM4-GCM from ``cryptography`` (PyCA, backed by OpenSSL). Nothing outside this module
imports either library, so a change of library is a change of this file.

Conventions:

* SM2 signatures use the user ID (distinguishing ID) of GB/T 32918 / GM/T 0009: the signed digest
  is ``e = SM3(Z || M)`` with ``Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA)``; the default
  ID is ``1234567812345678``. A signature is 64 raw bytes ``r || s`` or DER
  ``SEQUENCE { INTEGER r, INTEGER s }`` (GM/T 0009), converted by :func:`signature_to_der` and
  :func:`signature_from_der`.
* :func:`verify` answers ``False`` for any malformed signature (wrong length, bad DER, r or s
  outside ``[1, n-1]``) and never raises for it; a malformed *public key* raises
  :class:`CryptoError`, because it is configuration, not input.
* :func:`encrypt` / :func:`decrypt` are SM4-GCM (GB/T 32907 with the GCM mode of RFC 8998) with a
  random 96-bit nonce and a 128-bit tag. The token is text: ``<key version>:<base64url(nonce ||
  ciphertext || tag)>``. The key version and the caller's ``purpose`` are authenticated as
  associated data, so a token cannot be moved to a field with another purpose.
* Key material never reaches a log, an exception message or a ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import os
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.conf import ConfigError, env_bool, env_str

logger = logging.getLogger(__name__)

DEFAULT_UID = b"1234567812345678"
"""The default distinguishing ID of GM/T 0009 (used when the parties agreed on no other)."""

# Order n of the SM2 recommended curve (GB/T 32918.5); a test checks it against gmalglib's value.
SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)


class _LazySM2:
    """gmalglib's ``sm2`` module, imported on first use.

    gmalglib ships only a source distribution on Linux, so installing it needs a C compiler. It is
    the optional ``sm2`` extra (and part of ``dev``): the embedded default, which signs nothing
    yet, installs and runs without a compiler; SM2 calls without it raise a clear CryptoError.
    """

    _module = None

    def __getattr__(self, name: str):
        if _LazySM2._module is None:
            try:
                from gmalglib import sm2
            except ImportError as exc:
                raise CryptoError(
                    CryptoErrorCode.BACKEND_MISSING,
                    "SM2 needs the gmalglib package: pip install 'tongban[sm2]'",
                ) from exc
            _LazySM2._module = sm2
        return getattr(_LazySM2._module, name)


_sm2 = _LazySM2()
SM2_PRIVATE_KEY_LENGTH = 32
SM2_SIGNATURE_LENGTH = 64
SM2_UID_MAX_LENGTH = 8191  # ENTL is a 16-bit count of bits
SM3_LENGTH = 32
SM4_KEY_LENGTH = 16
SM4_BLOCK_LENGTH = 16
GCM_NONCE_LENGTH = 12
GCM_TAG_LENGTH = 16


class CryptoErrorCode(models.TextChoices):
    BAD_PUBLIC_KEY = "bad_public_key", _("SM2公钥无效")
    BAD_PRIVATE_KEY = "bad_private_key", _("SM2私钥无效")
    BAD_UID = "bad_uid", _("SM2用户标识无效")
    BAD_SIGNATURE_ENCODING = "bad_signature_encoding", _("签名值编码无效")
    BAD_CIPHERTEXT = "bad_ciphertext", _("密文无效或已被篡改")
    UNKNOWN_KEY_VERSION = "unknown_key_version", _("密文使用的密钥版本不在密钥环中")
    BAD_KEY = "bad_key", _("密钥长度或格式无效")
    BAD_KEY_CONFIG = "bad_key_config", _("密钥配置无效")
    BACKEND_MISSING = "backend_missing", _("未安装SM2密码库")


@dataclass
class CryptoError(ValueError):
    """A cryptographic operation refused its input; ``code`` is a :class:`CryptoErrorCode`."""

    code: str
    message: str

    def __str__(self) -> str:
        return str(self.message)

    @classmethod
    def of(cls, code: CryptoErrorCode) -> CryptoError:
        return cls(code.value, str(code.label))


# --- SM3 and HMAC-SM3 --------------------------------------------------------------------------


def sm3(data: bytes) -> bytes:
    """The 32-byte SM3 digest (GB/T 32905) of ``data``."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def sm3_stream(chunks: Iterable[bytes]) -> bytes:
    """SM3 over a sequence of chunks (a large file read piece by piece)."""
    digest = hashes.Hash(hashes.SM3())
    for chunk in chunks:
        digest.update(chunk)
    return digest.finalize()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """HMAC (RFC 2104 / GB/T 15852.2) over SM3, from the library's own HMAC (OpenSSL's)."""
    if not key:
        raise CryptoError.of(CryptoErrorCode.BAD_KEY)
    mac = _hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


def constant_time_equal(a: bytes, b: bytes) -> bool:
    return secrets.compare_digest(a, b)


# --- SM4 ---------------------------------------------------------------------------------------


class SM4Block:
    """The bare SM4 block cipher (one 16-byte block at a time) for test vectors and key checks.

    Data is never encrypted with this: use :func:`encrypt`, which is authenticated.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != SM4_KEY_LENGTH:
            raise CryptoError.of(CryptoErrorCode.BAD_KEY)
        cipher = Cipher(algorithms.SM4(key), modes.ECB())  # noqa: S305 - one block, by design
        self._enc = cipher.encryptor()
        self._dec = cipher.decryptor()

    def encrypt(self, block: bytes) -> bytes:
        if len(block) != SM4_BLOCK_LENGTH:
            raise CryptoError.of(CryptoErrorCode.BAD_CIPHERTEXT)
        return self._enc.update(block)

    def decrypt(self, block: bytes) -> bytes:
        if len(block) != SM4_BLOCK_LENGTH:
            raise CryptoError.of(CryptoErrorCode.BAD_CIPHERTEXT)
        return self._dec.update(block)


def sm4_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """SM4-GCM: ``ciphertext || tag`` (16-byte tag). The nonce must never repeat under a key."""
    if len(key) != SM4_KEY_LENGTH or len(nonce) != GCM_NONCE_LENGTH:
        raise CryptoError.of(CryptoErrorCode.BAD_KEY)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    if aad:
        encryptor.authenticate_additional_data(aad)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return body + encryptor.tag


def sm4_gcm_decrypt(key: bytes, nonce: bytes, data: bytes, aad: bytes = b"") -> bytes:
    """Open ``ciphertext || tag``; a wrong key, nonce, AAD or any flipped bit raises CryptoError."""
    if len(key) != SM4_KEY_LENGTH or len(nonce) != GCM_NONCE_LENGTH:
        raise CryptoError.of(CryptoErrorCode.BAD_KEY)
    if len(data) < GCM_TAG_LENGTH:
        raise CryptoError.of(CryptoErrorCode.BAD_CIPHERTEXT)
    body, tag = data[:-GCM_TAG_LENGTH], data[-GCM_TAG_LENGTH:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    if aad:
        decryptor.authenticate_additional_data(aad)
    try:
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag:
        raise CryptoError.of(CryptoErrorCode.BAD_CIPHERTEXT) from None


# --- Key ring ----------------------------------------------------------------------------------

_VERSION_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_DEV_VERSION = "dev"


@dataclass(frozen=True)
class KeyRing:
    """SM4 data keys by version (the first is current) and the HMAC-SM3 key for lookup digests.

    ``TONGBAN_DATA_KEYS="v2:<base64 16 bytes>,v1:<base64 16 bytes>"`` and
    ``TONGBAN_LOOKUP_KEY="<base64, at least 16 bytes>"`` (each also as ``*_FILE``). Without them,
    outside production, keys are derived from ``SECRET_KEY`` under version ``dev`` and a warning is
    logged once.
    """

    data_keys: dict[str, bytes] = field(repr=False)
    lookup_key: bytes = field(repr=False)
    current_version: str = ""
    derived: bool = False

    def __post_init__(self) -> None:
        if not self.data_keys:
            raise ConfigError("TONGBAN_DATA_KEYS: at least one key is required")
        for version, key in self.data_keys.items():
            if not _VERSION_PATTERN.match(version):
                raise ConfigError(f"TONGBAN_DATA_KEYS: bad key version {version!r}")
            if len(key) != SM4_KEY_LENGTH:
                raise ConfigError(
                    f"TONGBAN_DATA_KEYS: key {version!r} must be {SM4_KEY_LENGTH} bytes"
                )
        if len(self.lookup_key) < 16:
            raise ConfigError("TONGBAN_LOOKUP_KEY: must be at least 16 bytes")
        if not self.current_version:
            object.__setattr__(self, "current_version", next(iter(self.data_keys)))
        if self.current_version not in self.data_keys:
            raise ConfigError("TONGBAN_DATA_KEYS: the current version has no key")

    def __repr__(self) -> str:
        return f"KeyRing(current={self.current_version!r}, versions={list(self.data_keys)!r})"

    @property
    def versions(self) -> list[str]:
        return list(self.data_keys)

    def key(self, version: str) -> bytes:
        try:
            return self.data_keys[version]
        except KeyError:
            raise CryptoError.of(CryptoErrorCode.UNKNOWN_KEY_VERSION) from None

    @classmethod
    def parse(cls, data_keys: str, lookup_key: str) -> KeyRing:
        """Build a ring from the two variables' text (``version:base64`` pairs, comma-separated)."""
        keys: dict[str, bytes] = {}
        for part in (p.strip() for p in data_keys.split(",")):
            if not part:
                continue
            version, sep, encoded = part.partition(":")
            if not sep:
                raise ConfigError("TONGBAN_DATA_KEYS: expected version:base64 pairs")
            if version in keys:
                raise ConfigError(f"TONGBAN_DATA_KEYS: version {version!r} appears twice")
            keys[version] = _b64_key("TONGBAN_DATA_KEYS", encoded)
        return cls(data_keys=keys, lookup_key=_b64_key("TONGBAN_LOOKUP_KEY", lookup_key.strip()))

    @classmethod
    def from_environment(cls) -> KeyRing:
        data_keys = env_str("TONGBAN_DATA_KEYS", "")
        lookup_key = env_str("TONGBAN_LOOKUP_KEY", "")
        if data_keys and lookup_key:
            return cls.parse(data_keys, lookup_key)
        if data_keys or lookup_key:
            raise ConfigError("TONGBAN_DATA_KEYS and TONGBAN_LOOKUP_KEY must be set together")
        if env_bool("TONGBAN_PRODUCTION", False):
            raise ConfigError(
                "TONGBAN_DATA_KEYS and TONGBAN_LOOKUP_KEY must be set "
                "when TONGBAN_PRODUCTION is true"
            )
        from django.conf import settings

        secret = settings.SECRET_KEY.encode()
        logger.warning(
            "TONGBAN_DATA_KEYS/TONGBAN_LOOKUP_KEY are not set: personal data is encrypted "
            "with keys derived from SECRET_KEY (development only)"
        )
        return cls(
            data_keys={_DEV_VERSION: hmac_sm3(secret, b"tongban data key")[:SM4_KEY_LENGTH]},
            lookup_key=hmac_sm3(secret, b"tongban lookup key"),
            derived=True,
        )


def _b64_key(name: str, encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{name}: a key is not valid base64") from None


def generate_data_key() -> str:
    """A fresh SM4 key as base64, for ``TONGBAN_DATA_KEYS``."""
    return base64.b64encode(secrets.token_bytes(SM4_KEY_LENGTH)).decode()


_ring_lock = threading.Lock()
_ring: KeyRing | None = None


def keyring() -> KeyRing:
    """The process's key ring, read from the environment once."""
    global _ring
    ring = _ring
    if ring is None:
        with _ring_lock:
            if _ring is None:
                _ring = KeyRing.from_environment()
            ring = _ring
    return ring


def set_keyring(ring: KeyRing | None) -> None:
    """Replace the process's ring (``None``: read the environment again on next use)."""
    global _ring
    with _ring_lock:
        _ring = ring


# --- Data encryption with versioned keys -------------------------------------------------------


def _aad(version: str, purpose: str) -> bytes:
    return b"tongban/sm4-gcm/1\x00" + version.encode() + b"\x00" + purpose.encode()


def encrypt(plaintext: bytes, *, purpose: str, ring: KeyRing | None = None) -> str:
    """Encrypt with the current data key; the token names the key version."""
    ring = ring or keyring()
    version = ring.current_version
    nonce = os.urandom(GCM_NONCE_LENGTH)
    sealed = sm4_gcm_encrypt(ring.key(version), nonce, plaintext, _aad(version, purpose))
    return f"{version}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def token_version(token: str) -> str:
    version, sep, _body = token.partition(":")
    if not sep or not _VERSION_PATTERN.match(version):
        raise CryptoError.of(CryptoErrorCode.BAD_CIPHERTEXT)
    return version


def decrypt(token: str, *, purpose: str, ring: KeyRing | None = None) -> bytes:
    """Open a token made by :func:`encrypt` under any version still in the ring."""
    ring = ring or keyring()
    version = token_version(token)
    body = token[len(version) + 1 :]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise CryptoError.of(CryptoErrorCode.BAD_CIPHERTEXT) from None
    if len(raw) < GCM_NONCE_LENGTH + GCM_TAG_LENGTH:
        raise CryptoError.of(CryptoErrorCode.BAD_CIPHERTEXT)
    nonce, sealed = raw[:GCM_NONCE_LENGTH], raw[GCM_NONCE_LENGTH:]
    return sm4_gcm_decrypt(ring.key(version), nonce, sealed, _aad(version, purpose))


def needs_rotation(token: str, *, ring: KeyRing | None = None) -> bool:
    """Whether a token was made under a key other than the current one."""
    ring = ring or keyring()
    return token_version(token) != ring.current_version


def rotate(token: str, *, purpose: str, ring: KeyRing | None = None) -> str:
    """Re-encrypt a token under the current key (unchanged if it already is)."""
    ring = ring or keyring()
    if not needs_rotation(token, ring=ring):
        return token
    return encrypt(decrypt(token, purpose=purpose, ring=ring), purpose=purpose, ring=ring)


def lookup_digest_bytes(purpose: str, normalized: str, *, ring: KeyRing | None = None) -> bytes:
    """HMAC-SM3 of an already normalized value under the lookup key, separated by purpose."""
    ring = ring or keyring()
    return hmac_sm3(ring.lookup_key, purpose.encode() + b"\x00" + normalized.encode())


# --- SM2 keys ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SM2PublicKey:
    """A point on the SM2 curve; ``to_bytes()`` is ``04 || x || y`` (65 bytes)."""

    x: bytes
    y: bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> SM2PublicKey:
        """Import ``04||x||y`` (65), ``x||y`` (64) or compressed ``02/03||x`` (33 bytes).

        The point is checked to lie on the curve (and not be the point at infinity).
        """
        data = bytes(data)
        if len(data) == 64:
            data = b"\x04" + data
        if len(data) not in (33, 65) or data[0] not in ((2, 3) if len(data) == 33 else (4,)):
            raise CryptoError.of(CryptoErrorCode.BAD_PUBLIC_KEY)
        try:
            if not _sm2.SM2.is_pk_valid(data):
                raise CryptoError.of(CryptoErrorCode.BAD_PUBLIC_KEY)
            full = _sm2.SM2.convert_pk(data, _sm2.SM2_PCMODE_RAW)
        except ValueError:
            raise CryptoError.of(CryptoErrorCode.BAD_PUBLIC_KEY) from None
        return cls(x=full[1:33], y=full[33:65])

    @classmethod
    def from_hex(cls, text: str) -> SM2PublicKey:
        try:
            return cls.from_bytes(bytes.fromhex(text.replace(" ", "")))
        except ValueError as exc:
            if isinstance(exc, CryptoError):
                raise
            raise CryptoError.of(CryptoErrorCode.BAD_PUBLIC_KEY) from None

    def to_bytes(self, *, compressed: bool = False) -> bytes:
        if compressed:
            return bytes([2 + (self.y[-1] & 1)]) + self.x
        return b"\x04" + self.x + self.y

    def fingerprint(self) -> str:
        """Hex SM3 of ``04||x||y``: a stable key identifier for key rotation and caches."""
        return sm3(self.to_bytes()).hex()


class SM2PrivateKey:
    """An SM2 private key ``d`` in ``[1, n-2]``. Its ``repr`` never shows the key."""

    __slots__ = ("_d", "_public", "_signers")

    def __init__(self, d: bytes) -> None:
        d = bytes(d)
        if len(d) != SM2_PRIVATE_KEY_LENGTH or not _sm2.SM2.is_sk_valid(d):
            raise CryptoError.of(CryptoErrorCode.BAD_PRIVATE_KEY)
        self._d = d
        self._public: SM2PublicKey | None = None
        self._signers: dict[bytes, _sm2.SM2] = {}

    def __repr__(self) -> str:
        return f"SM2PrivateKey(public={self.public_key.fingerprint()[:16]}…)"

    def __reduce__(self):
        raise TypeError("SM2PrivateKey cannot be pickled; store it with seal_private_key()")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SM2PrivateKey) and secrets.compare_digest(self._d, other._d)

    def __hash__(self) -> int:
        return hash(self.public_key)

    @property
    def public_key(self) -> SM2PublicKey:
        if self._public is None:
            self._public = SM2PublicKey.from_bytes(_sm2.SM2.get_pk(self._d, _sm2.SM2_PCMODE_RAW))
        return self._public

    def to_bytes(self) -> bytes:
        """The raw 32 bytes. Only for :func:`seal_private_key` and hardware import."""
        return self._d


def generate_keypair() -> tuple[SM2PrivateKey, SM2PublicKey]:
    """A new SM2 key pair from the operating system's random source."""
    sk, _pk = _sm2.SM2(rnd_fn=os.urandom).generate_keypair()
    private = SM2PrivateKey(sk)
    return private, private.public_key


def _check_uid(uid: bytes) -> bytes:
    if not isinstance(uid, bytes | bytearray) or len(uid) > SM2_UID_MAX_LENGTH:
        raise CryptoError.of(CryptoErrorCode.BAD_UID)
    return bytes(uid)


def _signer(private: SM2PrivateKey, uid: bytes) -> _sm2.SM2:
    """The library's signing object for (key, uid), kept on the key: building one costs a
    modular inversion and the Z value, half the time of a signature."""
    uid = _check_uid(uid)
    signer = private._signers.get(uid)
    if signer is None:
        signer = _sm2.SM2(sk=private.to_bytes(), uid=uid, rnd_fn=os.urandom)
        if len(private._signers) < 16:
            private._signers[uid] = signer
    return signer


@functools.lru_cache(maxsize=4096)
def _verifier(public: bytes, uid: bytes) -> _sm2.SM2:
    """The library's verifying object for (public key, uid); verifiers of popular issuers stay
    cached, which saves the Z value on every verification."""
    return _sm2.SM2(pk=public, uid=uid)


# --- SM2 signatures ----------------------------------------------------------------------------


def sign(
    private: SM2PrivateKey, message: bytes, uid: bytes = DEFAULT_UID, *, der: bool = False
) -> bytes:
    """SM2 signature of ``message`` with the Z value of ``uid``: 64 bytes ``r||s`` or DER."""
    raw = _signer(private, uid).sign(bytes(message))
    return signature_to_der(raw) if der else raw


def verify(
    public: SM2PublicKey | bytes,
    message: bytes,
    signature: bytes,
    uid: bytes = DEFAULT_UID,
    *,
    der: bool = False,
) -> bool:
    """Whether ``signature`` (raw ``r||s`` or, with ``der=True``, DER) is valid.

    Any malformed signature gives ``False``; a malformed public key raises :class:`CryptoError`.
    """
    if not isinstance(public, SM2PublicKey):
        public = SM2PublicKey.from_bytes(public)
    uid = _check_uid(uid)
    try:
        raw = signature_from_der(signature) if der else bytes(signature)
    except CryptoError:
        return False
    if len(raw) != SM2_SIGNATURE_LENGTH:
        return False
    r = int.from_bytes(raw[:32], "big")
    s = int.from_bytes(raw[32:], "big")
    if not (0 < r < SM2_N and 0 < s < SM2_N):
        return False
    try:
        return bool(_verifier(public.to_bytes(), uid).verify(bytes(message), raw))
    except ValueError:
        return False


def signature_to_der(raw: bytes) -> bytes:
    """``r||s`` (64 bytes) to DER ``SEQUENCE { INTEGER r, INTEGER s }``."""
    if len(raw) != SM2_SIGNATURE_LENGTH:
        raise CryptoError.of(CryptoErrorCode.BAD_SIGNATURE_ENCODING)
    body = _der_integer(raw[:32]) + _der_integer(raw[32:])
    return b"\x30" + _der_length(len(body)) + body


def signature_from_der(der: bytes) -> bytes:
    """Strict DER ``SEQUENCE { INTEGER r, INTEGER s }`` to 64 bytes ``r||s``."""
    der = bytes(der)
    if len(der) < 8 or der[0] != 0x30:
        raise CryptoError.of(CryptoErrorCode.BAD_SIGNATURE_ENCODING)
    length, pos = _read_der_length(der, 1)
    if pos + length != len(der):
        raise CryptoError.of(CryptoErrorCode.BAD_SIGNATURE_ENCODING)
    values = []
    for _index in range(2):
        if pos >= len(der) or der[pos] != 0x02:
            raise CryptoError.of(CryptoErrorCode.BAD_SIGNATURE_ENCODING)
        size, pos = _read_der_length(der, pos + 1)
        content = der[pos : pos + size]
        pos += size
        if size == 0 or len(content) != size or content[0] & 0x80:
            raise CryptoError.of(CryptoErrorCode.BAD_SIGNATURE_ENCODING)  # empty or negative
        if size > 1 and content[0] == 0 and not content[1] & 0x80:
            raise CryptoError.of(CryptoErrorCode.BAD_SIGNATURE_ENCODING)  # not minimal
        value = content.lstrip(b"\x00")
        if len(value) > 32:
            raise CryptoError.of(CryptoErrorCode.BAD_SIGNATURE_ENCODING)
        values.append(value.rjust(32, b"\x00"))
    if pos != len(der):
        raise CryptoError.of(CryptoErrorCode.BAD_SIGNATURE_ENCODING)
    return values[0] + values[1]


def _der_integer(value: bytes) -> bytes:
    value = value.lstrip(b"\x00") or b"\x00"
    if value[0] & 0x80:
        value = b"\x00" + value
    return b"\x02" + _der_length(len(value)) + value


def _der_length(n: int) -> bytes:
    return bytes([n]) if n < 0x80 else b"\x81" + bytes([n])


def _read_der_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise CryptoError.of(CryptoErrorCode.BAD_SIGNATURE_ENCODING)
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    if first == 0x81 and pos + 1 < len(data) and data[pos + 1] >= 0x80:
        return data[pos + 1], pos + 2
    raise CryptoError.of(CryptoErrorCode.BAD_SIGNATURE_ENCODING)


# --- SM2 public-key encryption (C1 || C3 || C2, GB/T 32918.4-2016) ----------------------------


def sm2_encrypt(public: SM2PublicKey, plaintext: bytes) -> bytes:
    """SM2 encryption; the result is ``04||x1||y1 || C3 (SM3, 32) || C2``."""
    if not plaintext:
        raise CryptoError.of(CryptoErrorCode.BAD_CIPHERTEXT)
    return _sm2.SM2(pk=public.to_bytes(), rnd_fn=os.urandom).encrypt(bytes(plaintext))


def sm2_decrypt(private: SM2PrivateKey, ciphertext: bytes) -> bytes:
    try:
        return _sm2.SM2(sk=private.to_bytes()).decrypt(bytes(ciphertext))
    except ValueError:
        raise CryptoError.of(CryptoErrorCode.BAD_CIPHERTEXT) from None


# --- Private keys at rest ----------------------------------------------------------------------

_PRIVATE_KEY_PURPOSE = "sm2-private-key"


def seal_private_key(private: SM2PrivateKey, *, ring: KeyRing | None = None) -> str:
    """Encrypt an SM2 private key with the current data key, bound to its public key.

    The token can be stored in a text column; :func:`rotate_sealed_private_key` moves it to a new
    data key without changing the SM2 key, so every signature made before stays valid.
    """
    purpose = f"{_PRIVATE_KEY_PURPOSE}/{private.public_key.fingerprint()}"
    token = encrypt(private.to_bytes(), purpose=purpose, ring=ring)
    return f"{private.public_key.to_bytes().hex()}.{token}"


def open_private_key(blob: str, *, ring: KeyRing | None = None) -> SM2PrivateKey:
    """Decrypt a token made by :func:`seal_private_key`; refuses a key that fails its binding."""
    public_hex, sep, token = blob.partition(".")
    if not sep:
        raise CryptoError.of(CryptoErrorCode.BAD_CIPHERTEXT)
    try:
        public = SM2PublicKey.from_bytes(bytes.fromhex(public_hex))
    except ValueError:
        raise CryptoError.of(CryptoErrorCode.BAD_CIPHERTEXT) from None
    purpose = f"{_PRIVATE_KEY_PURPOSE}/{public.fingerprint()}"
    private = SM2PrivateKey(decrypt(token, purpose=purpose, ring=ring))
    if private.public_key != public:
        raise CryptoError.of(CryptoErrorCode.BAD_CIPHERTEXT)
    return private


def sealed_public_key(blob: str) -> SM2PublicKey:
    """The public key stored beside a sealed private key (no key material is opened)."""
    public_hex, sep, _token = blob.partition(".")
    if not sep:
        raise CryptoError.of(CryptoErrorCode.BAD_CIPHERTEXT)
    try:
        return SM2PublicKey.from_bytes(bytes.fromhex(public_hex))
    except ValueError:
        raise CryptoError.of(CryptoErrorCode.BAD_CIPHERTEXT) from None


def rotate_sealed_private_key(blob: str, *, ring: KeyRing | None = None) -> str:
    """Re-seal under the current data key (unchanged when it already is)."""
    _public_hex, _sep, token = blob.partition(".")
    if not needs_rotation(token, ring=ring):
        return blob
    return seal_private_key(open_private_key(blob, ring=ring), ring=ring)


def _sign_with_k(
    private: SM2PrivateKey, message: bytes, k: bytes, uid: bytes = DEFAULT_UID
) -> bytes:
    """Sign with a fixed ephemeral ``k``: ONLY for reproducing the published test vectors.

    A fixed or repeated ``k`` discloses the private key. gmalglib reads its random bytes as a
    little-endian 256-bit number, hence the reversal.
    """
    signer = _sm2.SM2(sk=private.to_bytes(), uid=_check_uid(uid), rnd_fn=lambda _n: k[::-1])
    return signer.sign(bytes(message))


def _sm2_encrypt_with_k(public: SM2PublicKey, plaintext: bytes, k: bytes) -> bytes:
    """SM2 encryption with a fixed ``k``: ONLY for the published test vector."""
    return _sm2.SM2(pk=public.to_bytes(), rnd_fn=lambda _n: k[::-1]).encrypt(bytes(plaintext))


__all__ = [
    "DEFAULT_UID",
    "CryptoError",
    "CryptoErrorCode",
    "KeyRing",
    "SM2PrivateKey",
    "SM2PublicKey",
    "SM4Block",
    "constant_time_equal",
    "decrypt",
    "encrypt",
    "generate_data_key",
    "generate_keypair",
    "hmac_sm3",
    "keyring",
    "lookup_digest_bytes",
    "needs_rotation",
    "open_private_key",
    "rotate",
    "rotate_sealed_private_key",
    "seal_private_key",
    "sealed_public_key",
    "set_keyring",
    "sign",
    "signature_from_der",
    "signature_to_der",
    "sm2_decrypt",
    "sm2_encrypt",
    "sm3",
    "sm3_stream",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
    "verify",
]
