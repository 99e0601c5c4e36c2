"""The working-day calendar: every deadline of the platform is computed here.

Legal basis and counting rule
-----------------------------
* 《行政许可法》第八十二条: 本法规定的行政许可的期限以工作日计算，不含法定节假日. Time limits in
  working days skip Saturdays, Sundays and statutory holidays, and count the weekend days the
  State Council turns into working days (调休上班).
* 《民法典》第二百零一条: 开始的当日不计入，自下一日开始计算 (次日起算). The start day is day 0; a
  deadline of N days ends on the N-th counted day after it. ``add_days(start, 0)`` is the start day
  itself (即办). The caller decides the start moment: a case submitted on a Saturday may be deemed
  received on the next working day (:func:`next_working_day`) before its clock starts.
* Natural days (自然日) count every calendar day. When the law says that a period ending on a
  holiday ends on the next working day (《民法典》第二百零三条), pass ``extend_if_holiday=True``.

Where each year's days come from (first that applies)
----------------------------------------------------
1. A :class:`~tongban.core.models.HolidaySchedule` entered by an operator from the State Council
   notice — official.
2. The tables of the ``chinesecalendar`` package (2004–2026 in 1.11.0) — official.
3. A provisional calendar computed from the holiday law (:mod:`tongban.core.calendar_law`):
   weekends, statutory holidays by solar and lunar date, compensatory days for holidays on a
   weekend, and no make-up working days (only a notice creates those). Every result that used
   such a year says so (``provisional=True`` and ``provisional_years``); entering the year's
   schedule calls the recompute hooks (:func:`register_recompute_hook`) so the owners of those
   deadlines compute them again.
Dates that a later year's schedule sets in the last days of December (the 2019 notice moved
29–31 December 2018) override any source. Local holidays (:class:`LocalHoliday`) apply on top, to
the region they are set for and every region under it.

A year outside 1900–2099, or a year before 2000 that nobody entered, raises :class:`CalendarError`
with a code; nothing here raises ``NotImplementedError`` or guesses without saying so.

Per-year tables are cached in process memory. The services invalidate the cache of the process that
made a change at once; other processes notice within ``RECHECK_SECONDS`` through a one-query
fingerprint of the calendar tables.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import chinese_calendar
from django.db import models
from django.db.models import Count, Max
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tongban.core import calendar_law
from tongban.core.calendar_errors import CalendarError, CalendarErrorCode

logger = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
FIRST_YEAR = 1900
LAST_YEAR = 2099
MAX_DAYS = 36500
RECHECK_SECONDS = 5.0
#: How far a year's schedule may reach into the previous December (a New Year break).
PREVIOUS_DECEMBER_FROM = 25


class Unit(models.TextChoices):
    """The unit of a time limit; the catalog's ``TimeUnit`` is this same enum."""

    WORKING_DAYS = "working", _("工作日")
    NATURAL_DAYS = "natural", _("自然日")


class YearSource(models.TextChoices):
    SCHEDULE = "schedule", _("已录入的国务院办公厅放假通知")
    PACKAGE = "package", _("chinese-calendar 数据")
    PROVISIONAL = "provisional", _("按放假办法推算（暂定）")


class DayReason(models.TextChoices):
    WORKDAY = "workday", _("工作日")
    WEEKEND = "weekend", _("周末")
    HOLIDAY = "holiday", _("法定节假日")
    MAKEUP_WORKDAY = "makeup_workday", _("调休上班")
    LOCAL_HOLIDAY = "local_holiday", _("地方节假日")
    LOCAL_MAKEUP_WORKDAY = "local_makeup_workday", _("地方调休上班")


# --- results --------------------------------------------------------------------------------


def _provisional_note(years: tuple[int, ...]) -> str:
    if not years:
        return ""
    return gettext(
        "暂定：%(years)s年放假安排尚未公布，按《全国年节及纪念日放假办法》推算，公布后将重新计算"
    ) % {"years": "、".join(str(y) for y in years)}


