"""Changing the calendar: entering a year's State Council schedule (by hand or from a file) and
setting local holidays. Each function runs in one transaction, invalidates the calendar cache and,
after commit, calls the recompute hooks registered with :mod:`tongban.core.calendar`.

Schedule files
--------------
CSV, UTF-8 (GB18030 accepted, as Excel writes it), one row per date that differs from the ordinary
week, with the header ``date,kind,name`` (or ``日期,类型,名称``)::

    # year: 2026
    # source: 国务院办公厅关于2026年部分节假日安排的通知
    # published: 2025-11-04
    date,kind,name
    2026-01-01,holiday,元旦
    2026-01-04,makeup_workday,元旦

``date`` is ``YYYY-MM-DD`` (or ``YYYY/MM/DD``); ``kind`` is ``holiday`` (also 休, 放假) or
``makeup_workday`` (also 班, 上班, 调休上班); ``name`` names the festival and is required for a
holiday. List every day of each break, weekends inside it included, as the notice does. Lines
starting with ``#`` are comments; ``# year:``, ``# source:`` and ``# published:`` give the
schedule's facts unless the caller passes them.

JSON: ``{"year": 2026, "source": "…", "published": "2025-11-04", "days": [{"date": "2026-01-01",
"kind": "holiday", "name": "元旦"}, …]}``.

Checks (all reported at once, with the row, a code and a Chinese message; nothing is saved unless
every row is right): the date exists and lies in the year (or 25–31 December of the year before,
for a New Year break); no date twice; a known kind; a make-up working day falls on a Saturday or
Sunday; a holiday has a name; no date belongs to another year's schedule; and every statutory
holiday of the law in force that falls on a weekday is a holiday in the schedule (pass
``accept_deviations=True`` to enter a schedule that departs from the law, e.g. after a new
revision).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from tongban.core import audit, calendar, calendar_law
from tongban.core.calendar import CalendarChange
from tongban.core.calendar_errors import CalendarError, CalendarErrorCode, RowError, RowErrorCode
from tongban.core.models import DayKind, HolidaySchedule, LocalHoliday, ScheduleDay

MAX_FILE_BYTES = 256 * 1024
MAX_ROWS = 400

_KIND_ALIASES = {
    "holiday": DayKind.HOLIDAY,
    "休": DayKind.HOLIDAY,
    "放假": DayKind.HOLIDAY,
    "makeup_workday": DayKind.MAKEUP_WORKDAY,
    "班": DayKind.MAKEUP_WORKDAY,
    "上班": DayKind.MAKEUP_WORKDAY,
    "调休上班": DayKind.MAKEUP_WORKDAY,
}
_HEADERS = (("date", "kind", "name"), ("日期", "类型", "名称"))


@dataclass
class ParsedSchedule:
    """A schedule file read but not yet checked. ``rows`` are (row number, date, kind, name) as
    written; ``errors`` are rows that could not even be split into those."""

    year: Any = None
    source: str | None = None
    published: Any = None
    rows: list[tuple[int, Any, Any, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


# --- helpers --------------------------------------------------------------------------------


def _actor_name(actor: Any) -> str:
    if actor is None:
        return ""
    getter = getattr(actor, "get_username", None)
    return str(getter() if callable(getter) else actor)[:150]


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _parse_year(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) == 4 else None


def _invalid(message: str, rows: list[RowError]) -> CalendarError:
    return CalendarError(CalendarErrorCode.SCHEDULE_INVALID, message, rows)


def _notify(changes: Iterable[CalendarChange]) -> None:
    """Invalidate now (this transaction's later reads) and again after commit, then run hooks."""
    changes = list(changes)
    calendar.invalidate_cache()

    def after_commit() -> None:
        calendar.invalidate_cache()
        for change in changes:
            calendar.run_recompute_hooks(change)

    transaction.on_commit(after_commit)


# --- entering a schedule --------------------------------------------------------------------


def _check_facts(year: Any, source: Any, published: Any) -> tuple[int, str, dt.date]:
    errors: list[RowError] = []
    year_value = _parse_year(year)
    if year_value is None or not calendar.FIRST_YEAR <= year_value <= calendar.LAST_YEAR:
        errors.append(
            RowError(
                0,
                RowErrorCode.BAD_ROW,
                gettext("年度“%(y)s”无效，应为1900–2099的四位年份") % {"y": year},
            )
        )
    source_text = str(source or "").strip()
    if not source_text:
        errors.append(
            RowError(0, RowErrorCode.BAD_ROW, gettext("请填写依据文件（通知名称或文号）"))
        )
    elif len(source_text) > 200:
        errors.append(RowError(0, RowErrorCode.NAME_TOO_LONG, gettext("依据文件不能超过200字")))
    published_date = _parse_date(published)
    if published_date is None:
        errors.append(
            RowError(
                0,
                RowErrorCode.BAD_DATE,
                gettext("发布日期“%(d)s”无效，应为YYYY-MM-DD") % {"d": published or ""},
            )
        )
    elif published_date > timezone.localdate():
        errors.append(
            RowError(
                0,
                RowErrorCode.BAD_DATE,
                gettext("发布日期%(d)s晚于今天") % {"d": published_date.isoformat()},
            )
        )
    if errors:
        raise _invalid(gettext("放假安排有误，未保存"), errors)
    return year_value, source_text, published_date  # type: ignore[return-value]


def _check_rows(
    year: int, rows: list[tuple[int, Any, Any, Any]], *, accept_deviations: bool
) -> tuple[list[tuple[dt.date, str, str]], list[RowError]]:
    errors: list[RowError] = []
    good: list[tuple[dt.date, str, str]] = []
    seen: dict[dt.date, int] = {}
    earliest = (
        dt.date(year - 1, 12, calendar.PREVIOUS_DECEMBER_FROM)
        if year > calendar.FIRST_YEAR
        else dt.date(year, 1, 1)
    )
    if not rows:
        errors.append(RowError(0, RowErrorCode.BAD_ROW, gettext("放假安排中没有任何日期")))
    if len(rows) > MAX_ROWS:
        errors.append(
            RowError(0, RowErrorCode.BAD_ROW, gettext("日期行数超过%(n)d") % {"n": MAX_ROWS})
        )
        return good, errors
    for row, raw_date, raw_kind, raw_name in rows:
        day = _parse_date(raw_date)
        if day is None:
            errors.append(
                RowError(
                    row,
                    RowErrorCode.BAD_DATE,
                    gettext("日期“%(d)s”无效，应为YYYY-MM-DD") % {"d": raw_date or ""},
                )
            )
            continue
        if not earliest <= day <= dt.date(year, 12, 31):
            errors.append(
                RowError(
                    row,
                    RowErrorCode.OUTSIDE_YEAR,
                    gettext("%(d)s不在%(y)d年度内") % {"d": day.isoformat(), "y": year},
                )
            )
            continue
        if day in seen:
            errors.append(
                RowError(
                    row,
                    RowErrorCode.DUPLICATE_DATE,
                    gettext("%(d)s与第%(r)d行重复") % {"d": day.isoformat(), "r": seen[day]},
                )
            )
            continue
        seen[day] = row
        kind = _KIND_ALIASES.get(str(raw_kind or "").strip().lower())
        if kind is None:
            errors.append(
                RowError(
                    row,
                    RowErrorCode.BAD_KIND,
                    gettext("类型“%(k)s”无效，应为holiday（休）或makeup_workday（班）")
                    % {"k": raw_kind or ""},
                )
            )
            continue
        name = str(raw_name or "").strip()
        if len(name) > 50:
            errors.append(RowError(row, RowErrorCode.NAME_TOO_LONG, gettext("名称不能超过50字")))
            continue
        if kind == DayKind.HOLIDAY and not name:
            errors.append(
                RowError(
                    row,
                    RowErrorCode.NAME_REQUIRED,
                    gettext("%(d)s放假，请写明节日名称") % {"d": day.isoformat()},
                )
            )
            continue
        if kind == DayKind.MAKEUP_WORKDAY and day.weekday() < 5:
            errors.append(
                RowError(
                    row,
                    RowErrorCode.MAKEUP_NOT_WEEKEND,
                    gettext("%(d)s是工作日（周一至周五），不能作为调休上班日")
                    % {"d": day.isoformat()},
                )
            )
            continue
        good.append((day, kind, name))
    if errors:
        return good, errors
    clashes = (
        ScheduleDay.objects.filter(date__in=[d for d, _k, _n in good])
        .exclude(schedule__year=year)
        .select_related("schedule")
    )
    for clash in clashes:
        errors.append(
            RowError(
                seen[clash.date],
                RowErrorCode.IN_OTHER_SCHEDULE,
                gettext("%(d)s已在%(y)d年度的放假安排中")
                % {"d": clash.date.isoformat(), "y": clash.schedule.year},
            )
        )
    if (
        not accept_deviations
        and calendar_law.PROVISIONAL_FIRST_YEAR <= year <= calendar_law.PROVISIONAL_LAST_YEAR
    ):
        kinds = {d: k for d, k, _n in good}
        for day, name in calendar_law.statutory_days(year):
            kind = kinds.get(day)
            if kind == DayKind.MAKEUP_WORKDAY:
                errors.append(
                    RowError(
                        seen[day],
                        RowErrorCode.STATUTORY_AS_WORKDAY,
                        gettext("%(d)s是法定节假日（%(n)s），不能安排上班")
                        % {"d": day.isoformat(), "n": name},
                    )
                )
            elif kind is None and day.weekday() < 5:
                errors.append(
                    RowError(
                        0,
                        RowErrorCode.STATUTORY_MISSING,
                        gettext(
                            "缺少法定节假日%(d)s（%(n)s）；若放假办法已修订，请确认后按“接受与放假办法不一致”重新提交"
                        )
                        % {"d": day.isoformat(), "n": name},
                    )
                )
    return good, errors


def enter_schedule(
    *,
    actor: Any,
    year: Any,
    days: Iterable[Mapping[str, Any] | tuple[Any, Any, Any]],
    source: Any,
    published: Any,
    note: str = "",
    replace: bool = False,
    accept_deviations: bool = False,
) -> HolidaySchedule:
    """Enter (or with ``replace=True`` replace) a year's official schedule. ``days`` are mappings
    with ``date``, ``kind`` and ``name`` (or such triples); every problem is raised at once as a
    :class:`CalendarError` whose ``rows`` number the days from 1. Recompute hooks run after commit
    for the year (and the previous one when the schedule reaches into its December)."""
    rows: list[tuple[int, Any, Any, Any]] = []
    for i, item in enumerate(days, start=1):
        if isinstance(item, Mapping):
            rows.append((i, item.get("date"), item.get("kind"), item.get("name")))
        else:
            try:
                raw_date, raw_kind, raw_name = item
            except (TypeError, ValueError):
                rows.append((i, None, None, None))
                continue
            rows.append((i, raw_date, raw_kind, raw_name))
    return _enter(
        actor=actor,
        year=year,
        rows=rows,
        source=source,
        published=published,
        note=note,
        replace=replace,
        accept_deviations=accept_deviations,
    )


def _enter(
    *, actor, year, rows, source, published, note, replace, accept_deviations, pre_errors=()
):
    year_value, source_text, published_date = _check_facts(year, source, published)
    with transaction.atomic():
        existing = HolidaySchedule.objects.select_for_update().filter(year=year_value).first()
        if existing is not None and not replace:
            raise CalendarError(
                CalendarErrorCode.SCHEDULE_EXISTS,
                gettext("%(y)d年度放假安排已于%(at)s录入（%(src)s）；如需更正请选择替换")
                % {
                    "y": year_value,
                    "at": timezone.localtime(existing.created_at).strftime("%Y-%m-%d"),
                    "src": existing.source,
                },
            )
        good, errors = _check_rows(year_value, rows, accept_deviations=accept_deviations)
        errors = sorted([*pre_errors, *errors], key=lambda e: e.row)
        if errors:
            raise _invalid(gettext("放假安排有%(n)d处错误，未保存") % {"n": len(errors)}, errors)
        old_years = (
            {d.year for d in existing.days.values_list("date", flat=True)} if existing else set()
        )
        fields = {
            "source": source_text,
            "published": published_date,
            "entered_by": _actor_name(actor),
            "note": note or "",
        }
        try:
            with transaction.atomic():
                if existing is None:
                    schedule = HolidaySchedule.objects.create(year=year_value, **fields)
                else:
                    schedule = existing
                    for name, value in fields.items():
                        setattr(schedule, name, value)
                    schedule.save()
                    schedule.days.all().delete()
                ScheduleDay.objects.bulk_create(
                    ScheduleDay(schedule=schedule, date=d, kind=k, name=n) for d, k, n in good
                )
        except IntegrityError:
            raise CalendarError(
                CalendarErrorCode.SCHEDULE_EXISTS,
                gettext("%(y)d年度放假安排刚被他人录入，请刷新后再试") % {"y": year_value},
            ) from None
        years = {year_value} | old_years | {d.year for d, _k, _n in good}
        audit.record(
            actor=actor,
            action="calendar.schedule_replace" if existing else "calendar.schedule_enter",
            object_type="core.holidayschedule",
            object_id=schedule.pk,
            details={"year": year_value, "source": source_text, "days": len(good)},
        )
        _notify(CalendarChange(y, None, "schedule") for y in sorted(years))
    return schedule


def delete_schedule(*, actor: Any, schedule: HolidaySchedule) -> None:
    """Withdraw a year's schedule (entered by mistake); the year falls back to the package or the
    provisional rules and the hooks are told."""
    with transaction.atomic():
        year = schedule.year
        locked = HolidaySchedule.objects.select_for_update().filter(pk=schedule.pk).first()
        if locked is None:
            return
        years = {year} | {d.year for d in locked.days.values_list("date", flat=True)}
        locked.delete()
        audit.record(
            actor=actor,
            action="calendar.schedule_delete",
            object_type="core.holidayschedule",
            object_id=schedule.pk,
            details={"year": year},
        )
        _notify(CalendarChange(y, None, "schedule_deleted") for y in sorted(years))


# --- files ----------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CalendarError(CalendarErrorCode.FILE_INVALID, gettext("文件编码无法识别，请保存为UTF-8"))


def _parse_csv(text: str) -> ParsedSchedule:
    parsed = ParsedSchedule()
    header_seen = False
    for line_no, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            key, sep, value = stripped.lstrip("#").partition(":")
            if not sep:
                key, sep, value = stripped.lstrip("#").partition("：")
            key = key.strip().lower()
            if sep and key in ("year", "source", "published"):
                setattr(parsed, key, value.strip())
            continue
        cells = [c.strip() for c in next(csv.reader([line]))]
        if not header_seen:
            if tuple(c.lower() for c in cells) not in _HEADERS:
                raise CalendarError(
                    CalendarErrorCode.FILE_INVALID,
                    gettext("第%(r)d行应为表头“date,kind,name”（或“日期,类型,名称”）")
                    % {"r": line_no},
                    [RowError(line_no, RowErrorCode.BAD_ROW, gettext("缺少表头"))],
                )
            header_seen = True
            continue
        if len(cells) == 2:
            cells.append("")
        if len(cells) != 3:
            parsed.errors.append(
                RowError(
                    line_no,
                    RowErrorCode.BAD_ROW,
                    gettext("应有3列（日期,类型,名称），实际%(n)d列") % {"n": len(cells)},
                )
            )
            continue
        parsed.rows.append((line_no, *cells))
    if not header_seen:
        raise CalendarError(
            CalendarErrorCode.FILE_INVALID, gettext("文件中没有表头“date,kind,name”")
        )
    return parsed


def _parse_json(text: str) -> ParsedSchedule:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CalendarError(
            CalendarErrorCode.FILE_INVALID,
            gettext("JSON格式错误：第%(l)d行第%(c)d列") % {"l": exc.lineno, "c": exc.colno},
        ) from None
    if isinstance(data, list):
        data = {"days": data}
    if not isinstance(data, dict) or not isinstance(data.get("days"), list):
        raise CalendarError(CalendarErrorCode.FILE_INVALID, gettext("JSON应为含days列表的对象"))
    parsed = ParsedSchedule(data.get("year"), data.get("source"), data.get("published"))
    for i, item in enumerate(data["days"], start=1):
        if not isinstance(item, dict):
            parsed.errors.append(
                RowError(i, RowErrorCode.BAD_ROW, gettext("应为含date、kind、name的对象"))
            )
            continue
        parsed.rows.append((i, item.get("date"), item.get("kind"), item.get("name")))
    return parsed


def parse_schedule_file(data: bytes, *, name: str = "") -> ParsedSchedule:
    """Read a CSV or JSON schedule file (chosen by extension, else by content)."""
    if len(data) > MAX_FILE_BYTES:
        raise CalendarError(
            CalendarErrorCode.FILE_INVALID,
            gettext("文件超过%(k)dKB") % {"k": MAX_FILE_BYTES // 1024},
        )
    text = _decode(data)
    suffix = Path(name).suffix.lower()
    if suffix == ".json" or (suffix != ".csv" and text.lstrip().startswith(("{", "["))):
        return _parse_json(text)
    return _parse_csv(text)


def _read(file: Any) -> tuple[bytes, str]:
    if isinstance(file, (str, Path)):
        path = Path(file)
        try:
            with path.open("rb") as handle:
                return handle.read(MAX_FILE_BYTES + 1), path.name
        except OSError as exc:
            raise CalendarError(
                CalendarErrorCode.FILE_INVALID,
                gettext("无法读取文件%(f)s：%(e)s") % {"f": path, "e": exc.strerror},
            ) from None
    if isinstance(file, bytes):
        return file, ""
    data = file.read(MAX_FILE_BYTES + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    return data, getattr(file, "name", "") or ""


def _merge_fact(label: str, given: Any, in_file: Any, errors: list[RowError]) -> Any:
    if given in (None, ""):
        return in_file
    if in_file not in (None, "") and str(in_file).strip() != str(given).strip():
        errors.append(
            RowError(
                0,
                RowErrorCode.BAD_ROW,
                gettext("文件中的%(l)s“%(f)s”与指定的“%(g)s”不一致")
                % {"l": label, "f": in_file, "g": given},
            )
        )
    return given


def import_schedule_file(
    *,
    actor: Any,
    file: Any,
    year: int | None = None,
    source: str | None = None,
    published: dt.date | str | None = None,
    note: str = "",
    replace: bool = False,
    accept_deviations: bool = False,
) -> HolidaySchedule:
    """Enter a schedule from a CSV or JSON file (a path, bytes or an open/uploaded file). All or
    nothing: on any problem a :class:`CalendarError` lists every bad row and nothing changes."""
    data, name = _read(file)
    parsed = parse_schedule_file(data, name=name)
    fact_errors: list[RowError] = []
    year = _merge_fact(gettext("年度"), year, parsed.year, fact_errors)
    source = _merge_fact(gettext("依据文件"), source, parsed.source, fact_errors)
    published = _merge_fact(gettext("发布日期"), published, parsed.published, fact_errors)
    if fact_errors:
        raise _invalid(gettext("导入文件与指定信息不一致，未保存"), fact_errors)
    return _enter(
        actor=actor,
        year=year,
        rows=parsed.rows,
        source=source,
        published=published,
        note=note,
        replace=replace,
        accept_deviations=accept_deviations,
        pre_errors=parsed.errors,
    )


# --- local holidays -------------------------------------------------------------------------


def _local_change(holiday: LocalHoliday, reason: str) -> CalendarChange:
    return CalendarChange(
        holiday.date.year if holiday.date else None, holiday.region.prefix, reason
    )


def save_local_holiday(*, actor: Any, holiday: LocalHoliday) -> LocalHoliday:
    """Create or update a local holiday after checking it; hooks hear of the old and the new
    extent."""
    try:
        holiday.full_clean()
    except ValidationError as exc:
        messages = [
            f"{k}: {m}" if k != "__all__" else str(m)
            for k, ms in exc.message_dict.items()
            for m in ms
        ]
        raise CalendarError(CalendarErrorCode.LOCAL_HOLIDAY_INVALID, "；".join(messages)) from None
    with transaction.atomic():
        changes = []
        if holiday.pk is not None:
            old = (
                LocalHoliday.objects.select_for_update()
                .select_related("region")
                .filter(pk=holiday.pk)
                .first()
            )
            if old is not None:
                changes.append(_local_change(old, "local_holiday"))
        holiday.entered_by = _actor_name(actor)
        holiday.save()
        audit.record(
            actor=actor,
            action="calendar.local_holiday_save",
            object_type="core.localholiday",
            object_id=holiday.pk,
            details={"region": holiday.region.code, "name": holiday.name},
        )
        change = _local_change(holiday, "local_holiday")
        if change not in changes:
            changes.append(change)
        _notify(changes)
    return holiday


def delete_local_holiday(*, actor: Any, holiday: LocalHoliday) -> None:
    with transaction.atomic():
        change = _local_change(holiday, "local_holiday_deleted")
        LocalHoliday.objects.filter(pk=holiday.pk).delete()
        audit.record(
            actor=actor,
            action="calendar.local_holiday_delete",
            object_type="core.localholiday",
            object_id=holiday.pk,
            details={"region": holiday.region.code, "name": holiday.name},
        )
        _notify([change])
