"""Cases in every workflow state, reached through the services (never by writing the status), and
the checks the domain tests share: who acts in which role, calling any action of the transition
table with valid arguments, and "a refused call changed nothing".

``case_in(env, "suspended", deficient=True)`` is a case accepted with a deferred material and then
put into a special procedure; the traits are ``deficient`` (accepted with deficiencies),
``extension`` (an extension requested by the reviewer) and ``instant`` (an instant service).
"""

from __future__ import annotations

import datetime as dt
import inspect
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from tests.accounts.helpers import sms_to
from tests.cases.factories import pdf, service, submitted
from tongban.cases import services, workflow
from tongban.cases.models import CaseEvent, CaseMaterial, CaseStatus
from tongban.catalog.models import Implementation, OnlineDepth
from tongban.core import calendar
from tongban.core.models import Notice

S = CaseStatus
KEEP = object()

# Every status, and the extra names of states reached another way.
STATES = [
    "pre_review",
    "to_accept",
    "correcting",
    "under_review",
    "suspended",
    "decided",
    "concluded",
    "delivered",
    "rejected",
    "withdrawn",
    "archived",
]
assert sorted(STATES) == sorted(S.values)


def today() -> dt.date:
    return calendar.china_date(dt.datetime.now(tz=calendar.CHINA))


def instant_of(env) -> SimpleNamespace:
    """The same organization's instant service (即办件), made once per ``env``."""
    if not hasattr(env, "instant"):
        s = service(organization=env.organization, is_instant=True, promised_limit=0)
        env.instant = SimpleNamespace(**{**vars(env), **vars(s)})
    return env.instant


def case_in(
    env,
    state: str,
    *,
    deficient: bool = False,
    extension: bool = False,
    instant: bool = False,
    after_review: bool = False,
):
    """A case of ``env`` moved by the entitled staff to ``state``.

    ``correcting`` is asked before acceptance unless ``after_review`` (then the clock pauses);
    ``withdrawn`` is withdrawn before acceptance.
    """
    target = instant_of(env) if instant else env
    if state == "pre_review":
        impl = target.implementation
        Implementation.objects.filter(pk=impl.pk).update(online_depth=OnlineDepth.PREREVIEW)
        try:
            case = submitted(target)
        finally:
            Implementation.objects.filter(pk=impl.pk).update(online_depth=impl.online_depth)
        assert case.status == S.PRE_REVIEW
        return case
    case = submitted(target)
    if state == "to_accept":
        return case
    if state == "rejected":
        return services.reject(actor=env.clerk, case=case, version=case.version, opinion="不符合")
    if state == "withdrawn":
        return services.withdraw(actor=env.citizen, case=case, version=case.version, opinion="不办")
    if state == "correcting" and not after_review:
        return _correction(env, case)
    if deficient:
        services.accept_with_deficiencies(
            actor=env.clerk,
            case=case,
            version=case.version,
            materials=[env.proof.pk],
            due=today() + dt.timedelta(days=10),
        )
    else:
        services.accept(actor=env.clerk, case=case, version=case.version)
    if extension:
        services.request_extension(
            actor=env.reviewer, case=case, version=case.version, days=5, opinion="需要现场核查"
        )
    if state == "under_review":
        return case
    if state == "correcting":
        return _correction(env, case)
    if state == "suspended":
        return services.suspend(
            actor=env.reviewer,
            case=case,
            version=case.version,
            opinion="需要听证",
            procedure="听证",
        )
    services.approve(actor=env.reviewer, case=case, version=case.version)
    if state == "decided":
        return case
    if deficient:
        services.supply(
            actor=env.citizen,
            case=case,
            version=case.version,
            material_id=env.proof.pk,
            upload=pdf("proof.pdf", b"proof"),
        )
    services.conclude(actor=env.reviewer, case=case, version=case.version)
    if state == "concluded":
        return case
    services.deliver(actor=env.clerk, case=case, version=case.version, method="window")
    if state == "delivered":
        return case
    assert state == "archived", state
    return services.archive(actor=env.clerk, case=case, version=case.version)


