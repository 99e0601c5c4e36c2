"""The JSON API, version 1. Each domain's routes live in their own module of this channel."""

from ninja import NinjaAPI

from tongban.api import catalog as catalog_routes

api = NinjaAPI(
    title="Tongban API",
    version="1.0.0",
    description="通办 一体化在线政务服务平台 JSON API。错误返回 {code, message, fields}。",
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
)
api.add_router("/catalog/", catalog_routes.router)
