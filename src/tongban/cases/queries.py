"""Reads of cases: who may see which, the roles someone holds on a case, staff queues, the
applicant's list and the public progress query.

Staff scope is applied in SQL (``accounts.queries.scope_q`` on the handling organization and the
case's region, plus the cases a counter took in), so a list never loads a row its reader may not
see; a case outside the scope reads as not found, like a missing one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from tongban.accounts.companies import may_act_for
from tongban.accounts.models import StaffPost, StaffRole
from tongban.accounts.queries import staff_scope
from tongban.cases import workflow
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import Case, CaseStatus
from tongban.core import calendar, crypto

S = CaseStatus
LIST_FIELDS = (
    "id",
    "number",
    "status",
    "decision",
    "channel",
    "applicant_display",
    "submitted_at",
    "accepted_at",
    "promised_due",
    "warn_on",
    "paused_at",
    "region_code",
    "organization_id",
    "implementation_id",
    "version",
)


def _counter_org_ids(user: Any) -> set[int]:
    """The organizations where ``user`` is a clerk (cached on the user for the request)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_tongban_counter_orgs", None)
    if cached is None:
        cached = set(
            StaffPost.objects.filter(user_id=user.pk, role=StaffRole.CLERK).values_list(
                "organization_id", flat=True
            )
        )
        user._tongban_counter_orgs = cached
    return cached


def staff_cases(user: Any) -> QuerySet[Case]:
    """Every case ``user`` may see as staff: their organizations and regions, and the cases
    their counter took in."""
    scope = staff_scope(user)
    if scope.everything:
        return Case.objects.all()
    visible = scope.q("organization_id", "region_code")
    counters = _counter_org_ids(user)
    if counters:
        visible |= Q(counter_organization_id__in=counters)
    return Case.objects.filter(visible)


