"""The working-day calendar: official vectors, the provisional calendar, counting rules, errors."""

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from lunardate import LunarDate

from tongban.core import calendar, calendar_law
from tongban.core.calendar import (
    CalendarChange,
    DayReason,
    YearSource,
    add_days,
    is_working_day,
    next_working_day,
    working_days_between,
)
from tongban.core.calendar_errors import CalendarError, CalendarErrorCode
from tongban.core.models import DayKind, HolidaySchedule, LocalHoliday, ScheduleDay

from .factories import RegionFactory

D = dt.date
UTC = dt.UTC
CHINA = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    calendar.invalidate_cache()
    yield
    calendar.invalidate_cache()


def days(start: D, end: D):
    current = start
    while current <= end:
        yield current
        current += dt.timedelta(days=1)


# --- official years (chinesecalendar package) ----------------------------------------------


@pytest.mark.parametrize(
    ("day", "working", "reason", "name"),
    [
        (D(2026, 1, 1), False, DayReason.HOLIDAY, "元旦"),
        (D(2026, 1, 4), True, DayReason.MAKEUP_WORKDAY, "元旦"),  # Sunday worked
        (D(2026, 2, 14), True, DayReason.MAKEUP_WORKDAY, "春节"),  # Saturday worked
        (D(2026, 2, 15), False, DayReason.HOLIDAY, "春节"),
        (D(2026, 2, 23), False, DayReason.HOLIDAY, "春节"),
        (D(2026, 2, 24), True, DayReason.WORKDAY, ""),
        (D(2026, 2, 28), True, DayReason.MAKEUP_WORKDAY, "春节"),
        (D(2026, 5, 9), True, DayReason.MAKEUP_WORKDAY, "劳动节"),
        (D(2026, 9, 20), True, DayReason.MAKEUP_WORKDAY, "国庆节"),
        (D(2026, 10, 10), True, DayReason.MAKEUP_WORKDAY, "国庆节"),
        (D(2026, 3, 7), False, DayReason.WEEKEND, ""),
        (D(2026, 3, 9), True, DayReason.WORKDAY, ""),
        (D(2025, 1, 26), True, DayReason.MAKEUP_WORKDAY, "春节"),
        (D(2025, 1, 28), False, DayReason.HOLIDAY, "春节"),
        (D(2025, 2, 4), False, DayReason.HOLIDAY, "春节"),
        (D(2025, 2, 8), True, DayReason.MAKEUP_WORKDAY, "春节"),
        (D(2025, 10, 8), False, DayReason.HOLIDAY, "国庆节"),
        (D(2025, 10, 11), True, DayReason.MAKEUP_WORKDAY, "国庆节"),
    ],
)
def test_official_vectors(day, working, reason, name):
    info = is_working_day(day)
    assert (info.working, info.reason, info.name) == (working, reason, name)
    assert info.source == YearSource.PACKAGE
    assert not info.provisional


def test_national_day_2026_is_seven_days_off():
    assert [is_working_day(d).working for d in days(D(2026, 10, 1), D(2026, 10, 8))] == [
        False,
        False,
        False,
        False,
        False,
        False,
        False,
        True,
    ]


def test_day_label_reads_well():
    assert is_working_day(D(2026, 2, 14)).label == "调休上班（春节）"
    assert is_working_day(D(2026, 3, 7)).label == "周末"


# --- counting -------------------------------------------------------------------------------


def test_working_days_skip_the_national_day_break():
    deadline = add_days(D(2026, 9, 30), 1)
    assert deadline.due == D(2026, 10, 8)
    assert not deadline.provisional


def test_start_day_is_day_zero():
    assert add_days(D(2026, 3, 9), 0).due == D(2026, 3, 9)  # 即办
    assert add_days(D(2026, 3, 9), 1).due == D(2026, 3, 10)  # 次日起算
    assert add_days(D(2026, 3, 6), 1).due == D(2026, 3, 9)  # Friday → Monday


def test_start_on_a_holiday_counts_the_next_working_day_as_day_one():
    assert add_days(D(2026, 10, 3), 1).due == D(2026, 10, 8)


def test_makeup_saturday_counts_as_a_working_day():
    # Friday 2026-02-13 + 1 → the working Saturday 14th.
    assert add_days(D(2026, 2, 13), 1).due == D(2026, 2, 14)


