"""Case endpoints (办件): the public progress query and the department-system interface.

Public, without a token:

* ``GET /api/v1/cases/progress?number=…&check=…`` (办件进度查询): status, item, organization,
  dates, the clock and the steps with their dates; nothing about the applicant. ``check`` is the
  last four digits of the applicant's mobile number or the query code of the acknowledgement. A
  wrong check answers exactly like an unknown number (404); queries are limited per address
  (``cases.queries.progress_allowed``, shared with the portal's page): 429 ``rate_limited``.

Department systems, with OAuth2 client-credentials tokens (docs/integration.md):

* ``GET /api/v1/cases/department/cases/{number}`` (scope ``cases:read``): the case as its
  department system sees it (``cases.effects.case_payload``, the ``case`` of every push); each
  read is audited as a read of the applicant's personal data;
* ``POST /api/v1/cases/department/cases/{number}/actions/{action}`` (scope ``cases:handle``):
  accept, reject, request_correction, approve, deny, conclude, deliver. Each calls the one
  service of :mod:`tongban.cases.services` with ``department=`` the case's organization.

A client acts for the organizations whose enabled
:class:`~tongban.cases.models.DepartmentEndpoint` names its ``client_id``; a case of any other
organization reads as not found. Domain errors answer ``{code, message, field, errors}`` with
the status of :func:`http_status`. What the platform pushes to department systems (the outbox,
``cases.tasks``) is described under ``webhooks`` in the OpenAPI document (:data:`OPENAPI_EXTRA`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any, Literal

from django.core.files.base import ContentFile
from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import Body, Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from tongban.accounts import oidc
from tongban.api.auth import BearerToken, TokenContext
from tongban.cases import clock, effects, queries, services
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import (
    Case,
    CaseAction,
    CaseMaterial,
    CaseStatus,
    DeliveryMethod,
    DepartmentEndpoint,
)
from tongban.core import audit, calendar
from tongban.core.audit import request_context
from tongban.core.models import AuditAction

router = Router(tags=["办件"])

E = CaseErrorCode

# --- Examples (shared by the schemas, the operations and the webhook) ----------------------------

NUMBER_EXAMPLE = "150602202611230000172"

_PROGRESS_EXAMPLE = {
    "number": NUMBER_EXAMPLE,
    "status": {"code": "under_review", "label": "审查中"},
    "item": "食品经营许可",
    "organization": "东胜区市场监督管理局",
    "submitted_on": "2026-11-23",
    "accepted_on": "2026-11-24",
    "promised_due": "2026-12-08",
    "clock": {"code": "on_time", "label": "正常"},
    "steps": [
        {"action": "submit", "label": "提交申请", "on": "2026-11-23"},
        {"action": "accept", "label": "受理", "on": "2026-11-24"},
    ],
}

_NOT_FOUND = {"code": "not_found", "message": "办件不存在"}
_RATE_LIMITED = {"code": "rate_limited", "message": "查询过于频繁，请一分钟后再试"}

_CASE_EXAMPLE: dict[str, Any] = {
    "number": NUMBER_EXAMPLE,
    "status": "to_accept",
    "version": 1,
    "implementation": "11150602MB1234567X150600000001",
    "item": "食品经营许可",
    "organization": "11150602MB1234567X",
    "region": "150602",
    "channel": "online",
    "submitted_at": "2026-11-23T01:15:02.118204+00:00",
    "applicant": {"name": "张三", "id_number": "15060219900101123X", "phone": "13800000001"},
    "company": None,
    "form": {
        "applicant.name": "张三",
        "applicant.id_number": "15060219900101123X",
        "applicant.phone": "13800000001",
        "property.address": "东胜区鄂尔多斯西街1号",
        "shop.area": 120,
    },
    "answers": [],
    "materials": [
        {
            "id": 31,
            "material": 7,
            "kind": "application",
            "name": "营业执照.pdf",
            "sm3": "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
            "size": 48211,
            "content_type": "application/pdf",
        }
    ],
}

_PUSH_EXAMPLE = {
    "event": "submit",
    "event_id": 812,
    "at": "2026-11-23T01:15:02.118204+00:00",
    "case": _CASE_EXAMPLE,
}


# --- Schemas -------------------------------------------------------------------------------------


class CaseCodeLabel(Schema):
    code: str
    label: str = Field(description="中文名称")


class ProgressParams(Schema):
    number: str = Field(max_length=30, description="办件编号（21位）", examples=[NUMBER_EXAMPLE])
    check: str = Field(
        max_length=20,
        description="申请人手机号后四位，或受理回执上的查询码",
        examples=["0001"],
    )


class ProgressStepOut(Schema):
    action: str = Field(description="动作代码", examples=["accept"])
    label: str = Field(description="动作名称", examples=["受理"])
    on: dt.date = Field(description="日期（北京时间）")


class CaseProgressOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [_PROGRESS_EXAMPLE]})

    number: str = Field(description="办件编号")
    status: CaseCodeLabel = Field(description="办件状态")
    item: str = Field(description="事项名称")
    organization: str = Field(description="办理部门")
    submitted_on: dt.date = Field(description="申请日期")
    accepted_on: dt.date | None = Field(description="受理日期；未受理为空")
    promised_due: dt.date | None = Field(description="承诺办结日期；未受理为空")
    clock: CaseCodeLabel = Field(
        description=(
            "计时状态：not_started 未开始计时、on_time 正常、due_soon 即将到期、overdue 已超期、"
            "paused 暂停计时（补正或特别程序）、stopped 已办结"
        )
    )
    steps: list[ProgressStepOut] = Field(description="办理过程：动作与日期，按时间先后")


class CaseProgressErrorOut(Schema):
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["办件不存在"])


class CaseFieldErrorOut(Schema):
    field: str
    message: str


class CaseErrorOut(Schema):
    code: str = Field(description="机器可读的错误码", examples=["not_allowed"])
    message: str = Field(description="中文说明", examples=["当前状态不能进行该操作"])
    field: str = Field("", description="出错的参数，没有时为空")
    errors: list[CaseFieldErrorOut] = Field([], description="表单类错误：逐项列出")


class DepartmentApplicantOut(Schema):
    name: str = Field(description="申请人姓名")
    id_number: str = Field(description="申请人身份证号码（完整）")
    phone: str = Field(description="申请人手机号码（完整）")


class DepartmentCompanyOut(Schema):
    name: str
    uscc: str = Field(description="统一社会信用代码")


class DepartmentMaterialOut(Schema):
    id: int = Field(description="办件材料编号")
    material: int | None = Field(description="对应的实施清单材料编号；决定文书、办理结果为空")
    kind: str = Field(
        description=(
            "application 申请材料、commitment 告知承诺书、decision 决定文书、"
            "result 办理结果、attachment 办理附件"
        )
    )
    name: str = Field(description="文件名")
    sm3: str = Field(description="文件的 SM3 摘要（十六进制）")
    size: int = Field(description="字节数")
    content_type: str


class DepartmentCaseOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [_CASE_EXAMPLE]})

    number: str = Field(description="办件编号")
    status: str = Field(description="办件状态代码：" + "、".join(CaseStatus.values))
    version: int = Field(description="版本；办理时在 version 中回传，防止覆盖他人的处理")
    implementation: str = Field(description="实施编码")
    item: str = Field(description="事项名称")
    organization: str = Field(description="办理部门的统一社会信用代码")
    region: str = Field(description="办件所属区划代码")
    channel: str = Field(
        description="申请渠道：online 网上申请、counter 窗口申请、department 部门系统"
    )
    submitted_at: str = Field(description="提交时间（ISO 8601）")
    applicant: DepartmentApplicantOut
    company: DepartmentCompanyOut | None = Field(description="以企业身份申请时的企业；否则为空")
    form: dict[str, Any] = Field(description="申请表数据：数据项标识 → 值")
    answers: list[int] = Field(description="所选情形选项编号")
    materials: list[DepartmentMaterialOut] = Field(description="当前有效的材料（被补正替换的不含）")


class CaseEventPush(Schema):
    """The body of a push to a department system (``cases.effects.department_payload``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_PUSH_EXAMPLE]})

    event: str = Field(description="变动：submit、resubmit、supply、withdraw、pre_approve")
    event_id: int = Field(description="办件记录编号，单调递增")
    at: str = Field(description="变动时间（ISO 8601）")
    case: DepartmentCaseOut = Field(description="发送时办件的最新情况")


