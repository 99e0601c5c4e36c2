"""Every change to a seal, and the verifier.

Each service takes keyword arguments with the actor first, runs in one transaction, appends a
:class:`~tongban.seals.models.SealEvent` (state changes) and an audit record, and returns the
result or raises :class:`~tongban.seals.errors.SealError`. A refusal rolls the work back and then
appends a *failure* audit record in a transaction of its own (so it survives the refusal, unless
the caller's own outer transaction rolls back too).

Status moves follow the one table :data:`TRANSITIONS`; a move is a conditional UPDATE that must
touch exactly one row, so two administrators acting at once cannot both win.

:func:`seal_document` does not lock the seal row (a province seals many licenses a second with one
seal, and a row lock would serialize them); a suspension or revocation applies to sealings that
start after it commits, and :func:`verify_signature` reports ``seal_revoked`` for every signature
of a revoked seal whenever it was made.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tongban.accounts.queries import staff_scope
from tongban.core import crypto
from tongban.core.audit import AuditResult, record
from tongban.core.models import Organization
from tongban.seals import asn1, images
from tongban.seals.codes import (
    MAX_SERIAL,
    TYPE_NUMBERS,
    SealType,
    code_prefix,
    seal_code,
    seal_size_mm,
)
from tongban.seals.errors import SealError, SealErrorCode, VerifyCode
from tongban.seals.models import (
    FINAL_STATES,
    Seal,
    SealAction,
    SealEvent,
    SealKey,
    SealStatus,
    SignatureRecord,
)
from tongban.seals.queries import MANAGE, USE, can, organizations_for

S = SealStatus
A = SealAction

# (state, action) → next state. Every move needs seals.manage_seal in the seal's organization
# (queries.can) and a reason (the guard).
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.ACTIVE, A.SUSPEND): S.SUSPENDED,
    (S.SUSPENDED, A.REINSTATE): S.ACTIVE,
    (S.ACTIVE, A.REVOKE): S.REVOKED,
    (S.SUSPENDED, A.REVOKE): S.REVOKED,
}

_DOCUMENT_TYPE = re.compile(r"^[a-z][a-z0-9_.-]{0,49}$")
_OBJECT_TYPE = "seals.seal"


def _audit_action(action: str) -> str:
    return f"seal.{action}"


def _ctx(ip: str | None, user_agent: str) -> dict[str, Any]:
    return {"ip": ip, "user_agent": user_agent}


def _fail(*, actor, action: str, error: SealError, object_id="", details=None, ctx) -> None:
    with transaction.atomic():
        record(
            actor=actor,
            action=_audit_action(action),
            result=AuditResult.FAILURE,
            object_type=_OBJECT_TYPE,
            object_id=object_id,
            details={**(details or {}), "error": error.code},
            **ctx,
        )


def _check(actor, seal: Seal, permission: str) -> None:
    """Out of the actor's scope looks missing; in scope without the permission is forbidden."""
    if not staff_scope(actor).covers(seal.organization_id, None):
        raise SealError(SealErrorCode.NOT_FOUND)
    if not can(actor, seal, permission):
        raise SealError(SealErrorCode.FORBIDDEN)


def _new_key(seal: Seal, version: int, now: dt.datetime) -> SealKey:
    private, public = crypto.generate_keypair()
    return SealKey.objects.create(
        seal=seal,
        version=version,
        public_key=public.to_bytes().hex(),
        private_key_sealed=crypto.seal_private_key(private),
        created_at=now,
    )


# --- Making seals and keys -----------------------------------------------------------------------


