"""Identifiers with check characters: resident ID numbers, credit codes, organization codes, and
e-license identifiers.

Each validator returns the normalized value or raises :class:`IdentifierError` with a machine code
(``reason``) and a Chinese message naming what is wrong: the length, the characters, the date, the
region or the check character. The algorithms are written here rather than taken from
python-stdnum because stdnum's USCC check ignores the inner organization-code check character and
its errors do not say which rule failed; its test values are used in our tests.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _


@dataclass
class IdentifierError(ValueError):
    """A value that is not a valid identifier; ``reason`` is a stable machine code."""

    reason: str
    message: str

    def __str__(self) -> str:
        return str(self.message)


# --- GB 11643-1999 resident ID number (ISO 7064 MOD 11-2) -------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
# Province-level prefixes of GB/T 2260 (the first two digits of every valid address code).
_PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
        "91",
    ]
)


def id_number_check_char(first17: str) -> str:
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_id_number(value: str, *, today: dt.date | None = None) -> str:
    """Validate an 18-character resident ID number; return it upper-cased."""
    number = (value or "").strip().upper()
    if len(number) != 18:
        raise IdentifierError(
            "length", _("公民身份号码应为18位，当前为%(n)d位") % {"n": len(number)}
        )
    if not _ID_PATTERN.match(number):
        raise IdentifierError("characters", _("公民身份号码前17位应为数字，最后一位为数字或X"))
    if number[:2] not in _PROVINCE_PREFIXES:
        raise IdentifierError(
            "region", _("公民身份号码的地址码“%(code)s”不是有效的行政区划") % {"code": number[:6]}
        )
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentifierError(
            "date", _("公民身份号码中的出生日期“%(d)s”不存在") % {"d": number[6:14]}
        ) from None
    # The birth date is compared with today in China, not in the server's time zone.
    today = today or timezone.localdate()
    if born > today or born.year < 1880:
        raise IdentifierError(
            "date", _("公民身份号码中的出生日期“%(d)s”不合理") % {"d": number[6:14]}
        )
    expected = id_number_check_char(number[:17])
    if number[17] != expected:
        raise IdentifierError(
            "check", _("公民身份号码校验码错误：最后一位应为%(c)s") % {"c": expected}
        )
    return number


def id_number_birth_date(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def id_number_gender(number: str) -> str:
    """'male' or 'female', from the parity of the sequence code."""
    return "male" if int(number[16]) % 2 else "female"


# --- GB 11714 organization code (8 characters + check) -----------------------------------------
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_PATTERN = re.compile(r"^[0-9A-Z]{8}[0-9X]$")


def _org_value(ch: str) -> int:
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def organization_code_check_char(first8: str) -> str:
    total = sum(_org_value(ch) * w for ch, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def validate_organization_code(value: str) -> str:
    code = (value or "").strip().upper().replace("-", "")
    if len(code) != 9:
        raise IdentifierError("length", _("组织机构代码应为9位，当前为%(n)d位") % {"n": len(code)})
    if not _ORG_PATTERN.match(code):
        raise IdentifierError("characters", _("组织机构代码只能包含数字和大写字母"))
    expected = organization_code_check_char(code[:8])
    if code[8] != expected:
        raise IdentifierError(
            "check", _("组织机构代码校验码错误：第9位应为%(c)s") % {"c": expected}
        )
    return code


# --- GB 32100-2015 unified social credit code ---------------------------------------------------
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# Registration authority (position 1) and the categories each one allows (position 2).
USCC_AUTHORITIES: dict[str, str] = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 中央编办直接管理机构编制的群众团体, 其他
    "2": "19",  # 外交
    "3": "1239",  # 司法行政 (律师事务所, 公证处, 基层法律服务所, 其他)
    "4": "19",  # 文化
    "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "19",  # 旅游
    "7": "129",  # 宗教
    "8": "19",  # 工会
    "9": "123",  # 工商: 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室
    "N": "1239",  # 农业
    "Y": "1",  # 其他
}


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str, *, check_organization_code: bool = True) -> str:
    """Validate an 18-character unified social credit code; return it upper-cased.

    The organization code inside (positions 9–17) is checked too, unless the caller turns that
    off for legacy data (codes issued without a valid inner check still exist in old records).
    """
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise IdentifierError(
            "length", _("统一社会信用代码应为18位，当前为%(n)d位") % {"n": len(code)}
        )
    bad = sorted({ch for ch in code if ch not in USCC_ALPHABET})
    if bad:
        raise IdentifierError(
            "characters",
            _("统一社会信用代码含有不允许的字符：%(chars)s（不使用I、O、S、V、Z）")
            % {"chars": "".join(bad)},
        )
    authority, category = code[0], code[1]
    if authority not in USCC_AUTHORITIES:
        raise IdentifierError(
            "authority", _("统一社会信用代码第1位登记管理部门码“%(c)s”无效") % {"c": authority}
        )
    if category not in USCC_AUTHORITIES[authority]:
        raise IdentifierError(
            "category", _("统一社会信用代码第2位机构类别码“%(c)s”无效") % {"c": category}
        )
    # 100000 is used by central authorities (e.g. 住建部 11100000000013338W).
    if not code[2:8].isdigit() or code[2:4] not in _PROVINCE_PREFIXES | {"10", "00"}:
        raise IdentifierError(
            "region", _("统一社会信用代码第3–8位行政区划码“%(c)s”无效") % {"c": code[2:8]}
        )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise IdentifierError(
            "check", _("统一社会信用代码校验码错误：第18位应为%(c)s") % {"c": expected}
        )
    if check_organization_code:
        inner = code[8:17]
        if _ORG_PATTERN.match(inner) and inner[8] != organization_code_check_char(inner[:8]):
            raise IdentifierError(
                "organization_code", _("统一社会信用代码中的组织机构代码（第9–17位）校验位错误")
            )
    return code


# --- GB/T 36904 e-license identifier (ISO/IEC 7064 MOD 37,36 hybrid) --------------------------
LICENSE_ROOT = "1.2.156.3005.2"
_MOD36_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def license_check_char(body: str) -> str:
    """Check character of ISO/IEC 7064 MOD 37,36 over ``body`` (0-9A-Z, no dots)."""
    p = 36
    for ch in body:
        value = _MOD36_ALPHABET.index(ch)
        s = (p + value) % 36 or 36
        p = (2 * s) % 37
    return _MOD36_ALPHABET[(37 - p) % 36]


def validate_license_identifier(value: str) -> str:
    ident = (value or "").strip().upper()
    prefix = LICENSE_ROOT + "."
    if not ident.startswith(prefix):
        raise IdentifierError("root", _("电子证照标识应以%(root)s开头") % {"root": LICENSE_ROOT})
    parts = ident[len(prefix) :].split(".")
    if len(parts) != 5:
        raise IdentifierError(
            "segments", _("电子证照标识应由证照类型、颁发机构、流水号、版本号和校验位五段组成")
        )
    type_code, issuer, serial, version, check = parts
    if not re.fullmatch(r"[0-9A-Z]{18}\d{3}", type_code):
        raise IdentifierError("type_code", _("证照类型代码应为定义机构统一社会信用代码加3位顺序号"))
    if not re.fullmatch(r"[0-9A-Z]{6,18}", issuer):
        raise IdentifierError("issuer", _("颁发机构代码应为统一社会信用代码或6位行政区划代码"))
    if not re.fullmatch(r"[0-9A-Z]{1,64}", serial):
        raise IdentifierError("serial", _("流水号只能包含数字和大写字母"))
    if not re.fullmatch(r"\d{3}", version):
        raise IdentifierError("version", _("版本号应为3位数字"))
    if len(check) != 1:
        raise IdentifierError("check", _("校验位应为1位"))
    expected = license_check_char(type_code + issuer + serial + version)
    if check != expected:
        raise IdentifierError("check", _("电子证照标识校验位错误：应为%(c)s") % {"c": expected})
    return ident


# --- Django field validators -------------------------------------------------------------------
@deconstructible
class IdentifierValidator:
    """A Django validator around one of the functions above (kept by name for migrations)."""

    def __init__(self, kind: str):
        self.kind = kind

    def __call__(self, value: str) -> None:
        from django.core.exceptions import ValidationError

        try:
            _VALIDATORS[self.kind](value)
        except IdentifierError as exc:
            raise ValidationError(exc.message, code=exc.reason) from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdentifierValidator) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(self.kind)


_VALIDATORS = {
    "id_number": validate_id_number,
    "uscc": validate_uscc,
    "organization_code": validate_organization_code,
    "license_identifier": validate_license_identifier,
}
id_number_validator = IdentifierValidator("id_number")
uscc_validator = IdentifierValidator("uscc")
organization_code_validator = IdentifierValidator("organization_code")
license_identifier_validator = IdentifierValidator("license_identifier")
