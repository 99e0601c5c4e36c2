"""Staff queues and their counts, scoped in SQL (the benchmark measures the same calls)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.cases.builders import case_in
from tests.cases.factories import setting
from tongban.cases import queries
from tongban.cases.models import Case

pytestmark = pytest.mark.django_db


def test_a_reviewer_sees_the_queues_of_their_organization_only(env):
    review = [case_in(env, "under_review") for _ in range(3)]
    decided = case_in(env, "decided")
    waiting = case_in(env, "to_accept")
    other = setting()
    case_in(other, "under_review")
    today = queries.today()
    # Soonest due first: give the cases distinct due dates.
    for n, case in enumerate([*reversed(review), decided]):
        Case.objects.filter(pk=case.pk).update(promised_due=today + dt.timedelta(days=n + 5))

    page = list(queries.queue(env.reviewer, "to_review")[:20])
    assert [c.pk for c in page] == [c.pk for c in [*reversed(review), decided]]
    assert [c.pk for c in queries.queue(env.reviewer, "to_accept")] == [waiting.pk]
    counts = queries.queue_counts(env.reviewer)
    assert counts["to_review"] == 4
    assert counts["to_accept"] == 1
    assert counts["overdue"] == 0
    assert counts["due_soon"] == 0
    assert queries.queue_counts(env.stranger)["to_review"] == 0
    assert list(queries.queue(env.stranger, "to_review")) == []


def test_due_soon_and_overdue_queues(env):
    late, soon, fine = (case_in(env, "under_review") for _ in range(3))
    today = queries.today()
    Case.objects.filter(pk=late.pk).update(
        promised_due=today - dt.timedelta(days=1), warn_on=today - dt.timedelta(days=3)
    )
    Case.objects.filter(pk=soon.pk).update(promised_due=today, warn_on=today)
    Case.objects.filter(pk=fine.pk).update(
        promised_due=today + dt.timedelta(days=9), warn_on=today + dt.timedelta(days=7)
    )
    assert [c.pk for c in queries.queue(env.reviewer, "overdue")] == [late.pk]
    assert [c.pk for c in queries.queue(env.reviewer, "due_soon")] == [soon.pk]
    counts = queries.queue_counts(env.reviewer)
    assert (counts["overdue"], counts["due_soon"], counts["to_review"]) == (1, 1, 3)


def test_a_queue_page_costs_the_same_queries_whatever_its_length(env):
    case_in(env, "under_review")

    def cost():
        user = type(env.reviewer).objects.get(pk=env.reviewer.pk)  # no cached scope
        with CaptureQueriesContext(connection) as captured:
            list(queries.queue(user, "to_review")[:20])
            queries.queue_counts(user)
        return len(captured)

    few = cost()
    for _ in range(4):
        case_in(env, "under_review")
    assert cost() == few


def test_queue_counts_stop_at_the_cap(env, monkeypatch):
    from tests.cases.factories import submitted as _submitted

    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    for _ in range(5):
        _submitted(env)
    counts = queries.queue_counts(env.clerk)
    assert counts["to_accept"] == 3
    assert counts["to_review"] == 0
    assert queries.capped_count(queries.queue(env.clerk, "to_accept")) == 3


def test_repeated_wrong_checks_lock_that_case_numbers_progress(env):
    from tests.cases.factories import submitted as _submitted

    case = _submitted(env)
    other = _submitted(env)
    tail = env.citizen.phone[-4:]
    wrong = "0000" if tail != "0000" else "1111"
    for _ in range(queries.NUMBER_RULE_LIMIT):
        assert queries.find_by_check(case.number, wrong) is None
    # Locked for an hour, even with the right check; another case is not affected.
    assert queries.find_by_check(case.number, tail) is None
    assert queries.find_by_check(other.number, tail) == other


def test_a_right_check_is_not_counted_against_the_number(env):
    from tests.cases.factories import submitted as _submitted

    case = _submitted(env)
    tail = env.citizen.phone[-4:]
    for _ in range(queries.NUMBER_RULE_LIMIT + 2):
        assert queries.find_by_check(case.number, tail) == case
