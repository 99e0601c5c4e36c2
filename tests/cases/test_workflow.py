"""The transition table, move by move: for every entry the happy path from each source state, and
every refusal the table itself implies (wrong role, wrong state, stale version, no opinion), each
checked to have changed nothing. Guards of single actions are in ``test_services_*.py``."""

from __future__ import annotations

import pytest

from tests.accounts.helpers import sms_to
from tests.cases.builders import (
    ROLE_OF_PERSONA,
    STATES,
    act,
    case_in,
    entitled,
    last_event,
    notices_of,
    snapshot,
)
from tongban.cases import services, workflow
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import Case, CaseAction, CaseMaterial, CaseStatus, MaterialKind

S = CaseStatus
T = workflow.TRANSITIONS

pytestmark = pytest.mark.django_db


# --- The table itself ----------------------------------------------------------------------------


def test_every_action_but_submit_is_one_entry_with_one_service():
    assert set(T) == set(CaseAction.values) - {CaseAction.SUBMIT}
    assert set(services.ACTIONS) == set(T)
    for action, transition in T.items():
        assert transition.action == action
        assert transition.sources <= set(S.values)
        assert transition.target is None or transition.target in S.values
        assert transition.roles <= workflow.STAFF_ROLES | {workflow.APPLICANT}
        assert transition.roles, action


def test_final_states_lead_only_to_the_archive():
    for action, transition in T.items():
        if transition.sources & {S.DELIVERED, S.REJECTED, S.WITHDRAWN}:
            assert action == CaseAction.ARCHIVE
        assert S.ARCHIVED not in transition.sources


def test_allowed_actions_follow_the_table_in_its_order():
    assert workflow.allowed_actions(S.TO_ACCEPT, {workflow.CLERK}) == [
        "request_correction",
        "accept",
        "accept_with_deficiencies",
        "reject",
        "handle_instantly",
    ]
    assert workflow.allowed_actions(S.UNDER_REVIEW, {workflow.APPLICANT}) == ["supply", "withdraw"]
    assert workflow.allowed_actions(S.ARCHIVED, workflow.STAFF_ROLES) == []
    assert workflow.allowed_actions(S.UNDER_REVIEW, set()) == []


# --- Happy paths: every (action, source state) -------------------------------------------------

# (action, source state, builder traits); resubmit returns where the correction was asked.
MOVES = [
    (action, source, traits)
    for action, transition in T.items()
    for source in sorted(transition.sources)
    for traits in (
        [{}, {"after_review": True}]
        if action in ("resubmit",) or (action == "withdraw" and source == "correcting")
        else [
            {
                "deficient": action == "supply",
                "extension": action == "approve_extension",
                "instant": action == "handle_instantly",
            }
        ]
    )
]


def _id(value):
    if isinstance(value, dict):
        return "+".join(k for k, v in value.items() if v) or "plain"
    return str(value)


def _expected_details(env, action, case, before):
    material_rows = CaseMaterial.objects.filter(case=case).order_by("-id")
    return {
        "request_correction": {"fields": ["property.address"], "materials": [env.licence.pk]},
        "resubmit": {
            "fields": ["property.address"],
            "changed": ["property.address"],
            "materials": [str(env.licence.pk)],
        },
        "accept_with_deficiencies": {
            "materials": [env.proof.pk],
            "due": (case.deficiencies or [{}])[0].get("due"),
        },
        "supply": {"material": env.proof.pk, "file": material_rows.first().pk},
        "advance": {"step": 2},
        "suspend": {"procedure": "现场核查"},
        "resume": {"procedure": "听证"},
        "request_extension": {"days": 5},
        "approve_extension": {"days": 5, "reason": "需要现场核查"},
        "approve": {
            "decision": "approved",
            "document": material_rows.first().pk,
            "sm3": material_rows.first().sm3,
        },
        "deny": {
            "decision": "denied",
            "document": material_rows.first().pk,
            "sm3": material_rows.first().sm3,
        },
        "handle_instantly": {"document": material_rows.first().pk},
        "deliver": {"method": "window"},
        "archive": {"manifest_sm3": case.archive_digest, "files": before.materials + 1},
    }.get(action, {})


@pytest.mark.parametrize(("action", "source", "traits"), MOVES, ids=_id)
def test_move(env, action, source, traits):
    transition = T[action]
    case = case_in(env, source, **traits)
    assert case.status == source
    actor = entitled(env, action)
    before = snapshot(case)
    sms_before = sms_to(env.citizen.phone)

    returned = act(env, action, actor=actor, case=case)

    assert returned is case
    fresh = Case.objects.get(pk=case.pk)
    if action == "resubmit":
        target = S.UNDER_REVIEW if traits.get("after_review") else S.TO_ACCEPT
    else:
        target = transition.target or source
    assert fresh.status == case.status == target
    assert fresh.version == case.version == before.version + 1
    assert fresh.events.count() == before.events + 1
    event = last_event(case)
    assert (event.action, event.from_status, event.to_status) == (action, source, target)
    assert event.actor == actor
    applicant_only = ROLE_OF_PERSONA[_persona(env, actor)] == workflow.APPLICANT
    assert event.actor_label == ("申请人" if applicant_only else actor.display_name)
    takes_opinion = action not in ("resubmit", "supply", "deliver", "archive")
    assert event.opinion == ("依法审查的意见" if takes_opinion else "")
    assert event.details == _expected_details(env, action, fresh, before)

    notices = notices_of(case, event)
    sms_after = sms_to(env.citizen.phone)
    if transition.notifies:
        assert len(notices) == 1
        assert notices[0].recipient_id == env.citizen.pk
        assert case.number in notices[0].body
        assert snapshot(case).notices == before.notices + 1
        assert len(sms_after) == len(sms_before) + 1
        assert sms_after[-1] == f"【通办】{notices[0].body}"
    else:
        assert notices == []
        assert snapshot(case).notices == before.notices
        assert sms_after == sms_before


