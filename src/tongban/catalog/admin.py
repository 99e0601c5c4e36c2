"""The catalog in the back office (Django admin): items, implementations with every guide element,
situations with their options, themes, the power list and synonyms.

Validation is the import's: the model's own checks plus :mod:`tongban.catalog.rules`. The
implementation form checks its own fields, each inline checks its rows; an *error* (a
contradiction) appears beside the field and nothing is saved; *defects* (missing elements) are
shown as warnings after the save. An item's name, code, basis and type (seed 001 row 10) are shown
read-only on the implementation: they are edited on the item, once for every region.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tongban.catalog import rules, services
from tongban.catalog.importexport import export_catalog
from tongban.catalog.models import (
    Fee,
    Implementation,
    Intermediary,
    Item,
    ItemTranslation,
    Location,
    Material,
    PowerListEntry,
    ProcessStep,
    Question,
    ServiceHours,
    Situation,
    SituationOption,
    Synonym,
    Theme,
)
from tongban.core import audit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_WARNINGS = 10


def _implementation_values(instance, cleaned: dict | None = None) -> dict:
    cleaned = cleaned or {}
    return {
        name: cleaned[name] if name in cleaned else getattr(instance, name, None)
        for name in rules.IMPLEMENTATION_FIELDS
    }


class ImplementationAdminForm(forms.ModelForm):
    class Meta:
        model = Implementation
        fields = tuple(
            f.name for f in Implementation._meta.fields if f.editable and not f.primary_key
        )

    def clean(self):
        cleaned = super().clean()
        data = _implementation_values(self.instance, cleaned)
        for finding in rules.errors(rules.check_values(data, scopes=[rules.IMPLEMENTATION])):
            field = finding.field if finding.field in self.fields else None
            if field and field in self.errors:
                continue  # the field has its own error already
            self.add_error(field, forms.ValidationError(finding.message, code=finding.code))
        return cleaned


class GuideInlineFormSet(BaseInlineFormSet):
    """Runs the rules of one collection over the submitted rows; errors go beside the field."""

    collection = ""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        # Unchanged extra forms have empty cleaned data; deleted rows no longer count.
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        data = _implementation_values(self.instance)
        data[self.collection] = [self.row(form) for form in kept]
        for finding in rules.errors(rules.check_values(data, scopes=[self.collection])):
            if finding.index is None:
                raise forms.ValidationError(finding.message, code=finding.code)
            form = kept[finding.index]
            field = finding.field if finding.field in form.fields else None
            form.add_error(field, forms.ValidationError(finding.message, code=finding.code))

    def row(self, form) -> dict:
        return dict(form.cleaned_data)


class LocationInline(admin.TabularInline):
    model = Location
    formset = type("LocationFormSet", (GuideInlineFormSet,), {"collection": "locations"})
    extra = 0


class ServiceHoursInline(admin.TabularInline):
    model = ServiceHours
    formset = type("HoursFormSet", (GuideInlineFormSet,), {"collection": "hours"})
    extra = 0


class ProcessStepInline(admin.StackedInline):
    model = ProcessStep
    formset = type("StepsFormSet", (GuideInlineFormSet,), {"collection": "steps"})
    extra = 0


class MaterialFormSet(GuideInlineFormSet):
    collection = "materials"

    def row(self, form) -> dict:
        row = dict(form.cleaned_data)
        row["conditions"] = [o.pk for o in row.get("conditions") or ()]
        return row


class MaterialInline(admin.StackedInline):
    model = Material
    formset = MaterialFormSet
    extra = 0
    fieldsets = (
        (
            None,
            {"fields": (("name", "order"), ("source", "issuer"), ("necessity", "needs_filling"))},
        ),
        (_("份数与形式"), {"fields": (("originals", "copies"), ("form", "medium"))}),
        (_("表格"), {"fields": (("blank_form", "sample_form"),)}),
        (_("适用情形与说明"), {"fields": ("conditions", "requirements", "note")}),
    )

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "conditions":
            impl_id = getattr(request, "_catalog_implementation_id", None)
            kwargs["queryset"] = SituationOption.objects.filter(
                situation__implementation_id=impl_id
            ).select_related("situation")
            kwargs["widget"] = forms.CheckboxSelectMultiple
            kwargs["help_text"] = _(
                "先保存情形及其选项，再勾选本材料适用的选项；不勾选表示始终需要"
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class SituationInline(admin.TabularInline):
    model = Situation
    extra = 0
    show_change_link = True
    fields = ("question", "multiple", "order", "option_count")
    readonly_fields = ("option_count",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_option_count=Count("options"))

    @admin.display(description=_("选项数"))
    def option_count(self, obj) -> int:
        return getattr(obj, "_option_count", 0)


class FeeInline(admin.TabularInline):
    model = Fee
    extra = 0


class IntermediaryInline(admin.TabularInline):
    model = Intermediary
    formset = type("IntermediaryFormSet", (GuideInlineFormSet,), {"collection": "intermediaries"})
    extra = 0


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0


def _warn_defects(request, implementation) -> None:
    fresh = Implementation.objects.get(pk=implementation.pk)
    defects = [f for f in rules.check_implementation(fresh, prefetched=False) if not f.is_error]
    for finding in defects[:MAX_WARNINGS]:
        messages.warning(
            request,
            _("缺项（第%(row)d项）：%(msg)s") % {"row": finding.seed_row, "msg": finding.message},
        )
    if len(defects) > MAX_WARNINGS:
        messages.warning(
            request, _("另有%(n)d处缺项，请查看办事指南审计") % {"n": len(defects) - MAX_WARNINGS}
        )


class AuditedAdmin(admin.ModelAdmin):
    """Every back-office change and deletion also lands in the SM3-chained audit trail."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._audit(request, obj, "change" if change else "add", sorted(form.changed_data))

    def delete_model(self, request, obj):
        self._audit(request, obj, "delete", [])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._audit(request, obj, "delete", [])
        super().delete_queryset(request, queryset)

    def _audit(self, request, obj, verb: str, fields: list[str]) -> None:
        meta = obj._meta
        audit.record(
            actor=request.user,
            action=f"admin.{meta.app_label}.{meta.model_name}.{verb}",
            object_type=f"{meta.app_label}.{meta.model_name}",
            object_id=obj.pk,
            details={"repr": str(obj)[:200], "fields": fields},
            **audit.request_context(request),
        )


