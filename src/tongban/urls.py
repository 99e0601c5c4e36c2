from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve as serve_media

from tongban.api.health import healthz, readyz
from tongban.api.router import api

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("backoffice/", include("tongban.backoffice.urls")),
    path("", include("tongban.portal.urls")),
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
