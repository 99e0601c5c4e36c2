"""The GB/T 38540-2020 (安全电子签章密码技术规范) data structures, version 4, in DER.

Encoded with ``asn1crypto`` (pure Python, maintained, strict DER). Field names follow the
standard's ASN.1 so that a reader can put the two side by side (STANDARDS.md §3.1; ofdrw's
``ses/v4`` classes and the 38540 verifier of Chingliu were read as references). Clause numbers
below are as we read the standard's layout (电子印章数据 then 电子签章数据) and are not verified
against the printed text.

Tongban's choices where the standard leaves room:

* **Certificates.** Tongban issues no X.509 certificates yet. Every place that holds a
  certificate (``SESeal.cert`` — the maker's certificate, ``SES_ESPropertyInfo.certList`` — the
  signer's certificates, ``SES_Signature.cert`` — the signer's certificate) holds a *self-issued
  record* instead: the DER ``SubjectPublicKeyInfo`` of the seal key's SM2 public key
  (:class:`SM2PublicKeyInfo`, id-ecPublicKey with the SM2 curve, as OpenSSL writes it), with
  ``certListType`` 1. The verifier trusts a key because Tongban's own key table holds it, not
  because of a chain. Real certificates would replace the records in :func:`public_key_info`.
* **Maker (制章人).** The seal is made by the platform on the seal's own key: ``SESeal.signedValue``
  is the seal key's SM2 signature over the DER of ``SEQUENCE { eSealInfo, cert, signAlgID }``.
* **Signatures.** SM2 with SM3 (OID 1.2.156.10197.1.501), the default user ID
  ``1234567812345678`` (GM/T 0009), the value in the BIT STRING is the DER
  ``SEQUENCE { INTEGER r, INTEGER s }``. ``TBS_Sign.dataHash`` is SM3 of the signed document.
"""

from __future__ import annotations

from asn1crypto import core

SES_HEADER_ID = "ES"
SES_VERSION = 4
VENDOR_ID = "tongban"

SM2_SM3_SIGNATURE_OID = "1.2.156.10197.1.501"
SM3_OID = "1.2.156.10197.1.401"
EC_PUBLIC_KEY_OID = "1.2.840.10045.2.1"
SM2_CURVE_OID = "1.2.156.10197.1.301"

CERT_LIST_CERTIFICATES = 1  # certList holds certificates (here: self-issued key records)
CERT_LIST_DIGESTS = 2


# --- A public key as a "certificate" (RFC 5480 SubjectPublicKeyInfo) -----------------------------


class KeyAlgorithm(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.ObjectIdentifier)]


class SM2PublicKeyInfo(core.Sequence):
    """SubjectPublicKeyInfo of an SM2 key: id-ecPublicKey, SM2 curve, BIT STRING 04||x||y."""

    _fields = [("algorithm", KeyAlgorithm), ("subjectPublicKey", core.OctetBitString)]


def public_key_info(public_key: bytes) -> bytes:
    """DER SubjectPublicKeyInfo of an uncompressed SM2 public key (65 bytes ``04||x||y``)."""
    return SM2PublicKeyInfo(
        {
            "algorithm": {"algorithm": EC_PUBLIC_KEY_OID, "parameters": SM2_CURVE_OID},
            "subjectPublicKey": public_key,
        }
    ).dump()


def public_key_from_info(der: bytes) -> bytes:
    """The ``04||x||y`` bytes of a record made by :func:`public_key_info`; ``ValueError`` else."""
    info = SM2PublicKeyInfo.load(der, strict=True)
    algorithm = info["algorithm"]
    if (
        algorithm["algorithm"].dotted != EC_PUBLIC_KEY_OID
        or algorithm["parameters"].dotted != SM2_CURVE_OID
    ):
        raise ValueError("not an SM2 public key")
    return bytes(info["subjectPublicKey"].native)


# --- Extensions (ExtensionDatas, shared by SES_SealInfo and TBS_Sign) ----------------------------


