"""The provisional calendar: the days off that the holiday law itself fixes for a year.

《全国年节及纪念日放假办法》 fixes the statutory holidays (第二条) by solar or lunar date, and says
that a holiday of all citizens falling on a Saturday or Sunday is made up by a day off on a working
day (第六条, 补假). What it does not fix is the year's arrangement: the State Council General Office
notice (《关于YYYY年部分节假日安排的通知》) moves days around to build long breaks, adding weekend
make-up working days (调休上班) that no rule predicts. So for a year without a notice this module
computes:

* Saturdays and Sundays off (five-day week since 1995-05-01);
* the statutory holidays of the edition of the law in force that year (see ``EDITIONS``);
* one compensatory day off (补假) for each statutory day lost to a weekend or to another holiday on
  the same date, placed on the first following weekday that is not already off — which is what the
  notices have done when they did not swap days;
* **no** make-up working days: those exist only in a notice.

Every result built on it is marked provisional by :mod:`tongban.core.calendar`.

Lunar dates come from ``lunardate`` (tables for 1900–2099). 除夕 is the day before 正月初一, so the
29th or 30th of the twelfth month (or of a leap twelfth month) without asking which. 清明 is the day
(Beijing time) on which the sun's apparent ecliptic longitude reaches 15°; it is computed
astronomically (Meeus, *Astronomical Algorithms*, ch. 25, low-accuracy solar theory, about 0.01° or
15 minutes of time, with Espenak–Meeus ΔT) instead of copying a table, and the test suite checks
it against the 寿星 formula ``[Y·0.2422 + 4.81] − [Y/4]``, valid for 2000–2099, for every year of
that range, and against the official schedules of 2008–2026.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.utils.translation import gettext
from lunardate import LunarDate

from tongban.core.calendar_errors import CalendarError, CalendarErrorCode

#: Years the provisional rules cover: the 1999 edition was the first for a whole year in 2000,
#: the five-day week holds throughout, and the lunar tables end in 2099.
PROVISIONAL_FIRST_YEAR = 2000
PROVISIONAL_LAST_YEAR = 2099

BEIJING_OFFSET = dt.timedelta(hours=8)


@dataclass(frozen=True)
class Festival:
    """One statutory holiday: ``rule`` is ``solar`` (month/day), ``lunar`` (lunar month/day),
    ``lunar_eve`` (除夕, the day before lunar 1/1) or ``qingming`` (the solar term)."""

    name: str
    rule: str
    month: int = 0
    day: int = 0
    length: int = 1


@dataclass(frozen=True)
class Edition:
    title: str
    first_year: int
    festivals: tuple[Festival, ...]


_NEW_YEAR = Festival("元旦", "solar", 1, 1)
_QINGMING = Festival("清明节", "qingming")
_DRAGON_BOAT = Festival("端午节", "lunar", 5, 5)
_MID_AUTUMN = Festival("中秋节", "lunar", 8, 15)
_NATIONAL_DAY = Festival("国庆节", "solar", 10, 1, 3)

#: Editions of 《全国年节及纪念日放假办法》, each from the first whole year it governed.
EDITIONS: tuple[Edition, ...] = (
    Edition(
        "《全国年节及纪念日放假办法》（1999年修订）",
        2000,
        (
            _NEW_YEAR,
            Festival("春节", "lunar", 1, 1, 3),
            Festival("劳动节", "solar", 5, 1, 3),
            _NATIONAL_DAY,
        ),
    ),
    Edition(
        "《全国年节及纪念日放假办法》（2007年修订）",
        2008,
        (
            _NEW_YEAR,
            Festival("春节", "lunar_eve"),
            Festival("春节", "lunar", 1, 1, 2),
            _QINGMING,
            Festival("劳动节", "solar", 5, 1),
            _DRAGON_BOAT,
            _MID_AUTUMN,
            _NATIONAL_DAY,
        ),
    ),
    Edition(
        "《全国年节及纪念日放假办法》（2013年修订）",
        2014,
        (
            _NEW_YEAR,
            Festival("春节", "lunar", 1, 1, 3),
            _QINGMING,
            Festival("劳动节", "solar", 5, 1),
            _DRAGON_BOAT,
            _MID_AUTUMN,
            _NATIONAL_DAY,
        ),
    ),
    Edition(
        "《全国年节及纪念日放假办法》（2024年修订）",
        2025,
        (
            _NEW_YEAR,
            Festival("春节", "lunar_eve"),
            Festival("春节", "lunar", 1, 1, 3),
            _QINGMING,
            Festival("劳动节", "solar", 5, 1, 2),
            _DRAGON_BOAT,
            _MID_AUTUMN,
            _NATIONAL_DAY,
        ),
    ),
)

COMPENSATORY_SUFFIX = "（补假）"


def edition_for(year: int) -> Edition:
    if not PROVISIONAL_FIRST_YEAR <= year <= PROVISIONAL_LAST_YEAR:
        raise CalendarError(
            CalendarErrorCode.YEAR_UNSUPPORTED,
            unsupported_message(year),
        )
    return [e for e in EDITIONS if e.first_year <= year][-1]


def unsupported_message(year: int) -> str:
    return gettext(
        "%(year)d年没有已录入的放假安排，且只能为%(first)d–%(last)d年推算暂定日历，请先录入该年放假安排"
    ) % {"year": year, "first": PROVISIONAL_FIRST_YEAR, "last": PROVISIONAL_LAST_YEAR}


def lunar_to_solar(year: int, month: int, day: int) -> dt.date:
    """Solar date of a lunar (non-leap) month/day in lunar year ``year``; a 30th that the month
    lacks falls on its 29th, the month's last day."""
    try:
        return LunarDate(year, month, day).to_solar_date()
    except ValueError:
        if day == 30:
            return LunarDate(year, month, 29).to_solar_date()
        raise