def _correction(env, case):
    return services.request_correction(
        actor=env.clerk,
        case=case,
        version=case.version,
        opinion="地址不完整",
        fields=["property.address"],
        materials=[env.licence.pk],
    )


# --- Who acts ------------------------------------------------------------------------------------

# One person per role a transition names (the counter and department systems are tested apart).
PERSONA_OF_ROLE = {
    workflow.APPLICANT: "citizen",
    workflow.CLERK: "clerk",
    workflow.REVIEWER: "reviewer",
    workflow.ORG_ADMIN: "org_admin",
}
ROLE_OF_PERSONA = {v: k for k, v in PERSONA_OF_ROLE.items()}


def entitled(env, action: str, case=None):
    """Someone of ``env`` allowed to do ``action`` (the reviewer asked for an extension, so the
    org admin approves it)."""
    roles = workflow.TRANSITIONS[action].roles
    for role in (workflow.REVIEWER, workflow.CLERK, workflow.ORG_ADMIN, workflow.APPLICANT):
        if role in roles:
            return getattr(env, PERSONA_OF_ROLE[role])
    raise AssertionError(f"nobody of env may {action}")


# --- Calling any action --------------------------------------------------------------------------

NEW_ADDRESS = "东胜区天骄北路8号"


def default_arguments(env, action: str, case) -> dict[str, Any]:
    """Valid arguments of ``action`` beyond actor, case, version and opinion."""
    correction = case.correction or {}
    return {
        "request_correction": {"fields": ["property.address"], "materials": [env.licence.pk]},
        "resubmit": {
            "data": dict.fromkeys(correction.get("fields", []), NEW_ADDRESS),
            "uploads_by_material": {
                str(m): [pdf("fixed.pdf", f"fixed{m}".encode())]
                for m in correction.get("materials", [])
            },
        },
        "accept_with_deficiencies": {
            "materials": [env.proof.pk],
            "due": today() + dt.timedelta(days=10),
        },
        "supply": {"material_id": env.proof.pk, "upload": pdf("proof.pdf", b"supplied")},
        "suspend": {"procedure": "现场核查"},
        "request_extension": {"days": 5},
        "deliver": {"method": "window"},
    }.get(action, {})


def act(
    env,
    action: str,
    *,
    actor,
    case,
    version: Any = KEEP,
    opinion: str = "依法审查的意见",
    department=None,
    **overrides,
):
    """Call the service of ``action`` with valid arguments (``overrides`` replace them); only the
    parameters the service takes are passed."""
    function = services.ACTIONS[action]
    accepted = inspect.signature(function).parameters
    kwargs = {
        "actor": actor,
        "case": case,
        "version": case.version if version is KEEP else version,
        **default_arguments(env, action, case),
        **overrides,
    }
    if "opinion" in accepted:
        kwargs["opinion"] = opinion
    if department is not None:
        kwargs["department"] = department
    return function(**{k: v for k, v in kwargs.items() if k in accepted})


# --- Nothing changed -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    status: str
    version: int
    events: int
    notices: int
    sms: int
    materials: int
    step: int
    correction: Any
    deficiencies: Any
    pending_extension: Any
    promised_due: Any


def snapshot(case) -> Snapshot:
    """What a refused call must leave as it was, read from the database."""
    fresh = type(case).objects.get(pk=case.pk)
    return Snapshot(
        status=fresh.status,
        version=fresh.version,
        events=CaseEvent.objects.filter(case_id=case.pk).count(),
        notices=Notice.objects.filter(recipient_id=fresh.applicant_id).count(),
        sms=len(sms_to(fresh.applicant.phone)),
        materials=CaseMaterial.objects.filter(case_id=case.pk).count(),
        step=fresh.step,
        correction=fresh.correction,
        deficiencies=fresh.deficiencies,
        pending_extension=fresh.pending_extension,
        promised_due=fresh.promised_due,
    )


def last_event(case) -> CaseEvent:
    return CaseEvent.objects.filter(case_id=case.pk).order_by("-at", "-id").first()


def notices_of(case, event) -> list[Notice]:
    return list(Notice.objects.filter(key=f"case:{case.pk}:event:{event.pk}"))
