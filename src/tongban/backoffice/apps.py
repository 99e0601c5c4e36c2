from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    name = "tongban.backoffice"
    label = "backoffice"
    verbose_name = _("运营后台")

    def ready(self) -> None:
        from django.contrib import admin

        # The admin's index links to the operator pages (guide audit, Excel import/export).
        admin.site.index_template = "backoffice/admin_index.html"
