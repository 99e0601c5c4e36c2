"""License types are configured in the back office; licenses are read-only there (they change
only through :mod:`tongban.licenses.services`). The platform key is never shown."""

from __future__ import annotations

from django.contrib import admin

from tongban.licenses.models import License, LicenseEvent, LicenseType, LicenseUse


@admin.register(LicenseType)
class LicenseTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "holder_kind", "validity_years", "seal_type", "is_active")
    list_filter = ("holder_kind", "is_active")
    search_fields = ("code", "name")
    filter_horizontal = ("items",)
    raw_id_fields = ("materials",)


class LicenseEventInline(admin.TabularInline):
    model = LicenseEvent
    extra = 0
    can_delete = False
    fields = ("at", "action", "from_status", "to_status", "reason", "actor")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(License)
class LicenseAdmin(admin.ModelAdmin):
    list_display = ("identifier", "license_type", "issuer", "status", "issued_at", "valid_to")
    list_filter = ("status",)
    search_fields = ("identifier",)
    list_select_related = ("license_type", "issuer")
    fields = (
        "identifier",
        "license_type",
        "issuer",
        "holder_kind",
        "holder_name",
        "data",
        "issued_at",
        "valid_from",
        "valid_to",
        "status",
        "status_reason",
        "status_changed_at",
        "case_reference",
    )
    readonly_fields = fields
    inlines = [LicenseEventInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LicenseUse)
class LicenseUseAdmin(admin.ModelAdmin):
    """用证授权: read-only; a consent is given by the holder when applying."""

    list_display = ("license", "case_reference", "organization", "granted_at", "expires_at")
    search_fields = ("case_reference", "license__identifier")
    list_select_related = ("license", "organization")
    readonly_fields = (
        "license",
        "organization",
        "case_reference",
        "material_name",
        "granted_by",
        "granted_at",
        "expires_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
