"""Review guards: steps, special procedures, extensions and decisions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.accounts.factories import StaffPostFactory, make_staff
from tests.cases.builders import case_in, last_event, snapshot
from tests.cases.factories import pdf, setting
from tongban.accounts.models import StaffRole
from tongban.cases import clock, services
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import Case, CaseMaterial, CaseStatus, MaterialKind
from tongban.core import calendar

S = CaseStatus
pytestmark = pytest.mark.django_db


def refused(code, call, **kwargs):
    with pytest.raises(CaseError) as caught:
        call(**kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


# --- Steps ---------------------------------------------------------------------------------------


def test_advance_moves_through_the_steps_and_refuses_on_the_last(env):
    case = case_in(env, "under_review")
    assert case.step == 1
    services.advance(actor=env.reviewer, case=case, version=case.version, opinion="初审通过")
    assert (case.step, case.status) == (2, S.UNDER_REVIEW)
    before = snapshot(case)
    refused(
        CaseErrorCode.LAST_STEP,
        services.advance,
        actor=env.reviewer,
        case=case,
        version=case.version,
    )
    assert snapshot(case) == before
    services.approve(actor=env.reviewer, case=case, version=case.version)
    assert case.status == S.DECIDED


@pytest.mark.parametrize("steps", [0, 1, 2])
def test_a_short_process_has_no_step_to_advance_to(db, steps):
    env = setting(steps=steps)
    case = case_in(env, "under_review")
    refused(
        CaseErrorCode.LAST_STEP,
        services.advance,
        actor=env.reviewer,
        case=case,
        version=case.version,
    )


# --- Special procedures --------------------------------------------------------------------------


def test_suspend_needs_the_procedure_and_pauses_the_clock(env):
    case = case_in(env, "under_review")
    before = snapshot(case)
    for procedure in ("", "   "):
        error = refused(
            CaseErrorCode.OPINION_REQUIRED,
            services.suspend,
            actor=env.reviewer,
            case=case,
            version=case.version,
            opinion="需要现场核查",
            procedure=procedure,
        )
        assert error.field == "procedure"
    assert snapshot(case) == before
    services.suspend(
        actor=env.reviewer, case=case, version=case.version, opinion="需核查", procedure="现场核查"
    )
    assert case.status == S.SUSPENDED
    assert case.suspension["procedure"] == "现场核查"
    assert case.paused_at == last_event(case).at
    assert clock.state(case) == clock.ClockState.PAUSED


def test_resume_adds_the_paused_working_days_back(env):
    case = case_in(env, "suspended")
    accepted = case.accepted_at
    paused_at = timezone.now() - dt.timedelta(days=15)
    Case.objects.filter(pk=case.pk).update(paused_at=paused_at)
    case.refresh_from_db()
    services.resume(actor=env.reviewer, case=case, version=case.version, opinion="核查完毕")
    fresh = Case.objects.get(pk=case.pk)
    resumed_at = last_event(case).at
    working = calendar.working_days_between(paused_at, resumed_at, region="150600").days
    natural = (calendar.china_date(resumed_at) - calendar.china_date(paused_at)).days
    assert (fresh.paused_working_days, fresh.paused_natural_days) == (working, natural)
    assert working >= 8
    assert fresh.paused_at is None
    assert fresh.suspension == {}
    assert fresh.promised_due == calendar.add_days(accepted, 5 + working, region="150600").due
    assert fresh.statutory_due == calendar.add_days(accepted, 20 + working, region="150600").due
    assert last_event(case).details == {"procedure": "听证"}


def test_pauses_add_up(env):
    case = case_in(env, "under_review")
    for _round in range(2):
        services.suspend(
            actor=env.reviewer, case=case, version=case.version, opinion="听证", procedure="听证"
        )
        Case.objects.filter(pk=case.pk).update(paused_at=timezone.now() - dt.timedelta(days=7))
        case.refresh_from_db()
        services.resume(actor=env.reviewer, case=case, version=case.version)
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.paused_natural_days == 14
    assert (
        fresh.promised_due
        == calendar.add_days(fresh.accepted_at, 5 + fresh.paused_working_days, region="150600").due
    )


# --- Extensions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [0, -1, 21, "5", 5.0, True, None])
def test_extension_days_are_bounded_by_the_statutory_limit(env, days):
    case = case_in(env, "under_review")
    before = snapshot(case)
    error = refused(
        CaseErrorCode.BAD_DAYS,
        services.request_extension,
        actor=env.reviewer,
        case=case,
        version=case.version,
        days=days,
        opinion="案情复杂",
    )
    assert error.field == "days"
    assert snapshot(case) == before


def test_an_extension_is_requested_then_approved_by_the_head(env):
    case = case_in(env, "under_review")
    due = case.promised_due
    services.request_extension(
        actor=env.reviewer, case=case, version=case.version, days=20, opinion="案情复杂"
    )
    assert case.pending_extension["days"] == 20
    assert case.pending_extension["by"] == env.reviewer.pk
    assert case.promised_due == due  # nothing moves before the approval
    services.approve_extension(actor=env.org_admin, case=case, version=case.version)
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.extension_days, fresh.pending_extension) == (20, {})
    assert fresh.promised_due == calendar.add_days(fresh.accepted_at, 25, region="150600").due
    assert fresh.statutory_due == calendar.add_days(fresh.accepted_at, 40, region="150600").due
    assert fresh.warn_on == calendar.add_days(fresh.accepted_at, 24, region="150600").due


def test_approving_without_a_request_is_refused(env):
    case = case_in(env, "under_review")
    before = snapshot(case)
    refused(
        CaseErrorCode.NO_EXTENSION,
        services.approve_extension,
        actor=env.org_admin,
        case=case,
        version=case.version,
    )
    assert snapshot(case) == before


def test_nobody_approves_their_own_extension(env):
    StaffPostFactory(user=env.org_admin, organization=env.organization, role=StaffRole.REVIEWER)
    case = case_in(env, "under_review")
    services.request_extension(
        actor=env.org_admin, case=case, version=case.version, days=3, opinion="需要专家评审"
    )
    before = snapshot(case)
    refused(
        CaseErrorCode.OWN_EXTENSION,
        services.approve_extension,
        actor=env.org_admin,
        case=case,
        version=case.version,
    )
    assert snapshot(case) == before
    head = make_staff(env.organization, StaffRole.ORG_ADMIN)
    services.approve_extension(actor=head, case=case, version=case.version)
    assert case.extension_days == 3


def test_an_extension_approved_during_a_pause_counts_from_the_resumption(env):
    case = case_in(env, "suspended", extension=True)
    due = case.promised_due
    services.approve_extension(actor=env.org_admin, case=case, version=case.version)
    assert case.promised_due == due
    assert case.extension_days == 5
    services.resume(actor=env.reviewer, case=case, version=case.version)
    fresh = Case.objects.get(pk=case.pk)
    assert (
        fresh.promised_due
        == calendar.add_days(
            fresh.accepted_at, 5 + 5 + fresh.paused_working_days, region="150600"
        ).due
    )


# --- Decisions -----------------------------------------------------------------------------------


def test_approve_draws_up_the_decision_document(env):
    case = case_in(env, "under_review")
    services.approve(actor=env.reviewer, case=case, version=case.version, opinion="符合条件")
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.decision, fresh.decision_note) == ("approved", "符合条件")
    assert fresh.decided_at == last_event(case).at
    document = CaseMaterial.objects.get(case=case, kind=MaterialKind.DECISION)
    content = document.file.open("rb").read()
    assert content.startswith(b"%PDF")
    from tongban.core import crypto

    assert document.sm3 == crypto.sm3(content).hex()
    assert document.size == len(content)
    assert not services.may_download_results(fresh)  # only once concluded
    assert clock.state(fresh) == clock.ClockState.STOPPED


def test_deny_keeps_the_reasons_and_the_applicant_may_read_them_at_once(env):
    case = case_in(env, "under_review")
    services.deny(actor=env.reviewer, case=case, version=case.version, opinion="场所不符合要求")
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.decision, fresh.decision_note) == ("denied", "场所不符合要求")
    assert services.may_download_results(fresh)
    assert list(services.result_files(fresh)) == list(
        CaseMaterial.objects.filter(case=case, kind=MaterialKind.DECISION)
    )


def test_an_uploaded_decision_document_is_used_as_given(env):
    case = case_in(env, "under_review")
    services.approve(
        actor=env.reviewer, case=case, version=case.version, document=pdf("决定.pdf", b"signed")
    )
    document = CaseMaterial.objects.get(case=case, kind=MaterialKind.DECISION)
    assert document.name == "决定.pdf"
    assert document.file.open("rb").read().endswith(b"signed")


def test_conclude_may_attach_the_result(env):
    case = case_in(env, "decided")
    services.conclude(
        actor=env.reviewer, case=case, version=case.version, result=pdf("许可证.pdf", b"result")
    )
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.status == S.CONCLUDED
    assert fresh.concluded_at is not None
    kinds = [m.kind for m in services.result_files(fresh)]
    assert kinds == [MaterialKind.RESULT, MaterialKind.DECISION]
    assert services.may_download_results(fresh)
