"""Working-day calendar data: the State Council's yearly holiday schedules and local holidays.

Rows are written only through :mod:`tongban.core.calendar_services`, which validates them,
invalidates the in-process calendar cache and calls the recompute hooks.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("放假")
    MAKEUP_WORKDAY = "makeup_workday", _("调休上班")


class HolidaySchedule(models.Model):
    """One year's official arrangement (《国务院办公厅关于YYYY年部分节假日安排的通知》)."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    source = models.CharField(_("依据文件"), max_length=200)
    published = models.DateField(_("发布日期"))
    entered_by = models.CharField(_("录入人"), max_length=150)
    note = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("年度放假安排")
        verbose_name_plural = _("年度放假安排")
        ordering = ("-year",)

    def __str__(self) -> str:
        return f"{self.year}（{self.source}）"


class ScheduleDay(models.Model):
    """A date the schedule changes from the ordinary week: a day off, or a weekend working day."""

    schedule = models.ForeignKey(
        HolidaySchedule, verbose_name=_("放假安排"), on_delete=models.CASCADE, related_name="days"
    )
    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=DayKind.choices)
    name = models.CharField(_("节日"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("放假安排日期")
        verbose_name_plural = _("放假安排日期")
        ordering = ("date",)

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()} {self.name}".strip()


class LocalHoliday(models.Model):
    """A holiday (or local make-up working day) a region sets itself, such as an ethnic festival
    (放假办法第四条). It applies to its region and every region below it (by code prefix).

    Either one ``date``, or a yearly ``month``/``day`` (lunar when ``is_lunar``), optionally only
    from ``first_year`` to ``last_year``. ``length_days`` consecutive days starting there.
    """

    region = models.ForeignKey(
        "core.Region",
        verbose_name=_("适用区划"),
        on_delete=models.PROTECT,
        related_name="local_holidays",
    )
    name = models.CharField(_("名称"), max_length=50)
    kind = models.CharField(
        _("类型"), max_length=20, choices=DayKind.choices, default=DayKind.HOLIDAY
    )
    date = models.DateField(_("日期"), null=True, blank=True, help_text=_("只在某一年的，填日期"))
    month = models.PositiveSmallIntegerField(_("每年月份"), null=True, blank=True)
    day = models.PositiveSmallIntegerField(_("每年日"), null=True, blank=True)
    is_lunar = models.BooleanField(_("农历"), default=False)
    length_days = models.PositiveSmallIntegerField(_("天数"), default=1)
    first_year = models.PositiveSmallIntegerField(_("起始年度"), null=True, blank=True)
    last_year = models.PositiveSmallIntegerField(_("截止年度"), null=True, blank=True)
    basis = models.CharField(_("依据"), max_length=200, blank=True)
    entered_by = models.CharField(_("录入人"), max_length=150, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    MAX_LENGTH_DAYS = 15

    class Meta:
        verbose_name = _("地方节假日")
        verbose_name_plural = _("地方节假日")
        ordering = ("region__code", "month", "day", "date")

    def __str__(self) -> str:
        return f"{self.name}（{self.region_id}）"

    def clean(self) -> None:
        errors: dict[str, list] = {}
        recurring = self.month is not None or self.day is not None
        if self.date is None and not recurring:
            errors.setdefault("date", []).append(_("请填写日期，或每年的月份和日"))
        if self.date is not None and (recurring or self.is_lunar):
            errors.setdefault("date", []).append(
                _("日期与每年的月份和日只能填一种；农历只用于每年的月日")
            )
        if self.date is None and recurring:
            if self.month is None or self.day is None:
                errors.setdefault("day", []).append(_("每年的月份和日须同时填写"))
            elif not 1 <= self.month <= 12:
                errors.setdefault("month", []).append(_("月份应为1–12"))
            elif self.is_lunar and not 1 <= self.day <= 30:
                errors.setdefault("day", []).append(_("农历日应为1–30"))
            elif not self.is_lunar:
                try:
                    dt.date(2001, self.month, self.day)  # a common year: 2月29日 is refused
                except ValueError:
                    errors.setdefault("day", []).append(_("该日期不是每年都有"))
        if not 1 <= (self.length_days or 0) <= self.MAX_LENGTH_DAYS:
            errors.setdefault("length_days", []).append(
                _("天数应为1–%(n)d") % {"n": self.MAX_LENGTH_DAYS}
            )
        for name in ("first_year", "last_year"):
            value = getattr(self, name)
            if value is not None and not 1900 <= value <= 2099:
                errors.setdefault(name, []).append(_("年度应在1900–2099之间"))
        if (
            self.first_year is not None
            and self.last_year is not None
            and self.first_year > self.last_year
        ):
            errors.setdefault("last_year", []).append(_("截止年度不能早于起始年度"))
        if self.date is not None and (self.first_year is not None or self.last_year is not None):
            errors.setdefault("first_year", []).append(_("只在某一年的节日不需要年度范围"))
        if self.date is not None and not 1900 <= self.date.year <= 2099:
            errors.setdefault("date", []).append(_("年度应在1900–2099之间"))
        if errors:
            raise ValidationError(errors)
