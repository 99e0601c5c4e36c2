"""Errors of the working-day calendar: one exception with a machine code and a Chinese message,
and the per-row errors of a schedule import."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarErrorCode(models.TextChoices):
    YEAR_OUT_OF_RANGE = "year_out_of_range", _("年份超出日历范围")
    YEAR_UNSUPPORTED = "year_unsupported", _("该年份既无放假安排也无法推算")
    NEGATIVE_DAYS = "negative_days", _("天数不能为负")
    TOO_MANY_DAYS = "too_many_days", _("天数过大")
    BAD_UNIT = "bad_unit", _("期限单位无效")
    BAD_MOMENT = "bad_moment", _("时间无效")
    NAIVE_DATETIME = "naive_datetime", _("时间缺少时区")
    BAD_REGION = "bad_region", _("区划代码无效")
    # schedule entry and import
    SCHEDULE_INVALID = "schedule_invalid", _("放假安排有误")
    SCHEDULE_EXISTS = "schedule_exists", _("该年度放假安排已存在")
    FILE_INVALID = "file_invalid", _("文件无法读取")
    LOCAL_HOLIDAY_INVALID = "local_holiday_invalid", _("地方节日设置有误")


class RowErrorCode(models.TextChoices):
    BAD_DATE = "bad_date", _("日期无效")
    OUTSIDE_YEAR = "outside_year", _("日期不在该年度内")
    DUPLICATE_DATE = "duplicate_date", _("日期重复")
    BAD_KIND = "bad_kind", _("类型无效")
    MAKEUP_NOT_WEEKEND = "makeup_not_weekend", _("调休上班日不是周六或周日")
    NAME_REQUIRED = "name_required", _("缺少节日名称")
    NAME_TOO_LONG = "name_too_long", _("名称过长")
    IN_OTHER_SCHEDULE = "in_other_schedule", _("日期已在另一年度的放假安排中")
    STATUTORY_MISSING = "statutory_missing", _("缺少法定节假日")
    STATUTORY_AS_WORKDAY = "statutory_as_workday", _("法定节假日被安排为上班")
    BAD_ROW = "bad_row", _("行格式有误")


@dataclass(frozen=True)
class RowError:
    """One problem in an entered schedule: ``row`` is the 1-based line (CSV, counting the header)
    or the 1-based position in the ``days`` list (JSON, API); 0 for the schedule as a whole."""

    row: int
    code: str
    message: str

    def __str__(self) -> str:
        if self.row:
            return str(_("第%(row)d行：%(message)s") % {"row": self.row, "message": self.message})
        return str(self.message)


@dataclass
class CalendarError(ValueError):
    """A calendar question that cannot be answered, or a schedule that cannot be entered.

    ``code`` is a :class:`CalendarErrorCode` value; ``rows`` lists every bad row of a schedule.
    """

    code: str
    message: str
    rows: list[RowError] = field(default_factory=list)

    def __str__(self) -> str:
        return str(self.message)
