"""Case numbers: region, China date, serial per region and day, ISO 7064 MOD 11-2 check."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.accounts.factories import make_id_number
from tests.cases.builders import case_in
from tongban.cases import numbers
from tongban.cases.models import CaseCounter
from tongban.core import calendar

D = dt.date


def test_the_check_character_is_the_one_of_the_resident_id_number():
    for _ in range(50):
        id_number = make_id_number()
        assert numbers.check_char(id_number[:17]) == id_number[17]


def test_is_valid():
    body = "15060220261123000017"
    good = body + numbers.check_char(body)
    assert numbers.is_valid(good)
    assert numbers.is_valid(f"  {good.lower()} ")
    wrong = "0" if good[-1] != "0" else "1"
    assert not numbers.is_valid(body + wrong)
    assert not numbers.is_valid(good[:-2] + str((int(good[-2]) + 1) % 10) + good[-1])
    assert not numbers.is_valid(good[:-1])
    assert not numbers.is_valid(good + "0")
    assert not numbers.is_valid("A" + good[1:])
    assert not numbers.is_valid("")
    assert not numbers.is_valid(None)


@pytest.mark.django_db
def test_serials_run_per_region_and_day():
    day = D(2026, 11, 23)
    first = numbers.allocate("150602", day)
    second = numbers.allocate("150602", day)
    assert first == "15060220261123000001" + numbers.check_char("15060220261123000001")
    assert second[:20] == "15060220261123000002"
    assert numbers.allocate("150602", D(2026, 11, 24))[:20] == "15060220261124000001"
    assert numbers.allocate("152501", day)[:20] == "15250120261123000001"
    # A township code keeps its county; a short or missing code is padded.
    assert numbers.allocate("150602001000", day)[:20] == "15060220261123000003"
    assert numbers.allocate("15", day)[:6] == "150000"
    assert numbers.allocate("", day)[:6] == "000000"
    assert all(numbers.is_valid(n) for n in (first, second))
    assert CaseCounter.objects.get(region_code="150602", day=day).last_serial == 3


@pytest.mark.django_db
def test_a_submitted_case_is_numbered_by_its_region_and_china_date(env):
    case = case_in(env, "to_accept")
    assert numbers.is_valid(case.number)
    assert case.number[:6] == env.implementation.region_code[:6] == "150600"
    assert case.number[6:14] == f"{calendar.china_date(case.submitted_at):%Y%m%d}"
    assert case.number[14:20] == "000001"
    assert case_in(env, "to_accept").number[14:20] == "000002"