def create_seal(
    *,
    actor: Any,
    organization: Organization,
    name: str,
    seal_type: str,
    valid_from: dt.date,
    valid_to: dt.date,
    ip: str | None = None,
    user_agent: str = "",
) -> Seal:
    """Make a seal of ``organization`` with its first SM2 key pair (version 1)."""
    ctx = _ctx(ip, user_agent)
    details = {"organization": organization.pk, "seal_type": seal_type, "name": name}
    try:
        with transaction.atomic():
            scope = staff_scope(actor)
            allowed = organizations_for(actor, MANAGE)
            if not scope.covers(organization.pk, None):
                raise SealError(SealErrorCode.NOT_FOUND)
            if allowed is not None and organization.pk not in allowed:
                raise SealError(SealErrorCode.FORBIDDEN)
            name = (name or "").strip()
            if not name or len(name) > 100:
                raise SealError(SealErrorCode.INVALID_NAME, field="name")
            if seal_type not in SealType.values:
                raise SealError(SealErrorCode.INVALID_TYPE, field="seal_type")
            if not (
                isinstance(valid_from, dt.date)
                and isinstance(valid_to, dt.date)
                and valid_to > valid_from
            ):
                raise SealError(SealErrorCode.INVALID_VALIDITY, field="valid_to")
            # Serial allocation is serialized per organization by its row lock.
            org = Organization.objects.select_for_update().get(pk=organization.pk)
            prefix = code_prefix(org.uscc, seal_type)
            codes = Seal.objects.filter(code__startswith=prefix).values_list("code", flat=True)
            serial = max((int(code[-2:]) for code in codes), default=0) + 1
            if serial > MAX_SERIAL:
                raise SealError(SealErrorCode.SERIAL_EXHAUSTED)
            now = timezone.now()
            seal = Seal.objects.create(
                organization=org,
                name=name,
                code=seal_code(org.uscc, seal_type, serial),
                seal_type=seal_type,
                valid_from=valid_from,
                valid_to=valid_to,
                created_at=now,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
            key = _new_key(seal, 1, now)
            SealEvent.objects.create(
                seal=seal, action=A.CREATE, to_status=seal.status, actor=seal.created_by, at=now
            )
            record(
                actor=actor,
                action=_audit_action(A.CREATE),
                object_type=_OBJECT_TYPE,
                object_id=seal.pk,
                details={**details, "code": seal.code, "key_version": 1, "key": _fp(key)},
                **ctx,
            )
            return seal
    except SealError as error:
        _fail(actor=actor, action=A.CREATE, error=error, details=details, ctx=ctx)
        raise


def _fp(key: SealKey) -> str:
    """A public-key fingerprint for the audit trail (never the key material)."""
    return crypto.sm3(bytes.fromhex(key.public_key)).hex()[:32]


def rotate_key(*, actor: Any, seal: Seal, ip: str | None = None, user_agent: str = "") -> SealKey:
    """Retire the seal's current key and make the next version. Signatures made with the old
    key stay verifiable: its public key stays in :class:`SealKey`."""
    ctx = _ctx(ip, user_agent)
    try:
        with transaction.atomic():
            locked = Seal.objects.select_for_update().get(pk=seal.pk)
            _check(actor, locked, MANAGE)
            if locked.status in FINAL_STATES:
                raise SealError(SealErrorCode.INVALID_TRANSITION)
            now = timezone.now()
            current = SealKey.objects.filter(seal=locked, retired_at=None).first()
            SealKey.objects.filter(seal=locked, retired_at=None).update(retired_at=now)
            version = (
                SealKey.objects.filter(seal=locked).aggregate(v=Max("version"))["v"] or 0
            ) + 1
            key = _new_key(locked, version, now)
            SealEvent.objects.create(
                seal=locked,
                action=A.ROTATE_KEY,
                from_status=locked.status,
                to_status=locked.status,
                actor=actor if getattr(actor, "pk", None) else None,
                at=now,
            )
            record(
                actor=actor,
                action=_audit_action(A.ROTATE_KEY),
                object_type=_OBJECT_TYPE,
                object_id=locked.pk,
                details={
                    "code": locked.code,
                    "retired_version": current.version if current else None,
                    "key_version": version,
                    "key": _fp(key),
                },
                **ctx,
            )
            return key
    except SealError as error:
        _fail(actor=actor, action=A.ROTATE_KEY, error=error, object_id=seal.pk, ctx=ctx)
        raise


# --- Status moves --------------------------------------------------------------------------------


def _move(*, actor, seal: Seal, action: str, reason: str, ip, user_agent) -> Seal:
    ctx = _ctx(ip, user_agent)
    reason = (reason or "").strip()
    details = {"code": seal.code, "reason": reason[:500]}
    try:
        with transaction.atomic():
            current = Seal.objects.get(pk=seal.pk)
            _check(actor, current, MANAGE)
            target = TRANSITIONS.get((current.status, action))
            if target is None:
                raise SealError(SealErrorCode.INVALID_TRANSITION)
            if not reason:
                raise SealError(SealErrorCode.REASON_REQUIRED, field="reason")
            now = timezone.now()
            changes: dict[str, Any] = {"status": target, "status_reason": reason[:500]}
            if target == S.SUSPENDED:
                changes["suspended_at"] = now
            elif target == S.REVOKED:
                changes["revoked_at"] = now
            elif target == S.ACTIVE:
                changes["suspended_at"] = None
            moved = Seal.objects.filter(pk=current.pk, status=current.status).update(**changes)
            if moved != 1:
                raise SealError(SealErrorCode.INVALID_TRANSITION)
            SealEvent.objects.create(
                seal=current,
                action=action,
                from_status=current.status,
                to_status=target,
                reason=reason[:500],
                actor=actor if getattr(actor, "pk", None) else None,
                at=now,
            )
            record(
                actor=actor,
                action=_audit_action(action),
                object_type=_OBJECT_TYPE,
                object_id=current.pk,
                reason=reason,
                details={**details, "from": current.status, "to": target},
                **ctx,
            )
    except SealError as error:
        _fail(actor=actor, action=action, error=error, object_id=seal.pk, details=details, ctx=ctx)
        raise
    seal.refresh_from_db()
    return seal


def suspend_seal(
    *, actor: Any, seal: Seal, reason: str, ip: str | None = None, user_agent: str = ""
) -> Seal:
    return _move(
        actor=actor, seal=seal, action=A.SUSPEND, reason=reason, ip=ip, user_agent=user_agent
    )


def reinstate_seal(
    *, actor: Any, seal: Seal, reason: str, ip: str | None = None, user_agent: str = ""
) -> Seal:
    return _move(
        actor=actor, seal=seal, action=A.REINSTATE, reason=reason, ip=ip, user_agent=user_agent
    )


def revoke_seal(
    *, actor: Any, seal: Seal, reason: str, ip: str | None = None, user_agent: str = ""
) -> Seal:
    return _move(
        actor=actor, seal=seal, action=A.REVOKE, reason=reason, ip=ip, user_agent=user_agent
    )


# --- Sealing -------------------------------------------------------------------------------------


def _usable(seal: Seal, today: dt.date) -> None:
    if seal.status == S.REVOKED:
        raise SealError(SealErrorCode.SEAL_REVOKED)
    if seal.status == S.SUSPENDED:
        raise SealError(SealErrorCode.SEAL_SUSPENDED)
    if today > seal.valid_to:
        raise SealError(SealErrorCode.SEAL_EXPIRED)
    if today < seal.valid_from:
        raise SealError(SealErrorCode.SEAL_NOT_YET_VALID)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _day_end(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(23, 59, 59)))