def get_for_staff(user: Any, pk: int) -> Case:
    case = (
        staff_cases(user)
        .select_related("implementation__item", "organization", "counter_organization", "company")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise CaseError(CaseErrorCode.NOT_FOUND)
    return case


def applicant_cases(user: Any) -> QuerySet[Case]:
    """The cases ``user`` applied for, and those of companies they act for now."""
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    from tongban.accounts.companies import acting_party

    party = acting_party(user)
    if party.is_company:
        return Case.objects.filter(company=party.company)
    return Case.objects.filter(applicant_id=user.pk, company__isnull=True)


def get_for_applicant(user: Any, number: str) -> Case:
    case = (
        applicant_cases(user)
        .select_related("implementation__item", "organization", "company")
        .filter(number=number)
        .first()
    )
    if case is None:
        raise CaseError(CaseErrorCode.NOT_FOUND)
    return case


def roles_on(user: Any, case: Case) -> frozenset[str]:
    """The workflow roles ``user`` holds on ``case`` (see :mod:`tongban.cases.workflow`)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    roles: set[str] = set()
    if (case.company_id is None and case.applicant_id == user.pk) or (
        case.company_id is not None and may_act_for(user, case.company)
    ):
        roles.add(workflow.APPLICANT)
    posts = StaffPost.objects.filter(user_id=user.pk).prefetch_related("regions")
    from tongban.core.models.regions import region_prefix

    for post in posts.select_related("organization__region"):
        if post.organization_id == case.organization_id:
            codes = [r.code for r in post.regions.all()] or [post.organization.region.code]
            if case.region_code.startswith(tuple(region_prefix(c) for c in codes)):
                roles.add(str(post.role))
        if post.organization_id == case.counter_organization_id and post.role == StaffRole.CLERK:
            roles.add(workflow.COUNTER)
    if workflow.APPLICANT in roles:
        # 回避: nobody handles their own (or their company's) application.
        return frozenset({workflow.APPLICANT})
    return frozenset(roles & workflow.STAFF_ROLES)


# --- Staff queues --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Queue:
    key: str
    label: str


def _queues() -> list[Queue]:
    from django.utils.translation import gettext as _

    return [
        Queue("pre_review", _("待预审")),
        Queue("to_accept", _("待受理")),
        Queue("to_review", _("待审查")),
        Queue("due_soon", _("即将到期")),
        Queue("overdue", _("已超期")),
        Queue("correcting", _("待补正")),
        Queue("suspended", _("特别程序")),
        Queue("to_deliver", _("待出件")),
        Queue("done", _("已办结")),
    ]


def queue_filter(key: str, today: dt.date) -> Q:
    return {
        "pre_review": Q(status=S.PRE_REVIEW),
        "to_accept": Q(status=S.TO_ACCEPT),
        "to_review": Q(status__in=[S.UNDER_REVIEW, S.DECIDED]),
        "due_soon": Q(status=S.UNDER_REVIEW, warn_on__lte=today, promised_due__gte=today),
        "overdue": Q(status=S.UNDER_REVIEW, promised_due__lt=today),
        "correcting": Q(status=S.CORRECTING),
        "suspended": Q(status=S.SUSPENDED),
        "to_deliver": Q(status=S.CONCLUDED),
        "done": Q(status__in=[S.DELIVERED, S.REJECTED, S.WITHDRAWN, S.ARCHIVED]),
    }[key]


def queues() -> list[Queue]:
    return _queues()


def today() -> dt.date:
    return calendar.china_date(dt.datetime.now(tz=calendar.CHINA))


def queue(user: Any, key: str, *, search: str = "", item_id: int | None = None) -> QuerySet[Case]:
    """One staff queue, soonest due first (an index range per organization and status)."""
    rows = staff_cases(user).filter(queue_filter(key, today()))
    if search:
        search = search.strip()
        rows = rows.filter(Q(number=search.upper()) | Q(applicant_display__contains=search))
    if item_id:
        rows = rows.filter(implementation__item_id=item_id)
    order = ["-submitted_at", "-id"] if key == "done" else ["promised_due", "submitted_at", "id"]
    return rows.order_by(*order).only(*LIST_FIELDS)


# Queue counts stop at this many: "1000+" tells a clerk as much as 54,321 would, and counting
# stays a bounded index range however many cases an organization holds (bench/cases.py: exact
# counts grew 3x from 1,000,000 to 10,000,000 cases; capped ones do not).
COUNT_CAP = 1000


def queue_counts(user: Any) -> dict[str, int]:
    """How many cases wait in each open queue, each counted up to :data:`COUNT_CAP` (one query
    per queue, each reading at most that many index entries)."""
    day = today()
    visible = staff_cases(user)
    return {
        q.key: visible.filter(queue_filter(q.key, day)).values("pk")[:COUNT_CAP].count()
        for q in _queues()
        if q.key != "done"
    }


def capped_count(rows: QuerySet) -> int:
    """``rows.count()`` up to :data:`COUNT_CAP` (for paginating a queue)."""
    return rows.values("pk")[:COUNT_CAP].count()


# --- Public progress -----------------------------------------------------------------------------


def query_code_digest(number: str, code: str) -> str:
    return crypto.lookup_digest_bytes("case.query", f"{number}:{code}").hex()


# Ten wrong checks for one case number within an hour lock that number's progress query for an
# hour, whatever the address (the per-address limit alone lets many addresses share out the
# 10,000 four-digit checks). Unknown numbers count the same, so the lock reveals nothing.
NUMBER_RULE_LIMIT = 10


def _number_rule():
    from tongban.accounts import throttling

    return throttling.Rule(
        "case_progress_number",
        limit=NUMBER_RULE_LIMIT,
        window=dt.timedelta(hours=1),
        lock_for=dt.timedelta(hours=1),
    )


def find_by_check(number: str, check: str) -> Case | None:
    """The case with ``number`` if ``check`` is the last four digits of the applicant's phone or
    its query code; None otherwise (a wrong check, an unknown number and a number locked after
    repeated wrong checks all look the same)."""
    from tongban.accounts import throttling

    number = (number or "").strip().upper()
    check = (check or "").strip()
    if not number or not check or len(number) > 24 or len(check) > 12:
        return None
    key = throttling.key_for("case_number", number)
    if throttling.locked_until(_number_rule().scope, key) is not None:
        return None
    case = Case.objects.filter(number=number).select_related("implementation__item").first()
    found = None
    if case is None:
        crypto.constant_time_equal(b"0" * 32, b"1" * 32)
    else:
        by_phone = crypto.constant_time_equal(case.phone_tail.encode(), check.encode())
        by_code = crypto.constant_time_equal(
            case.query_code_digest.encode(), query_code_digest(number, check).encode()
        )
        found = case if (by_phone and len(check) == 4) or by_code else None
    if found is None:
        throttling.fail(_number_rule(), key)
    return found


# Guessing a number and a four-digit check is throttled per address (shared by the portal's
# progress page and the API endpoint).
PROGRESS_RULE_LIMIT = 30


def progress_allowed(ip: str | None) -> bool:
    """Count one progress query from ``ip``; False once it made 30 in the last minute."""
    from tongban.accounts import throttling

    rule = throttling.Rule(
        "case_progress", limit=PROGRESS_RULE_LIMIT, window=dt.timedelta(minutes=1)
    )
    return throttling.consume([(rule, throttling.key_for("ip", ip or "-"))]) is None