@dataclass(frozen=True)
class Deadline:
    """The end of a time limit. ``due`` is the last day (China time); the limit expires at
    ``expires_at``, the first instant after that day. ``provisional_years`` lists the years whose
    calendar was computed, not published, that the count crossed."""

    start: dt.date
    due: dt.date
    days: int
    unit: str
    region: str | None
    provisional_years: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_years)

    @property
    def expires_at(self) -> dt.datetime:
        return dt.datetime.combine(self.due + dt.timedelta(days=1), dt.time(0), tzinfo=CHINA)

    def is_overdue(self, at: dt.datetime) -> bool:
        return _as_aware(at) >= self.expires_at

    @property
    def note(self) -> str:
        """What a page shows beside a provisional date ('' when official)."""
        return _provisional_note(self.provisional_years)


@dataclass(frozen=True)
class DayCount:
    """Working days counted after ``start`` up to and including ``end`` (negative when ``end`` is
    before ``start``)."""

    start: dt.date
    end: dt.date
    days: int
    region: str | None
    provisional_years: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_years)

    @property
    def note(self) -> str:
        return _provisional_note(self.provisional_years)


@dataclass(frozen=True)
class DayInfo:
    day: dt.date
    working: bool
    reason: str
    name: str
    source: str
    provisional: bool

    @property
    def label(self) -> str:
        text = str(DayReason(self.reason).label)
        return f"{text}（{self.name}）" if self.name else text


@dataclass(frozen=True)
class YearTable:
    year: int
    source: str
    source_label: str
    off: dict[dt.date, str]  # days off beyond ordinary weekends (may include weekend days)
    on: dict[dt.date, str]  # weekend days that are working days

    @property
    def provisional(self) -> bool:
        return self.source == YearSource.PROVISIONAL

    @property
    def source_display(self) -> str:
        return str(YearSource(self.source).label)


@dataclass(frozen=True)
class _LocalRule:
    prefix: str
    name: str
    kind: str
    date: dt.date | None
    month: int | None
    day: int | None
    is_lunar: bool
    length: int
    first_year: int | None
    last_year: int | None


@dataclass(frozen=True)
class CalendarChange:
    """What a recompute hook is told: ``year`` changed (``None``: a yearly local holiday, any
    year); ``region_prefix`` limits it to regions under that prefix (``None``: everywhere)."""

    year: int | None
    region_prefix: str | None
    reason: str


@dataclass(frozen=True)
class _YearView:
    """One year as seen from one region, reduced to what counting needs."""

    off: frozenset[dt.date]  # days off (weekend days included where listed)
    on: frozenset[dt.date]  # weekend days worked
    provisional: bool

    def working(self, day: dt.date) -> bool:
        if day in self.on:
            return True
        return day.weekday() < 5 and day not in self.off


# --- cache ----------------------------------------------------------------------------------


@dataclass
class _Cache:
    years: dict[int, YearTable] = field(default_factory=dict)
    local_rules: list[_LocalRule] | None = None
    local_days: dict[tuple[str, int], dict[dt.date, tuple[str, str]]] = field(default_factory=dict)
    views: dict[tuple[str, int], _YearView] = field(default_factory=dict)
    fingerprint: tuple | None = None
    checked_at: float = float("-inf")  # monotonic time starts near 0 on a fresh boot


_cache = _Cache()
_lock = threading.RLock()
_LOCAL_DAYS_LIMIT = 20000
_ONE_DAY = dt.timedelta(days=1)


def invalidate_cache() -> None:
    """Forget every cached table of this process (called by the services after a change)."""
    global _cache
    with _lock:
        _cache = _Cache()


def _fingerprint() -> tuple:
    from tongban.core.models import HolidaySchedule, LocalHoliday

    schedules = HolidaySchedule.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    local = LocalHoliday.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    return (schedules["n"], schedules["at"], local["n"], local["at"])


def _current_cache() -> _Cache:
    """The cache, dropped first when another process changed the tables."""
    global _cache
    now = time.monotonic()
    cache = _cache
    if now - cache.checked_at < RECHECK_SECONDS:
        return cache
    fingerprint = _fingerprint()
    with _lock:
        if _cache.fingerprint is not None and _cache.fingerprint != fingerprint:
            _cache = _Cache()
        _cache.fingerprint = fingerprint
        _cache.checked_at = now
        return _cache


# --- year tables ----------------------------------------------------------------------------


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise CalendarError(
            CalendarErrorCode.YEAR_OUT_OF_RANGE,
            gettext("日历只支持%(first)d–%(last)d年，%(year)d年超出范围")
            % {"first": FIRST_YEAR, "last": LAST_YEAR, "year": year},
        )


