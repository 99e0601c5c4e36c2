"""The applicant's side of a case: apply (draft, uploads, submit), my cases, the case page with
its timeline in plain words, correction, withdrawal, supplying a deferred material, downloading
the result, in-app messages, and the public progress query.

Each view parses the request, calls one service of :mod:`tongban.cases` and renders; a
``CaseError`` is shown beside its field (``errors`` maps field keys to messages, all at once).
Pages work without JavaScript; ``apply.js`` adds autosave and upload progress. Pages with
personal data are never cached.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tongban.cases import applications, clock, forms, queries, services, uploads
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import CaseAction, CaseMaterial, CaseStatus, FieldKind, LibraryFile
from tongban.catalog.models import Implementation
from tongban.core.audit import request_context
from tongban.core.models import Notice
from tongban.core.notifications import mark_read
from tongban.licenses import queries as license_queries

CASES_PAGE_SIZE = 10

# The timeline in plain words (what happened, as the applicant would say it).
PLAIN = {
    CaseAction.SUBMIT: _("您提交了申请"),
    CaseAction.PRE_APPROVE: _("材料预审通过"),
    CaseAction.REQUEST_CORRECTION: _("需要您补正材料"),
    CaseAction.RESUBMIT: _("您提交了补正"),
    CaseAction.ACCEPT: _("部门已受理，开始计算办理时限"),
    CaseAction.ACCEPT_WITH_DEFICIENCIES: _("部门已容缺受理，请按期补交材料"),
    CaseAction.REJECT: _("部门决定不予受理"),
    CaseAction.SUPPLY: _("容缺材料已补交"),
    CaseAction.ADVANCE: _("审查进入下一环节"),
    CaseAction.SUSPEND: _("进入特别程序（不计入办理时限）"),
    CaseAction.RESUME: _("特别程序结束，恢复办理"),
    CaseAction.REQUEST_EXTENSION: _("部门申请延长办理时限"),
    CaseAction.APPROVE_EXTENSION: _("办理时限已依法延长"),
    CaseAction.APPROVE: _("部门作出准予决定"),
    CaseAction.DENY: _("部门作出不予准予决定"),
    CaseAction.HANDLE_INSTANTLY: _("当场办结"),
    CaseAction.WITHDRAW: _("您撤回了申请"),
    CaseAction.CONCLUDE: _("已办结"),
    CaseAction.DELIVER: _("办理结果已送达"),
    CaseAction.ARCHIVE: _("已归档"),
}


def _plain(action: str) -> str:
    # Looked up per request so the active language applies.
    return _(str(PLAIN.get(action, action)))


# --- Applying ------------------------------------------------------------------------------------


def _implementation(code: str) -> Implementation:
    impl = (
        Implementation.objects.select_related("item", "organization", "region")
        .prefetch_related("situations__options", "materials__conditions")
        .filter(code=code)
        .first()
    )
    if impl is None:
        raise Http404
    return impl


def _apply_context(request, impl, draft, errors: dict[str, list[str]], data=None) -> dict:
    specs = forms.form_for(impl)
    answers = list(draft.answers or [])
    visible = forms.applicable(specs, answers)
    known = {
        **applications.earlier_answers(request.user, draft.company),
        **applications.draft_data(draft),
    }
    if data is not None:
        known = {**known, **data}
    party_company = draft.company
    values = forms.prefill(visible, request.user, party_company, known)
    locked = forms.locked_keys(visible, request.user, party_company)
    library_ids = {int(i) for ids in (draft.materials or {}).values() for i in ids}
    library_ids |= {i for i in map(forms.library_id, known.values()) if i is not None}
    library = {f.pk: f for f in LibraryFile.objects.filter(owner=request.user)[:200]}
    missing = library_ids - set(library)
    if missing:
        library.update(
            {f.pk: f for f in LibraryFile.objects.filter(pk__in=missing, owner=request.user)}
        )
    needed = applications.needed_materials(impl, answers)
    usable = license_queries.usable_for(request.user, [n.material.pk for n in needed])
    chosen_licenses = {int(k): v for k, v in (draft.licenses or {}).items()}
    materials = [
        {
            "need": need,
            "key": f"m{need.material.pk}",
            "files": [
                library[i]
                for i in (draft.materials or {}).get(str(need.material.pk), [])
                if i in library
            ],
            "committed": need.material.pk in (draft.commitments or []),
            "licenses": usable.get(need.material.pk, []),
            "license_chosen": chosen_licenses.get(need.material.pk),
            "errors": errors.get(f"m{need.material.pk}", []),
        }
        for need in needed
    ]
    situations = [
        {
            "situation": s,
            "key": f"s{s.pk}",
            "chosen": {o.pk for o in s.options.all()} & set(answers),
            "errors": errors.get(f"s{s.pk}", []),
        }
        for s in impl.situations.all()
    ]
    fields = [
        {
            "spec": spec,
            "value": values.get(spec.key, ""),
            "locked": spec.key in locked,
            "shown": forms.display_value(spec, values.get(spec.key, ""))
            if spec.key in locked
            else "",
            "file": library.get(forms.library_id(values.get(spec.key)) or 0)
            if spec.kind == FieldKind.FILE
            else None,
            "errors": errors.get(spec.key, []),
        }
        for spec in visible
    ]
    return {
        "impl": impl,
        "item_name": impl.item.name,
        "draft": draft,
        "fields": fields,
        "situations": situations,
        "materials": materials,
        "library": sorted(library.values(), key=lambda f: -f.pk),
        "errors": errors,
        "error_count": sum(len(v) for v in errors.values()),
    }


def _posted_data(request, impl) -> dict[str, str]:
    keys = {spec.key for spec in forms.form_for(impl)}
    return {k: request.POST.get(k, "") for k in keys if k in request.POST}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def apply(request, code: str):
    impl = _implementation(code)
    try:
        draft = applications.open_draft(actor=request.user, implementation=impl)
    except CaseError as exc:
        return render(
            request,
            "portal/cases/cannot_apply.html",
            {"impl": impl, "error": exc, "level": exc.code == CaseErrorCode.LEVEL_TOO_LOW},
            status=403,
        )
    if request.method == "GET":
        return render(request, "portal/cases/apply.html", _apply_context(request, impl, draft, {}))

    action = request.POST.get("action", "save")
    data = _posted_data(request, impl)
    errors: dict[str, list[str]] = {}
    applications.save_draft(
        actor=request.user,
        draft=draft,
        data=data,
        answers=request.POST.getlist("answers"),
        commitments=request.POST.getlist("commitments"),
    )
    if action == "autosave":
        return JsonResponse({"saved": True, "at": draft.updated_at.isoformat()})
    # Files of file fields: kept in the library, the field refers to them.
    file_keys = {s.key: s for s in forms.form_for(impl) if s.kind == FieldKind.FILE}
    for key, spec in file_keys.items():
        upload = request.FILES.get(key)
        if upload is None:
            continue
        try:
            kept = uploads.keep(owner=request.user, upload=upload, title=spec.label, field=key)
        except CaseError as exc:
            errors.setdefault(key, []).append(f"{upload.name}：{exc.message}")
        else:
            applications.save_draft(
                actor=request.user, draft=draft, data={key: f"library:{kept.pk}"}
            )
    # Materials: each is checked on its own; a refused one is named and the rest is kept.
    for name, upload_list in request.FILES.lists():
        if not name.startswith("m") or not name[1:].isdigit():
            continue
        for upload in upload_list:
            try:
                applications.attach(
                    actor=request.user, draft=draft, material_id=int(name[1:]), upload=upload
                )
            except CaseError as exc:
                errors.setdefault(exc.field or name, []).append(f"{upload.name}：{exc.message}")
    for pair in request.POST.getlist("reuse"):
        material_id, _sep, file_id = pair.partition(":")
        if material_id.isdigit() and file_id.isdigit():
            try:
                applications.reuse(
                    actor=request.user,
                    draft=draft,
                    material_id=int(material_id),
                    library_file_id=int(file_id),
                )
            except CaseError as exc:
                errors.setdefault(exc.field or f"m{material_id}", []).append(exc.message)
    # 用证: for each material the wallet can provide, the license chosen (or none).
    offered = license_queries.usable_for(
        request.user, [n.material.pk for n in applications.needed_materials(impl, draft.answers)]
    )
    posted = dict(pair.split(":", 1) for pair in request.POST.getlist("use_license") if ":" in pair)
    for material_id in offered:
        choice = posted.get(str(material_id), "")
        try:
            if choice.isdigit():
                if (draft.licenses or {}).get(str(material_id)) != int(choice):
                    applications.use_license(
                        actor=request.user,
                        draft=draft,
                        material_id=material_id,
                        license_id=int(choice),
                    )
            elif str(material_id) in (draft.licenses or {}):
                applications.stop_using_license(
                    actor=request.user, draft=draft, material_id=material_id
                )
        except CaseError as exc:
            errors.setdefault(exc.field or f"m{material_id}", []).append(exc.message)
    remove = request.POST.get("remove", "")
    if remove:
        material_id, _sep, file_id = remove.partition(":")
        if material_id.isdigit() and file_id.isdigit():
            applications.detach(
                actor=request.user,
                draft=draft,
                material_id=int(material_id),
                library_file_id=int(file_id),
            )
    draft.refresh_from_db()
    if action == "submit" and not errors:
        try:
            submitted = applications.submit(
                actor=request.user, draft=draft, ip=request_context(request).get("ip")
            )
        except CaseError as exc:
            errors = exc.errors or {exc.field or "__all__": [exc.message]}
        else:
            request.session[f"case_code:{submitted.case.number}"] = submitted.query_code
            return HttpResponseRedirect(
                reverse("portal:case_submitted", args=[submitted.case.number])
            )
    if not errors and action == "save":
        messages.success(request, _("草稿已保存，可在任意设备登录后继续填写。"))
        return HttpResponseRedirect(reverse("portal:apply", args=[code]))
    context = _apply_context(request, impl, draft, errors)
    return render(request, "portal/cases/apply.html", context, status=400 if errors else 200)


@never_cache
@login_required
@require_POST
def upload(request, code: str, material_id: int):
    """One file for one material (``apply.js`` posts here to show upload progress): JSON."""
    impl = _implementation(code)
    try:
        draft = applications.open_draft(actor=request.user, implementation=impl)
        kept = applications.attach(
            actor=request.user,
            draft=draft,
            material_id=material_id,
            upload=request.FILES.get("file"),
        )
    except CaseError as exc:
        return JsonResponse(exc.as_dict(), status=400)
    except AttributeError:
        return JsonResponse(
            {"code": "file_empty", "message": _("请选择文件"), "field": "file"}, status=400
        )
    return JsonResponse(
        {"id": kept.pk, "name": kept.name, "size": kept.size, "sm3": kept.sm3}, status=201
    )


@never_cache
@login_required
def submitted(request, number: str):
    try:
        case = queries.get_for_applicant(request.user, number)
    except CaseError:
        raise Http404 from None
    code = request.session.pop(f"case_code:{number}", "")
    return render(request, "portal/cases/submitted.html", {"case": case, "query_code": code})


# --- My cases ------------------------------------------------------------------------------------


@never_cache
@login_required
def my_cases(request):
    rows = (
        queries.applicant_cases(request.user)
        .select_related("implementation__item", "organization")
        .order_by("-submitted_at", "-id")
    )
    page = Paginator(rows, CASES_PAGE_SIZE).get_page(request.GET.get("page"))
    drafts = (
        applications.Draft.objects.filter(applicant=request.user)
        .select_related("implementation__item")
        .order_by("-updated_at")[:10]
    )
    unread = Notice.objects.filter(recipient=request.user, read_at__isnull=True).count()
    return render(
        request,
        "portal/cases/my_cases.html",
        {"page": page, "drafts": drafts, "unread": unread, "today": queries.today()},
    )


def _case_context(request, case, errors: dict | None = None) -> dict[str, Any]:
    roles = queries.roles_on(request.user, case)
    # The same rule the workbench uses: what the table allows and the guard does not refuse.
    actions = set(services.offered_actions(case, roles)) if roles else set()
    specs = {s.key: s for s in forms.form_for(case.implementation)}
    data = json.loads(case.form_data or "{}")
    answers = [
        {"label": specs[k].label, "value": forms.display_value(specs[k], v)}
        for k, v in data.items()
        if k in specs
    ]
    correction_fields = [
        {"spec": specs[k], "value": data.get(k, ""), "errors": (errors or {}).get(k, [])}
        for k in case.correction.get("fields", [])
        if k in specs
    ]
    material_names = dict(case.implementation.materials.values_list("pk", "name"))
    correction_materials = [
        {"id": m, "name": material_names.get(m, ""), "errors": (errors or {}).get(f"m{m}", [])}
        for m in case.correction.get("materials", [])
    ]
    events = [
        {"event": e, "plain": _plain(e.action)}
        for e in case.events.exclude(action=CaseAction.REQUEST_EXTENSION).order_by("at", "id")
    ]
    return {
        "case": case,
        "events": events,
        "answers": answers,
        "clock_state": clock.state(case),
        "remaining": clock.remaining_working_days(case)
        if case.status == CaseStatus.UNDER_REVIEW
        else None,
        "materials": CaseMaterial.objects.filter(case=case, replaced=False).exclude(
            kind__in=["decision", "result"]
        ),
        "results": services.result_files(case) if services.may_download_results(case) else [],
        "license_issued": case.events.filter(
            action=CaseAction.CONCLUDE, details__has_key="license"
        ).exists(),
        "can_withdraw": CaseAction.WITHDRAW in actions,
        "can_resubmit": CaseAction.RESUBMIT in actions,
        "can_supply": CaseAction.SUPPLY in actions,
        "open_deficiencies": [d for d in case.deficiencies if not d.get("supplied_at")],
        "correction_fields": correction_fields,
        "correction_materials": correction_materials,
        "errors": errors or {},
    }


def _own_case(request, number: str):
    try:
        return queries.get_for_applicant(request.user, number)
    except CaseError:
        raise Http404 from None


@never_cache
@login_required
def case_page(request, number: str):
    case = _own_case(request, number)
    return render(request, "portal/cases/case.html", _case_context(request, case))


def _act(request, number: str, run) -> Any:
    case = _own_case(request, number)
    try:
        run(case)
    except CaseError as exc:
        errors = exc.errors or {exc.field or "__all__": [exc.message]}
        status = 409 if exc.code == CaseErrorCode.CONFLICT else 400
        context = _case_context(request, case, errors)
        context["error"] = exc
        return render(request, "portal/cases/case.html", context, status=status)
    return HttpResponseRedirect(reverse("portal:case", args=[number]))


@never_cache
@login_required
@require_POST
def resubmit(request, number: str):
    def run(case):
        data = {
            k: request.POST[k]
            for k in case.correction.get("fields", [])
            if k in request.POST and request.POST[k].strip()
        }
        files = {
            str(m): request.FILES.getlist(f"m{m}")
            for m in case.correction.get("materials", [])
            if request.FILES.getlist(f"m{m}")
        }
        services.resubmit(
            actor=request.user,
            case=case,
            version=request.POST.get("version"),
            data=data,
            uploads_by_material=files,
        )
        messages.success(request, _("补正已提交，部门将尽快处理。"))

    return _act(request, number, run)


@never_cache
@login_required
@require_POST
def withdraw(request, number: str):
    def run(case):
        services.withdraw(
            actor=request.user,
            case=case,
            version=request.POST.get("version"),
            opinion=request.POST.get("opinion", ""),
        )
        messages.success(request, _("申请已撤回。"))

    return _act(request, number, run)


@never_cache
@login_required
@require_POST
def supply(request, number: str):
    def run(case):
        material = request.POST.get("material", "")
        upload = request.FILES.get("file")
        if not material.isdigit() or upload is None:
            raise CaseError(CaseErrorCode.FILE_EMPTY, _("请选择要补交的文件"), field="file")
        services.supply(
            actor=request.user,
            case=case,
            version=request.POST.get("version"),
            material_id=int(material),
            upload=upload,
        )
        messages.success(request, _("材料已补交。"))

    return _act(request, number, run)


@never_cache
@login_required
def result_file(request, number: str, pk: int):
    case = _own_case(request, number)
    if not services.may_download_results(case):
        raise Http404
    row = services.result_files(case).filter(pk=pk).first()
    if row is None:
        raise Http404
    return FileResponse(
        row.file.open("rb"), as_attachment=True, filename=row.name, content_type=row.content_type
    )


# --- Messages ------------------------------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def notices(request):
    if request.method == "POST":
        mark_read(request.user)
        return HttpResponseRedirect(reverse("portal:notices"))
    rows = Notice.objects.filter(recipient=request.user).order_by("-created_at", "-id")
    page = Paginator(rows, 20).get_page(request.GET.get("page"))
    return render(request, "portal/cases/notices.html", {"page": page})


# --- Public progress -----------------------------------------------------------------------------


@never_cache
def progress(request):
    """办件进度查询: the case number and a second factor (phone's last four digits or the query
    code); a wrong check reads exactly like an unknown number."""
    number = request.GET.get("number", "").strip()
    check = request.GET.get("check", "").strip()
    case = None
    not_found = False
    if number or check:
        if not queries.progress_allowed(request_context(request).get("ip")):
            return render(
                request,
                "portal/cases/progress.html",
                {"number": number, "limited": True},
                status=429,
            )
        case = queries.find_by_check(number, check)
        not_found = case is None
    steps = []
    if case is not None:
        steps = [
            {"label": _plain(e.action), "at": e.at}
            for e in case.events.exclude(action=CaseAction.REQUEST_EXTENSION).order_by("at", "id")
        ]
    return render(
        request,
        "portal/cases/progress.html",
        {
            "number": number,
            "case": case,
            "steps": steps,
            "not_found": not_found,
            "clock_state": clock.state(case) if case else None,
        },
        status=404 if not_found else 200,
    )