def seal_picture(seal: Seal) -> str:
    """The seal's SVG image (generated from its organization's name and its type)."""
    return images.seal_svg(seal.organization.name, seal.seal_type, seal.get_seal_type_display())


def build_eseal(seal: Seal, key: SealKey, private: crypto.SM2PrivateKey) -> asn1.SESeal:
    """The GB/T 38540 ``SESeal`` of ``seal``, made (signed) with its key ``key``."""
    cert = asn1.public_key_info(bytes.fromhex(key.public_key))
    size = seal_size_mm(seal.seal_type)
    info = asn1.SESSealInfo(
        {
            "header": {
                "id": asn1.SES_HEADER_ID,
                "version": asn1.SES_VERSION,
                "vid": asn1.VENDOR_ID,
            },
            "esID": seal.code,
            "property": {
                "type": TYPE_NUMBERS[seal.seal_type],
                "name": seal.name,
                "certListType": asn1.CERT_LIST_CERTIFICATES,
                "certList": [cert],
                "createDate": seal.created_at.replace(microsecond=0),
                "validStart": _day_start(seal.valid_from),
                "validEnd": _day_end(seal.valid_to),
            },
            "picture": {
                "type": "SVG",
                "data": seal_picture(seal).encode(),
                "width": size,
                "height": size,
            },
        }
    )
    to_sign = asn1.SESealToSign(
        {"eSealInfo": info, "cert": cert, "signAlgID": asn1.SM2_SM3_SIGNATURE_OID}
    )
    signed_value = crypto.sign(private, to_sign.dump(), der=True)
    return asn1.SESeal(
        {
            "eSealInfo": info,
            "cert": cert,
            "signAlgID": asn1.SM2_SM3_SIGNATURE_OID,
            "signedValue": signed_value,
        }
    )


