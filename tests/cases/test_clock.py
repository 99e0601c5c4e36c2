"""The case clock with explicit moments (no frozen time): due dates across 国庆, pauses added
back, extensions, the warning date, natural days and the clock's state."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tests.cases.builders import case_in
from tests.core.factories import RegionFactory
from tongban.cases import clock
from tongban.cases.clock import ClockState
from tongban.cases.models import Case
from tongban.core import calendar
from tongban.core.models import LocalHoliday

pytestmark = pytest.mark.django_db
D = dt.date
CN = calendar.CHINA
# Wednesday before the 2026 National Day break (1–7 October; Saturday 10 October is worked).
ACCEPTED = dt.datetime(2026, 9, 30, 10, 0, tzinfo=CN)


def a_case(accepted_at=ACCEPTED, **kwargs):
    values = {
        "accepted_at": accepted_at,
        "region_code": "150600",
        "extension_days": 0,
        "paused_working_days": 0,
        "paused_natural_days": 0,
        "paused_at": None,
        "status": "under_review",
        "promised_due": None,
        "warn_on": None,
    }
    return SimpleNamespace(**{**values, **kwargs})


def a_service(promised=5, statutory=20, promised_unit="working", statutory_unit="working"):
    return SimpleNamespace(
        promised_limit=promised,
        statutory_limit=statutory,
        promised_unit=promised_unit,
        statutory_unit=statutory_unit,
    )


def test_due_dates_skip_the_national_day_break():
    dates = clock.due_dates(a_case(), a_service())
    # 8 Oct (1), 9 Oct (2), Saturday 10 Oct worked (3), 12 Oct (4), 13 Oct (5).
    assert dates.promised_due == D(2026, 10, 13)
    # … 16 Oct (8), 19–23 (13), 26–30 (18), 2 Nov (19), 3 Nov (20).
    assert dates.statutory_due == D(2026, 11, 3)
    # The last fifth of 5 days is one day: yellow from the fourth working day.
    assert dates.warn_on == D(2026, 10, 12)


def test_the_count_starts_the_day_after_acceptance_in_china_time():
    late_evening_utc = dt.datetime(2026, 9, 29, 17, 0, tzinfo=dt.UTC)  # 30 Sep 01:00 in China
    same_day_china = dt.datetime(2026, 9, 29, 10, 0, tzinfo=CN)
    assert clock.due_dates(a_case(late_evening_utc), a_service()).promised_due == D(2026, 10, 13)
    # From 29 Sep: 30 Sep (1), 8 (2), 9 (3), 10 (4), 12 Oct (5).
    assert clock.due_dates(a_case(same_day_china), a_service()).promised_due == D(2026, 10, 12)


def test_paused_days_are_counted_in_both_units():
    paused = a_case(paused_at=dt.datetime(2026, 10, 9, 10, 0, tzinfo=CN))
    resumed = dt.datetime(2026, 10, 14, 15, 0, tzinfo=CN)
    # After 9 Oct: Saturday 10 Oct worked (1), 12 (2), 13 (3), 14 (4); five calendar days.
    assert clock.paused_days(paused, resumed) == (4, 5)
    # Paused and resumed the same day: nothing to add back.
    assert clock.paused_days(paused, dt.datetime(2026, 10, 9, 17, tzinfo=CN)) == (0, 0)


def test_paused_working_days_move_the_due_dates():
    dates = clock.due_dates(a_case(paused_working_days=4, paused_natural_days=5), a_service())
    # 5 + 4 working days from 30 Sep: … 16 Oct (8), 19 Oct (9).
    assert dates.promised_due == D(2026, 10, 19)
    assert dates.statutory_due == D(2026, 11, 9)  # 24 working days
    assert dates.warn_on == D(2026, 10, 16)


def test_an_extension_adds_its_days_to_both_limits():
    dates = clock.due_dates(a_case(extension_days=3), a_service())
    assert dates.promised_due == D(2026, 10, 16)
    assert dates.statutory_due == D(2026, 11, 6)


@pytest.mark.parametrize(
    ("promised", "warn_on"),
    [
        (0, D(2026, 9, 30)),  # instant: due at once
        (1, D(2026, 9, 30)),
        (5, D(2026, 10, 12)),
        (10, D(2026, 10, 16)),  # last fifth = 2 days: 8th working day
        (15, D(2026, 10, 22)),  # 3 days: 12th working day
    ],
)
def test_warn_on_is_the_last_fifth_of_the_promised_limit(promised, warn_on):
    assert clock.due_dates(a_case(), a_service(promised=promised)).warn_on == warn_on


def test_natural_day_limits_count_every_day_and_natural_pauses():
    service = a_service(
        promised=10, promised_unit="natural", statutory=30, statutory_unit="natural"
    )
    dates = clock.due_dates(a_case(), service)
    assert dates.promised_due == D(2026, 10, 10)
    assert dates.statutory_due == D(2026, 10, 30)
    assert dates.warn_on == D(2026, 10, 8)
    paused = clock.due_dates(a_case(paused_working_days=4, paused_natural_days=5), service)
    assert paused.promised_due == D(2026, 10, 15)
    mixed = clock.due_dates(
        a_case(paused_working_days=4, paused_natural_days=5),
        a_service(promised=10, promised_unit="natural", statutory=20),
    )
    assert mixed.statutory_due == D(2026, 11, 9)  # working unit: the working days are added


def test_a_local_holiday_of_the_cases_region_moves_the_date():
    region = RegionFactory(code="150600")
    LocalHoliday.objects.create(region=region, name="地方节日", date=D(2026, 10, 12))
    calendar.invalidate_cache()
    assert clock.due_dates(a_case(), a_service()).promised_due == D(2026, 10, 14)
    assert clock.due_dates(a_case(region_code="530100"), a_service()).promised_due == D(
        2026, 10, 13
    )


# --- State ---------------------------------------------------------------------------------------


def running(**kwargs):
    return a_case(promised_due=D(2026, 10, 13), warn_on=D(2026, 10, 12), **kwargs)


@pytest.mark.parametrize(
    ("case", "today", "state"),
    [
        (a_case(accepted_at=None), D(2026, 10, 1), ClockState.NOT_STARTED),
        (a_case(), D(2026, 10, 1), ClockState.NOT_STARTED),  # no due date yet
        (running(), D(2026, 10, 9), ClockState.ON_TIME),
        (running(), D(2026, 10, 12), ClockState.DUE_SOON),
        (running(), D(2026, 10, 13), ClockState.DUE_SOON),
        (running(), D(2026, 10, 14), ClockState.OVERDUE),
        (running(status="suspended", paused_at=ACCEPTED), D(2026, 10, 14), ClockState.PAUSED),
        (running(status="correcting", paused_at=ACCEPTED), D(2026, 10, 14), ClockState.PAUSED),
        (running(status="decided"), D(2026, 10, 14), ClockState.STOPPED),
        (running(status="concluded"), D(2026, 10, 14), ClockState.STOPPED),
        (running(status="delivered"), D(2026, 10, 9), ClockState.STOPPED),
        (running(status="withdrawn"), D(2026, 10, 9), ClockState.STOPPED),
    ],
)
def test_state(case, today, state):
    assert clock.state(case, today) == state


def test_remaining_working_days():
    case = running()
    assert clock.remaining_working_days(case, D(2026, 10, 8)) == 4  # 9, 10 (worked), 12, 13
    assert clock.remaining_working_days(case, D(2026, 10, 13)) == 0
    assert clock.remaining_working_days(case, D(2026, 10, 15)) == -2
    assert clock.remaining_working_days(a_case(), D(2026, 10, 15)) is None


def test_an_accepted_case_stores_the_dates_queues_filter_on(env):
    """Set the acceptance moment on a real case and recompute, as the services do."""
    case = case_in(env, "under_review")
    Case.objects.filter(pk=case.pk).update(accepted_at=ACCEPTED)
    case.refresh_from_db()
    dates = clock.due_dates(case, env.implementation)
    assert (dates.promised_due, dates.statutory_due, dates.warn_on) == (
        D(2026, 10, 13),
        D(2026, 11, 3),
        D(2026, 10, 12),
    )
    Case.objects.filter(pk=case.pk).update(promised_due=dates.promised_due, warn_on=dates.warn_on)
    case.refresh_from_db()
    assert clock.state(case, D(2026, 10, 12)) == ClockState.DUE_SOON
    assert clock.state(case, D(2026, 10, 14)) == ClockState.OVERDUE