def _persona(env, user):
    for name in ("citizen", "clerk", "reviewer", "org_admin"):
        if getattr(env, name).pk == user.pk:
            return name
    raise AssertionError(user)


def test_every_transition_and_source_has_a_happy_path():
    covered = {(a, s) for a, s, _traits in MOVES}
    assert covered == {(a, s) for a, t in T.items() for s in t.sources}


# --- Refusals the table implies ------------------------------------------------------------------


def _source_case(env, action):
    """A case in a source state of ``action`` from which the move would succeed."""
    transition = T[action]
    for state in ("under_review", "to_accept", "correcting", "suspended", "decided"):
        if state in transition.sources:
            break
    else:
        state = sorted(transition.sources)[0]
    return case_in(
        env,
        state,
        deficient=action == "supply",
        extension=action == "approve_extension",
        instant=action == "handle_instantly",
    )


def _refused(call, code):
    with pytest.raises(CaseError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    return caught.value


WRONG_STATES = [
    (action, state) for action, t in T.items() for state in STATES if state not in t.sources
]


@pytest.mark.parametrize(("action", "state"), WRONG_STATES)
def test_wrong_state_is_not_allowed_and_changes_nothing(env, action, state):
    case = case_in(env, state)
    before = snapshot(case)
    _refused(
        lambda: act(env, action, actor=entitled(env, action), case=case), CaseErrorCode.NOT_ALLOWED
    )
    assert snapshot(case) == before


WRONG_PERSONAS = [
    (action, persona)
    for action, t in T.items()
    for persona in ("citizen", "clerk", "reviewer", "org_admin", "stranger", "counter")
    if ROLE_OF_PERSONA.get(persona) not in t.roles
]


@pytest.mark.parametrize(("action", "persona"), WRONG_PERSONAS)
def test_wrong_role_is_forbidden_and_changes_nothing(env, action, persona):
    """The citizen on a staff action, staff on an applicant action, a role of the organization
    the table does not name, a reviewer of another organization, and a counter clerk on a case
    their counter did not take in."""
    case = _source_case(env, action)
    before = snapshot(case)
    actor = getattr(env, persona)
    _refused(lambda: act(env, action, actor=actor, case=case), CaseErrorCode.FORBIDDEN)
    assert snapshot(case) == before


@pytest.mark.parametrize("action", sorted(T))
def test_anonymous_and_inactive_users_are_forbidden(env, action):
    from django.contrib.auth.models import AnonymousUser

    case = _source_case(env, action)
    before = snapshot(case)
    _refused(lambda: act(env, action, actor=AnonymousUser(), case=case), CaseErrorCode.FORBIDDEN)
    actor = entitled(env, action)
    type(actor).objects.filter(pk=actor.pk).update(is_active=False)
    actor.refresh_from_db()
    _refused(lambda: act(env, action, actor=actor, case=case), CaseErrorCode.FORBIDDEN)
    assert snapshot(case) == before


@pytest.mark.parametrize("action", sorted(T))
def test_stale_version_is_a_conflict_and_changes_nothing(env, action):
    case = _source_case(env, action)
    before = snapshot(case)
    actor = entitled(env, action)
    for version in (case.version - 1, case.version + 1, "abc", ""):
        _refused(
            lambda v=version: act(env, action, actor=actor, case=case, version=v),
            CaseErrorCode.CONFLICT,
        )
    assert snapshot(case) == before


@pytest.mark.parametrize("action", sorted(a for a, t in T.items() if t.needs_opinion))
def test_missing_opinion_is_refused_and_changes_nothing(env, action):
    case = _source_case(env, action)
    before = snapshot(case)
    for blank in ("", "   \n"):
        error = _refused(
            lambda b=blank: act(env, action, actor=entitled(env, action), case=case, opinion=b),
            CaseErrorCode.OPINION_REQUIRED,
        )
        assert error.field == "opinion"
    assert snapshot(case) == before


def test_version_none_skips_the_version_check(env):
    """Department systems that do not track versions may pass None (the lock still orders)."""
    case = case_in(env, "to_accept")
    services.accept(actor=env.clerk, case=case, version=None)
    assert case.status == S.UNDER_REVIEW


def test_a_move_updates_the_callers_object_as_well(env):
    case = case_in(env, "to_accept")
    stale = Case.objects.get(pk=case.pk)
    services.accept(actor=env.clerk, case=case, version=case.version)
    assert case.accepted_at is not None
    assert case.promised_due is not None
    _refused(
        lambda: services.reject(actor=env.clerk, case=stale, version=stale.version, opinion="x"),
        CaseErrorCode.CONFLICT,
    )


def test_decision_documents_are_stored_as_decision_materials(env):
    case = case_in(env, "decided")
    rows = CaseMaterial.objects.filter(case=case, kind=MaterialKind.DECISION)
    assert rows.count() == 1
    assert rows.get().name == f"{case.number}-决定书.pdf"
