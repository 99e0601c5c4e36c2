"""Seal types and the seal code (印章编码), defined here and nowhere else.

Seal code: ``<organization USCC, 18> <seal-type number, 2 digits> <serial, 2 digits>``, 22
characters, for example ``11150600000000011X`` + ``02`` + ``01``. It is the ``esID`` of the
GB/T 38540 seal structure (an IA5String, so it must stay ASCII: it does). The serial counts
the seals of one type of one organization, from 01 to 99, and is never reused.

Seal-type numbers: GB/T 38540 carries the seal type as an INTEGER but the values are not
confirmed (STANDARDS.md §3.1: "treat as configurable"), so they live in :data:`TYPE_NUMBERS`
only; changing a number changes the code of *new* seals, never an issued one.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core.identifiers import IdentifierError, validate_uscc


class SealType(models.TextChoices):
    OFFICIAL = "official", _("公章")
    ADMIN_APPROVAL = "admin_approval", _("行政审批专用章")
    BUSINESS = "business", _("业务专用章")
    LICENSE = "license", _("电子证照专用章")
    CONTRACT = "contract", _("合同专用章")
    FINANCE = "finance", _("财务专用章")
    INVOICE = "invoice", _("发票专用章")


TYPE_NUMBERS: dict[str, int] = {
    SealType.OFFICIAL: 1,
    SealType.ADMIN_APPROVAL: 2,
    SealType.BUSINESS: 3,
    SealType.LICENSE: 4,
    SealType.CONTRACT: 5,
    SealType.FINANCE: 6,
    SealType.INVOICE: 7,
}
_TYPE_BY_NUMBER = {number: seal_type for seal_type, number in TYPE_NUMBERS.items()}

SEAL_CODE_LENGTH = 22
MAX_SERIAL = 99
_CODE = re.compile(r"^(?P<uscc>[0-9A-Z]{18})(?P<type>\d{2})(?P<serial>\d{2})$")


def seal_code(uscc: str, seal_type: str, serial: int) -> str:
    if not 1 <= serial <= MAX_SERIAL:
        raise ValueError("seal serial must be 1–99")
    return f"{uscc}{TYPE_NUMBERS[seal_type]:02d}{serial:02d}"


def code_prefix(uscc: str, seal_type: str) -> str:
    """The part of the code shared by the seals of one type of one organization."""
    return f"{uscc}{TYPE_NUMBERS[seal_type]:02d}"


def parse_seal_code(code: str) -> tuple[str, str, int]:
    """``(uscc, seal type, serial)`` of a valid code; ``ValueError`` otherwise."""
    match = _CODE.match(code or "")
    if not match:
        raise ValueError("bad seal code")
    try:
        validate_uscc(match["uscc"])
    except IdentifierError:
        raise ValueError("bad seal code: credit code") from None
    seal_type = _TYPE_BY_NUMBER.get(int(match["type"]))
    serial = int(match["serial"])
    if seal_type is None or serial < 1:
        raise ValueError("bad seal code: type or serial")
    return match["uscc"], seal_type, serial


def validate_seal_code(value: str) -> None:
    try:
        parse_seal_code(value)
    except ValueError:
        raise ValidationError(_("印章编码无效"), code="invalid_seal_code") from None


def seal_size_mm(seal_type: str) -> int:
    """Diameter: 42 mm for an organization's 公章, 40 mm for the special-purpose seals."""
    return 42 if seal_type == SealType.OFFICIAL else 40
