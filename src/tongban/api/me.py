"""Who is calling: ``GET /api/v1/me`` (the person behind a token and the party they act for) and
``GET /api/v1/client`` (the department system behind any token)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from tongban.accounts import oidc
from tongban.accounts.companies import check_agent_scope
from tongban.accounts.errors import AccountError, AccountErrorCode
from tongban.accounts.models import VerificationLevel
from tongban.api.auth import BearerToken, TokenContext
from tongban.catalog.models import Item
from tongban.core.audit import request_context

router = Router(tags=["identity"])


class ErrorOut(Schema):
    code: str
    message: str
    field: str = ""


class PersonOut(Schema):
    sub: str
    name: str
    id_number: str  # masked: 150602********123X
    phone: str  # masked: 138****5678
    level: int
    level_label: str


class PartyOut(Schema):
    type: str  # "person" or "company"
    name: str
    uscc: str | None = None


class ClientRefOut(Schema):
    client_id: str
    name: str


class MeOut(Schema):
    person: PersonOut
    acting_for: PartyOut
    client: ClientRefOut
    scopes: list[str]


class OrganizationOut(Schema):
    name: str
    uscc: str


class ClientOut(Schema):
    client_id: str
    name: str
    organization: OrganizationOut | None
    scopes: list[str]
    person_token: bool


_ERRORS = {401: ErrorOut, 403: ErrorOut}


@router.get(
    "/me",
    response={200: MeOut, **_ERRORS},
    auth=BearerToken(scopes=[oidc.PROFILE_SCOPE], person=True),
    summary="当前令牌代表的个人及其办事身份",
    description=(
        "需要个人授权的访问令牌（授权码流程，scope 含 profile）。身份证号和手机号均为打码值。"
        "acting_for 为当前办事身份：企业（名称与统一社会信用代码）或本人。"
        "部门系统自身的令牌（客户端凭证）返回 403 person_required。"
    ),
)
def me(request: HttpRequest):
    context: TokenContext = request.auth
    user = context.user
    company = oidc.acting_company_of(user)
    if company is not None:
        party = {"type": "company", "name": company.name, "uscc": company.uscc}
    else:
        party = {"type": "person", "name": user.real_name or user.display_name, "uscc": None}
    return {
        "person": {
            "sub": oidc.subject_for(user),
            "name": user.real_name or "",
            "id_number": user.masked_id_number,
            "phone": user.masked_phone,
            "level": int(user.level),
            "level_label": str(VerificationLevel(user.level).label),
        },
        "acting_for": party,
        "client": {"client_id": context.application.client_id, "name": context.application.name},
        "scopes": sorted(context.scopes),
    }


@router.get(
    "/client",
    response={200: ClientOut, **_ERRORS},
    auth=BearerToken(),
    summary="当前令牌所属的部门系统",
    description="任何有效的访问令牌都可调用，用于部门系统自检接入配置：客户端、责任单位和已授予的范围。",
)
def client(request: HttpRequest):
    context: TokenContext = request.auth
    policy = oidc.policy_for(context.application)
    organization = policy.organization if policy is not None else None
    return {
        "client_id": context.application.client_id,
        "name": context.application.name,
        "organization": (
            {"name": organization.name, "uscc": organization.uscc} if organization else None
        ),
        "scopes": sorted(context.scopes),
        "person_token": context.is_person,
    }


class ItemPermissionOut(Schema):
    item_code: str
    item_name: str
    acting_for: PartyOut
    basis: str  # "self", "legal_representative" or "agent_grant"
    grant_expires_at: str | None = None


@router.get(
    "/me/items/{code}",
    response={200: ItemPermissionOut, 404: ErrorOut, **_ERRORS},
    auth=BearerToken(scopes=[oidc.PROFILE_SCOPE], person=True),
    summary="当前办事身份能否办理某事项",
    description=(
        "部门系统在受理单点登录进来的用户前调用：以企业身份办事时，只有法定代表人和在授权范围、"
        "有效期内的经办人可以办理，否则返回 403（not_agent、grant_expired 或 out_of_scope）"
        "并记入审计记录。以本人身份办事时总是允许。事项编码不存在时返回 404。"
    ),
)
def item_permission(request: HttpRequest, code: str):
    context: TokenContext = request.auth
    user = context.user
    item = Item.objects.filter(code=code.strip()).first()
    if item is None:
        return 404, AccountError(AccountErrorCode.NOT_FOUND, field="code").as_dict()
    company = oidc.acting_company_of(user)
    if company is None:
        party = {"type": "person", "name": user.real_name or user.display_name, "uscc": None}
        return {
            "item_code": item.code,
            "item_name": item.name,
            "acting_for": party,
            "basis": "self",
        }
    try:
        grant = check_agent_scope(
            actor=user, company=company, item=item, **request_context(request)
        )
    except AccountError as exc:
        return 403, exc.as_dict()
    return {
        "item_code": item.code,
        "item_name": item.name,
        "acting_for": {"type": "company", "name": company.name, "uscc": company.uscc},
        "basis": "agent_grant" if grant is not None else "legal_representative",
        "grant_expires_at": grant.expires_at.isoformat() if grant is not None else None,
    }
