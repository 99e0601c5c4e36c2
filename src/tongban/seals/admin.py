"""Seals in the back office: a scoped, read-only list and detail with the seal image; suspend,
revoke and reinstate are actions that call the services with the reason typed beside them.

The list holds only the seals of the staff member's organizations (:mod:`tongban.seals.queries`);
the actions act on that list and each seal is checked again by the service. Private keys are never
read for these pages: :class:`SealKey` is shown through its version, public key and dates only.
Seals are made through :func:`tongban.seals.services.create_seal` (not a form here yet).
"""

from __future__ import annotations

import base64

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from tongban.core.audit import request_context
from tongban.seals import queries, services
from tongban.seals.errors import SealError
from tongban.seals.models import Seal, SealEvent, SealKey


class SealActionForm(helpers.ActionForm):
    reason = forms.CharField(label=_("原因"), required=False, max_length=500)


class _SealPartInline(admin.TabularInline):
    """Keys and history are part of the seal: whoever may view the seal sees them."""

    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("seals.view_seal")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class SealKeyInline(_SealPartInline):
    model = SealKey
    fields = ("version", "public_key", "created_at", "retired_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("private_key_sealed")


class SealEventInline(_SealPartInline):
    model = SealEvent
    fields = ("at", "action", "from_status", "to_status", "reason", "actor")
    readonly_fields = fields


@admin.register(Seal)
class SealAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "organization", "seal_type", "status", "valid_to")
    list_filter = ("status", "seal_type")
    search_fields = ("=code", "name")
    list_select_related = ("organization",)
    fields = (
        "image",
        "code",
        "name",
        "organization",
        "seal_type",
        "valid_from",
        "valid_to",
        "status",
        "status_reason",
        "suspended_at",
        "revoked_at",
        "created_at",
        "created_by",
    )
    readonly_fields = fields
    inlines = (SealKeyInline, SealEventInline)
    action_form = SealActionForm
    actions = ("suspend", "reinstate", "revoke")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(queries.visible_q(request.user))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_manage_permission(self, request) -> bool:
        return request.user.has_perm(f"seals.{queries.MANAGE}")

    @admin.display(description=_("印章图像"))
    def image(self, obj) -> str:
        svg = services.seal_picture(obj).encode()
        return format_html(
            '<img src="data:image/svg+xml;base64,{}" width="160" height="160" alt="{}">',
            base64.b64encode(svg).decode(),
            obj.name,
        )

    def _apply(self, request, queryset, service, done):
        reason = (request.POST.get("reason") or "").strip()
        if not reason:
            self.message_user(request, _("请在“原因”中填写原因"), messages.ERROR)
            return
        ctx = request_context(request)
        changed = 0
        for seal in queryset:
            try:
                service(actor=request.user, seal=seal, reason=reason, **ctx)
                changed += 1
            except SealError as error:
                self.message_user(request, f"{seal.code}：{error.message}", messages.ERROR)
        if changed:
            self.message_user(request, done.format(n=changed), messages.SUCCESS)

    @admin.action(description=_("暂停使用所选印章"), permissions=("manage",))
    def suspend(self, request, queryset):
        self._apply(request, queryset, services.suspend_seal, str(_("已暂停 {n} 枚印章")))

    @admin.action(description=_("恢复使用所选印章"), permissions=("manage",))
    def reinstate(self, request, queryset):
        self._apply(request, queryset, services.reinstate_seal, str(_("已恢复 {n} 枚印章")))

    @admin.action(description=_("注销所选印章"), permissions=("manage",))
    def revoke(self, request, queryset):
        self._apply(request, queryset, services.revoke_seal, str(_("已注销 {n} 枚印章")))