HandledAction = Literal[
    "accept", "reject", "request_correction", "approve", "deny", "conclude", "deliver"
]

_ACTION_EXAMPLES = {
    "accept": {"summary": "受理", "value": {"version": 1, "opinion": "材料齐全，予以受理"}},
    "request_correction": {
        "summary": "要求补正",
        "value": {
            "version": 1,
            "opinion": "经营场所地址与平面图不一致",
            "fields": ["property.address"],
            "materials": [7],
        },
    },
    "reject": {"summary": "不予受理", "value": {"version": 1, "opinion": "不属于本部门职权范围"}},
    "approve": {
        "summary": "准予（附决定文书）",
        "value": {
            "version": 3,
            "opinion": "符合条件，准予许可",
            "document_base64": "JVBERi0xLjQK…",
            "document_name": "准予许可决定书.pdf",
        },
    },
    "deny": {"summary": "不予准予", "value": {"version": 3, "opinion": "经营场所不符合要求"}},
    "conclude": {
        "summary": "办结（附办理结果）",
        "value": {
            "version": 4,
            "document_base64": "JVBERi0xLjQK…",
            "document_name": "食品经营许可证.pdf",
        },
    },
    "deliver": {
        "summary": "送达（快递）",
        "value": {"version": 5, "method": "express", "note": "EMS 1234567890123"},
    },
}


