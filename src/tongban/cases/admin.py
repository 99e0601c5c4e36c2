"""Admin of the cases domain: the data dictionary and department business systems (platform
operators), each implementation's application form (its organization's administrators, limited
to their organizations and regions in SQL). Cases themselves are handled on the workbench."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tongban.accounts.queries import scope_q
from tongban.cases.models import DataElement, DepartmentEndpoint, FormField


@admin.register(DataElement)
class DataElementAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "kind", "profile_source", "personal")
    list_filter = ("kind", "personal")
    search_fields = ("key", "label")


@admin.register(FormField)
class FormFieldAdmin(admin.ModelAdmin):
    list_display = ("implementation", "__str__", "element", "required", "condition", "order")
    list_filter = ("required",)
    search_fields = ("implementation__code", "implementation__item__name", "key", "label")
    autocomplete_fields = ("element",)
    raw_id_fields = ("implementation", "condition")
    list_select_related = ("implementation__item", "element", "condition")

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        return rows.filter(
            scope_q(request.user, "implementation__organization", "implementation__region_code")
        )


class EndpointForm(forms.ModelForm):
    secret = forms.CharField(
        label=_("签名密钥"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text=_("至少32个字符；留空则保持原密钥"),
    )

    class Meta:
        model = DepartmentEndpoint
        fields = ("organization", "url", "secret", "client_id", "enabled")

    def clean_secret(self):
        value = self.cleaned_data.get("secret", "")
        if not value:
            if self.instance.pk:
                return self.instance.secret
            raise forms.ValidationError(_("请设置签名密钥"))
        if len(value) < 32:
            raise forms.ValidationError(_("签名密钥至少32个字符"))
        return value


@admin.register(DepartmentEndpoint)
class DepartmentEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ("organization", "url", "client_id", "enabled")
    list_filter = ("enabled",)
    search_fields = ("organization__name", "url", "client_id")
    raw_id_fields = ("organization",)
    list_select_related = ("organization",)
