"""Accounts in the back office. Personal data appears masked only: the encrypted columns are never
in a form or a list, and the search finds a person by an *exact* mobile or ID number through its
keyed digest (never by a fragment). Companies, grants and the two registers are read-only here
(their changes are services with their own pages). Staff posts are added, changed and removed by
a security administrator only, through :mod:`tongban.accounts.staff` (三权分立 is checked there).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from tongban.accounts import staff as staff_services
from tongban.accounts import totp
from tongban.accounts.errors import AccountError
from tongban.accounts.models import (
    AgentGrant,
    Company,
    EnterpriseRecord,
    PopulationRecord,
    StaffPost,
    User,
)
from tongban.accounts.queries import find_person
from tongban.core.audit import request_context
from tongban.core.personal import lookup_digest, mask_id_number, mask_name, normalize


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _digest_search(queryset, term: str, *, id_field: str, phone_field: str | None = None):
    """Rows whose ID (or mobile) number is exactly ``term``."""
    text = normalize("id_number", term or "")
    if len(text) == 18:
        return queryset.filter(**{id_field: lookup_digest("id_number", text)})
    if phone_field:
        return queryset.filter(**{phone_field: lookup_digest("phone", term)})
    return queryset.none()


class StaffPostInline(admin.TabularInline):
    model = StaffPost
    fk_name = "user"
    extra = 0
    fields = ("organization", "role", "granted_by", "granted_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = (
        "username",
        "display_name",
        "masked_phone",
        "masked_id_number",
        "level",
        "is_staff",
        "is_active",
        "has_totp",
    )
    list_filter = ("level", "is_staff", "is_active")
    search_fields = ("=username",)
    search_help_text = _("输入登录名，或完整的手机号、身份证号（精确匹配）")
    fields = (
        "username",
        "display_name",
        "masked_phone",
        "masked_id_number",
        "level",
        "verified_by",
        "verified_at",
        "is_active",
        "is_staff",
        "has_totp",
        "totp_confirmed_at",
        "last_login",
        "date_joined",
    )
    readonly_fields = fields
    inlines = (StaffPostInline,)
    actions = ("reset_totp",)
    show_full_result_count = False

    @admin.display(description=_("姓名"))
    def display_name(self, obj) -> str:
        return obj.display_name

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj) -> str:
        return obj.masked_phone

    @admin.display(description=_("身份证号"))
    def masked_id_number(self, obj) -> str:
        return obj.masked_id_number

    @admin.display(description=_("已绑定动态口令"), boolean=True)
    def has_totp(self, obj) -> bool:
        return obj.has_totp

    def get_queryset(self, request):
        # The encrypted values are not even read for the list.
        return super().get_queryset(request).defer("totp_secret")

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        found = _digest_search(
            queryset, term, id_field="id_number_digest", phone_field="phone_digest"
        )
        return (found | queryset.filter(username=term)), False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not staff_services.is_security_admin(request.user):
            actions.pop("reset_totp", None)
        return actions

    @admin.action(description=_("重置所选人员的动态口令（下次登录时重新绑定）"))
    def reset_totp(self, request, queryset):
        done = 0
        for user in queryset:
            try:
                totp.reset(actor=request.user, user=user, **request_context(request))
            except AccountError as exc:
                self.message_user(request, f"{user.display_name}：{exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, _("已重置%(n)d人的动态口令") % {"n": done})


@admin.register(Company)
class CompanyAdmin(ReadOnlyAdmin):
    list_display = ("name", "uscc", "legal_rep_masked", "region", "verified_by", "created_at")
    search_fields = ("=uscc", "name")
    list_select_related = ("region",)
    fields = ("name", "uscc", "legal_rep_masked", "region", "verified_by", "verified_at")
    readonly_fields = fields

    @admin.display(description=_("法定代表人"))
    def legal_rep_masked(self, obj) -> str:
        return mask_name(obj.legal_rep_name)


@admin.register(AgentGrant)
class AgentGrantAdmin(ReadOnlyAdmin):
    list_display = ("company", "agent", "all_services", "expires_at", "granted_at", "revoked_at")
    list_filter = ("all_services",)
    list_select_related = ("company", "agent")
    search_fields = ("=company__uscc",)
    fields = (
        "company",
        "agent",
        "all_services",
        "items",
        "expires_at",
        "granted_by",
        "granted_at",
        "revoked_at",
        "revoked_by",
    )
    readonly_fields = fields


class StaffPostForm(forms.ModelForm):
    class Meta:
        model = StaffPost
        fields = ("user", "organization", "role", "regions")

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor

    def clean(self):
        cleaned = super().clean()
        user, role = cleaned.get("user") or self.instance_user(), cleaned.get("role")
        if user is None or role is None:
            return cleaned
        if self.actor is not None and user.pk == self.actor.pk:
            raise forms.ValidationError(str(_("不能为自己授予或撤销岗位")))
        held = staff_services.roles_of(user)
        if staff_services.separation_conflict(held | {role}, is_superuser=user.is_superuser):
            raise forms.ValidationError(
                str(_("系统管理员、安全管理员、审计管理员岗位必须分设")), code="role_conflict"
            )
        return cleaned

    def instance_user(self):
        return self.instance.user if self.instance.pk else None


@admin.register(StaffPost)
class StaffPostAdmin(admin.ModelAdmin):
    form = StaffPostForm
    list_display = ("user", "organization", "role", "granted_by", "granted_at")
    list_filter = ("role",)
    list_select_related = ("user", "organization", "granted_by")
    search_fields = ("=user__username", "organization__name")
    autocomplete_fields = ("user", "organization")
    filter_horizontal = ("regions",)

    def get_readonly_fields(self, request, obj=None):
        # A post's person, organization and role are fixed; change them by revoking and granting.
        return ("user", "organization", "role") if obj else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        actor = request.user

        class WithActor(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, actor=actor, **kw)

        return WithActor

    def has_add_permission(self, request) -> bool:
        return staff_services.is_security_admin(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return staff_services.is_security_admin(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return staff_services.is_security_admin(request.user)

    def save_model(self, request, obj, form, change):
        try:
            post = staff_services.grant_post(
                actor=request.user,
                user=obj.user,
                organization=obj.organization,
                role=obj.role,
                regions=form.cleaned_data.get("regions") or (),
                **request_context(request),
            )
        except AccountError as exc:
            raise PermissionDenied(exc.message) from exc
        obj.pk = post.pk
        obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        """Regions were saved by the service."""

    def delete_model(self, request, obj):
        try:
            staff_services.revoke_post(actor=request.user, post=obj, **request_context(request))
        except AccountError as exc:
            raise PermissionDenied(exc.message) from exc

    def delete_queryset(self, request, queryset):
        for post in queryset:
            self.delete_model(request, post)

    def get_search_results(self, request, queryset, search_term):
        person = find_person(search_term or "")
        if person is not None:
            return queryset.filter(user=person), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(PopulationRecord)
class PopulationRecordAdmin(ReadOnlyAdmin):
    list_display = ("masked_name", "masked_id", "source", "loaded_at")
    search_fields = ()
    search_help_text = _("输入完整的身份证号（精确匹配）")
    fields = ("masked_name", "masked_id", "source", "loaded_at")
    readonly_fields = fields
    show_full_result_count = False

    def get_search_fields(self, request):
        return ("id_number",)  # shows the box; the search itself is by digest below

    def get_search_results(self, request, queryset, search_term):
        if not (search_term or "").strip():
            return queryset, False
        return _digest_search(queryset, search_term, id_field="id_number_digest"), False

    @admin.display(description=_("姓名"))
    def masked_name(self, obj) -> str:
        return mask_name(obj.name)

    @admin.display(description=_("身份证号"))
    def masked_id(self, obj) -> str:
        return mask_id_number(obj.id_number)


@admin.register(EnterpriseRecord)
class EnterpriseRecordAdmin(ReadOnlyAdmin):
    list_display = ("name", "uscc", "masked_rep", "masked_rep_id", "status", "loaded_at")
    search_fields = ("=uscc", "name")
    fields = ("name", "uscc", "masked_rep", "masked_rep_id", "status", "source", "loaded_at")
    readonly_fields = fields

    @admin.display(description=_("法定代表人"))
    def masked_rep(self, obj) -> str:
        return mask_name(obj.legal_rep_name)

    @admin.display(description=_("法定代表人身份证号"))
    def masked_rep_id(self, obj) -> str:
        return mask_id_number(obj.legal_rep_id_number)