class CaseActionIn(Schema):
    version: int | None = Field(
        None, description="部门系统所见的办件版本；与当前版本不符时返回 409 conflict，不传则不检查"
    )
    opinion: str = Field(
        "",
        max_length=2000,
        description="意见或理由：reject、request_correction、deny 必填",
    )
    fields: list[str] = Field([], description="request_correction：需要补正的申请表字段标识")
    materials: list[int] = Field([], description="request_correction：需要补正的实施清单材料编号")
    method: str = Field(
        "",
        description="deliver：送达方式 "
        + "、".join(f"{v} {label}" for v, label in DeliveryMethod.choices),
    )
    note: str = Field("", max_length=300, description="deliver：送达说明，快递送达时填快递单号")
    document_base64: str | None = Field(
        None,
        description=(
            "approve、deny：决定文书（不传则由平台按办件生成）；conclude：办理结果文件。"
            "PDF、JPG、PNG 或 OFD，Base64 编码，不超过上传大小上限"
        ),
    )
    document_name: str = Field("", max_length=200, description="文件名")


class CaseActionOut(Schema):
    number: str
    action: str = Field(description="所做的动作")
    status: str = Field(description="动作后的办件状态代码")
    version: int = Field(description="动作后的办件版本")


# --- Errors --------------------------------------------------------------------------------------

_STATUS = {
    E.NOT_FOUND: 404,
    E.FORBIDDEN: 403,
    E.NO_ENDPOINT: 403,
    E.CONFLICT: 409,
    E.NOT_ALLOWED: 409,
    E.DEFICIENCIES_OPEN: 409,
    E.RESULT_REQUIRED: 409,
    E.LAST_STEP: 409,
    E.NO_EXTENSION: 409,
}


def http_status(code: CaseErrorCode) -> int:
    """The HTTP status of a domain error: not found 404, refused 403, a state that does not allow
    the action 409, anything about the input 422."""
    return _STATUS.get(code, 422)


class _BadInput(Exception):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


def _error(exc: CaseError) -> Status:
    body = exc.as_dict()
    if body.get("field") == "file":  # the one uploaded file is the request's document
        body["field"] = "document_base64"
    return Status(http_status(exc.code), body)


def _bad_input(exc: _BadInput) -> Status:
    return Status(422, {"code": "invalid_parameter", "message": exc.message, "field": exc.field})


_AUTH_ERRORS = {
    401: {"code": "token_missing", "message": "缺少访问令牌", "field": ""},
    403: {"code": "no_endpoint", "message": "该部门未接入业务系统", "field": ""},
    404: {"code": "not_found", "message": "办件不存在", "field": ""},
}


def _examples(by_status: dict[int, dict[str, Any]]) -> dict[int, Any]:
    """``openapi_extra`` responses: an example body for each status."""
    return {
        status: {"content": {"application/json": {"example": example}}}
        for status, example in by_status.items()
    }


# --- Public progress -----------------------------------------------------------------------------


def _progress(case: Case) -> dict[str, Any]:
    steps = (
        case.events.exclude(action=CaseAction.REQUEST_EXTENSION)
        .order_by("at", "id")
        .values_list("action", "at")
    )
    state = clock.state(case)
    return {
        "number": case.number,
        "status": {"code": case.status, "label": str(CaseStatus(case.status).label)},
        "item": case.implementation.item.name,
        "organization": case.organization.name,
        "submitted_on": calendar.china_date(case.submitted_at),
        "accepted_on": calendar.china_date(case.accepted_at) if case.accepted_at else None,
        "promised_due": case.promised_due,
        "clock": {"code": str(state.value), "label": str(state.label)},
        "steps": [
            {
                "action": action,
                "label": str(CaseAction(action).label),
                "on": calendar.china_date(at),
            }
            for action, at in steps
        ],
    }