def lunar_new_years_eve(year: int) -> dt.date:
    """除夕 of the lunar year that begins in solar ``year``."""
    return LunarDate(year, 1, 1).to_solar_date() - dt.timedelta(days=1)


# --- 清明: the sun at apparent longitude 15° ------------------------------------------------


def _julian_day(moment: dt.datetime) -> float:
    """Julian day of a naive datetime on the proleptic Gregorian calendar."""
    epoch = dt.datetime(2000, 1, 1, 12)  # JD 2451545.0
    return 2451545.0 + (moment - epoch).total_seconds() / 86400.0


def _from_julian_day(jd: float) -> dt.datetime:
    return dt.datetime(2000, 1, 1, 12) + dt.timedelta(days=jd - 2451545.0)


def _apparent_solar_longitude(jde: float) -> float:
    """Degrees, Meeus (25.2)–(25.8); accurate to about 0.01°."""
    t = (jde - 2451545.0) / 36525.0
    l0 = 280.46646 + 36000.76983 * t + 0.0003032 * t * t
    m = math.radians(357.52911 + 35999.05029 * t - 0.0001537 * t * t)
    c = (
        (1.914602 - 0.004817 * t - 0.000014 * t * t) * math.sin(m)
        + (0.019993 - 0.000101 * t) * math.sin(2 * m)
        + 0.000289 * math.sin(3 * m)
    )
    omega = math.radians(125.04 - 1934.136 * t)
    return (l0 + c - 0.00569 - 0.00478 * math.sin(omega)) % 360.0


def _delta_t_seconds(year: float) -> float:
    """TT − UT, Espenak & Meeus (NASA) polynomials for 1986–2150."""
    if year < 2005:
        t = year - 2000
        return (
            63.86
            + 0.3345 * t
            - 0.060374 * t**2
            + 0.0017275 * t**3
            + 0.000651814 * t**4
            + 0.00002373599 * t**5
        )
    if year < 2050:
        t = year - 2000
        return 62.92 + 0.32217 * t + 0.005589 * t * t
    u = (year - 1820) / 100
    return -20 + 32 * u * u - 0.5628 * (2150 - year)


def solar_term_moment(year: int, longitude: float) -> dt.datetime:
    """Beijing time (naive) at which the sun reaches ``longitude`` degrees in ``year``.

    Newton steps of Meeus (27.x): the sun moves about 360/365.24 degrees a day."""
    guess_day = 80 + longitude / 360.0 * 365.2422  # days after 1 January, near the equinox for 0°
    jde = _julian_day(dt.datetime(year, 1, 1)) + guess_day
    for _ in range(20):
        delta = (longitude - _apparent_solar_longitude(jde) + 180.0) % 360.0 - 180.0
        jde += delta * 365.2422 / 360.0
        if abs(delta) < 1e-7:
            break
    ut = jde - _delta_t_seconds(year + 0.3) / 86400.0
    return _from_julian_day(ut) + BEIJING_OFFSET


def qingming(year: int) -> dt.date:
    """The date of 清明 (Beijing time)."""
    return solar_term_moment(year, 15.0).date()


# --- the provisional year -------------------------------------------------------------------


def festival_dates(year: int, festival: Festival) -> list[dt.date]:
    if festival.rule == "solar":
        first = dt.date(year, festival.month, festival.day)
    elif festival.rule == "lunar":
        first = lunar_to_solar(year, festival.month, festival.day)
    elif festival.rule == "lunar_eve":
        first = lunar_new_years_eve(year)
    elif festival.rule == "qingming":
        first = qingming(year)
    else:  # pragma: no cover - the table above is the only input
        raise ValueError(festival.rule)
    return [first + dt.timedelta(days=i) for i in range(festival.length)]


def statutory_days(year: int) -> list[tuple[dt.date, str]]:
    """Every statutory holiday date of ``year`` with its festival name, in date order; a date on
    which two festivals meet (中秋 on 1 October) appears twice."""
    edition = edition_for(year)
    days = [(d, f.name) for f in edition.festivals for d in festival_dates(year, f)]
    return sorted(days, key=lambda pair: pair[0])


def provisional_days_off(year: int) -> dict[dt.date, str]:
    """Weekday and weekend dates off in ``year`` beyond ordinary weekends: the statutory holidays
    and their compensatory days (第六条). Weekends themselves are not listed."""
    off: dict[dt.date, str] = {}
    lost: list[tuple[dt.date, str]] = []
    for day, name in statutory_days(year):
        if day in off or day.weekday() >= 5:
            lost.append((day, name))
        off[day] = f"{off[day]}、{name}" if day in off else name
    for day, name in lost:
        comp = day + dt.timedelta(days=1)
        while comp.weekday() >= 5 or comp in off:
            comp += dt.timedelta(days=1)
        off[comp] = name + COMPENSATORY_SUFFIX
    return off
