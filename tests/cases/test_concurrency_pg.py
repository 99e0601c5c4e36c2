"""Two people acting on one case at the same moment, on PostgreSQL: each thread has its own
connection, a barrier releases them together, exactly one move is written and the other is told
the case moved on. Concurrent submissions of one region and day get distinct numbers.

Run with ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name> pytest tests/cases`` (skipped
on SQLite, whose single writer cannot show this)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from tests.accounts.factories import UserFactory, make_staff
from tests.cases.builders import case_in
from tests.cases.factories import FORM, pdf
from tongban.accounts.models import StaffRole
from tongban.cases import applications, effects, numbers, services
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import Case, CaseCounter, CaseEvent, CaseStatus

S = CaseStatus
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]


def _race(calls: dict[str, object]) -> dict[str, object]:
    """Run each ``name: call()`` in its own thread and connection, released together."""
    barrier = threading.Barrier(len(calls))
    outcomes: dict[str, object] = {}

    def work(name, call) -> None:
        try:
            barrier.wait(timeout=30)
            call()
            outcomes[name] = "ok"
        except CaseError as exc:
            outcomes[name] = exc.code
        except Exception as exc:  # reported by the assertion below
            outcomes[name] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=item) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return outcomes


@pytest.fixture
def slow_effects(monkeypatch):
    """Hold the winner's transaction (and its row lock) a moment after its UPDATE, so that the
    other really waits on the lock rather than arriving after the commit."""
    real = effects.after_move

    def slow(**kwargs):
        real(**kwargs)
        time.sleep(0.3)

    monkeypatch.setattr(effects, "after_move", slow)


def _fresh(case) -> Case:
    return Case.objects.get(pk=case.pk)


def _one_won(case, before_version, before_events, outcomes, targets):
    winners = [name for name, outcome in outcomes.items() if outcome == "ok"]
    losers = {name: outcome for name, outcome in outcomes.items() if outcome != "ok"}
    assert len(winners) == 1, outcomes
    assert all(
        code in (CaseErrorCode.CONFLICT, CaseErrorCode.NOT_ALLOWED) for code in losers.values()
    ), outcomes
    fresh = _fresh(case)
    assert fresh.version == before_version + 1
    assert CaseEvent.objects.filter(case=case).count() == before_events + 1
    event = CaseEvent.objects.filter(case=case).order_by("-id").first()
    assert (event.action, fresh.status) == targets[winners[0]]
    return winners[0]


@pytest.mark.parametrize("round_", range(3))
def test_two_clerks_accept_and_reject_at_once(env, slow_effects, round_):
    other_clerk = make_staff(env.organization, StaffRole.CLERK)
    case = case_in(env, "to_accept")
    version, events = case.version, case.events.count()
    mine, theirs = _fresh(case), _fresh(case)  # each clerk opened the case page
    outcomes = _race(
        {
            "accept": lambda: services.accept(actor=env.clerk, case=mine, version=version),
            "reject": lambda: services.reject(
                actor=other_clerk, case=theirs, version=version, opinion="材料不符合法定形式"
            ),
        }
    )
    _one_won(
        case,
        version,
        events,
        outcomes,
        {"accept": ("accept", S.UNDER_REVIEW), "reject": ("reject", S.REJECTED)},
    )


def test_two_reviewers_decide_at_once(env, slow_effects):
    other_reviewer = make_staff(env.organization, StaffRole.REVIEWER)
    case = case_in(env, "under_review")
    version, events = case.version, case.events.count()
    a, b = _fresh(case), _fresh(case)
    outcomes = _race(
        {
            "approve": lambda: services.approve(actor=env.reviewer, case=a, version=version),
            "deny": lambda: services.deny(
                actor=other_reviewer, case=b, version=version, opinion="场所不符合要求"
            ),
        }
    )
    winner = _one_won(
        case,
        version,
        events,
        outcomes,
        {"approve": ("approve", S.DECIDED), "deny": ("deny", S.DECIDED)},
    )
    assert _fresh(case).decision == {"approve": "approved", "deny": "denied"}[winner]
    # The loser's decision document was rolled back with its move.
    assert case.materials.filter(kind="decision").count() == 1


def test_the_applicant_withdraws_while_the_clerk_accepts(env):
    case = case_in(env, "to_accept")
    version, events = case.version, case.events.count()
    a, b = _fresh(case), _fresh(case)
    outcomes = _race(
        {
            "accept": lambda: services.accept(actor=env.clerk, case=a, version=version),
            "withdraw": lambda: services.withdraw(
                actor=env.citizen, case=b, version=version, opinion="不办了"
            ),
        }
    )
    _one_won(
        case,
        version,
        events,
        outcomes,
        {"accept": ("accept", S.UNDER_REVIEW), "withdraw": ("withdraw", S.WITHDRAWN)},
    )


def test_without_versions_the_second_move_meets_the_new_state(env, slow_effects):
    """A caller that sends no version (a department system) is still serialized by the row
    lock: the second finds the case accepted and is refused by the table."""
    case = case_in(env, "to_accept")
    events = case.events.count()
    a, b = _fresh(case), _fresh(case)
    outcomes = _race(
        {
            "accept": lambda: services.accept(actor=env.clerk, case=a, version=None),
            "reject": lambda: services.reject(
                actor=None, case=b, version=None, opinion="不予受理", department=env.organization
            ),
        }
    )
    assert sorted(map(str, outcomes.values())) == sorted(["ok", CaseErrorCode.NOT_ALLOWED.value])
    assert CaseEvent.objects.filter(case=case).count() == events + 1


def test_concurrent_submissions_get_distinct_numbers(env):
    applicants = [UserFactory() for _ in range(6)]
    drafts = []
    for n, person in enumerate(applicants):
        draft = applications.open_draft(actor=person, implementation=env.implementation)
        applications.save_draft(actor=person, draft=draft, data=FORM)
        for material in (env.licence, env.plan):
            applications.attach(
                actor=person,
                draft=draft,
                material_id=material.pk,
                upload=pdf("scan.pdf", f"{n}-{material.pk}".encode()),
            )
        drafts.append(draft)
    outcomes = _race(
        {
            str(n): (lambda p=person, d=draft: applications.submit(actor=p, draft=d))
            for n, (person, draft) in enumerate(zip(applicants, drafts, strict=True))
        }
    )
    assert set(outcomes.values()) == {"ok"}, outcomes
    found = list(Case.objects.filter(implementation=env.implementation).values_list("number"))
    found = sorted(n for (n,) in found)
    assert len(set(found)) == len(applicants)
    assert all(numbers.is_valid(n) for n in found)
    assert {n[:14] for n in found} == {found[0][:14]}  # one region, one day
    assert [int(n[14:20]) for n in found] == list(range(1, len(applicants) + 1))
    assert CaseCounter.objects.get().last_serial == len(applicants)