def property_info(document_type: str, reference: str) -> str:
    """``TBS_Sign.propertyInfo`` (an IA5String): ``<type>:<reference, percent-encoded>``."""
    return f"{document_type}:{quote(reference, safe='')}"


def seal_document(
    *,
    actor: Any,
    seal: Seal,
    data: bytes,
    document_type: str,
    reference: str,
    ip: str | None = None,
    user_agent: str = "",
) -> SignatureRecord:
    """Seal ``data`` (the document's bytes): a GB/T 38540 ``SES_Signature`` over its SM3 digest,
    made with the seal's current key, kept as a :class:`SignatureRecord`.

    Refuses a seal that is suspended, revoked, expired or not yet valid (each with its code), and
    an actor without ``seals.use_seal`` in the seal's organization; every refusal is audited.
    """
    ctx = _ctx(ip, user_agent)
    digest = crypto.sm3(bytes(data)) if isinstance(data, bytes | bytearray) else b""
    details = {
        "code": seal.code,
        "document_type": str(document_type)[:50],
        "reference": str(reference)[:200],
        "digest": digest.hex(),
    }
    try:
        with transaction.atomic():
            current = Seal.objects.select_related("organization").get(pk=seal.pk)
            _check(actor, current, USE)
            if (
                not isinstance(data, bytes | bytearray)
                or not _DOCUMENT_TYPE.match(document_type or "")
                or not reference
                or len(reference) > 200
            ):
                raise SealError(SealErrorCode.INVALID_DOCUMENT)
            now = timezone.now().replace(microsecond=0)
            _usable(current, timezone.localdate(now))
            key = SealKey.objects.get(seal=current, retired_at=None)
            private = crypto.open_private_key(key.private_key_sealed)
            tbs = asn1.TBSSign(
                {
                    "version": asn1.SES_VERSION,
                    "eseal": build_eseal(current, key, private),
                    "timeInfo": now,
                    "dataHash": digest,
                    "propertyInfo": property_info(document_type, reference),
                }
            )
            signature = crypto.sign(private, tbs.dump(), der=True)
            structure = asn1.SESSignature(
                {
                    "toSign": tbs,
                    "cert": asn1.public_key_info(bytes.fromhex(key.public_key)),
                    "signatureAlgID": asn1.SM2_SM3_SIGNATURE_OID,
                    "signature": signature,
                }
            ).dump()
            result = SignatureRecord.objects.create(
                seal=current,
                key=key,
                document_digest=digest.hex(),
                document_type=document_type,
                reference=reference,
                signer=actor if getattr(actor, "pk", None) else None,
                signed_at=now,
                signature=signature.hex(),
                structure=structure,
            )
            record(
                actor=actor,
                action=_audit_action(A.USE),
                object_type=_OBJECT_TYPE,
                object_id=current.pk,
                details={**details, "record": result.pk, "key_version": key.version},
                **ctx,
            )
            return result
    except SealError as error:
        _fail(actor=actor, action=A.USE, error=error, object_id=seal.pk, details=details, ctx=ctx)
        raise


# --- Verifying -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    """The verifier's answer: ``code`` is a :class:`VerifyCode`; the rest is what could be read."""

    code: str
    seal_code: str = ""
    key_version: int | None = None
    signed_at: dt.datetime | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.code == VerifyCode.OK

    @property
    def message(self) -> str:
        return str(VerifyCode(self.code).label)


_MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


def verify_signature(
    signed: SignatureRecord | bytes,
    data: bytes | None = None,
    *,
    digest: bytes | None = None,
) -> VerifyResult:
    """Check a sealing: a :class:`SignatureRecord`, or ``SES_Signature`` DER bytes with the
    document (``data``) or its SM3 ``digest``.

    Order: the structure parses (else ``malformed``); its seal and key are Tongban's (else
    ``unknown_key``); the seal's and the document's signatures hold and the document's digest
    matches (else ``tampered``); the seal is not revoked (``seal_revoked``); it was valid at the
    signing time (``seal_expired``). A suspended seal's earlier signatures stay ``ok``. Never
    raises for bad input.
    """
    if isinstance(signed, SignatureRecord):
        structure = bytes(signed.structure)
        if data is None and digest is None:
            digest = bytes.fromhex(signed.document_digest)
    else:
        structure = signed
    if data is not None:
        digest = crypto.sm3(bytes(data))
    if digest is None:
        raise TypeError("verify_signature needs the document or its digest")
    try:
        return _verify(bytes(structure), digest)
    except (*_MALFORMED, crypto.CryptoError) as exc:
        return VerifyResult(VerifyCode.MALFORMED, detail=type(exc).__name__)


