from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve as serve_media

from tongban.api.health import healthz, readyz
from tongban.api.router import api
from tongban.portal import oidc_urls

# The portal comes first: its guide pages are the hottest URLs, and every pattern before them
# costs each request a regex match (bench/guide_page.py). Its patterns and the OIDC provider's
# (/.well-known/…, /o/…, account/apps/) do not overlap.
urlpatterns = [
    path("", include("tongban.portal.urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("backoffice/", include("tongban.backoffice.urls")),
    # The staff workbench (queues, case page, counter) lives in the back-office channel, which
    # owns the staff login with its second factor.
    path("workbench/", include("tongban.backoffice.workbench_urls")),
    # OpenID Connect provider: discovery, /o/authorize/ … (docs/integration.md)
    path("", include("tongban.portal.oidc_urls")),
    path("account/apps/", include(oidc_urls.account_patterns)),
]

if settings.MEDIA_URL.startswith("/") and "S3" not in settings.STORAGES["default"]["BACKEND"]:
    # Embedded deployment serves uploaded catalog files itself; production puts nginx or S3 there.
    urlpatterns.append(
        path(
            f"{settings.MEDIA_URL.strip('/')}/<path:path>",
            serve_media,
            {"document_root": settings.MEDIA_ROOT},
        )
    )

__all__ = ["i18n_patterns", "urlpatterns"]