def test_twenty_working_days_within_2026_are_official():
    deadline = add_days(D(2026, 11, 23), 20)
    assert deadline.due == D(2026, 12, 21)
    assert deadline.provisional_years == ()
    assert deadline.note == ""
    # The last start whose 20 working days end in 2026.
    assert add_days(D(2026, 12, 3), 20) == calendar.Deadline(
        D(2026, 12, 3), D(2026, 12, 31), 20, "working", None, ()
    )


def test_twenty_working_days_from_december_reach_into_provisional_2027():
    deadline = add_days(D(2026, 12, 10), 20)
    # Dec 11, 14–18, 21–25, 28–31 are 15 days; 1 January (元旦, Friday) is off; Jan 4–8 make 20.
    assert deadline.due == D(2027, 1, 8)
    assert deadline.provisional
    assert deadline.provisional_years == (2027,)
    assert "2027" in deadline.note
    assert "暂定" in deadline.note
    assert add_days(D(2026, 12, 4), 20).due == D(2027, 1, 4)
    assert add_days(D(2026, 12, 4), 20).provisional


def test_datetime_start_uses_china_date():
    # 2026-02-13 20:00 UTC is Saturday 14 February 04:00 in Beijing.
    moment = dt.datetime(2026, 2, 13, 20, 0, tzinfo=UTC)
    deadline = add_days(moment, 1)
    assert deadline.start == D(2026, 2, 14)
    assert deadline.due == D(2026, 2, 24)  # Sunday 15 to Monday 23 are off
    # 24, 25, 26, 27 and the working Saturday 28 are days 1–5.
    assert add_days(moment, 5).due == D(2026, 2, 28)


def test_expiry_is_the_end_of_the_due_day_in_china():
    deadline = add_days(D(2026, 9, 30), 1)
    assert deadline.expires_at == dt.datetime(2026, 10, 9, tzinfo=CHINA)
    assert not deadline.is_overdue(dt.datetime(2026, 10, 8, 15, 59, tzinfo=UTC))  # 23:59 Beijing
    assert deadline.is_overdue(dt.datetime(2026, 10, 8, 16, 0, tzinfo=UTC))


def test_natural_days_ignore_holidays():
    deadline = add_days(D(2026, 9, 30), 1, "natural")
    assert deadline.due == D(2026, 10, 1)
    assert add_days(D(2026, 9, 30), 7, calendar.Unit.NATURAL_DAYS).due == D(2026, 10, 7)
    assert not add_days(D(2026, 12, 20), 30, "natural").provisional  # no calendar consulted


def test_natural_days_can_end_on_the_next_working_day():
    deadline = add_days(D(2026, 9, 30), 1, "natural", extend_if_holiday=True)
    assert deadline.due == D(2026, 10, 8)
    late = add_days(D(2026, 12, 31), 1, "natural", extend_if_holiday=True)
    assert late.due == D(2027, 1, 4)
    assert late.provisional_years == (2027,)


@pytest.mark.parametrize("n", [0, 1, 5, 20, 60, 250])
def test_counting_between_inverts_adding(n):
    for start in (D(2026, 1, 1), D(2026, 2, 13), D(2026, 9, 29), D(2026, 12, 28)):
        deadline = add_days(start, n)
        count = working_days_between(start, deadline.due)
        assert count.days == n
        assert count.provisional_years == deadline.provisional_years


def test_counting_between_moments():
    start = dt.datetime(2026, 9, 30, 9, 0, tzinfo=CHINA)
    end = dt.datetime(2026, 10, 12, 1, 0, tzinfo=UTC)  # Monday 12 October, 09:00 in Beijing
    count = working_days_between(start, end)
    # Oct 8, 9, Sat 10 (worked), 12.
    assert count.days == 4
    assert (count.start, count.end) == (D(2026, 9, 30), D(2026, 10, 12))
    assert working_days_between(end, start).days == -4
    assert working_days_between(start, start).days == 0


def test_counting_across_into_2027_is_provisional():
    count = working_days_between(D(2026, 12, 30), D(2027, 1, 5))
    assert count.days == 3  # Dec 31, Jan 4, Jan 5; Dec 30 is day 0 and 1 January is off
    assert count.provisional_years == (2027,)


