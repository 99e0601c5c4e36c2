"""The platform's signing key and what the platform publishes for offline verifiers.

* :func:`current_key` — the platform's SM2 key (one row of :class:`PlatformKey`, made on first use;
  the private key is stored SM4-encrypted under the data key ring, as seal keys are). It signs
  presentation tokens (:mod:`tongban.licenses.presentation`) and the revocation list.
  :func:`rotate_key` retires it and makes the next version; retired public keys stay published,
  so tokens and lists signed before still verify.
* :func:`public_keys` — the platform keys and every seal key, with their validity.
* :func:`revocation_list` — the identifiers of suspended, revoked and cancelled licenses, signed
  with the platform key. The signature (SM2 with the default user ID ``1234567812345678``, raw
  ``r || s`` in hex) is over :func:`canonical_json` of the ``list`` object: UTF-8 JSON, keys
  sorted, separators ``,`` and ``:``, non-ASCII characters as they are. A verifier re-serializes
  the ``list`` it received that way and checks the signature with the published key.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from tongban.core import crypto
from tongban.licenses.models import LISTED_STATES, STATUS_CODES, License, PlatformKey
from tongban.seals.models import SealKey

SIGNATURE_ALGORITHM = "SM2-SM3"
SIGNER_UID = crypto.DEFAULT_UID.decode()
REVOCATION_LIST_FORMAT = "tongban-license-revocations/1"

# Opened private keys by public key (a public key is never reused, so this cannot go stale).
_opened: dict[str, crypto.SM2PrivateKey] = {}


def _utc(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _new_key(version: int) -> PlatformKey:
    private, public = crypto.generate_keypair()
    return PlatformKey.objects.create(
        version=version,
        public_key=public.to_bytes().hex(),
        private_key_sealed=crypto.seal_private_key(private),
    )


def current_key() -> PlatformKey:
    """The current platform key, made (version 1) the first time it is needed."""
    key = PlatformKey.objects.filter(retired_at=None).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _new_key(1)
    except IntegrityError:  # another process made it first
        return PlatformKey.objects.get(retired_at=None)


def rotate_key() -> PlatformKey:
    """Retire the current platform key and make the next version."""
    with transaction.atomic():
        PlatformKey.objects.select_for_update().filter(retired_at=None).update(
            retired_at=timezone.now()
        )
        version = (PlatformKey.objects.aggregate(v=Max("version"))["v"] or 0) + 1
        return _new_key(version)


def private_key(key: PlatformKey) -> crypto.SM2PrivateKey:
    opened = _opened.get(key.public_key)
    if opened is None:
        opened = crypto.open_private_key(key.private_key_sealed)
        _opened[key.public_key] = opened
    return opened


def public_key_of(version: int) -> crypto.SM2PublicKey | None:
    public = PlatformKey.objects.filter(version=version).values_list("public_key", flat=True)
    found = public.first()
    return crypto.SM2PublicKey.from_hex(found) if found else None


def public_keys() -> dict[str, Any]:
    """Every platform key and every seal key, with the dates between which each may be used."""
    current_key()
    platform = [
        {
            "version": key.version,
            "public_key": key.public_key,
            "algorithm": SIGNATURE_ALGORITHM,
            "uid": SIGNER_UID,
            "created_at": _utc(key.created_at),
            "retired_at": _utc(key.retired_at),
        }
        for key in PlatformKey.objects.order_by("version")
    ]
    seals = [
        {
            "seal_code": key.seal.code,
            "seal_name": key.seal.name,
            "organization": key.seal.organization.name,
            "organization_uscc": key.seal.organization.uscc,
            "seal_status": key.seal.status,
            "valid_from": key.seal.valid_from.isoformat(),
            "valid_to": key.seal.valid_to.isoformat(),
            "key_version": key.version,
            "public_key": key.public_key,
            "algorithm": SIGNATURE_ALGORITHM,
            "uid": SIGNER_UID,
            "created_at": _utc(key.created_at),
            "retired_at": _utc(key.retired_at),
        }
        for key in SealKey.objects.select_related("seal__organization").order_by(
            "seal__code", "version"
        )
    ]
    return {"platform_keys": platform, "seal_keys": seals}


def revocation_list(now: dt.datetime | None = None) -> dict[str, Any]:
    """The signed list of licenses that must not be accepted although their dates are good."""
    now = now or timezone.now()
    rows = (
        License.objects.filter(status__in=sorted(LISTED_STATES))
        .order_by("identifier")
        .values_list("identifier", "status", "status_changed_at")
    )
    key = current_key()
    body = {
        "format": REVOCATION_LIST_FORMAT,
        "issued_at": _utc(now),
        "key_version": key.version,
        "entries": [
            {
                "identifier": identifier,
                "status": status,
                "status_code": STATUS_CODES[status],
                "since": _utc(since),
            }
            for identifier, status, since in rows
        ],
    }
    signature = crypto.sign(private_key(key), canonical_json(body))
    return {
        "list": body,
        "signature": signature.hex(),
        "algorithm": SIGNATURE_ALGORITHM,
        "uid": SIGNER_UID,
    }


__all__ = [
    "SIGNATURE_ALGORITHM",
    "canonical_json",
    "current_key",
    "private_key",
    "public_key_of",
    "public_keys",
    "revocation_list",
    "rotate_key",
]
