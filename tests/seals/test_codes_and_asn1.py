"""The seal code format and the GB/T 38540 structures (DER round trips)."""

import datetime as dt
import os

import pytest
from asn1crypto import core
from django.core.exceptions import ValidationError

from tests.core.factories import make_uscc
from tongban.seals import asn1
from tongban.seals.codes import (
    SealType,
    parse_seal_code,
    seal_code,
    seal_size_mm,
    validate_seal_code,
)

UTC = dt.UTC


def test_seal_code_is_uscc_type_serial():
    uscc = make_uscc()
    code = seal_code(uscc, SealType.ADMIN_APPROVAL, 3)
    assert code == f"{uscc}0203"
    assert len(code) == 22
    assert parse_seal_code(code) == (uscc, SealType.ADMIN_APPROVAL, 3)
    validate_seal_code(code)


@pytest.mark.parametrize(
    "bad",
    ["", "123", "X" * 22, "{uscc}9901", "{uscc}0200", "{uscc}02011", "{bad}0201"],
)
def test_bad_seal_codes_are_refused(bad):
    uscc = make_uscc()
    broken = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    with pytest.raises(ValidationError):
        validate_seal_code(bad.format(uscc=uscc, bad=broken))


def test_seal_serial_bounds():
    with pytest.raises(ValueError, match="1–99"):
        seal_code(make_uscc(), SealType.OFFICIAL, 100)


def test_sizes():
    assert seal_size_mm(SealType.OFFICIAL) == 42
    assert seal_size_mm(SealType.CONTRACT) == 40


def _time(*args):
    return dt.datetime(*args, tzinfo=UTC)


def _eseal() -> asn1.SESeal:
    cert = asn1.public_key_info(b"\x04" + os.urandom(64))
    info = asn1.SESSealInfo(
        {
            "header": {"id": "ES", "version": 4, "vid": "tongban"},
            "esID": "11150600000000011X0201",
            "property": {
                "type": 2,
                "name": "东胜区行政审批和政务服务局行政审批专用章",
                "certListType": 1,
                "certList": [cert],
                "createDate": _time(2026, 1, 5, 8, 0, 0),
                "validStart": _time(2026, 1, 5, 0, 0, 0),
                "validEnd": _time(2029, 1, 4, 15, 59, 59),
            },
            "picture": {"type": "SVG", "data": b"<svg/>", "width": 40, "height": 40},
        }
    )
    return asn1.SESeal(
        {
            "eSealInfo": info,
            "cert": cert,
            "signAlgID": asn1.SM2_SM3_SIGNATURE_OID,
            "signedValue": b"\x30\x06\x02\x01\x01\x02\x01\x01",
        }
    )


def test_seal_round_trip():
    eseal = _eseal()
    der = eseal.dump()
    again = asn1.SESeal.load(der, strict=True)
    assert again.native == eseal.native
    assert again.dump(force=True) == der
    assert der[0] == 0x30  # a SEQUENCE
    prop = again["eSealInfo"]["property"]
    assert prop["name"].native == "东胜区行政审批和政务服务局行政审批专用章"
    assert isinstance(prop["validStart"], core.GeneralizedTime)
    assert prop["validEnd"].native == _time(2029, 1, 4, 15, 59, 59)
    assert again["eSealInfo"]["header"].native == {"id": "ES", "version": 4, "vid": "tongban"}


def test_signature_round_trip_with_and_without_time_stamp():
    tbs = asn1.TBSSign(
        {
            "version": 4,
            "eseal": _eseal(),
            "timeInfo": _time(2026, 3, 1, 2, 3, 4),
            "dataHash": bytes(range(32)),
            "propertyInfo": "license:ABC%20123",
        }
    )
    fields = {
        "toSign": tbs,
        "cert": asn1.public_key_info(b"\x04" + os.urandom(64)),
        "signatureAlgID": asn1.SM2_SM3_SIGNATURE_OID,
        "signature": b"\x30\x06\x02\x01\x01\x02\x01\x01",
    }
    for extra in ({}, {"timeStamp": b"ts"}):
        signature = asn1.SESSignature({**fields, **extra})
        der = signature.dump()
        again = asn1.load_signature(der)
        assert again.native == signature.native
        assert again["toSign"]["dataHash"].native == bytes(range(32))
        assert again["toSign"].dump() == tbs.dump()


def test_public_key_record_is_the_subject_public_key_info_openssl_writes():
    public = b"\x04" + bytes(range(64))
    der = asn1.public_key_info(public)
    # SEQUENCE { SEQUENCE { id-ecPublicKey, sm2 curve }, BIT STRING 04||x||y } (tests/core).
    assert der.startswith(bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200"))
    assert asn1.public_key_from_info(der) == public


def test_load_signature_refuses_garbage_and_trailing_bytes():
    with pytest.raises(ValueError):  # noqa: PT011 - asn1crypto's messages vary
        asn1.load_signature(b"\x30\x03\x02\x01")
    good = asn1.SESSignature(
        {
            "toSign": {
                "version": 4,
                "eseal": _eseal(),
                "timeInfo": _time(2026, 3, 1, 2, 3, 4),
                "dataHash": bytes(32),
                "propertyInfo": "x:y",
            },
            "cert": b"c",
            "signatureAlgID": asn1.SM2_SM3_SIGNATURE_OID,
            "signature": b"s",
        }
    ).dump()
    with pytest.raises(ValueError):  # noqa: PT011 - asn1crypto's messages vary
        asn1.load_signature(good + b"\x00")