class ExtData(core.Sequence):
    _fields = [
        ("extnID", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extnValue", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):
    _child_spec = ExtData


# --- The seal (电子印章数据), GB/T 38540-2020 clause 7 ------------------------------------------


class SESHeader(core.Sequence):
    """SES_Header (印章头, clause 7.2): ID "ES", version 4, vendor ID."""

    _fields = [("id", core.IA5String), ("version", core.Integer), ("vid", core.IA5String)]


class CertInfoList(core.SequenceOf):
    """SES_CertList with certListType 1: SEQUENCE OF OCTET STRING (certificates)."""

    _child_spec = core.OctetString


class SESESPropertyInfo(core.Sequence):
    """SES_ESPropertyInfo (印章属性信息, clause 7.3); dates are GeneralizedTime from v4 on."""

    _fields = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("certListType", core.Integer),
        ("certList", CertInfoList),
        ("createDate", core.GeneralizedTime),
        ("validStart", core.GeneralizedTime),
        ("validEnd", core.GeneralizedTime),
    ]


class SESESPictrueInfo(core.Sequence):
    """SES_ESPictrueInfo (印章图像数据, clause 7.4; the standard spells it "Pictrue").

    ``type`` is "SVG", "PNG", "GIF", "BMP" or "JPG"; width and height are in millimetres.
    """

    _fields = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class SESSealInfo(core.Sequence):
    """SES_SealInfo (印章信息, clause 7.1): header, esID (seal code), property, picture."""

    _fields = [
        ("header", SESHeader),
        ("esID", core.IA5String),
        ("property", SESESPropertyInfo),
        ("picture", SESESPictrueInfo),
        ("extDatas", ExtensionDatas, {"optional": True}),
    ]


class SESealToSign(core.Sequence):
    """What the maker signs: ``SEQUENCE { eSealInfo, cert, signAlgID }`` (clause 7.1)."""

    _fields = [
        ("eSealInfo", SESSealInfo),
        ("cert", core.OctetString),
        ("signAlgID", core.ObjectIdentifier),
    ]


class SESeal(core.Sequence):
    """SESeal (电子印章数据, clause 7.1): seal info, maker's certificate, algorithm, signature."""

    _fields = [
        ("eSealInfo", SESSealInfo),
        ("cert", core.OctetString),
        ("signAlgID", core.ObjectIdentifier),
        ("signedValue", core.OctetBitString),
    ]


# --- The signature (电子签章数据), GB/T 38540-2020 clause 8 -------------------------------------


class TBSSign(core.Sequence):
    """TBS_Sign (待电子签章数据, clause 8.2): version 4, the seal, time, SM3 of the document,
    the document's property (IA5String), extensions."""

    _fields = [
        ("version", core.Integer),
        ("eseal", SESeal),
        ("timeInfo", core.GeneralizedTime),
        ("dataHash", core.OctetBitString),
        ("propertyInfo", core.IA5String),
        ("extDatas", ExtensionDatas, {"optional": True}),
    ]


class SESSignature(core.Sequence):
    """SES_Signature (电子签章数据, clause 8.1): what was signed, the signer's certificate, the
    algorithm, the signature, an optional time stamp ([0] EXPLICIT)."""

    _fields = [
        ("toSign", TBSSign),
        ("cert", core.OctetString),
        ("signatureAlgID", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("timeStamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]


def load_signature(der: bytes) -> SESSignature:
    """Parse and fully decode an SES_Signature; any defect raises ``ValueError``.

    asn1crypto parses lazily, so reading ``.native`` here forces every nested value to decode;
    trailing bytes and non-DER encodings are refused (``strict=True``, and the re-encoding must
    be byte-identical).
    """
    try:
        parsed = SESSignature.load(bytes(der), strict=True)
        parsed.native  # noqa: B018 - decode everything now, not later in the verifier
        if parsed.dump(force=True) != bytes(der):
            raise ValueError("not DER")
    except ValueError:
        raise
    except (TypeError, KeyError, IndexError, OverflowError, AttributeError) as exc:
        raise ValueError(f"malformed structure: {type(exc).__name__}") from None
    return parsed


__all__ = [
    "CERT_LIST_CERTIFICATES",
    "SES_HEADER_ID",
    "SES_VERSION",
    "SM2_SM3_SIGNATURE_OID",
    "VENDOR_ID",
    "CertInfoList",
    "ExtData",
    "ExtensionDatas",
    "SESESPictrueInfo",
    "SESESPropertyInfo",
    "SESHeader",
    "SESSealInfo",
    "SESSignature",
    "SESeal",
    "SESealToSign",
    "SM2PublicKeyInfo",
    "TBSSign",
    "load_signature",
    "public_key_from_info",
    "public_key_info",
]