def _verify(structure: bytes, digest: bytes) -> VerifyResult:
    try:
        parsed = asn1.load_signature(structure)
    except _MALFORMED:
        return VerifyResult(VerifyCode.MALFORMED, detail="der")
    tbs = parsed["toSign"]
    eseal = tbs["eseal"]
    info = eseal["eSealInfo"]
    header = info["header"]
    if (
        tbs["version"].native != asn1.SES_VERSION
        or header["id"].native != asn1.SES_HEADER_ID
        or header["version"].native != asn1.SES_VERSION
        or parsed["signatureAlgID"].dotted != asn1.SM2_SM3_SIGNATURE_OID
        or eseal["signAlgID"].dotted != asn1.SM2_SM3_SIGNATURE_OID
    ):
        return VerifyResult(VerifyCode.MALFORMED, detail="version or algorithm")
    code = info["esID"].native
    signed_at = tbs["timeInfo"].native
    data_hash = tbs["dataHash"].native
    signature = parsed["signature"].native
    seal_signature = eseal["signedValue"].native
    signer_key = asn1.public_key_from_info(parsed["cert"].native)
    maker_key = asn1.public_key_from_info(eseal["cert"].native)
    if len(data_hash) != crypto.SM3_LENGTH:
        return VerifyResult(VerifyCode.MALFORMED, seal_code=code, detail="data hash")
    try:
        crypto.signature_from_der(signature)
        crypto.signature_from_der(seal_signature)
    except crypto.CryptoError:
        return VerifyResult(VerifyCode.MALFORMED, seal_code=code, detail="signature value")
    signer = crypto.SM2PublicKey.from_bytes(signer_key)
    maker = crypto.SM2PublicKey.from_bytes(maker_key)

    keys = {
        k.public_key: k
        for k in SealKey.objects.filter(
            seal__code=code, public_key__in={signer_key.hex(), maker_key.hex()}
        ).select_related("seal")
    }
    key = keys.get(signer_key.hex())
    if key is None or maker_key.hex() not in keys:
        return VerifyResult(VerifyCode.UNKNOWN_KEY, seal_code=code, signed_at=signed_at)
    found = {"seal_code": code, "key_version": key.version, "signed_at": signed_at}
    to_sign = asn1.SESealToSign(
        {"eSealInfo": info, "cert": eseal["cert"], "signAlgID": eseal["signAlgID"]}
    )
    if not crypto.verify(maker, to_sign.dump(), seal_signature, der=True):
        return VerifyResult(VerifyCode.TAMPERED, detail="seal signature", **found)
    if not crypto.verify(signer, tbs.dump(), signature, der=True):
        return VerifyResult(VerifyCode.TAMPERED, detail="signature", **found)
    if not crypto.constant_time_equal(data_hash, digest):
        return VerifyResult(VerifyCode.TAMPERED, detail="document digest", **found)
    if key.retired_at is not None and signed_at > key.retired_at:
        return VerifyResult(VerifyCode.UNKNOWN_KEY, detail="key retired before signing", **found)
    seal = key.seal
    if seal.status == S.REVOKED:
        return VerifyResult(VerifyCode.SEAL_REVOKED, **found)
    if not seal.is_valid_on(timezone.localdate(signed_at)):
        return VerifyResult(VerifyCode.SEAL_EXPIRED, **found)
    return VerifyResult(VerifyCode.OK, **found)


__all__ = [
    "TRANSITIONS",
    "VerifyResult",
    "build_eseal",
    "create_seal",
    "property_info",
    "reinstate_seal",
    "revoke_seal",
    "rotate_key",
    "seal_document",
    "seal_picture",
    "suspend_seal",
    "verify_signature",
]
