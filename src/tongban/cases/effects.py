"""What follows a move, inside its transaction: the applicant is told (once, in the app and by
SMS), and an organization with its own business system gets the change in its outbox.

The outbox row (:class:`~tongban.cases.models.Dispatch`) commits with the case; the task that
posts it is enqueued in the same transaction through the database task backend, and
:func:`tongban.cases.tasks.sweep` re-enqueues any row whose task was lost.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.cases import workflow
from tongban.cases.models import (
    Case,
    CaseAction,
    CaseEvent,
    DepartmentEndpoint,
    Dispatch,
)
from tongban.core.notifications import notify

A = CaseAction

# Every move a department system did not make itself, so its copy of the case never goes stale
# (a counter clerk's acceptance, an applicant's withdrawal …); the internal review steps of the
# platform's own reviewers are not its business.
DISPATCHED = frozenset(set(A) - {A.ADVANCE, A.REQUEST_EXTENSION})


def _message(case: Case, event: CaseEvent) -> tuple[str, str] | None:
    item = case.implementation.item.name if case.implementation_id else ""
    number = case.number
    texts = {
        A.SUBMIT: (
            _("申请已提交"),
            _("您申请的“%(item)s”已提交，办件编号%(n)s。") % {"item": item, "n": number},
        ),
        A.PRE_APPROVE: (_("预审通过"), _("办件%(n)s预审通过，等待受理。") % {"n": number}),
        A.REQUEST_CORRECTION: (
            _("请补正材料"),
            _("办件%(n)s需要补正：%(why)s。请登录查看需补正的内容。")
            % {"n": number, "why": event.opinion},
        ),
        A.ACCEPT: (_("已受理"), _("办件%(n)s已受理。") % {"n": number}),
        A.ACCEPT_WITH_DEFICIENCIES: (
            _("已容缺受理"),
            _("办件%(n)s已容缺受理，请在期限内补交所缺材料。") % {"n": number},
        ),
        A.REJECT: (
            _("不予受理"),
            _("办件%(n)s不予受理：%(why)s") % {"n": number, "why": event.opinion},
        ),
        A.SUSPEND: (
            _("进入特别程序"),
            _("办件%(n)s进入特别程序，期间不计入办理时限。") % {"n": number},
        ),
        A.RESUME: (_("恢复办理"), _("办件%(n)s特别程序结束，恢复办理。") % {"n": number}),
        A.APPROVE_EXTENSION: (
            _("办理时限延长"),
            _("办件%(n)s的办理时限已依法延长。") % {"n": number},
        ),
        A.APPROVE: (_("准予许可"), _("办件%(n)s已作出准予决定。") % {"n": number}),
        A.DENY: (
            _("不予许可"),
            _("办件%(n)s已作出不予准予决定：%(why)s") % {"n": number, "why": event.opinion},
        ),
        A.HANDLE_INSTANTLY: (_("已办结"), _("办件%(n)s已当场办结。") % {"n": number}),
        A.CONCLUDE: (_("已办结"), _("办件%(n)s已办结。") % {"n": number}),
        A.DELIVER: (_("结果已送达"), _("办件%(n)s的办理结果已送达。") % {"n": number}),
        A.WITHDRAW: (_("已撤回"), _("办件%(n)s已撤回。") % {"n": number}),
        A.SUPPLY: (_("材料已补交"), _("办件%(n)s的容缺材料已收到。") % {"n": number}),
        A.RESUBMIT: (_("补正已提交"), _("办件%(n)s的补正材料已提交。") % {"n": number}),
    }
    return texts.get(event.action)


def _link(case: Case) -> str:
    try:
        return reverse("portal:case", args=[case.number])
    except NoReverseMatch:
        return ""


def after_move(*, case: Case, event: CaseEvent, by_department: bool = False) -> None:
    transition = workflow.TRANSITIONS.get(event.action)
    if event.action == A.SUBMIT or (transition is not None and transition.notifies):
        _tell_applicant(case, event)
    if event.action in DISPATCHED and not by_department:
        enqueue_dispatch(case, event)


def _tell_applicant(case: Case, event: CaseEvent) -> None:
    text = _message(case, event)
    if text is None:
        return
    subject, body = text
    new = notify(
        recipient=case.applicant,
        key=f"case:{case.pk}:event:{event.pk}",
        subject=subject,
        body=body,
        link=_link(case),
    )
    if not new:
        return
    from tongban.accounts.messaging import send_email, send_sms

    if case.applicant.phone:
        send_sms(phone=case.applicant.phone, body=f"【通办】{body}")
    if case.applicant.email:
        send_email(to=case.applicant.email, subject=f"【通办】{subject}", body=body)


def backoff(attempts: int) -> dt.timedelta:
    """The wait after ``attempts`` failed attempts: 1, 2, 4, 8 … minutes, at most 6 hours."""
    return dt.timedelta(seconds=min(30 * 2**attempts, 6 * 3600))


def enqueue_dispatch(case: Case, event: CaseEvent) -> Dispatch | None:
    endpoint = DepartmentEndpoint.objects.filter(
        organization_id=case.organization_id, enabled=True
    ).first()
    if endpoint is None:
        return None
    dispatch = Dispatch.objects.create(
        case=case,
        endpoint=endpoint,
        event=event,
        idempotency_key=uuid.uuid4().hex,
        next_attempt_at=timezone.now(),
    )
    from tongban.cases import tasks

    tasks.post_dispatch.enqueue(dispatch.pk)
    return dispatch


def department_payload(dispatch: Dispatch) -> dict[str, Any]:
    """What a department system receives (documented in the OpenAPI document under
    ``webhooks``): the event, and the case as it stands when the message is sent."""
    event = dispatch.event
    return {
        "event": event.action,
        "event_id": event.pk,
        "at": event.at.isoformat(),
        "case": case_payload(dispatch.case),
    }


def case_payload(case: Case) -> dict[str, Any]:
    """The case as its department system sees it: in every push, and at
    ``GET /api/v1/cases/department/cases/{number}``."""
    materials = [
        {
            "id": m.pk,
            "material": m.material_id,
            "kind": m.kind,
            "name": m.name,
            "sm3": m.sm3,
            "size": m.size,
            "content_type": m.content_type,
        }
        for m in case.materials.filter(replaced=False).order_by("id")
    ]
    return {
        "number": case.number,
        "status": case.status,
        "version": case.version,
        "implementation": case.implementation.code,
        "item": case.implementation.item.name,
        "organization": case.organization.uscc,
        "region": case.region_code,
        "channel": case.channel,
        "submitted_at": case.submitted_at.isoformat(),
        "applicant": {
            "name": case.applicant.real_name,
            "id_number": case.applicant.id_number,
            "phone": case.applicant.phone,
        },
        "company": (
            {"name": case.company.name, "uscc": case.company.uscc} if case.company_id else None
        ),
        "form": json.loads(case.form_data or "{}"),
        "answers": case.answers,
        "materials": materials,
    }
