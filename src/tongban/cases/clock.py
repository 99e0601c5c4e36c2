"""The case clock: due dates from acceptance, stopped during correction and special procedures.

The promised (承诺) and statutory (法定) limits count from the day after acceptance (次日起算) in
working or natural days as the implementation says (:func:`tongban.core.calendar.add_days`, with
the organization's region for local holidays). Days spent paused are added back, counted in the
same unit; an approved extension adds its days to both limits. The dates are stored on the case
(``promised_due``, ``statutory_due``, ``warn_on``) so that queues and supervision filter on an
index instead of computing per row.

A case is *due soon* (yellow) from ``warn_on``: the last fifth of the promised limit, at least
one day; *overdue* (red) from the day after ``promised_due``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from tongban.core import calendar
from tongban.core.calendar import Unit


class ClockState(models.TextChoices):
    NOT_STARTED = "not_started", _("未开始计时")
    ON_TIME = "on_time", _("正常")
    DUE_SOON = "due_soon", _("即将到期")
    OVERDUE = "overdue", _("已超期")
    PAUSED = "paused", _("暂停计时")
    STOPPED = "stopped", _("已办结")


@dataclass(frozen=True)
class DueDates:
    promised_due: dt.date
    statutory_due: dt.date
    warn_on: dt.date


def _paused(case: Any, unit: str) -> int:
    return case.paused_natural_days if unit == Unit.NATURAL_DAYS else case.paused_working_days


def due_dates(case: Any, implementation: Any) -> DueDates:
    """The due dates of an accepted case as its pauses and extension stand now."""
    start = case.accepted_at
    region = case.region_code[:6] if case.region_code else None
    p_unit, s_unit = implementation.promised_unit, implementation.statutory_unit
    promised_days = implementation.promised_limit + case.extension_days + _paused(case, p_unit)
    statutory_days = implementation.statutory_limit + case.extension_days + _paused(case, s_unit)
    promised = calendar.add_days(start, promised_days, p_unit, region=region)
    statutory = calendar.add_days(start, statutory_days, s_unit, region=region)
    margin = max(1, implementation.promised_limit // 5)
    warn_days = promised_days - margin
    warn_on = (
        calendar.add_days(start, warn_days, p_unit, region=region).due
        if warn_days > 0
        else calendar.china_date(start)
    )
    return DueDates(promised.due, statutory.due, warn_on)


def paused_days(case: Any, resumed_at: dt.datetime) -> tuple[int, int]:
    """(working, natural) days between the pause and ``resumed_at`` — the days to add back."""
    region = case.region_code[:6] if case.region_code else None
    start = case.paused_at
    working = max(0, calendar.working_days_between(start, resumed_at, region=region).days)
    natural = max(0, (calendar.china_date(resumed_at) - calendar.china_date(start)).days)
    return working, natural


def state(case: Any, today: dt.date | None = None) -> ClockState:
    from tongban.cases.models import CLOCK_RUNS, CaseStatus

    if case.accepted_at is None or case.promised_due is None:
        return ClockState.NOT_STARTED
    if (
        case.status not in CLOCK_RUNS
        and case.status != CaseStatus.SUSPENDED
        and not (case.status == CaseStatus.CORRECTING and case.paused_at)
    ):
        return ClockState.STOPPED
    if case.paused_at is not None:
        return ClockState.PAUSED
    today = today or calendar.china_date(dt.datetime.now(tz=calendar.CHINA))
    if today > case.promised_due:
        return ClockState.OVERDUE
    if case.warn_on and today >= case.warn_on:
        return ClockState.DUE_SOON
    return ClockState.ON_TIME


def remaining_working_days(case: Any, today: dt.date | None = None) -> int | None:
    """Working days left to the promised date (negative: days overdue)."""
    if case.promised_due is None:
        return None
    today = today or calendar.china_date(dt.datetime.now(tz=calendar.CHINA))
    region = case.region_code[:6] if case.region_code else None
    return calendar.working_days_between(today, case.promised_due, region=region).days