def package_years() -> range:
    """Years the installed chinesecalendar package has official tables for."""
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


def _package_table(year: int) -> YearTable:
    off = {
        d: chinese_calendar.Holiday(name).chinese
        for d, name in chinese_calendar.holidays.items()
        if d.year == year
    }
    on = {
        d: chinese_calendar.Holiday(name).chinese if name else ""
        for d, name in chinese_calendar.workdays.items()
        if d.year == year
    }
    return YearTable(
        year,
        YearSource.PACKAGE,
        f"chinese-calendar {chinese_calendar.__version__}",
        off,
        on,
    )


def _load_year(year: int) -> YearTable:
    from tongban.core.models import DayKind, HolidaySchedule, ScheduleDay

    _check_year(year)
    schedule = HolidaySchedule.objects.filter(year=year).first()
    entered = list(ScheduleDay.objects.filter(date__year=year).values_list("date", "kind", "name"))
    if schedule is not None:
        table = YearTable(year, YearSource.SCHEDULE, schedule.source, {}, {})
    elif year in package_years():
        table = _package_table(year)
    elif year >= calendar_law.PROVISIONAL_FIRST_YEAR:
        table = YearTable(
            year,
            YearSource.PROVISIONAL,
            calendar_law.edition_for(year).title,
            calendar_law.provisional_days_off(year),
            {},
        )
    else:
        raise CalendarError(
            CalendarErrorCode.YEAR_UNSUPPORTED, calendar_law.unsupported_message(year)
        )
    for day, kind, name in entered:
        # Entered dates win over the package and the provisional rules, whichever schedule
        # (this year's or, for late December, the next year's) carries them.
        table.off.pop(day, None)
        table.on.pop(day, None)
        (table.off if kind == DayKind.HOLIDAY else table.on)[day] = name
    return table


def year_table(year: int) -> YearTable:
    return _table(_current_cache(), year)


def _table(cache: _Cache, year: int) -> YearTable:
    table = cache.years.get(year)
    if table is None:
        table = _load_year(year)
        with _lock:
            cache.years[year] = table
    return table


def year_source(year: int) -> YearTable:
    """The source of ``year``'s calendar: ``.source`` (a :class:`YearSource`), ``.source_label``
    and ``.provisional``. A sweep can use it to find deadlines that can now be made official."""
    return year_table(year)


# --- local holidays -------------------------------------------------------------------------


def _local_rules(cache: _Cache) -> list[_LocalRule]:
    from tongban.core.models import LocalHoliday

    if cache.local_rules is None:
        rules = [
            _LocalRule(
                h.region.prefix,
                h.name,
                h.kind,
                h.date,
                h.month,
                h.day,
                h.is_lunar,
                h.length_days,
                h.first_year,
                h.last_year,
            )
            for h in LocalHoliday.objects.select_related("region")
        ]
        with _lock:
            cache.local_rules = rules
    return cache.local_rules


def _rule_starts(rule: _LocalRule, year: int) -> Iterable[dt.date]:
    """Start dates of ``rule`` that may put a day into ``year`` (the rule may straddle a
    New Year, and a late lunar month of lunar year Y falls in solar Y+1)."""
    if rule.date is not None:
        yield rule.date
        return
    for candidate_year in (year - 1, year):
        if not FIRST_YEAR <= candidate_year <= LAST_YEAR:
            continue
        if rule.is_lunar:
            try:
                start = calendar_law.lunar_to_solar(candidate_year, rule.month, rule.day)
            except ValueError:
                logger.warning(
                    "local holiday %s: no lunar %s-%s in %s",
                    rule.name,
                    rule.month,
                    rule.day,
                    candidate_year,
                )
                continue
        else:
            start = dt.date(candidate_year, rule.month, rule.day)
        if rule.first_year is not None and start.year < rule.first_year:
            continue
        if rule.last_year is not None and start.year > rule.last_year:
            continue
        yield start


