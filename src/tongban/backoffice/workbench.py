"""The staff workbench: queues, the case page with its action forms, and material previews.

Every page goes through :func:`~tongban.backoffice.access.staff_required` (staff, both login
factors) and reaches cases only through :mod:`tongban.cases.queries`: a queue is
``queries.queue`` (scope applied in SQL), a case is ``queries.get_for_staff`` (a case outside the
reader's scope answers 404, like a missing one). The actions offered are exactly those the
transition table allows the reader's roles on the case (``workflow.allowed_actions``); a posted
action is parsed by its form (:mod:`tongban.backoffice.workbench_forms`) and handed to the one
service function of :data:`tongban.cases.services.ACTIONS`, whose error is shown beside the form:
400 for a bad input, 403 for a move the reader may not make, 409 when someone else moved the case
first. Opening a case page is a read of personal data and is written to the audit trail.

The counter (窗口收件) is :mod:`tongban.backoffice.workbench_counter`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from tongban.accounts.models import StaffPost, StaffRole
from tongban.backoffice.access import staff_required
from tongban.backoffice.workbench_forms import FORMS, MULTIPART, QueueFilterForm
from tongban.cases import clock, forms, queries, services, workflow
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import Case, CaseMaterial, MaterialKind
from tongban.catalog.models import Item, SituationOption
from tongban.core.audit import AuditAction, record, request_context
from tongban.licenses.models import License

PAGE_SIZE = 20
RECEIPT_SESSION = "workbench_receipt"
# Roles a person holds as staff; the applicant's own moves belong to the portal.
WORKBENCH_ROLES = workflow.STAFF_ROLES - {workflow.DEPARTMENT}
ERROR_STATUS = {
    CaseErrorCode.CONFLICT: 409,
    CaseErrorCode.FORBIDDEN: 403,
    CaseErrorCode.NOT_FOUND: 404,
}


def is_clerk(user: Any) -> bool:
    return StaffPost.objects.filter(user_id=user.pk, role=StaffRole.CLERK).exists()


def _case_or_404(user: Any, pk: int) -> Case:
    try:
        return queries.get_for_staff(user, pk)
    except CaseError:
        raise Http404 from None


# --- Queues --------------------------------------------------------------------------------------


class CappedPaginator(Paginator):
    """Pages over at most ``queries.COUNT_CAP`` cases: counting a long queue (or years of
    concluded cases) would cost more than the page; search and filters reach older cases."""

    @cached_property
    def count(self) -> int:
        return queries.capped_count(self.object_list)


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    count: int | None
    current: bool


@never_cache
@staff_required
@require_GET
def queues(request):
    user = request.user
    counts = queries.queue_counts(user)
    known = queries.queues()
    key = request.GET.get("queue", "")
    if key not in {q.key for q in known}:
        key = next((q.key for q in known if counts.get(q.key)), known[0].key)
    tabs = [Tab(q.key, q.label, counts.get(q.key), q.key == key) for q in known]
    items = list(
        Item.objects.filter(pk__in=queries.staff_cases(user).values("implementation__item_id"))
        .order_by("name", "id")
        .values_list("pk", "name")
    )
    filters = QueueFilterForm(request.GET, items=items)
    search, item_id = "", None
    if filters.is_valid():
        search = filters.cleaned_data["search"]
        item_id = filters.cleaned_data["item"]
    rows = (
        queries.queue(user, key, search=search, item_id=item_id)
        .select_related("implementation__item")
        .only(*queries.LIST_FIELDS, "implementation__item__name")
    )
    page = CappedPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    today = queries.today()
    entries = [(case, clock.state(case, today)) for case in page.object_list]
    return render(
        request,
        "backoffice/workbench/queues.html",
        {
            "tabs": tabs,
            "count_cap": queries.COUNT_CAP,
            "queue": key,
            "filters": filters,
            "page": page,
            "entries": entries,
            "is_clerk": is_clerk(user),
        },
    )


# --- The case page -------------------------------------------------------------------------------


def _staff_roles(user: Any, case: Case) -> frozenset[str]:
    return queries.roles_on(user, case) & WORKBENCH_ROLES


def _form_context(case: Case) -> dict[str, Any]:
    """What the page and its action forms read once per request."""
    return {
        "specs": forms.form_for(case.implementation),
        "catalog_materials": list(case.implementation.materials.all()),
    }


def _action_forms(case: Case, roles: frozenset[str], ctx: dict[str, Any], bound: Any = None):
    out = []
    for action in services.offered_actions(case, roles):
        form_class = FORMS.get(action)
        if form_class is None:
            continue
        if bound is not None and bound.action == action:
            out.append(bound)
        else:
            out.append(form_class(case=case, context=ctx))
    return out


def _form_rows(case: Case, specs: list[forms.FieldSpec]) -> list[tuple[str, str, str]]:
    try:
        data = json.loads(case.form_data or "{}")
    except ValueError:
        data = {}
    return [
        (spec.key, spec.label, forms.display_value(spec, data.get(spec.key)))
        for spec in forms.applicable(specs, case.answers or [])
    ]


def _render_case(
    request,
    case: Case,
    *,
    bound: Any = None,
    error: str = "",
    status: int = 200,
    receipt: dict[str, Any] | None = None,
):
    user = request.user
    roles = _staff_roles(user, case)
    ctx = _form_context(case)
    specs = ctx["specs"]
    labels = {s.key: s.label for s in specs}
    names = {m.pk: m.name for m in ctx["catalog_materials"]}
    materials = list(
        CaseMaterial.objects.filter(case_id=case.pk).select_related("material").order_by("id")
    )
    answers = [
        f"{o.situation.question}：{o.label}"
        for o in SituationOption.objects.filter(pk__in=case.answers or []).select_related(
            "situation"
        )
    ]
    steps = list(case.implementation.steps.order_by("order").values_list("name", flat=True))
    # 用证: the licenses offered instead of materials, with their status now (one query).
    identifiers = [m.license_identifier for m in materials if m.license_identifier]
    license_status = {}
    if identifiers:
        license_status = {
            lic.identifier: lic for lic in License.objects.filter(identifier__in=identifiers)
        }
    for m in materials:
        m.license = license_status.get(m.license_identifier)
    correction = case.correction or {}
    remaining = clock.remaining_working_days(case)
    action_forms = _action_forms(case, roles, ctx, bound)
    if bound is not None and bound not in action_forms and bound.errors:
        # The move is not offered on this page (any more): say why at the top.
        error = error or " ".join(str(e) for errs in bound.errors.values() for e in errs)
    context = {
        "case": case,
        "form_rows": _form_rows(case, specs),
        "answers": answers,
        "materials": [m for m in materials if m.kind != MaterialKind.DECISION],
        "documents": [m for m in materials if m.kind == MaterialKind.DECISION],
        "events": list(case.events.order_by("at", "id")),
        # Pushes to the organization's own business system (the outbox), newest first.
        "dispatches": list(case.dispatches.select_related("event").order_by("-id")[:20]),
        "clock_state": clock.state(case),
        "remaining": remaining,
        "overdue_days": -remaining if remaining is not None and remaining < 0 else None,
        "step_name": steps[case.step - 1] if 0 < case.step <= len(steps) else "",
        "step_count": len(steps),
        "correction_fields": [labels.get(k, k) for k in correction.get("fields", [])],
        "correction_materials": [names.get(m, str(m)) for m in correction.get("materials", [])],
        "action_forms": action_forms,
        "multipart": MULTIPART,
        "error": error,
        "receipt": receipt,
        "is_clerk": is_clerk(user),
    }
    return render(request, "backoffice/workbench/case.html", context, status=status)


@never_cache
@staff_required
@require_GET
def case_page(request, pk: int):
    case = _case_or_404(request.user, pk)
    with transaction.atomic():
        record(
            actor=request.user,
            action=AuditAction.PERSONAL_READ,
            object_type="cases.case",
            object_id=case.pk,
            subject=f"user:{case.applicant_id}",
            reason=_("办件办理"),
            details={"number": case.number, "page": "workbench.case"},
            **request_context(request),
        )
    receipt = request.session.get(RECEIPT_SESSION)
    if receipt and receipt.get("case") == case.pk:
        del request.session[RECEIPT_SESSION]
    else:
        receipt = None
    return _render_case(request, case, receipt=receipt)


def _place(form: Any, error: CaseError) -> None:
    """Put a domain error beside the fields it names (every one of them), else on the form."""
    if error.errors:
        for name, problems in error.errors.items():
            for problem in problems:
                form.add_error(form.field_for(name), problem)
        form.add_error(None, error.message)
    else:
        form.add_error(form.field_for(error.field), error.message)


@never_cache
@staff_required
@require_POST
def act(request, pk: int, action: str):
    form_class = FORMS.get(action)
    transition = workflow.TRANSITIONS.get(action)
    if form_class is None or transition is None or not transition.roles & WORKBENCH_ROLES:
        raise Http404
    case = _case_or_404(request.user, pk)
    form = form_class(request.POST, request.FILES, case=case, context=_form_context(case))
    seen = form.data.get(form.add_prefix("version"), "")
    if seen.isdigit() and int(seen) != case.version:
        # The page was out of date: say so before judging fields built from the old state.
        return _render_case(request, case, error=CaseErrorCode.CONFLICT.label, status=409)
    if not form.is_valid():
        return _render_case(request, case, bound=form, status=400)
    service = services.ACTIONS[action]
    try:
        service(actor=request.user, case=case, **form.service_kwargs())
    except CaseError as error:
        status = ERROR_STATUS.get(error.code, 400)
        if status == 404:
            raise Http404 from None
        fresh = _case_or_404(request.user, pk)
        if status == 409:
            return _render_case(request, fresh, error=error.message, status=409)
        _place(form, error)
        return _render_case(request, fresh, bound=form, status=status)
    messages.success(
        request,
        _("%(action)s：已完成，办件编号 %(number)s")
        % {"action": form.label, "number": case.number},
    )
    return redirect("workbench:case", pk=case.pk)


# --- Materials -----------------------------------------------------------------------------------


@never_cache
@staff_required
@require_GET
def material(request, pk: int, material_pk: int):
    """One file of a case, shown in the browser (never from a public URL)."""
    case = _case_or_404(request.user, pk)
    row = CaseMaterial.objects.filter(case_id=case.pk, pk=material_pk).first()
    if row is None:
        raise Http404
    try:
        handle = row.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, content_type=row.content_type, filename=row.name)
    response["Cache-Control"] = "private, no-store"
    return response