@router.get(
    "/progress",
    response={200: CaseProgressOut, 404: CaseProgressErrorOut, 429: CaseProgressErrorOut},
    auth=None,
    summary="办件进度查询",
    description=(
        "无需登录。凭办件编号和校验信息（申请人手机号后四位，或受理回执上的查询码）查询办理进度："
        "状态、事项、办理部门、申请与受理日期、承诺办结日期、计时状态，以及各办理环节的动作和日期。"
        "不含申请人的任何信息，也不含审查意见和经办人。校验信息不符与办件编号不存在返回完全相同的"
        " 404。同一地址每分钟最多查询 30 次（与门户的进度查询合计），超过返回 429 rate_limited。"
    ),
    operation_id="cases_progress",
    openapi_extra={
        "responses": {
            **_examples({404: _NOT_FOUND}),
            429: {
                "description": "查询过于频繁",
                "content": {"application/json": {"example": _RATE_LIMITED}},
            },
        }
    },
)
def progress(request: HttpRequest, response: HttpResponse, params: Query[ProgressParams]):
    response["Cache-Control"] = "no-store"
    if not queries.progress_allowed(request_context(request).get("ip")):
        response["Retry-After"] = "60"
        return Status(429, dict(_RATE_LIMITED))
    case = queries.find_by_check(params.number, params.check)
    if case is None:
        return Status(404, CaseError(E.NOT_FOUND).as_dict())
    return Status(200, _progress(case))


# --- Department systems --------------------------------------------------------------------------


def _department_case(context: TokenContext, number: str) -> Case:
    """The case ``number`` of an organization the calling client handles cases for."""
    if context.is_person:
        raise CaseError(E.FORBIDDEN, "部门系统接口只接受部门系统自身的令牌（客户端凭证）")
    client_id = context.application.client_id
    endpoints = DepartmentEndpoint.objects.filter(client_id=client_id, enabled=True)
    if not client_id or not endpoints.exists():
        raise CaseError(E.NO_ENDPOINT)
    case = (
        Case.objects.filter(
            number=(number or "").strip().upper()[:24],
            organization__in=endpoints.values("organization_id"),
        )
        .select_related("implementation__item", "organization", "applicant", "company")
        .first()
    )
    if case is None:
        raise CaseError(E.NOT_FOUND)
    return case


_DEPARTMENT_ERRORS = {401: CaseErrorOut, 403: CaseErrorOut, 404: CaseErrorOut}


@router.get(
    "/department/cases/{number}",
    response={200: DepartmentCaseOut, **_DEPARTMENT_ERRORS},
    auth=BearerToken(scopes=[oidc.CASES_READ_SCOPE]),
    summary="部门系统读取本部门办件",
    description=(
        "需要部门系统的客户端凭证令牌，scope 含 cases:read；客户端须登记为该部门业务系统"
        "（部门业务系统的“回调客户端”），否则返回 403 no_endpoint。返回的内容与推送中的 case 相同，"
        "含申请人的完整身份证号和手机号，每次读取均记入审计日志。其他部门的办件与不存在的办件一样"
        "返回 404。"
    ),
    operation_id="cases_department_case",
    openapi_extra={"responses": _examples(_AUTH_ERRORS)},
)
def department_case(request: HttpRequest, number: str):
    context: TokenContext = request.auth
    try:
        case = _department_case(context, number)
    except CaseError as exc:
        return _error(exc)
    payload = effects.case_payload(case)
    ctx = request_context(request)
    audit.record(
        actor=None,
        action=AuditAction.PERSONAL_READ,
        object_type="cases.case",
        object_id=case.pk,
        subject=f"user:{case.applicant_id}",
        reason="部门系统读取本部门办件",
        ip=ctx["ip"],
        user_agent=ctx["user_agent"],
        details={
            "client_id": context.application.client_id,
            "client_name": context.application.name,
            "organization": case.organization.name,
            "number": case.number,
        },
    )
    return Status(200, payload)


