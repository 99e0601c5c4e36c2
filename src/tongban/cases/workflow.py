"""The one transition table of a case: (action) → allowed source states, next state, roles.

Guards that depend on more than the state (an opinion is given, the named corrections are all
made, no deficiency is open …) live in :mod:`tongban.cases.services`, one function per action,
next to the move they protect. Roles are those an actor holds *on this case*
(:func:`tongban.cases.queries.roles_on`):

- ``applicant``: the applicant, or an agent of the applying company;
- ``clerk``, ``reviewer``, ``org_admin``: staff posts of the handling organization covering the
  case's region;
- ``counter``: a clerk of the one-stop counter (综合窗口) that took the case in — accepts at the
  counter and hands out the result there (前台综合受理、综合窗口出件);
- ``department``: the organization's own business system, through the API.
"""

from __future__ import annotations

from dataclasses import dataclass

from tongban.cases.models import CaseAction, CaseStatus

A = CaseAction
S = CaseStatus

APPLICANT = "applicant"
CLERK = "clerk"
REVIEWER = "reviewer"
ORG_ADMIN = "org_admin"
COUNTER = "counter"
DEPARTMENT = "department"
STAFF_ROLES = frozenset({CLERK, REVIEWER, ORG_ADMIN, COUNTER, DEPARTMENT})


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    # None: the case stays where it is (or returns to where it was, for RESUBMIT/RESUME).
    target: str | None
    roles: frozenset[str]
    needs_opinion: bool = False
    # The applicant is told about this move.
    notifies: bool = True


def _t(action, sources, target, roles, **kw) -> Transition:
    return Transition(
        str(action), frozenset(sources), target and str(target), frozenset(roles), **kw
    )


INTAKE = {CLERK, REVIEWER, COUNTER, DEPARTMENT}

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t(A.PRE_APPROVE, {S.PRE_REVIEW}, S.TO_ACCEPT, {CLERK, REVIEWER, COUNTER}),
        _t(
            A.REQUEST_CORRECTION,
            {S.PRE_REVIEW, S.TO_ACCEPT, S.UNDER_REVIEW},
            S.CORRECTING,
            INTAKE,
            needs_opinion=True,
        ),
        _t(A.RESUBMIT, {S.CORRECTING}, None, {APPLICANT, COUNTER}),
        _t(A.ACCEPT, {S.TO_ACCEPT}, S.UNDER_REVIEW, {CLERK, COUNTER, DEPARTMENT}),
        _t(A.ACCEPT_WITH_DEFICIENCIES, {S.TO_ACCEPT}, S.UNDER_REVIEW, {CLERK, COUNTER}),
        _t(A.REJECT, {S.PRE_REVIEW, S.TO_ACCEPT}, S.REJECTED, INTAKE, needs_opinion=True),
        _t(
            A.SUPPLY,
            {S.UNDER_REVIEW, S.SUSPENDED, S.DECIDED},
            None,
            {APPLICANT, CLERK, COUNTER},
        ),
        _t(A.ADVANCE, {S.UNDER_REVIEW}, None, {REVIEWER}, notifies=False),
        _t(A.SUSPEND, {S.UNDER_REVIEW}, S.SUSPENDED, {REVIEWER}, needs_opinion=True),
        _t(A.RESUME, {S.SUSPENDED}, S.UNDER_REVIEW, {REVIEWER}),
        _t(
            A.REQUEST_EXTENSION,
            {S.UNDER_REVIEW, S.SUSPENDED},
            None,
            {REVIEWER},
            needs_opinion=True,
            notifies=False,
        ),
        _t(A.APPROVE_EXTENSION, {S.UNDER_REVIEW, S.SUSPENDED}, None, {ORG_ADMIN}),
        _t(A.APPROVE, {S.UNDER_REVIEW}, S.DECIDED, {REVIEWER, DEPARTMENT}),
        _t(A.DENY, {S.UNDER_REVIEW}, S.DECIDED, {REVIEWER, DEPARTMENT}, needs_opinion=True),
        _t(A.HANDLE_INSTANTLY, {S.TO_ACCEPT}, S.CONCLUDED, {CLERK, COUNTER}),
        _t(
            A.WITHDRAW,
            {S.PRE_REVIEW, S.TO_ACCEPT, S.CORRECTING, S.UNDER_REVIEW, S.SUSPENDED},
            S.WITHDRAWN,
            {APPLICANT},
            needs_opinion=True,
        ),
        _t(A.CONCLUDE, {S.DECIDED}, S.CONCLUDED, {REVIEWER, DEPARTMENT}),
        _t(A.DELIVER, {S.CONCLUDED}, S.DELIVERED, {CLERK, COUNTER, DEPARTMENT}),
        _t(
            A.ARCHIVE,
            {S.DELIVERED, S.REJECTED, S.WITHDRAWN},
            S.ARCHIVED,
            {CLERK, ORG_ADMIN, COUNTER},
            notifies=False,
        ),
    )
}


def allowed_actions(status: str, roles: frozenset[str] | set[str]) -> list[str]:
    """Actions open to someone with ``roles`` on a case in ``status``, in table order."""
    return [t.action for t in TRANSITIONS.values() if status in t.sources and roles & t.roles]
