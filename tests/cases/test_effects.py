"""What follows a move: the applicant's notice (once, in the app, by SMS and e-mail) and the
department system's outbox row."""

from __future__ import annotations

import pytest

from tests.cases.builders import case_in, last_event
from tests.cases.factories import submitted
from tongban.accounts.models import MessageChannel, OutgoingMessage
from tongban.cases import effects, services
from tongban.cases.models import CaseAction, DepartmentEndpoint, Dispatch
from tongban.core.models import Notice

pytestmark = pytest.mark.django_db


def _messages(channel):
    return OutgoingMessage.objects.filter(channel=channel)


def test_a_move_the_applicant_cares_about_is_told_in_the_app_by_sms_and_email(env):
    env.citizen.email = "citizen@example.cn"
    env.citizen.save(update_fields=["email"])
    case = submitted(env)
    services.accept(actor=env.clerk, case=case, version=case.version)
    subjects = list(Notice.objects.filter(recipient=env.citizen).values_list("subject", flat=True))
    assert sorted(subjects) == ["已受理", "申请已提交"]
    assert _messages(MessageChannel.SMS).count() == 2
    assert _messages(MessageChannel.EMAIL).count() == 2
    assert all("【通办】" in m.body for m in _messages(MessageChannel.SMS))


def test_telling_twice_about_one_event_tells_once(env):
    case = submitted(env)
    event = last_event(case)
    before = (Notice.objects.count(), OutgoingMessage.objects.count())
    effects._tell_applicant(case, event)
    assert (Notice.objects.count(), OutgoingMessage.objects.count()) == before


def test_internal_review_steps_are_not_announced(env):
    case = case_in(env, "under_review")
    before = Notice.objects.filter(recipient=env.citizen).count()
    services.advance(actor=env.reviewer, case=case, version=case.version)
    assert Notice.objects.filter(recipient=env.citizen).count() == before


def test_an_organization_without_its_own_system_gets_no_dispatch(env):
    submitted(env)
    assert not Dispatch.objects.exists()


def test_the_departments_own_moves_are_not_pushed_back_to_it(env):
    DepartmentEndpoint.objects.create(
        organization=env.organization, url="http://127.0.0.1:9/", secret="s" * 40
    )
    case = submitted(env)
    services.accept(actor=None, case=case, version=case.version, department=env.organization)
    services.approve(actor=env.reviewer, case=case, version=case.version)
    actions = list(Dispatch.objects.order_by("id").values_list("event__action", flat=True))
    assert actions == [CaseAction.SUBMIT, CaseAction.APPROVE]
