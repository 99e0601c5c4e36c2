"""Showing a license (亮证) as a short-lived signed QR payload, and verifying it (核验).

The payload is base64url (no padding) of a binary token, signed with the platform key
(:func:`tongban.licenses.keys.current_key`), about 200 characters for a 21-character type code and
an 18-character issuer code:

====== ====== =================================================================================
offset length
====== ====== =================================================================================
0      1      format, ``0x01``
1      2      platform key version (big-endian)
3      4      token expiry, Unix seconds (big-endian)
7      2      the license's last valid day, days since 1970-01-01 (``0``: no end)
9      8      random nonce
17     1      ``n``, length of the identifier without its root ``1.2.156.3005.2.``
18     n      the identifier without its root (ASCII)
18+n   64     SM2 signature (user ID ``1234567812345678``), raw ``r || s``, of bytes ``0 … 17+n``
====== ====== =================================================================================

An offline verifier checks the signature with the published platform key, the expiry, the last
valid day and the signed revocation list (:mod:`tongban.licenses.keys`). :func:`verify_presentation`
does the same online and also checks the license row against its seal signature, and answers one
:class:`~tongban.licenses.errors.LicenseVerifyCode` with a masked view of the license. It never
raises for bad input, and every verification is audited (result only, no personal data).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import re
import struct
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from tongban.core import crypto
from tongban.core.audit import AuditResult, record
from tongban.core.identifiers import LICENSE_ROOT
from tongban.core.personal import mask_id_number, mask_name
from tongban.licenses import keys, queries
from tongban.licenses.errors import LicenseError, LicenseErrorCode, LicenseVerifyCode
from tongban.licenses.models import HolderKind, License, LicenseStatus
from tongban.licenses.services import DOCUMENT_TYPE, canonical_bytes
from tongban.seals.errors import VerifyCode
from tongban.seals.services import verify_signature

FORMAT = 1
DEFAULT_TTL = 60
MIN_TTL, MAX_TTL = 10, 600
NONCE_LENGTH = 8
MAX_PAYLOAD_LENGTH = 400
_HEADER = struct.Struct(">BHIH8sB")
_EPOCH = dt.date(1970, 1, 1)
_ROOT = LICENSE_ROOT + "."
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_OBJECT_TYPE = "licenses.license"

V = LicenseVerifyCode


@dataclass(frozen=True)
class Token:
    key_version: int
    expires_at: int
    valid_to_days: int
    nonce: bytes
    identifier: str


@dataclass(frozen=True)
class PresentationResult:
    """``code`` is a :class:`LicenseVerifyCode`; ``detail`` says more for logs and tests;
    ``license`` is the masked view (:func:`masked_view`) once the license was found."""

    code: str
    detail: str = ""
    license: dict[str, Any] | None = field(default=None)
    license_pk: int | None = None

    @property
    def ok(self) -> bool:
        return self.code == V.VALID

    @property
    def message(self) -> str:
        return str(V(self.code).label)

    @property
    def malformed(self) -> bool:
        return self.code == V.INVALID_TOKEN and self.detail == "malformed"


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _days(day: dt.date | None) -> int:
    return 0 if day is None else (day - _EPOCH).days


def encode_token(token: Token, signer) -> str:
    """The payload of ``token``, signed by ``signer(message) -> raw 64-byte signature``."""
    tail = token.identifier.removeprefix(_ROOT).encode("ascii")
    body = _HEADER.pack(
        FORMAT, token.key_version, token.expires_at, token.valid_to_days, token.nonce, len(tail)
    )
    message = body + tail
    return _b64encode(message + signer(message))


def decode_token(payload: Any) -> tuple[Token, bytes, bytes]:
    """(token, signed bytes, signature); raises ValueError for anything malformed."""
    if not isinstance(payload, str) or not 0 < len(payload) <= MAX_PAYLOAD_LENGTH:
        raise ValueError("payload")
    payload = payload.strip()
    if not _BASE64URL.match(payload) or len(payload) % 4 == 1:
        raise ValueError("alphabet")
    try:
        raw = _b64decode(payload)
    except (binascii.Error, ValueError):
        raise ValueError("base64") from None
    if len(raw) < _HEADER.size + crypto.SM2_SIGNATURE_LENGTH:
        raise ValueError("length")
    fmt, version, expires_at, valid_to_days, nonce, n = _HEADER.unpack_from(raw)
    if fmt != FORMAT or len(raw) != _HEADER.size + n + crypto.SM2_SIGNATURE_LENGTH:
        raise ValueError("format")
    tail = raw[_HEADER.size : _HEADER.size + n]
    try:
        identifier = _ROOT + tail.decode("ascii")
    except UnicodeDecodeError:
        raise ValueError("identifier") from None
    token = Token(version, expires_at, valid_to_days, nonce, identifier)
    return token, raw[: _HEADER.size + n], raw[_HEADER.size + n :]


# --- Presenting ----------------------------------------------------------------------------------


def present(
    license: License,
    *,
    holder_user: Any,
    ttl: int = DEFAULT_TTL,
    now: dt.datetime | None = None,
    ip: str | None = None,
    user_agent: str = "",
) -> str:
    """A QR payload that shows ``license`` for ``ttl`` seconds.

    Only the holder may present a person's license, and for a company's license its legal
    representative or a live agent; anyone else gets ``not_found`` (as if it did not exist). A
    license that is not valid (or is past its last day) is refused with ``not_presentable``.
    """
    now = now or timezone.now()
    ctx = {"ip": ip, "user_agent": user_agent}
    try:
        if not isinstance(ttl, int) or not MIN_TTL <= ttl <= MAX_TTL:
            raise LicenseError(LicenseErrorCode.INVALID_TTL, field="ttl")
        current = License.objects.select_related("company").filter(pk=license.pk).first()
        if current is None or not queries.may_present(holder_user, current):
            raise LicenseError(LicenseErrorCode.NOT_FOUND)
        if current.status != LicenseStatus.VALID or current.is_past_validity(
            timezone.localdate(now)
        ):
            raise LicenseError(LicenseErrorCode.NOT_PRESENTABLE)
        token = Token(
            key_version=0,
            expires_at=int(now.timestamp()) + ttl,
            valid_to_days=_days(current.valid_to),
            nonce=os.urandom(NONCE_LENGTH),
            identifier=current.identifier,
        )

        payload = _encode_with_current_key(token)
        with transaction.atomic():
            record(
                actor=holder_user,
                action="license.present",
                object_type=_OBJECT_TYPE,
                object_id=current.pk,
                details={"ttl": ttl},
                **ctx,
            )
        return payload
    except LicenseError as error:
        with transaction.atomic():
            record(
                actor=holder_user,
                action="license.present",
                result=AuditResult.FAILURE,
                object_type=_OBJECT_TYPE,
                object_id=getattr(license, "pk", "") or "",
                details={"error": error.code},
                **ctx,
            )
        raise


def _encode_with_current_key(token: Token) -> str:
    key = keys.current_key()
    signed = Token(
        key.version, token.expires_at, token.valid_to_days, token.nonce, token.identifier
    )
    private = keys.private_key(key)
    return encode_token(signed, lambda message: crypto.sign(private, message))


# --- Verifying -----------------------------------------------------------------------------------


def _mask_value(value: str) -> str:
    text = str(value)
    if len(text) <= 1:
        return "*" * len(text)
    return text[0] + "*" * min(len(text) - 1, 8)


def masked_view(lic: License) -> dict[str, Any]:
    """What a verifier sees: the holder's name and ID number masked, fields marked ``masked`` in
    the type masked, a company's name and credit code (public register data) as they are."""
    person = lic.holder_kind == HolderKind.PERSON
    fields = []
    for spec in lic.license_type.field_specs():
        if spec["key"] not in lic.data:
            continue
        value = lic.data[spec["key"]]
        fields.append(
            {
                "key": spec["key"],
                "label": spec["label"],
                "value": _mask_value(value) if spec.get("masked") else value,
            }
        )
    return {
        "identifier": lic.identifier,
        "type_code": lic.license_type.code,
        "type_name": lic.license_type.name,
        "version": f"{lic.version:03d}",
        "holder_kind": lic.holder_kind,
        "holder_name": mask_name(lic.holder_name) if person else lic.holder_name,
        "holder_code": mask_id_number(lic.holder_code) if person else lic.holder_code,
        "holder_code_type": lic.holder_code_type,
        "issuer_name": lic.issuer.name,
        "issuer_code": lic.issuer.uscc,
        "issued_at": timezone.localtime(lic.issued_at).isoformat(),
        "valid_from": lic.valid_from.isoformat(),
        "valid_to": lic.valid_to.isoformat() if lic.valid_to else None,
        "status": lic.status,
        "status_code": lic.status_code,
        "status_label": str(lic.get_status_display()),
        "fields": fields,
    }


