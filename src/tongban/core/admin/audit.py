"""Read-only admin for the audit trail.

Nobody can add, change or delete a record here (the model has only the ``view`` permission, and
the admin says no to the rest for superusers too). Only users granted ``core.view_auditrecord``
(the audit administrator, 审计管理员) see it, and each list or detail view they open is itself
appended to the trail.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tongban.core.audit import can_read_audit, record, request_context
from tongban.core.models import AuditAction, AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = (
        "seq",
        "at",
        "actor_display",
        "on_behalf_of",
        "action",
        "subject",
        "result",
        "ip",
    )
    list_filter = ("result", "action")
    search_fields = ("=actor_display", "=subject", "=object_id")
    date_hierarchy = "at"
    ordering = ("-seq",)
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = tuple(f.name for f in AuditRecord._meta.fields)
    fieldsets = (
        (None, {"fields": ("seq", "at", "action", "result", "reason")}),
        (
            _("人员与来源"),
            {"fields": ("actor_id", "actor_display", "on_behalf_of", "ip", "user_agent")},
        ),
        (_("对象"), {"fields": ("object_type", "object_id", "subject", "details")}),
        (_("链式摘要（SM3）"), {"fields": ("prev_digest", "digest")}),
    )

    def has_module_permission(self, request) -> bool:
        return can_read_audit(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return can_read_audit(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        return {}

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if response.status_code == 200:
            record(
                actor=request.user,
                action=AuditAction.AUDIT_READ,
                details={"query": request.GET.urlencode()[:500]},
                **request_context(request),
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            record(
                actor=request.user,
                action=AuditAction.AUDIT_READ,
                object_type="audit_record",
                object_id=object_id,
                **request_context(request),
            )
        return response
