"""``GET /api/v1/catalog/implementations/{code}``: the whole service guide (办事指南) as JSON.

The same data as the portal's guide page (同源发布), from ``catalog.guides.guide_as_dict``.
Labels of code lists and messages are in Chinese (zh-Hans, the language of record) unless
``?lang=`` asks for ``en`` or ``mn-mong`` (or the portal's language cookie chose one). The
``Accept-Language`` header is ignored, as everywhere on the platform
(``core.middleware.ChosenLanguageMiddleware``). The response's ``Content-Language`` names the
language used.

``option`` (repeatable) answers the guide's situations by option id; each material then says
whether it ``applies`` (``"yes"``) or still ``"depends"`` on an unanswered situation, and
materials the answers rule out are left out. Unknown or non-active codes answer 404 with
``{"code": "not_found", "message": "…"}``; answers that do not fit the guide answer 400.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpResponse
from django.utils import translation
from ninja import Query, Router, Schema, Status
from pydantic import Field

from tongban.catalog import guides
from tongban.catalog.models import Implementation

router = Router(tags=["catalog"])

# The languages a guide is published in (settings.LANGUAGES); the default is the request's.
GuideLanguage = Literal["zh-hans", "en", "mn-mong"]


class CodeLabel(Schema):
    code: str | int
    label: str


class ErrorOut(Schema):
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["没有找到该办事指南，或该事项已暂停、废止。"])


class ThemeOut(Schema):
    code: str
    name: str


class ItemOut(Schema):
    code: str = Field(description="基本编码", examples=["150600000001"])
    national_code: str
    name: str = Field(description="事项名称（请求语言的译名，如有）", examples=["内地居民婚姻登记"])
    type: CodeLabel | None = Field(description="事项类型 GB/T 39046 A.1")
    legal_basis: str
    level: CodeLabel | None = Field(description="行使层级 GB/T 39046 A.2")
    audiences: list[CodeLabel | None] = Field(description="服务对象 GB/T 39046 A.4")
    themes: list[ThemeOut]
    description: str


class OrganizationOut(Schema):
    name: str
    uscc: str = Field(description="统一社会信用代码")
    phone: str
    address: str


class RegionOut(Schema):
    code: str
    name: str


class LimitOut(Schema):
    limit: int
    unit: CodeLabel | None = Field(description="working 工作日 / natural 自然日")
    note: str


class TimeLimitsOut(Schema):
    statutory: LimitOut = Field(description="法定办结时限")
    promised: LimitOut = Field(description="承诺办结时限")
    is_instant: bool = Field(description="即办件")


class LevelOut(Schema):
    level: int
    label: str


class DepthOut(Schema):
    level: int = Field(ge=1, le=4)
    numeral: str = Field(examples=["Ⅳ"])
    label: str = Field(examples=["Ⅳ级 全程网办"])
    meaning: str


class HandlingFormsOut(Schema):
    window: bool
    pc: bool
    mobile: bool
    post: bool
    online_url: str


class ResultOut(Schema):
    name: str
    sample_url: str


class FeeItemOut(Schema):
    name: str
    standard: str
    basis: str
    reducible: bool


class FeesOut(Schema):
    charges_fee: bool
    items: list[FeeItemOut]


class PhonesOut(Schema):
    consultation: str
    complaint: str


class IntermediaryOut(Schema):
    name: str
    basis: str = Field(description="设定依据")
    is_special_step: bool


class ChannelsOut(Schema):
    appointment: bool = Field(description="支持预约")
    online_payment: bool = Field(description="支持网上支付")
    express: bool = Field(description="支持物流快递")


class DeliveryOut(Schema):
    window: bool
    express: bool
    online: bool


class LocationOut(Schema):
    name: str
    street: str
    number: str
    room: str
    window: str
    note: str


class HoursOut(Schema):
    weekday_from: int = Field(ge=1, le=7)
    weekday_to: int = Field(ge=1, le=7)
    opens: str = Field(examples=["09:00"])
    closes: str = Field(examples=["17:00"])
    note: str
    text: str


class StepOut(Schema):
    order: int
    name: str
    actor: str
    time_limit: int
    time_unit: CodeLabel | None
    standard: str
    result: str


class FaqOut(Schema):
    question: str
    answer: str


class OptionOut(Schema):
    id: int
    label: str


class SituationOut(Schema):
    id: int
    question: str
    multiple: bool
    options: list[OptionOut]
    answer: list[int] = Field(description="本次请求所选的选项")


class MaterialOut(Schema):
    id: int
    name: str
    source: CodeLabel | None
    issuer: str
    originals: int
    copies: int
    form: CodeLabel | None = Field(description="原件 / 复印件 / 原件和复印件")
    medium: CodeLabel | None = Field(description="纸质 / 电子 / 纸质和电子")
    necessity: CodeLabel | None
    needs_filling: bool
    blank_form_url: str
    sample_form_url: str
    requirements: str
    note: str
    condition_option_ids: list[int] = Field(
        description="适用情形：对其中涉及的每个情形，须选中其中一个选项；为空则总是需要"
    )
    applies: str = Field(description="yes 需要提交；depends 视情形（相关情形尚未回答）")
    pending_situation_ids: list[int]


class GuideOut(Schema):
    code: str = Field(description="实施编码")
    version: int
    updated_at: str
    effective_from: str | None
    effective_to: str | None
    guide_url: str = Field(description="门户上的办事指南页面（带所选情形）")
    notice_url: str = Field(description="一次性告知单 PDF（按所选情形）")
    item: ItemOut
    organization: OrganizationOut
    region: RegionOut
    handling_code: str
    handling_unit: str
    joint_departments: str
    time_limits: TimeLimitsOut
    online_depth: DepthOut
    visits_required: int
    required_level: LevelOut = Field(description="网上申请前须达到的实名认证级别（1–3）")
    handling_forms: HandlingFormsOut
    conditions: str
    quantity_limit: str
    jurisdiction: str
    cross_area: CodeLabel | None
    result: ResultOut
    fees: FeesOut
    phones: PhonesOut
    intermediaries: list[IntermediaryOut]
    channels: ChannelsOut
    delivery: DeliveryOut
    locations: list[LocationOut]
    hours: list[HoursOut]
    steps: list[StepOut]
    faqs: list[FaqOut]
    situations: list[SituationOut]
    materials: list[MaterialOut]


@router.get(
    "/implementations/{code}",
    response={200: GuideOut, 400: ErrorOut, 404: ErrorOut},
    summary="办事指南（实施清单的全部要素）",
    operation_id="catalog_guide",
)
def implementation_guide(
    request,
    response: HttpResponse,
    code: str,
    option: list[int] = Query(  # noqa: B008 - ninja's way to declare a repeated parameter
        [], description="所选情形选项 id，可重复：?option=12&option=15"
    ),
    lang: GuideLanguage | None = Query(  # noqa: B008
        None,
        description=(
            "返回内容的语言：zh-hans 简体中文（默认）、en 英文、mn-mong 传统蒙古文。"
            "不读取 Accept-Language 请求头"
        ),
    ),
):
    language = lang or translation.get_language()
    response["Content-Language"] = language
    with translation.override(language):
        return _guide(code, option)


def _guide(code: str, option: list[int]):
    try:
        impl = guides.guide(code)
    except Implementation.DoesNotExist:
        error = guides.GuideError(guides.GuideErrorCode.NOT_FOUND)
        return Status(404, {"code": error.code.value, "message": error.message})
    try:
        answers = guides.clean_answers(impl, guides.answers_from_options(impl, option))
    except guides.GuideError as error:
        return Status(400, {"code": error.code.value, "message": error.message})
    data = guides.guide_as_dict(impl, answers)
    links = guides.guide_links(code, answers)
    data["guide_url"] = links.guide_url
    data["notice_url"] = links.notice_url
    return Status(200, data)
