"""Admin for regions and organizations.

Regions come from the GB/T 2260 table (``tongban import_regions``); operators correct names,
validity dates or add townships here, but never delete one (organizations and implementations
point at it) and never change a code. Organizations are saved through
:mod:`tongban.core.organizations`, so the form shows the same errors as the service.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from tongban.core.identifiers import IdentifierError, validate_uscc
from tongban.core.models import Organization, Region
from tongban.core.organizations import (
    EDITABLE_FIELDS,
    NON_FIELD,
    create_organization,
    organization_problems,
    update_organization,
)
from tongban.core.regions import (
    RegionError,
    expected_parents,
    invalidate_region_cache,
    normalize_region_code,
    region_field_errors,
)


class RegionAdminForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = (
            "code",
            "name",
            "level",
            "parent",
            "edition",
            "valid_from",
            "valid_to",
            "is_active",
        )

    def clean_code(self) -> str:
        try:
            return normalize_region_code(self.cleaned_data["code"])
        except RegionError as exc:
            raise ValidationError(exc.message, code=exc.code) from None

    def clean(self):
        data = super().clean()
        code = data.get("code") or (self.instance.code if self.instance.pk else None)
        if code and "level" in data and "code" not in self.errors:
            parent = data.get("parent")
            known = set(
                Region.objects.filter(code__in=expected_parents(code)).values_list(
                    "code", flat=True
                )
            )
            for field, error_code, message in region_field_errors(
                code=code,
                level=data["level"],
                parent_code=parent.code if parent else None,
                known=known,
            ):
                self.add_error(field, ValidationError(message, code=error_code))
            if parent is not None and not parent.is_active and data.get("is_active"):
                self.add_error(
                    "parent", ValidationError(_("上级区划已停用"), code="parent_inactive")
                )
        valid_from, valid_to = data.get("valid_from"), data.get("valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            self.add_error("valid_to", ValidationError(_("停用日期早于启用日期"), code="dates"))
        deactivating = self.instance.pk and self.instance.is_active and not data.get("is_active")
        if deactivating and self.instance.children.filter(is_active=True).exists():
            self.add_error(
                "is_active",
                ValidationError(
                    _("仍有有效的下级区划，请先停用下级区划"), code="has_active_children"
                ),
            )
        return data


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    form = RegionAdminForm
    list_display = ("code", "name", "level", "parent", "edition", "is_active", "valid_to")
    list_filter = ("level", "is_active", "edition")
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)
    ordering = ("code",)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # The prefix follows the code; a code never changes once children may hang under it.
        return ("code", "prefix") if obj is not None else ("prefix",)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: organizations and implementations refer to regions

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.GET.get("app_label") == "core" and request.GET.get("field_name"):
            # Autocomplete for a region or parent field: offer active regions only.
            queryset = queryset.filter(is_active=True)
        return queryset, may_have_duplicates

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        transaction.on_commit(invalidate_region_cache)


class OrganizationAdminForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = EDITABLE_FIELDS

    def clean_uscc(self) -> str:
        try:
            return validate_uscc(self.cleaned_data["uscc"])
        except IdentifierError as exc:
            raise ValidationError(exc.message, code=exc.reason) from None

    def clean(self):
        data = super().clean()
        existing = self.instance if self.instance.pk else None
        fields = {name: data[name] for name in EDITABLE_FIELDS if name in data}
        if existing is not None:
            fields = {name: value for name, value in fields.items() if name in self.changed_data}
        for problem in organization_problems(organization=existing, fields=fields):
            target = None if problem.field == NON_FIELD else problem.field
            if target is None or (target in self.fields and target not in self.errors):
                self.add_error(target, ValidationError(problem.message, code=problem.code))
        return data


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationAdminForm
    list_display = ("name", "uscc", "kind", "sector", "region", "parent", "is_active")
    list_filter = ("kind", "sector", "is_active", ("region", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "short_name", "uscc")
    autocomplete_fields = ("region", "parent")
    list_select_related = ("region", "parent")
    show_full_result_count = False

    def save_model(self, request, obj, form, change) -> None:
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            if fields:
                update_organization(actor=request.user, organization=obj, **fields)
            return
        fields = {
            name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data
        }
        created = create_organization(actor=request.user, **fields)
        # The admin logs and redirects with the object it built; give it the saved identity.
        obj.pk = created.pk
        obj._state.adding = False
        obj._state.db = created._state.db
