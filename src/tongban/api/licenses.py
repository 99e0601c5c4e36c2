"""E-license verification for anyone, without a token (核验):

* ``POST /api/v1/licenses/verify`` with the QR payload → the result code, the license's status
  and its data with personal data masked;
* ``GET /api/v1/licenses/keys`` → the platform's and the seals' SM2 public keys, with validity;
* ``GET /api/v1/licenses/revocations`` → the signed list of suspended, revoked and cancelled
  licenses, for verifiers that check offline.

A body that is not JSON answers 400 ``invalid_json``; JSON without a string ``payload`` answers
422 ``invalid_parameter``; a payload that is not a token at all answers 400 ``invalid_token``.
Every other answer is 200 with ``result``.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from tongban.core.audit import request_context
from tongban.licenses import keys
from tongban.licenses.errors import LicenseVerifyCode
from tongban.licenses.presentation import MAX_PAYLOAD_LENGTH, verify_presentation

router = Router(tags=["licenses"])


class ErrorOut(Schema):
    code: str
    message: str
    field: str = ""


class VerifyIn(Schema):
    payload: str = Field(
        max_length=4 * MAX_PAYLOAD_LENGTH, description="亮证二维码内容（base64url 令牌）"
    )


class FieldOut(Schema):
    key: str
    label: str
    value: str


class LicenseOut(Schema):
    identifier: str = Field(description="电子证照标识（GB/T 36904）")
    type_code: str
    type_name: str
    version: str
    holder_kind: str = Field(description="person 自然人 / company 法人和其他组织")
    holder_name: str = Field(description="自然人姓名打码")
    holder_code: str = Field(description="身份证号打码；企业为统一社会信用代码")
    holder_code_type: str = Field(description="111 公民身份号码 / 001 统一社会信用代码")
    issuer_name: str
    issuer_code: str
    issued_at: str
    valid_from: str
    valid_to: str | None = Field(description="空为长期有效")
    status: str
    status_code: str = Field(description="01 有效 02 暂扣 03 撤销 04 注销 05 失效")
    status_label: str
    fields: list[FieldOut]


class VerifyOut(Schema):
    result: str = Field(description=" / ".join(LicenseVerifyCode.values))
    valid: bool
    message: str
    status: str | None = None
    status_code: str | None = None
    license: LicenseOut | None = None


class PlatformKeyOut(Schema):
    version: int
    public_key: str = Field(description="SM2 公钥 04||x||y 十六进制")
    algorithm: str
    uid: str
    created_at: str
    retired_at: str | None


class SealKeyOut(Schema):
    seal_code: str
    seal_name: str
    organization: str
    organization_uscc: str
    seal_status: str
    valid_from: str
    valid_to: str
    key_version: int
    public_key: str
    algorithm: str
    uid: str
    created_at: str
    retired_at: str | None


class KeysOut(Schema):
    platform_keys: list[PlatformKeyOut]
    seal_keys: list[SealKeyOut]


class RevocationEntryOut(Schema):
    identifier: str
    status: str
    status_code: str
    since: str | None


class RevocationBodyOut(Schema):
    format: str
    issued_at: str
    key_version: int
    entries: list[RevocationEntryOut]


class RevocationsOut(Schema):
    list: RevocationBodyOut = Field(
        description="被签名的内容：按键名排序、无空格的 UTF-8 JSON（非 ASCII 字符不转义）"
    )
    signature: str = Field(description="SM2 签名 r||s 十六进制，用户标识为 uid")
    algorithm: str
    uid: str


@router.post(
    "/licenses/verify",
    response={200: VerifyOut, 400: ErrorOut, 422: ErrorOut},
    auth=None,
    summary="核验亮证二维码",
    description=(
        "无需登录。payload 为持证人亮证二维码的内容。result：valid 有效；invalid_token 二维码无效"
        "或签名不符；token_expired 二维码已过期；tampered 证照数据与签章不符；seal_invalid 签发印章"
        "无效；revoked 已撤销；suspended 已暂扣；cancelled 已注销；expired 已超过有效期。"
        "证照数据中的个人信息已打码。每次核验均记入审计日志。"
    ),
)
def verify(request: HttpRequest, body: VerifyIn):
    result = verify_presentation(body.payload, **request_context(request))
    if result.malformed:
        return Status(400, {"code": result.code, "message": result.message, "field": "payload"})
    view = result.license
    return Status(
        200,
        {
            "result": result.code,
            "valid": result.ok,
            "message": result.message,
            "status": view["status"] if view else None,
            "status_code": view["status_code"] if view else None,
            "license": view,
        },
    )


@router.get(
    "/licenses/keys",
    response=KeysOut,
    auth=None,
    summary="证照核验公钥",
    description="平台签名公钥（亮证二维码与撤销列表）及各电子印章的公钥和有效期，供离线核验。",
)
def public_keys(request: HttpRequest):
    return keys.public_keys()


@router.get(
    "/licenses/revocations",
    response=RevocationsOut,
    auth=None,
    summary="证照撤销列表（已签名）",
    description=(
        "暂扣、撤销、注销的证照标识，由平台密钥签名。核验方将 list 按键名排序、无空格序列化为"
        " UTF-8 JSON 后，用 /licenses/keys 中对应版本的平台公钥验证 signature。"
    ),
)
def revocations(request: HttpRequest):
    return keys.revocation_list()