@router.get(
    "/department/cases/{number}/materials/{material_id}",
    response={200: None, **_DEPARTMENT_ERRORS},
    auth=BearerToken(scopes=[oidc.CASES_READ_SCOPE]),
    summary="部门系统下载办件材料",
    description=(
        "需要 scope cases:read。material_id 为推送或读取结果中 materials[].id；返回文件本身"
        "（Content-Type 为材料类型），响应头 X-Content-SM3 为文件的 SM3 摘要，可与推送中的 sm3 "
        "比对。其他部门的办件或不属于该办件的材料返回 404。每次下载记入审计日志。"
    ),
    operation_id="cases_department_material",
    openapi_extra={"responses": _examples(_AUTH_ERRORS)},
)
def department_material(request: HttpRequest, number: str, material_id: int):
    context: TokenContext = request.auth
    try:
        case = _department_case(context, number)
    except CaseError as exc:
        return _error(exc)
    row = CaseMaterial.objects.filter(case=case, pk=material_id).first()
    if row is None:
        return _error(CaseError(E.NOT_FOUND, "材料不存在"))
    ctx = request_context(request)
    audit.record(
        actor=None,
        action=AuditAction.PERSONAL_READ,
        object_type="cases.casematerial",
        object_id=row.pk,
        subject=f"user:{case.applicant_id}",
        reason="部门系统下载办件材料",
        ip=ctx["ip"],
        user_agent=ctx["user_agent"],
        details={"client_id": context.application.client_id, "number": case.number},
    )
    response = FileResponse(
        row.file.open("rb"), content_type=row.content_type, as_attachment=True, filename=row.name
    )
    response["X-Content-SM3"] = row.sm3
    response["Cache-Control"] = "no-store"
    return response


def _document(body: CaseActionIn) -> ContentFile | None:
    raw = "".join((body.document_base64 or "").split())
    if not raw:
        return None
    try:
        content = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise _BadInput("document_base64", "文件内容应为 Base64 编码") from None
    return ContentFile(content, name=(body.document_name or "document").strip()[:200])


def _act(action: str, *, case: Case, department: Any, body: CaseActionIn) -> None:
    common = {"actor": None, "case": case, "version": body.version, "department": department}
    if action == CaseAction.ACCEPT:
        services.accept(**common, opinion=body.opinion)
    elif action == CaseAction.REJECT:
        services.reject(**common, opinion=body.opinion)
    elif action == CaseAction.REQUEST_CORRECTION:
        services.request_correction(
            **common, opinion=body.opinion, fields=body.fields, materials=body.materials
        )
    elif action == CaseAction.APPROVE:
        services.approve(**common, opinion=body.opinion, document=_document(body))
    elif action == CaseAction.DENY:
        services.deny(**common, opinion=body.opinion, document=_document(body))
    elif action == CaseAction.CONCLUDE:
        services.conclude(**common, opinion=body.opinion, result=_document(body))
    elif action == CaseAction.DELIVER:
        services.deliver(**common, method=body.method, note=body.note)
    else:  # pragma: no cover - the path parameter allows only the actions above
        raise CaseError(E.NOT_ALLOWED)