def test_next_working_day():
    assert next_working_day(D(2026, 10, 1)).day == D(2026, 10, 8)
    assert next_working_day(D(2026, 10, 8)).day == D(2026, 10, 8)


# --- the provisional year 2027 --------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (D(2027, 1, 1), "元旦"),
        (D(2027, 2, 5), "春节"),  # 除夕 (腊月廿九: the twelfth month has 29 days)
        (D(2027, 2, 6), "春节"),  # 初一
        (D(2027, 2, 8), "春节"),  # 初三
        (D(2027, 2, 9), "春节（补假）"),  # for 初一 on Saturday
        (D(2027, 2, 10), "春节（补假）"),  # for 初二 on Sunday
        (D(2027, 4, 5), "清明节"),
        (D(2027, 5, 3), "劳动节（补假）"),
        (D(2027, 6, 9), "端午节"),
        (D(2027, 9, 15), "中秋节"),
        (D(2027, 10, 1), "国庆节"),
        (D(2027, 10, 5), "国庆节（补假）"),
    ],
)
def test_provisional_2027_holidays(day, name):
    info = is_working_day(day)
    assert not info.working
    assert info.name == name
    assert info.source == YearSource.PROVISIONAL
    assert info.provisional


def test_provisional_2027_has_no_makeup_working_days():
    assert LunarDate.from_solar_date(2027, 2, 5) == LunarDate(2026, 12, 29)
    weekends = [d for d in days(D(2027, 1, 1), D(2027, 12, 31)) if d.weekday() >= 5]
    assert not any(is_working_day(d).working for d in weekends)
    assert is_working_day(D(2027, 2, 11)).working
    assert calendar.year_source(2027).source_label == "《全国年节及纪念日放假办法》（2024年修订）"


def test_package_knows_2026_but_not_2027():
    # The reason this module exists: the package raises for 2027.
    assert 2026 in calendar.package_years()
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2027, 1, 4))


# --- the holiday law checked against the official data -------------------------------------


@pytest.mark.parametrize("year", range(2008, 2027))
def test_every_statutory_day_is_off_in_the_official_data(year):
    for day, name in calendar_law.statutory_days(year):
        assert not chinese_calendar.is_workday(day), (day, name)


@pytest.mark.parametrize("year", [2008, 2014, 2025, 2026])
def test_provisional_year_has_as_many_working_days_as_the_official_one(year):
    off = calendar_law.provisional_days_off(year)
    provisional = sum(
        1 for d in days(D(year, 1, 1), D(year, 12, 31)) if d.weekday() < 5 and d not in off
    )
    official = sum(
        1 for d in days(D(year, 1, 1), D(year, 12, 31)) if chinese_calendar.is_workday(d)
    )
    assert provisional == official


def test_editions_follow_the_revisions():
    assert calendar_law.edition_for(2000).title.endswith("（1999年修订）")
    assert calendar_law.edition_for(2013).title.endswith("（2007年修订）")
    assert calendar_law.edition_for(2024).title.endswith("（2013年修订）")
    assert calendar_law.edition_for(2099).title.endswith("（2024年修订）")
    names_2024 = [n for _d, n in calendar_law.statutory_days(2024)]
    names_2025 = [n for _d, n in calendar_law.statutory_days(2025)]
    assert (len(names_2024), len(names_2025)) == (11, 13)
    # 2008–2013 had 除夕 off; 2014–2024 did not.
    assert calendar_law.lunar_new_years_eve(2010) in dict(calendar_law.statutory_days(2010))
    assert calendar_law.lunar_new_years_eve(2020) not in dict(calendar_law.statutory_days(2020))


