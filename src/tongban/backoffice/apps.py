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

        # Staff log in with password + TOTP (backoffice.login), and no admin view opens without
        # the second factor; the catalog admin is scoped to the staff member's organization and
        # regions (backoffice.scoping).
        from tongban.backoffice import access, login, scoping

        has_permission = admin.site.has_permission
        admin.site.has_permission = lambda request: (
            has_permission(request) and access.second_factor_ok(request)
        )
        admin.site.login = login.login
        admin.site.logout = login.logout
        scoping.install(admin.site)