@admin.register(Implementation)
class ImplementationAdmin(AuditedAdmin):
    form = ImplementationAdminForm
    list_display = (
        "code",
        "item_name",
        "organization",
        "region",
        "online_depth",
        "visits_required",
        "status",
    )
    list_filter = (
        "status",
        "online_depth",
        "is_instant",
        ("region", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("item", "organization", "region")
    search_fields = ("=code", "item__name", "=item__code", "organization__name")
    autocomplete_fields = ("item", "organization", "region")
    readonly_fields = (
        "item_code",
        "item_name",
        "item_type",
        "item_basis",
        "region_code",
        "status",
        "updated_at",
    )
    inlines = (
        LocationInline,
        ServiceHoursInline,
        ProcessStepInline,
        MaterialInline,
        SituationInline,
        FeeInline,
        IntermediaryInline,
        QuestionInline,
    )
    actions = ("publish_selected", "export_selected")
    fieldsets = (
        (
            _("事项（在“政务服务事项”中统一维护）"),
            {"fields": ("item", ("item_code", "item_name"), "item_type", "item_basis")},
        ),
        (
            _("实施主体"),
            {
                "fields": (
                    "code",
                    ("organization", "region", "region_code"),
                    "handling_code",
                    "handling_unit",
                    "joint_departments",
                )
            },
        ),
        (
            _("办结时限"),
            {
                "fields": (
                    ("statutory_limit", "statutory_unit"),
                    "statutory_note",
                    ("promised_limit", "promised_unit", "is_instant"),
                    "promised_note",
                )
            },
        ),
        (
            _("网上办理深度与渠道"),
            {
                "fields": (
                    ("online_depth", "visits_required", "required_level"),
                    "online_url",
                    ("handle_at_window", "handle_on_pc", "handle_on_mobile", "handle_by_post"),
                )
            },
        ),
        (
            _("办事指南"),
            {
                "fields": (
                    "conditions",
                    "quantity_limit",
                    "jurisdiction",
                    "cross_area",
                    ("result_name", "result_sample"),
                    ("charges_fee", "has_intermediary"),
                    ("consultation_phone", "complaint_phone"),
                )
            },
        ),
        (
            _("预约、支付与送达"),
            {
                "fields": (
                    ("supports_appointment", "supports_online_payment", "supports_express"),
                    ("deliver_at_window", "deliver_by_express", "deliver_online"),
                )
            },
        ),
        (
            _("状态"),
            {"fields": (("status", "version"), ("effective_from", "effective_to"), "updated_at")},
        ),
    )

    @admin.display(description=_("基本编码"))
    def item_code(self, obj) -> str:
        return obj.item.code if obj.item_id else ""

    @admin.display(description=_("事项名称"), ordering="item__name")
    def item_name(self, obj) -> str:
        return obj.item.name if obj.item_id else ""

    @admin.display(description=_("事项类型"))
    def item_type(self, obj) -> str:
        return obj.item.get_item_type_display() if obj.item_id else ""

    @admin.display(description=_("设定依据"))
    def item_basis(self, obj) -> str:
        return obj.item.legal_basis if obj.item_id else ""

    def get_form(self, request, obj=None, change=False, **kwargs):
        request._catalog_implementation_id = obj.pk if obj else None
        return super().get_form(request, obj, change=change, **kwargs)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.reindex_on_commit([form.instance.item])
        services.forget_guides_on_commit([form.instance.code])
        _warn_defects(request, form.instance)

    @admin.action(description=_("发布所选实施清单"), permissions=("change",))
    def publish_selected(self, request, queryset):
        published = 0
        for impl in queryset:
            try:
                services.publish_implementation(actor=request.user, implementation=impl)
            except services.CatalogError as exc:
                self.message_user(request, f"{impl.code}：{exc.message}", messages.ERROR)
            else:
                published += 1
        if published:
            self.message_user(
                request,
                ngettext("已发布%(n)d项实施清单", "已发布%(n)d项实施清单", published)
                % {"n": published},
                messages.SUCCESS,
            )

    @admin.action(description=_("导出所选实施清单为Excel"), permissions=("view",))
    def export_selected(self, request, queryset):
        response = HttpResponse(content_type=XLSX)
        name = f"catalog-{timezone.localdate():%Y%m%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        export_catalog(Implementation.objects.filter(pk__in=queryset.values("pk")), response)
        return response


class SituationOptionInline(admin.TabularInline):
    model = SituationOption
    extra = 2


@admin.register(Situation)
class SituationAdmin(AuditedAdmin):
    list_display = ("question", "implementation", "multiple", "order")
    list_select_related = ("implementation__item", "implementation__organization")
    search_fields = ("question", "=implementation__code")
    autocomplete_fields = ("implementation",)
    inlines = (SituationOptionInline,)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        impl = form.instance.implementation
        impl.save(update_fields=["updated_at"])  # the guide changed: refresh its stamp
        services.forget_guides_on_commit([impl.code])
        _warn_defects(request, impl)


class ItemTranslationInline(admin.TabularInline):
    model = ItemTranslation
    extra = 0


@admin.register(Item)
class ItemAdmin(AuditedAdmin):
    list_display = ("code", "name", "item_type", "level", "is_active", "implementation_count")
    list_filter = ("item_type", "level", "is_active", "themes")
    search_fields = ("=code", "name", "keywords")
    filter_horizontal = ("themes", "power_entries")
    inlines = (ItemTranslationInline,)
    readonly_fields = ("implementation_links",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_impl_count=Count("implementations"))

    @admin.display(description=_("实施清单数"), ordering="_impl_count")
    def implementation_count(self, obj) -> int:
        return obj._impl_count

    @admin.display(description=_("实施清单"))
    def implementation_links(self, obj):
        if not obj.pk:
            return "—"
        url = reverse("admin:catalog_implementation_changelist") + f"?q={obj.code}"
        return format_html('<a href="{}">{}</a>', url, _("查看本事项在各地的实施清单"))

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.reindex_on_commit([form.instance])
        services.item_changed(item=form.instance)


@admin.register(Theme)
class ThemeAdmin(AuditedAdmin):
    list_display = ("name", "code", "audience", "order")
    list_filter = ("audience",)
    search_fields = ("name", "code")


@admin.register(PowerListEntry)
class PowerListEntryAdmin(AuditedAdmin):
    list_display = ("code", "name", "item_type", "department")
    list_filter = ("item_type",)
    search_fields = ("=code", "name", "department")


@admin.register(Synonym)
class SynonymAdmin(AuditedAdmin):
    list_display = ("term", "expansions")
    search_fields = ("term", "expansions")
