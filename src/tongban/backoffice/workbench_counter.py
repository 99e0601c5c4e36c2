"""窗口收件: a counter clerk takes in a walk-in application for any organization's service.

Three steps on one page, each working without JavaScript:

1. find the service by its implementation code or item name (``GET ?q=``), choose it (``?impl=``);
2. find the applicant by ID or mobile number (posted, never in a URL). The applicant must have an
   account verified by name and ID number (L2). Finding them shows their masked profile and is
   recorded as a read of personal data; the page then carries a signed, short-lived token of the
   applicant bound to this clerk, so the number is not posted again;
3. fill in the form (fields known from the verified identity are taken from the profile and shown
   masked), answer the situations, attach one scan per material, submit →
   :func:`tongban.cases.applications.start_at_counter`. Every problem is listed at once and what
   was typed stays; on success the case page shows its number and the one-time query code for the
   applicant's receipt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tongban.accounts.models import StaffPost, StaffRole, User
from tongban.accounts.queries import find_person
from tongban.backoffice.access import staff_required
from tongban.backoffice.workbench import RECEIPT_SESSION
from tongban.backoffice.workbench_forms import ApplicantLookupForm, ServiceSearchForm
from tongban.cases import applications, forms
from tongban.cases.errors import CaseError
from tongban.cases.models import FieldKind
from tongban.catalog import guides
from tongban.catalog.models import Implementation
from tongban.catalog.models.choices import ImplementationStatus
from tongban.core.audit import AuditAction, record, request_context
from tongban.core.levels import VerificationLevel

TOKEN_SALT = "tongban.backoffice.counter"  # noqa: S105 (a signing salt, not a secret)
TOKEN_MAX_AGE = 2 * 60 * 60  # seconds one applicant stays chosen at the counter
SEARCH_LIMIT = 20
FIELD_PREFIX = "f-"


# --- The applicant -------------------------------------------------------------------------------


def _token_for(applicant: User, clerk: User) -> str:
    return signing.dumps({"p": applicant.pk, "s": clerk.pk}, salt=TOKEN_SALT)


def _applicant_from(token: str, clerk: User) -> User | None:
    try:
        data = signing.loads(token or "", salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if data.get("s") != clerk.pk:
        return None
    return User.objects.filter(pk=data.get("p"), is_active=True).first()


def _lookup(request, lookup: ApplicantLookupForm) -> tuple[User | None, str]:
    """The applicant typed in, or the reason they cannot apply here."""
    person = find_person(lookup.cleaned_data["number"])
    if person is None:
        return None, _("未找到该申请人。请引导申请人先注册账号并完成实名认证。")
    if person.level < VerificationLevel.L2:
        return None, _("该申请人尚未完成实名认证（姓名与身份证号核验），不能受理其申请。")
    with transaction.atomic():
        record(
            actor=request.user,
            action=AuditAction.PERSONAL_READ,
            object_type="accounts.user",
            object_id=person.pk,
            subject=f"user:{person.pk}",
            reason=_("窗口收件：核对申请人身份"),
            details={"fields": ["real_name", "id_number", "phone"], "masked": True},
            **request_context(request),
        )
    return person, ""


# --- The application form ------------------------------------------------------------------------


@dataclass
class FieldRow:
    key: str
    name: str
    label: str
    kind: str
    input_type: str
    required: bool
    value: str = ""
    locked: bool = False
    choices: tuple[str, ...] = ()
    help_text: str = ""
    condition: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def long(self) -> bool:
        return self.kind == FieldKind.LONG_TEXT

    @property
    def select(self) -> bool:
        return self.kind == FieldKind.CHOICE


@dataclass
class OptionRow:
    pk: int
    label: str
    checked: bool


@dataclass
class SituationRow:
    pk: int
    question: str
    multiple: bool
    options: list[OptionRow]
    errors: list[str] = field(default_factory=list)


@dataclass
class MaterialRow:
    pk: int
    name: str
    required: bool
    deferrable: bool
    depends: bool
    requirements: str
    errors: list[str] = field(default_factory=list)


def _implementation(pk: Any) -> Implementation | None:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return (
        Implementation.objects.filter(pk=pk, status=ImplementationStatus.ACTIVE)
        .select_related("item", "organization")
        .prefetch_related("situations__options", "materials__conditions")
        .first()
    )


def _posted_answers(request, implementation: Implementation) -> list[int]:
    """The chosen options that belong to this service (anything else is dropped)."""
    known = {o.pk for s in implementation.situations.all() for o in s.options.all()}
    chosen = {int(v) for v in request.POST.getlist("answers") if v.isdigit()}
    return sorted(chosen & known)


def _posted_data(request, specs: list[forms.FieldSpec], locked: set[str]) -> dict[str, str]:
    return {
        s.key: request.POST.get(FIELD_PREFIX + s.key, "").strip()
        for s in specs
        if s.key not in locked
    }


def _rows(
    implementation: Implementation,
    applicant: User,
    *,
    data: dict[str, str],
    answers: list[int],
    errors: dict[str, list[str]],
) -> dict[str, Any]:
    specs = forms.form_for(implementation)
    known = forms.prefill(specs, applicant, known=applications.earlier_answers(applicant))
    locked = forms.locked_keys(specs, applicant)
    options = {o.pk: o.label for s in implementation.situations.all() for o in s.options.all()}
    fields = []
    for spec in specs:
        is_locked = spec.key in locked
        fields.append(
            FieldRow(
                key=spec.key,
                name=FIELD_PREFIX + spec.key,
                label=spec.label,
                kind=spec.kind,
                input_type=spec.input_type,
                required=spec.required,
                value=(
                    forms.display_value(spec, known.get(spec.key))
                    if is_locked
                    else data.get(spec.key, "")
                ),
                locked=is_locked,
                choices=spec.choices,
                help_text=spec.help_text,
                condition=options.get(spec.condition_id, "") if spec.condition_id else "",
                errors=errors.get(spec.key, []),
            )
        )
    chosen = set(answers)
    situations = [
        SituationRow(
            pk=s.pk,
            question=s.question,
            multiple=s.multiple,
            options=[OptionRow(o.pk, o.label, o.pk in chosen) for o in s.options.all()],
            errors=errors.get(f"s{s.pk}", []),
        )
        for s in implementation.situations.all()
    ]
    grouped = guides.answers_from_options(implementation, answers)
    pending = {c.material.pk for c in guides.material_choices(implementation, grouped) if c.depends}
    materials = [
        MaterialRow(
            pk=need.material.pk,
            name=need.material.name,
            required=need.required,
            deferrable=need.deferrable,
            depends=need.material.pk in pending,
            requirements=need.material.requirements,
            errors=errors.get(f"m{need.material.pk}", []),
        )
        for need in applications.needed_materials(implementation, answers)
    ]
    shown = {r.key for r in fields} | {f"s{s.pk}" for s in situations}
    shown |= {f"m{m.pk}" for m in materials}
    general = [e for key, problems in errors.items() if key not in shown for e in problems]
    return {"fields": fields, "situations": situations, "materials": materials, "general": general}


def _submit(
    request, implementation: Implementation, applicant: User, data, answers, counter_organization
):
    """Start the case, or every problem by field key (the service checks every scan and every
    field before it stores anything)."""
    files = {
        str(need.material.pk): request.FILES.getlist(f"m{need.material.pk}")
        for need in applications.needed_materials(implementation, answers)
        if request.FILES.getlist(f"m{need.material.pk}")
    }
    try:
        submitted = applications.start_at_counter(
            actor=request.user,
            applicant=applicant,
            implementation=implementation,
            data=data,
            answers=answers,
            uploads_by_material=files,
            counter_organization=counter_organization,
        )
    except CaseError as error:
        found = dict(error.errors)
        if not found:
            found[error.field or ""] = [error.message]
        return None, found
    return submitted, {}


# --- The page ------------------------------------------------------------------------------------


def _search(query: str):
    query = query.strip()
    return list(
        Implementation.objects.filter(status=ImplementationStatus.ACTIVE)
        .filter(Q(code__istartswith=query) | Q(item__name__icontains=query))
        .select_related("item", "organization")
        .order_by("item__name", "code")[:SEARCH_LIMIT]
    )


@never_cache
@staff_required
@require_http_methods(["GET", "POST"])
def counter(request):
    clerk = request.user
    post = (
        StaffPost.objects.filter(user_id=clerk.pk, role=StaffRole.CLERK)
        .select_related("organization")
        .order_by("id")
        .first()
    )
    if post is None:
        return render(
            request, "backoffice/workbench/counter_denied.html", {"is_clerk": False}, status=403
        )
    search = ServiceSearchForm(request.GET if "q" in request.GET else None)
    results = _search(search.cleaned_data["q"]) if search.is_bound and search.is_valid() else []
    implementation = None
    impl_id = request.POST.get("impl") or request.GET.get("impl")
    if impl_id:
        implementation = _implementation(impl_id)
        if implementation is None:
            raise Http404
    context: dict[str, Any] = {
        "is_clerk": True,
        "post": post,
        "search": search,
        "results": results,
        "searched": search.is_bound,
        "implementation": implementation,
        "lookup": ApplicantLookupForm(),
        "applicant": None,
        "lookup_error": "",
    }
    status = 200
    if implementation is not None and request.method == "POST":
        step = request.POST.get("step", "")
        if step == "find":
            lookup = ApplicantLookupForm(request.POST)
            applicant, problem = (None, "")
            if lookup.is_valid():
                applicant, problem = _lookup(request, lookup)
            context["lookup"] = lookup
            context["lookup_error"] = problem
            if applicant is not None:
                context.update(_application(implementation, applicant, clerk))
            else:
                status = 400
        else:
            applicant = _applicant_from(request.POST.get("applicant", ""), clerk)
            if applicant is None:
                context["lookup_error"] = _("申请人信息已过期，请重新输入身份证号或手机号。")
                status = 400
            else:
                specs = forms.form_for(implementation)
                locked = forms.locked_keys(specs, applicant)
                data = _posted_data(request, specs, locked)
                answers = _posted_answers(request, implementation)
                errors: dict[str, list[str]] = {}
                if step == "submit":
                    submitted, errors = _submit(
                        request, implementation, applicant, data, answers, post.organization
                    )
                    if submitted is not None:
                        case = submitted.case
                        request.session[RECEIPT_SESSION] = {
                            "case": case.pk,
                            "number": case.number,
                            "code": submitted.query_code,
                        }
                        return redirect("workbench:case", pk=case.pk)
                    status = 400
                context.update(
                    _application(
                        implementation, applicant, clerk, data=data, answers=answers, errors=errors
                    )
                )
    return render(request, "backoffice/workbench/counter.html", context, status=status)


def _application(
    implementation: Implementation,
    applicant: User,
    clerk: User,
    *,
    data: dict[str, str] | None = None,
    answers: list[int] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    return {
        "applicant": applicant,
        "token": _token_for(applicant, clerk),
        "errors": errors or {},
        **_rows(
            implementation, applicant, data=data or {}, answers=answers or [], errors=errors or {}
        ),
    }
