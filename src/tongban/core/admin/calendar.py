"""Admin for the working-day calendar (holiday schedules, local holidays).

Schedules are entered only through the import page (a CSV or JSON file, checked row by row by
:func:`tongban.core.calendar_services.import_schedule_file`); the entered days are read-only here.
Every save and delete goes through the calendar services so the cache is invalidated and the
recompute hooks run.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.core import calendar, calendar_services
from tongban.core.calendar_errors import CalendarError
from tongban.core.models import HolidaySchedule, LocalHoliday, ScheduleDay


class ScheduleDayInline(admin.TabularInline):
    model = ScheduleDay
    fields = ("date", "kind", "name")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ScheduleImportForm(forms.Form):
    file = forms.FileField(
        label=_("放假安排文件"),
        help_text=_("CSV（表头 date,kind,name）或 JSON，格式见 docs/holidays/README.md"),
    )
    year = forms.IntegerField(
        label=_("年度"),
        required=False,
        min_value=1900,
        max_value=2099,
        help_text=_("文件中已写明（# year:）时可不填"),
    )
    source = forms.CharField(
        label=_("依据文件"),
        required=False,
        max_length=200,
        help_text=_("通知名称或文号；文件中已写明（# source:）时可不填"),
    )
    published = forms.DateField(
        label=_("发布日期"), required=False, help_text=_("文件中已写明（# published:）时可不填")
    )
    note = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    replace = forms.BooleanField(label=_("替换该年度已有的放假安排"), required=False)
    accept_deviations = forms.BooleanField(
        label=_("接受与放假办法不一致之处"),
        required=False,
        help_text=_("仅在放假办法修订后、程序尚未更新时使用"),
    )


@admin.register(HolidaySchedule)
class HolidayScheduleAdmin(admin.ModelAdmin):
    list_display = ("year", "source", "published", "day_count", "entered_by", "created_at")
    search_fields = ("source",)
    fields = ("year", "source", "published", "entered_by", "note", "created_at", "updated_at")
    readonly_fields = fields
    inlines = (ScheduleDayInline,)
    change_list_template = "admin/core/holidayschedule/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_day_count=Count("days"))

    @admin.display(description=_("日期数"), ordering="_day_count")
    def day_count(self, obj: HolidaySchedule) -> int:
        return obj._day_count

    def has_change_permission(self, request, obj=None) -> bool:
        # Viewable, never edited in place: a correction is a new import with "replace".
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="core_holidayschedule_import"), *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:core_holidayschedule_import"))

    def delete_model(self, request, obj: HolidaySchedule) -> None:
        calendar_services.delete_schedule(actor=request.user, schedule=obj)

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():  # all of the selection, or none of it
            for schedule in queryset:
                calendar_services.delete_schedule(actor=request.user, schedule=schedule)

    def import_view(self, request: HttpRequest):
        if not self.has_add_permission(request):
            raise PermissionDenied
        row_errors = []
        if request.method == "POST":
            form = ScheduleImportForm(request.POST, request.FILES)
            if form.is_valid():
                data = form.cleaned_data
                if data["replace"] and not self.has_delete_permission(request):
                    raise PermissionDenied
                try:
                    schedule = calendar_services.import_schedule_file(
                        actor=request.user,
                        file=data["file"],
                        year=data["year"],
                        source=data["source"] or None,
                        published=data["published"],
                        note=data["note"],
                        replace=data["replace"],
                        accept_deviations=data["accept_deviations"],
                    )
                except CalendarError as exc:
                    form.add_error(None, exc.message)
                    row_errors = exc.rows
                else:
                    self.message_user(
                        request,
                        _("已导入%(year)d年度放假安排（%(n)d个日期）")
                        % {"year": schedule.year, "n": schedule.days.count()},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:core_holidayschedule_change", args=[schedule.pk])
                    )
        else:
            form = ScheduleImportForm()
        this_year = timezone.localdate().year
        years = []
        for year in range(this_year - 1, this_year + 3):
            try:
                years.append((year, calendar.year_source(year)))
            except CalendarError as exc:  # outside the range: shown, not fatal
                years.append((year, exc))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("导入年度放假安排"),
            "form": form,
            "row_errors": row_errors,
            "years": years,
        }
        return TemplateResponse(request, "admin/core/holidayschedule/import.html", context)


@admin.register(LocalHoliday)
class LocalHolidayAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "region",
        "kind",
        "date",
        "month",
        "day",
        "is_lunar",
        "length_days",
        "first_year",
        "last_year",
    )
    list_filter = ("kind", "is_lunar")
    search_fields = ("name", "region__name", "region__code")
    raw_id_fields = ("region",)
    readonly_fields = ("entered_by", "updated_at")
    fieldsets = (
        (None, {"fields": ("region", "name", "kind", "basis")}),
        (_("只在某一年"), {"fields": ("date",)}),
        (_("每年"), {"fields": ("month", "day", "is_lunar", "first_year", "last_year")}),
        (None, {"fields": ("length_days", "entered_by", "updated_at")}),
    )

    def save_model(self, request, obj: LocalHoliday, form, change) -> None:
        calendar_services.save_local_holiday(actor=request.user, holiday=obj)

    def delete_model(self, request, obj: LocalHoliday) -> None:
        calendar_services.delete_local_holiday(actor=request.user, holiday=obj)

    def delete_queryset(self, request, queryset) -> None:
        for holiday in queryset.select_related("region"):
            calendar_services.delete_local_holiday(actor=request.user, holiday=holiday)