def test_qingming_matches_the_shouxing_formula_for_the_whole_century():
    for year in range(2000, 2100):
        y = year % 100
        assert calendar_law.qingming(year) == D(year, 4, int(y * 0.2422 + 4.81) - y // 4), year


def test_qingming_matches_the_package_solar_terms():
    for year in range(2004, 2027):
        terms = dict(chinese_calendar.get_solar_terms(D(year, 4, 1), D(year, 4, 10)))
        assert terms[calendar_law.qingming(year)] == "清明", year


def test_lunar_thirtieth_falls_back_to_the_twenty_ninth():
    assert calendar_law.lunar_to_solar(2026, 12, 30) == calendar_law.lunar_to_solar(2026, 12, 29)
    with pytest.raises(ValueError, match="out of range"):
        calendar_law.lunar_to_solar(2026, 13, 1)


def test_concurrent_festivals_get_an_extra_day():
    # 2020: 中秋 on Thursday 1 October, 3 October a Saturday: two days to make up after the break.
    off = calendar_law.provisional_days_off(2020)
    assert {d: off[d] for d in days(D(2020, 10, 1), D(2020, 10, 7)) if d in off} == {
        D(2020, 10, 1): "中秋节、国庆节",
        D(2020, 10, 2): "国庆节",
        D(2020, 10, 3): "国庆节",
        D(2020, 10, 5): "国庆节（补假）",
        D(2020, 10, 6): "国庆节（补假）",
    }


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: add_days(D(2026, 3, 9), -1), CalendarErrorCode.NEGATIVE_DAYS),
        (lambda: add_days(D(2026, 3, 9), True), CalendarErrorCode.BAD_UNIT),
        (lambda: add_days(D(2026, 3, 9), 1.5), CalendarErrorCode.BAD_UNIT),
        (lambda: add_days(D(2026, 3, 9), 40000), CalendarErrorCode.TOO_MANY_DAYS),
        (lambda: add_days(D(2026, 3, 9), 1, "weeks"), CalendarErrorCode.BAD_UNIT),
        (lambda: add_days(dt.datetime(2026, 3, 9, 10), 1), CalendarErrorCode.NAIVE_DATETIME),
        (lambda: add_days("2026-03-09", 1), CalendarErrorCode.BAD_MOMENT),
        (lambda: add_days(D(2026, 3, 9), 1, region="15x6"), CalendarErrorCode.BAD_REGION),
        (lambda: add_days(D(2099, 12, 20), 20), CalendarErrorCode.YEAR_OUT_OF_RANGE),
        (lambda: is_working_day(D(1899, 12, 31)), CalendarErrorCode.YEAR_OUT_OF_RANGE),
        (lambda: is_working_day(D(1999, 5, 1)), CalendarErrorCode.YEAR_UNSUPPORTED),
        (lambda: add_days(D(9999, 12, 1), 100, "natural"), CalendarErrorCode.TOO_MANY_DAYS),
        (
            lambda: working_days_between(D(1990, 1, 1), D(2099, 1, 1)),
            CalendarErrorCode.TOO_MANY_DAYS,
        ),
    ],
)
def test_errors_carry_codes(call, code):
    with pytest.raises(CalendarError) as caught:
        call()
    assert caught.value.code == code
    assert str(caught.value)  # a Chinese message


def test_error_message_is_chinese():
    with pytest.raises(CalendarError, match="1900–2099"):
        is_working_day(D(2100, 1, 1))
    with pytest.raises(CalendarError, match="请先录入该年放假安排"):
        is_working_day(D(1999, 5, 1))


# --- schedules and local holidays in the database ------------------------------------------


def test_entered_schedule_overrides_package_and_provisional():
    schedule = HolidaySchedule.objects.create(
        year=2027, source="测试通知", published=D(2026, 11, 20), entered_by="t"
    )
    ScheduleDay.objects.create(
        schedule=schedule, date=D(2027, 2, 20), kind=DayKind.MAKEUP_WORKDAY, name="春节"
    )
    # A late-December date set by the next year's notice wins over the package.
    ScheduleDay.objects.create(
        schedule=schedule, date=D(2026, 12, 31), kind=DayKind.HOLIDAY, name="元旦"
    )
    calendar.invalidate_cache()
    info = is_working_day(D(2027, 2, 20))
    assert (info.working, info.source, info.provisional) == (True, YearSource.SCHEDULE, False)
    # The schedule lists only what differs: 2027-02-09 is an ordinary Tuesday now.
    assert is_working_day(D(2027, 2, 9)).working
    dec31 = is_working_day(D(2026, 12, 31))
    assert (dec31.working, dec31.name, dec31.source) == (False, "元旦", YearSource.PACKAGE)