_STATUS_RESULTS = {
    LicenseStatus.REVOKED: V.REVOKED,
    LicenseStatus.SUSPENDED: V.SUSPENDED,
    LicenseStatus.CANCELLED: V.CANCELLED,
    LicenseStatus.EXPIRED: V.EXPIRED,
}
_SEAL_RESULTS = {
    VerifyCode.SEAL_REVOKED: V.SEAL_INVALID,
    VerifyCode.SEAL_EXPIRED: V.SEAL_INVALID,
    VerifyCode.UNKNOWN_KEY: V.SEAL_INVALID,
}


def _check(payload: Any, now: dt.datetime) -> PresentationResult:
    try:
        token, signed, signature = decode_token(payload)
    except ValueError:
        return PresentationResult(V.INVALID_TOKEN, "malformed")
    public = keys.public_key_of(token.key_version)
    if public is None or not crypto.verify(public, signed, signature):
        return PresentationResult(V.INVALID_TOKEN, "signature")
    if now.timestamp() > token.expires_at:
        return PresentationResult(V.TOKEN_EXPIRED)
    lic = (
        License.objects.select_related("license_type", "issuer", "signature")
        .filter(identifier=token.identifier)
        .first()
    )
    if lic is None:
        return PresentationResult(V.INVALID_TOKEN, "unknown license")
    return _check_license(lic, now)