def _local_days(cache: _Cache, region: str | None, year: int) -> dict[dt.date, tuple[str, str]]:
    if not region:
        return {}
    key = (region, year)
    days = cache.local_days.get(key)
    if days is not None:
        return days
    days = {}
    for rule in _local_rules(cache):
        if not region.startswith(rule.prefix):
            continue
        for start in _rule_starts(rule, year):
            for i in range(rule.length):
                day = start + dt.timedelta(days=i)
                if day.year == year:
                    days[day] = (rule.kind, rule.name)
    with _lock:
        if len(cache.local_days) >= _LOCAL_DAYS_LIMIT:
            cache.local_days.clear()
        cache.local_days[key] = days
    return days


# --- questions ------------------------------------------------------------------------------


def _as_aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise CalendarError(
            CalendarErrorCode.NAIVE_DATETIME,
            gettext("时间“%(t)s”没有时区，无法确定是哪一天") % {"t": moment.isoformat()},
        )
    return moment


def china_date(moment: dt.datetime | dt.date) -> dt.date:
    """The calendar day (China time) of a moment; a date is returned as it is."""
    if isinstance(moment, dt.datetime):
        return _as_aware(moment).astimezone(CHINA).date()
    if isinstance(moment, dt.date):
        return moment
    raise CalendarError(
        CalendarErrorCode.BAD_MOMENT,
        gettext("“%(v)s”不是日期或时间") % {"v": moment},
    )


def _check_region(region: str | None) -> str | None:
    if region is None or region == "":
        return None
    if not isinstance(region, str) or not region.isdigit() or len(region) not in (6, 9, 12):
        raise CalendarError(
            CalendarErrorCode.BAD_REGION,
            gettext("区划代码“%(code)s”应为6、9或12位数字") % {"code": region},
        )
    return region


def _view(cache: _Cache, region: str | None, year: int) -> _YearView:
    key = (region or "", year)
    view = cache.views.get(key)
    if view is None:
        table = _table(cache, year)
        off, on = set(table.off), set(table.on)
        for day, (kind, _name) in _local_days(cache, region, year).items():
            if kind == "holiday":
                off.add(day)
                on.discard(day)
            else:
                on.add(day)
                off.discard(day)
        view = _YearView(frozenset(off), frozenset(on), table.provisional)
        with _lock:
            if len(cache.views) >= _LOCAL_DAYS_LIMIT:
                cache.views.clear()
            cache.views[key] = view
    return view


def _classify(day: dt.date, region: str | None) -> DayInfo:
    cache = _current_cache()
    table = _table(cache, day.year)
    local = _local_days(cache, region, day.year).get(day)
    if local is not None:
        kind, name = local
        working = kind != "holiday"
        reason = DayReason.LOCAL_MAKEUP_WORKDAY if working else DayReason.LOCAL_HOLIDAY
        return DayInfo(day, working, reason, name, table.source, table.provisional)
    if day in table.off:
        return DayInfo(
            day, False, DayReason.HOLIDAY, table.off[day], table.source, table.provisional
        )
    if day in table.on:
        return DayInfo(
            day, True, DayReason.MAKEUP_WORKDAY, table.on[day], table.source, table.provisional
        )
    if day.weekday() >= 5:
        return DayInfo(day, False, DayReason.WEEKEND, "", table.source, table.provisional)
    return DayInfo(day, True, DayReason.WORKDAY, "", table.source, table.provisional)


def is_working_day(day: dt.date | dt.datetime, *, region: str | None = None) -> DayInfo:
    """Whether ``day`` is a working day in ``region`` (a region code; ``None``: national only),
    with the reason and the source of the answer."""
    return _classify(china_date(day), _check_region(region))


def next_working_day(day: dt.date | dt.datetime, *, region: str | None = None) -> DayInfo:
    """The first working day on or after ``day``."""
    region = _check_region(region)
    current = china_date(day)
    for _i in range(MAX_DAYS):
        info = _classify(current, region)
        if info.working:
            return info
        current += dt.timedelta(days=1)
    raise CalendarError(  # pragma: no cover - no calendar has a hundred years off
        CalendarErrorCode.TOO_MANY_DAYS, gettext("找不到工作日")
    )


