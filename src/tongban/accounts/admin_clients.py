"""Admin for department-system clients: DOT's ``Application`` admin with Tongban's
:class:`ClientPolicy` inline. Installed through ``OAUTH2_PROVIDER["APPLICATION_ADMIN_CLASS"]``
(django-oauth-toolkit registers its Application admin with that class), so no other admin
module has to import this one."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from oauth2_provider.admin import ApplicationAdmin

from tongban.accounts.models import ClientPolicy
from tongban.accounts.oidc import all_scopes


def _scope_choices():
    return [(name, f"{name} — {description}") for name, description in all_scopes().items()]


class ClientPolicyForm(forms.ModelForm):
    allowed_scopes = forms.MultipleChoiceField(
        label=_("可申请的授权范围"),
        choices=_scope_choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ClientPolicy
        fields = [
            "organization",
            "allowed_scopes",
            "may_receive_full_id_number",
            "may_receive_full_phone",
            "is_active",
            "notes",
        ]


class ClientPolicyInline(admin.StackedInline):
    model = ClientPolicy
    form = ClientPolicyForm
    can_delete = False
    min_num = 1
    max_num = 1
    raw_id_fields = ("organization",)
    verbose_name = _("接入策略")
    verbose_name_plural = _("接入策略")


class TongbanApplicationAdmin(ApplicationAdmin):
    inlines = [ClientPolicyInline]
    list_display = (
        "pk",
        "name",
        "policy_organization",
        "authorization_grant_type",
        "client_type",
        "policy_active",
    )
    list_select_related = ("tongban_policy__organization",)

    @admin.display(description=_("责任单位"))
    def policy_organization(self, obj):
        policy = getattr(obj, "tongban_policy", None)
        return policy.organization.name if policy is not None else "—"

    @admin.display(description=_("启用"), boolean=True)
    def policy_active(self, obj):
        policy = getattr(obj, "tongban_policy", None)
        return bool(policy is not None and policy.is_active)
