"""The JSON API, version 1. Each domain's routes live in their own module of this channel."""

from ninja import NinjaAPI
from ninja.errors import ValidationError

from tongban.api import catalog as catalog_routes
from tongban.api import guides

api = NinjaAPI(
    title="Tongban API",
    version="1.0.0",
    description=(
        "通办 一体化在线政务服务平台 JSON API。错误返回 {code, message, field}："
        "code 为机器可读的错误码，message 为中文说明，field 为出错的参数。"
    ),
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
api.add_router("/catalog/", catalog_routes.router)
api.add_router("/catalog/", guides.router)


@api.exception_handler(ValidationError)
def _invalid_parameter(request, exc: ValidationError):
    """422 ``{code, message, field}`` for a parameter of the wrong type or shape."""
    first = exc.errors[0] if exc.errors else {}
    location = [str(part) for part in first.get("loc", ())]
    field = location[-1] if location else ""
    message = "缺少必填参数" if first.get("type") == "missing" else "参数格式不正确"
    return api.create_response(
        request, {"code": "invalid_parameter", "message": message, "field": field}, status=422
    )


@api.exception_handler(catalog_routes.SearchError)
def _search_error(request, exc):
    return catalog_routes.search_error_response(api, request, exc)