def _check_license(lic: License, now: dt.datetime) -> PresentationResult:
    view = masked_view(lic)
    found = {"license": view, "license_pk": lic.pk}
    record_ = lic.signature
    if record_.document_type != DOCUMENT_TYPE or record_.reference != lic.identifier:
        return PresentationResult(V.TAMPERED, "signature of another document", **found)
    sealed = verify_signature(record_, canonical_bytes(lic))
    if not sealed.ok:
        code = _SEAL_RESULTS.get(sealed.code, V.TAMPERED)
        return PresentationResult(code, sealed.code, **found)
    if lic.status in _STATUS_RESULTS:
        return PresentationResult(_STATUS_RESULTS[lic.status], **found)
    if lic.is_past_validity(timezone.localdate(now)):
        return PresentationResult(V.EXPIRED, "past valid_to", **found)
    return PresentationResult(V.VALID, **found)


def verify_presentation(
    payload: Any, *, now: dt.datetime | None = None, ip: str | None = None, user_agent: str = ""
) -> PresentationResult:
    """Verify a QR payload: ``valid`` or the specific reason it is not. Never raises for bad
    input; audited (the result and the license's row id, no personal data)."""
    now = now or timezone.now()
    try:
        result = _check(payload, now)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, UnicodeError) as exc:
        result = PresentationResult(V.INVALID_TOKEN, f"malformed: {type(exc).__name__}")
    with transaction.atomic():
        record(
            actor=None,
            action="license.verify",
            result=AuditResult.SUCCESS if result.ok else AuditResult.FAILURE,
            object_type=_OBJECT_TYPE,
            object_id=result.license_pk or "",
            details={"result": result.code, "detail": result.detail},
            ip=ip,
            user_agent=user_agent,
        )
    return result


__all__ = [
    "DEFAULT_TTL",
    "PresentationResult",
    "Token",
    "decode_token",
    "encode_token",
    "masked_view",
    "present",
    "verify_presentation",
]


def verify_identifier(
    identifier: Any, *, now: dt.datetime | None = None, ip: str | None = None, user_agent: str = ""
) -> PresentationResult:
    """Verify a license by its identifier (the QR printed on the license PDF): the seal
    signature over the row, the status and the validity, like :func:`verify_presentation` but
    without a holder's short-lived token. Audited the same way; never raises for bad input."""
    now = now or timezone.now()
    text = identifier if isinstance(identifier, str) else ""
    lic = None
    if 0 < len(text) <= 100:
        lic = (
            License.objects.select_related("license_type", "issuer", "signature")
            .filter(identifier=text.strip())
            .first()
        )
    result = (
        _check_license(lic, now)
        if lic is not None
        else PresentationResult(V.INVALID_TOKEN, "unknown license")
    )
    with transaction.atomic():
        record(
            actor=None,
            action="license.verify",
            result=AuditResult.SUCCESS if result.ok else AuditResult.FAILURE,
            object_type=_OBJECT_TYPE,
            object_id=result.license_pk or "",
            details={"result": result.code, "detail": result.detail, "by": "identifier"},
            ip=ip,
            user_agent=user_agent,
        )
    return result