def _check_days(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise CalendarError(CalendarErrorCode.BAD_UNIT, gettext("天数应为整数"))
    if n < 0:
        raise CalendarError(
            CalendarErrorCode.NEGATIVE_DAYS, gettext("期限天数不能为负数（%(n)d）") % {"n": n}
        )
    if n > MAX_DAYS:
        raise CalendarError(
            CalendarErrorCode.TOO_MANY_DAYS,
            gettext("期限天数%(n)d超过上限%(max)d") % {"n": n, "max": MAX_DAYS},
        )


def add_days(
    start: dt.datetime | dt.date,
    n: int,
    unit: str = Unit.WORKING_DAYS,
    *,
    region: str | None = None,
    extend_if_holiday: bool = False,
) -> Deadline:
    """The deadline ``n`` working or natural days after ``start`` (次日起算; see the module
    docstring). ``region`` adds that region's local holidays."""
    _check_days(n)
    if unit not in Unit.values:
        raise CalendarError(
            CalendarErrorCode.BAD_UNIT,
            gettext("期限单位“%(u)s”无效，应为working或natural") % {"u": unit},
        )
    region = _check_region(region)
    first = china_date(start)
    provisional: set[int] = set()
    if unit == Unit.NATURAL_DAYS:
        try:
            due = first + dt.timedelta(days=n)
        except OverflowError:
            raise CalendarError(
                CalendarErrorCode.TOO_MANY_DAYS, gettext("期限超出日历范围")
            ) from None
        if extend_if_holiday:
            info = next_working_day(due, region=region)
            provisional.update(_provisional_between(due, info.day))
            due = info.day
    else:
        cache = _current_cache()
        due = first
        counted = 0
        view = None
        while counted < n:
            due += _ONE_DAY
            if view is None or (due.month == 1 and due.day == 1):
                view = _view(cache, region, due.year)
                if view.provisional:
                    provisional.add(due.year)
            if view.working(due):
                counted += 1
    return Deadline(first, due, n, str(unit), region, tuple(sorted(provisional)))


def _provisional_between(first: dt.date, last: dt.date) -> set[int]:
    return {y for y in range(first.year, last.year + 1) if year_table(y).provisional}


def working_days_between(
    start: dt.datetime | dt.date, end: dt.datetime | dt.date, *, region: str | None = None
) -> DayCount:
    """Working days after ``start``'s day up to and including ``end``'s day, so that
    ``working_days_between(s, add_days(s, n).due).days == n``. Negative when ``end`` is earlier
    (how many working days a deadline is overdue, read the other way)."""
    region = _check_region(region)
    first, last = china_date(start), china_date(end)
    sign = 1
    if last < first:
        first, last, sign = last, first, -1
    if (last - first).days > MAX_DAYS:
        raise CalendarError(
            CalendarErrorCode.TOO_MANY_DAYS,
            gettext("两个日期相隔超过%(max)d天") % {"max": MAX_DAYS},
        )
    cache = _current_cache()
    count = 0
    provisional: set[int] = set()
    day = first
    view = None
    while day < last:
        day += _ONE_DAY
        if view is None or (day.month == 1 and day.day == 1):
            view = _view(cache, region, day.year)
            if view.provisional:
                provisional.add(day.year)
        if view.working(day):
            count += 1
    start_day, end_day = (first, last) if sign == 1 else (last, first)
    return DayCount(start_day, end_day, sign * count, region, tuple(sorted(provisional)))


# --- recompute hooks ------------------------------------------------------------------------

_hooks: list[Callable[[CalendarChange], None]] = []


def register_recompute_hook(hook: Callable[[CalendarChange], None]) -> None:
    """Have ``hook(change)`` called after a schedule or local holiday is committed, so that a
    domain owning deadlines (cases) recomputes those the change touches — in particular those
    marked provisional for ``change.year``. Registering the same function twice is harmless.
    A domain registers in its ``AppConfig.ready``; core never imports it."""
    if hook not in _hooks:
        _hooks.append(hook)


def unregister_recompute_hook(hook: Callable[[CalendarChange], None]) -> None:
    if hook in _hooks:
        _hooks.remove(hook)


def run_recompute_hooks(change: CalendarChange) -> list[Exception]:
    """Call every hook; a failing hook is logged and does not stop the others. Returns the
    errors so that a caller (the import command) can report them."""
    errors: list[Exception] = []
    for hook in list(_hooks):
        try:
            hook(change)
        except Exception as exc:  # a hook's bug must not undo a committed schedule
            logger.exception("calendar recompute hook %r failed for %s", hook, change)
            errors.append(exc)
    return errors