@router.post(
    "/department/cases/{number}/actions/{action}",
    response={
        200: CaseActionOut,
        400: CaseErrorOut,
        **_DEPARTMENT_ERRORS,
        409: CaseErrorOut,
        422: CaseErrorOut,
    },
    auth=BearerToken(scopes=[oidc.CASES_HANDLE_SCOPE]),
    summary="部门系统办理本部门办件",
    description=(
        "需要部门系统的客户端凭证令牌，scope 含 cases:handle。action 为 accept 受理、"
        "reject 不予受理、request_correction 要求补正、approve 准予、deny 不予准予、"
        "conclude 办结、deliver 送达；每个动作与工作台上的同名操作是同一服务，办件记录的操作方为"
        "“部门系统：部门名称”。请求体可省略或为 {}，各动作所需参数见字段说明。\n\n"
        "错误：404 not_found 办件不存在或不属于本部门；403 no_endpoint 客户端未登记为部门业务系统；"
        "409 conflict 版本已变化（他人已处理，请重新读取）、"
        "409 not_allowed 当前状态不能进行该动作、"
        "409 deficiencies_open、result_required；422 opinion_required、correction_empty、"
        "file_type、file_too_large、file_empty、invalid_parameter 等输入错误（field 指出参数）；"
        "400 invalid_json 请求体不是 JSON。失败的请求不改变办件。成功返回动作后的状态与版本；"
        "同一动作重复提交返回 409，可据此判断已办理。"
    ),
    operation_id="cases_department_action",
    openapi_extra={
        "requestBody": {"content": {"application/json": {"examples": _ACTION_EXAMPLES}}},
        "responses": {
            200: {
                "content": {
                    "application/json": {
                        "example": {
                            "number": NUMBER_EXAMPLE,
                            "action": "accept",
                            "status": "under_review",
                            "version": 2,
                        }
                    }
                }
            },
            **_examples(
                {
                    404: _AUTH_ERRORS[404],
                    409: {
                        "code": "conflict",
                        "message": "该办件已被他人处理，请刷新后查看最新状态",
                        "field": "",
                        "errors": [],
                    },
                    422: {
                        "code": "opinion_required",
                        "message": "请填写意见或理由",
                        "field": "opinion",
                        "errors": [],
                    },
                }
            ),
        },
    },
)
def department_action(
    request: HttpRequest,
    number: str,
    action: HandledAction,
    body: CaseActionIn = Body(None),  # noqa: B008 - ninja's way to declare an optional body
):
    context: TokenContext = request.auth
    body = body or CaseActionIn()
    try:
        case = _department_case(context, number)
        _act(action, case=case, department=case.organization, body=body)
    except CaseError as exc:
        return _error(exc)
    except _BadInput as exc:
        return _bad_input(exc)
    return Status(
        200,
        {"number": case.number, "action": action, "status": case.status, "version": case.version},
    )


# --- The push, for the OpenAPI document ----------------------------------------------------------

_PUSH_DESCRIPTION = """\
办件发生部门系统自己没有参与的变动时（申请人提交 submit、补正后重新提交 resubmit、补交容缺材料 \
supply、撤回 withdraw、预审通过 pre_approve），平台向该部门登记的接收地址 POST 一条消息。消息与\
办件的变动在同一事务中写入发件箱，由后台任务发送，不会因进程重启而丢失。

请求头：

- `Idempotency-Key`：本条消息的幂等键（32位十六进制），重试时不变。部门系统据此去重：同一消息\
可能送达不止一次。
- `X-Tongban-Timestamp`：发送时的 Unix 时间（秒）。
- `X-Tongban-Signature`：`sm3=` 加十六进制的 HMAC-SM3(签名密钥, `<X-Tongban-Timestamp>` + "." + \
请求体原始字节)。签名密钥在登记接收地址时分配。部门系统应以常量时间比较签名，并拒绝与本机时间\
相差超过 5 分钟的时间戳。

应答：任何 2xx 即为确认收到，无需另行回执。其他状态码（包括 3xx 重定向，平台不跟随）、\
10 秒内无应答或无法连接均视为失败，平台在 1、2、4、8……分钟后重试（间隔最长 6 小时），\
共 12 次仍失败则停止重试，转人工跟进。

`case` 是发送时办件的最新情况（重试时可能比事件晚）；以 `version` 判断新旧，需要时以 \
`GET /api/v1/cases/department/cases/{number}` 重新读取。
"""


def _push_schema() -> dict[str, Any]:
    schema = CaseEventPush.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)  # DepartmentCaseOut and its parts are components already
    return schema


def _header(name: str, description: str, example: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
        "example": example,
    }


OPENAPI_EXTRA: dict[str, Any] = {
    "webhooks": {
        "caseEvent": {
            "post": {
                "operationId": "cases_department_push",
                "summary": "办件变动推送（平台 → 部门系统）",
                "description": _PUSH_DESCRIPTION,
                "tags": ["办件"],
                "parameters": [
                    _header(
                        "Idempotency-Key",
                        "本条消息的幂等键，重试时不变",
                        "9f1c2e7a4b3d4e5f8a6b7c8d9e0f1a2b",
                    ),
                    _header("X-Tongban-Timestamp", "发送时的 Unix 时间（秒）", "1795396502"),
                    _header(
                        "X-Tongban-Signature",
                        "sm3=<HMAC-SM3(签名密钥, 时间戳 + '.' + 请求体) 的十六进制>",
                        "sm3=3b1f6c0e2d4a59b7c8e1f0a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6",
                    ),
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": _push_schema(), "example": _PUSH_EXAMPLE}
                    },
                },
                "responses": {
                    "2XX": {"description": "已收到（即确认，平台不再发送这条消息）"},
                    "default": {"description": "未收到：平台按退避间隔重试同一条消息"},
                },
            }
        }
    }
}
