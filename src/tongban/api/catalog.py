"""Catalog endpoints: search.

``GET /api/v1/catalog/search?q=…`` answers published implementations, best first, a page at a
time (``catalog.queries.search``). A parameter that cannot be used answers 422 with
``{"code", "message", "field"}``: the code is machine-readable, the message is Chinese.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from tongban.catalog import queries
from tongban.catalog.search import MAX_QUERY_LENGTH, SearchError

router = Router(tags=["catalog"])


class SearchParams(Schema):
    q: str = Field(
        "",
        description=(
            f"检索词（不超过{MAX_QUERY_LENGTH}字）：中文、拼音（hunyin）、拼音首字母（hydj）、"
            "繁体字或事项编码；为空时按热度浏览"
        ),
        examples=["婚姻登记"],
    )
    region: str | None = Field(
        None,
        description="区划代码（6位或12位）：本区划及下级区划的实施清单，加上上级区划的实施清单",
        examples=["150602"],
    )
    audience: str | None = Field(None, description="服务对象代码（GB/T 39046 A.4），如 1 自然人")
    theme: str | None = Field(None, description="服务主题编码")
    organization: int | None = Field(None, description="实施主体（部门）编号", le=queries.MAX_ID)
    depth: int | None = Field(None, description="最低网上办理深度 1–4（4 = 全程网办）")
    page: int = Field(1, description=f"页码，从1开始，最大{queries.MAX_PAGE}", le=queries.MAX_PAGE)
    page_size: int = Field(
        queries.DEFAULT_PAGE_SIZE, description=f"每页条数，1–{queries.MAX_PAGE_SIZE}"
    )


class SearchRegionOut(Schema):
    code: str = Field(examples=["150602"])
    name: str = Field(examples=["东胜区"])


class SearchHitOut(Schema):
    item_code: str = Field(description="基本编码")
    item_name: str = Field(description="事项名称")
    implementation_code: str = Field(description="实施编码")
    organization: str = Field(description="实施主体名称")
    organization_id: int
    region: SearchRegionOut = Field(description="实施区划")
    online_depth: int = Field(description="网上办理深度 1–4", ge=1, le=4)
    online_depth_label: str
    is_instant: bool = Field(description="即办件")
    promised_limit: int = Field(description="承诺办结时限")
    promised_unit: str = Field(description="时限单位：working 工作日 / natural 自然日")


_EXAMPLE = {
    "total": 1,
    "page": 1,
    "page_size": 20,
    "pages": 1,
    "query_terms": ["婚姻登记"],
    "suggestions": [],
    "results": [
        {
            "item_code": "150600000001",
            "item_name": "内地居民婚姻登记",
            "implementation_code": "11150602MB1234567X150600000001",
            "organization": "鄂尔多斯市东胜区民政局",
            "organization_id": 12,
            "region": {"code": "150602", "name": "东胜区"},
            "online_depth": 3,
            "online_depth_label": "Ⅲ级 材料核验",
            "is_instant": True,
            "promised_limit": 0,
            "promised_unit": "working",
        }
    ],
}


class SearchPageOut(Schema):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    total: int = Field(description="命中的实施清单数（最多排序前200个事项）")
    page: int
    page_size: int
    pages: int
    query_terms: list[str] = Field(description="检索词切分后的词")
    suggestions: list[str] = Field(description="没有结果时，与部分检索词相符的事项名称")
    results: list[SearchHitOut]


class SearchErrorOut(Schema):
    code: str = Field(examples=["invalid_region"])
    message: str = Field(examples=["区划代码应为6位或12位数字"])
    field: str = Field(examples=["region"])


def _hit(hit: queries.SearchHit) -> dict:
    return {
        "item_code": hit.item_code,
        "item_name": hit.item_name,
        "implementation_code": hit.implementation_code,
        "organization": hit.organization_name,
        "organization_id": hit.organization_id,
        "region": {"code": hit.region_code, "name": hit.region_name},
        "online_depth": hit.online_depth,
        "online_depth_label": hit.online_depth_label,
        "is_instant": hit.is_instant,
        "promised_limit": hit.promised_limit,
        "promised_unit": hit.promised_unit,
    }


@router.get(
    "/search",
    response={200: SearchPageOut, 422: SearchErrorOut},
    summary="检索政务服务事项",
    operation_id="catalog_search",
)
def search(request: HttpRequest, params: Query[SearchParams]):
    """Published implementations matching ``q``, filtered, best first (relevance × popularity)."""
    page = queries.search(
        params.q,
        region=params.region,
        audience=params.audience,
        theme=params.theme,
        organization=params.organization,
        depth=params.depth,
        page=params.page,
        page_size=params.page_size,
    )
    return {
        "total": page.total,
        "page": page.page,
        "page_size": page.page_size,
        "pages": page.pages,
        "query_terms": page.query_terms,
        "suggestions": page.suggestions,
        "results": [_hit(hit) for hit in page.results],
    }


def search_error_response(api, request: HttpRequest, exc: SearchError):
    """422 ``{code, message, field}`` for a search parameter the catalog cannot use."""
    return api.create_response(
        request,
        {"code": str(exc.code), "message": str(exc.message), "field": exc.field},
        status=422,
    )
