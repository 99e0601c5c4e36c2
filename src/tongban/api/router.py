"""The JSON API, version 1. Each domain's routes live in their own module of this channel."""

from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from tongban.api import auth as token_auth
from tongban.api import cases as case_routes
from tongban.api import catalog as catalog_routes
from tongban.api import guides, me
from tongban.api import licenses as license_routes

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
    openapi_extra=case_routes.OPENAPI_EXTRA,  # webhooks: the pushes to department systems
)
api.add_router("/catalog/", catalog_routes.router)
api.add_router("/catalog/", guides.router)
api.add_router("/", license_routes.router)  # public: verify, keys, revocations
api.add_router("/", me.router)  # /me, /client: bearer tokens (docs/integration.md)
api.add_router("/cases/", case_routes.router)  # public progress; department systems
token_auth.install(api)


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


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    """400 ``{code, message, field}`` for a request body that is not JSON at all (django-ninja
    raises it as an HttpError); other HttpErrors keep ninja's ``{"detail": …}``."""
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        body = {"code": "invalid_json", "message": "请求体不是有效的JSON", "field": ""}
    else:
        body = {"detail": str(exc)}
    return api.create_response(request, body, status=exc.status_code)


@api.exception_handler(catalog_routes.SearchError)
def _search_error(request, exc):
    return catalog_routes.search_error_response(api, request, exc)