def _county(code: str, name: str):
    from tongban.core.models import RegionLevel

    return RegionFactory(code=code, name=name, level=RegionLevel.COUNTY)


def test_local_holiday_applies_to_its_county_not_the_sibling():
    dongsheng = RegionFactory(dongsheng=True)
    kangbashi = _county("150603", "康巴什区")
    LocalHoliday.objects.create(region=dongsheng, name="那达慕", date=D(2026, 8, 5), length_days=2)
    calendar.invalidate_cache()
    assert is_working_day(D(2026, 8, 5)).working
    info = is_working_day(D(2026, 8, 6), region="150602")
    assert (info.working, info.reason, info.name) == (False, DayReason.LOCAL_HOLIDAY, "那达慕")
    assert is_working_day(D(2026, 8, 6), region=kangbashi.code).working
    assert is_working_day(D(2026, 8, 7), region="150602").working
    # A township under the county is covered too.
    assert not is_working_day(D(2026, 8, 5), region="150602001000").working
    assert add_days(D(2026, 8, 4), 1, region="150602").due == D(2026, 8, 7)
    assert add_days(D(2026, 8, 4), 1, region="150603").due == D(2026, 8, 5)


def test_provincial_lunar_holiday_recurs_every_year_in_the_whole_province():
    yunnan = RegionFactory(code="530000", name="云南省", level=1)
    LocalHoliday.objects.create(
        region=yunnan, name="火把节", month=6, day=24, is_lunar=True, first_year=2026
    )
    calendar.invalidate_cache()
    for year in (2026, 2027):
        day = LunarDate(year, 6, 24).to_solar_date()
        info = is_working_day(day, region="532300")  # 楚雄州, under the province
        assert (info.working, info.reason, info.name) == (False, DayReason.LOCAL_HOLIDAY, "火把节")
    day_2025 = LunarDate(2025, 6, 24).to_solar_date()
    assert is_working_day(day_2025, region="530000").reason != DayReason.LOCAL_HOLIDAY
    assert is_working_day(LunarDate(2027, 6, 24).to_solar_date(), region="150602").reason != (
        DayReason.LOCAL_HOLIDAY
    )


def test_local_makeup_workday_makes_a_weekend_working():
    xinjiang = RegionFactory(code="650000", name="新疆维吾尔自治区", level=1)
    LocalHoliday.objects.create(
        region=xinjiang, name="古尔邦节", kind=DayKind.MAKEUP_WORKDAY, date=D(2026, 5, 23)
    )
    calendar.invalidate_cache()
    info = is_working_day(D(2026, 5, 23), region="650100")
    assert (info.working, info.reason) == (True, DayReason.LOCAL_MAKEUP_WORKDAY)


def test_tables_are_cached_and_other_processes_changes_are_noticed(
    django_assert_num_queries, monkeypatch
):
    region = RegionFactory(dongsheng=True)
    monkeypatch.setattr(calendar, "RECHECK_SECONDS", 3600)
    is_working_day(D(2026, 3, 9), region="150602")
    with django_assert_num_queries(0):
        for d in days(D(2026, 3, 1), D(2026, 3, 31)):
            is_working_day(d, region="150602")
        add_days(D(2026, 3, 1), 10, region="150602")
    # Written by "another process": not seen until the fingerprint is checked again …
    LocalHoliday.objects.create(region=region, name="地方节", date=D(2026, 3, 10))
    assert is_working_day(D(2026, 3, 10), region="150602").working
    # … which happens every RECHECK_SECONDS.
    monkeypatch.setattr(calendar, "RECHECK_SECONDS", 0)
    assert not is_working_day(D(2026, 3, 10), region="150602").working


def test_failing_hook_does_not_stop_the_others():
    seen = []

    def broken(change):
        raise RuntimeError("boom")

    calendar.register_recompute_hook(broken)
    calendar.register_recompute_hook(seen.append)
    calendar.register_recompute_hook(seen.append)  # twice: once
    try:
        errors = calendar.run_recompute_hooks(CalendarChange(2027, None, "schedule"))
    finally:
        calendar.unregister_recompute_hook(broken)
        calendar.unregister_recompute_hook(seen.append)
    assert [type(e) for e in errors] == [RuntimeError]
    assert seen == [CalendarChange(2027, None, "schedule")]
