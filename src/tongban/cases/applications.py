"""Applying: drafts that save as the applicant types, materials, and submission.

A draft is one per (applicant, acting party, implementation) and may be resumed on any device.
Uploads go to the applicant's materials library first (checked by content, stored with their SM3
digest) and the draft refers to them; a refused upload leaves the draft as it was. Submission
checks every field and every required material at once, then creates the case, its number, its
materials and its first event in one transaction.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.accounts.companies import acting_party, may_act_for
from tongban.cases import forms, numbers, uploads
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import (
    Case,
    CaseAction,
    CaseEvent,
    CaseMaterial,
    CaseStatus,
    Channel,
    Draft,
    FieldKind,
    LibraryFile,
    MaterialKind,
)
from tongban.catalog import guides
from tongban.catalog.models import Implementation, Material, MaterialSource, Necessity
from tongban.catalog.models.choices import ImplementationStatus, OnlineDepth
from tongban.core import calendar
from tongban.core.personal import mask_name

# Materials the applicant uploads (a license is fetched from the wallet, a form is filled in).
# A material from the e-license library is offered from the wallet (用证) or, failing that,
# uploaded as a scan.
UPLOADED_SOURCES = frozenset(
    {
        MaterialSource.APPLICANT,
        MaterialSource.GOVERNMENT,
        MaterialSource.OTHER,
        MaterialSource.LICENSE,
    }
)


def _prefetched(implementation_id: int) -> Implementation:
    return (
        Implementation.objects.select_related("item", "organization")
        .prefetch_related("situations__options", "materials__conditions")
        .get(pk=implementation_id)
    )


def _acting_key(company: Any) -> str:
    return f"company:{company.pk}" if company is not None else "person"


def _check_can_apply(actor: Any, implementation: Implementation, *, counter: bool) -> None:
    if implementation.status != ImplementationStatus.ACTIVE:
        raise CaseError(CaseErrorCode.NOT_ONLINE, _("该事项当前不可申请"))
    if counter:
        return
    if implementation.online_depth < OnlineDepth.PREREVIEW or not (
        implementation.handle_on_pc or implementation.handle_on_mobile
    ):
        raise CaseError(CaseErrorCode.NOT_ONLINE)
    if getattr(actor, "level", 0) < implementation.required_level:
        raise CaseError(CaseErrorCode.LEVEL_TOO_LOW)


# --- Drafts --------------------------------------------------------------------------------------


def open_draft(*, actor: Any, implementation: Implementation) -> Draft:
    """The applicant's draft for ``implementation`` as the party they act for now (created empty
    the first time)."""
    _check_can_apply(actor, implementation, counter=False)
    party = acting_party(actor)
    draft, _created = Draft.objects.get_or_create(
        applicant=actor,
        acting_key=_acting_key(party.company),
        implementation=implementation,
        defaults={"company": party.company, "form_data": "{}"},
    )
    return draft


def draft_data(draft: Draft) -> dict[str, Any]:
    try:
        value = json.loads(draft.form_data or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _clean_answers(implementation: Implementation, option_ids: list[Any]) -> list[int]:
    ids = []
    for raw in option_ids or []:
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            continue
    try:
        answers = guides.clean_answers(
            implementation, guides.answers_from_options(implementation, ids)
        )
    except guides.GuideError as exc:
        raise CaseError(CaseErrorCode.INVALID_FORM, str(exc), field="answers") from None
    return sorted(o for chosen in answers.values() for o in chosen)


def save_draft(
    *,
    actor: Any,
    draft: Draft,
    data: dict[str, Any],
    answers: list[Any] | None = None,
    commitments: list[Any] | None = None,
) -> Draft:
    """Store what was typed so far (no checks beyond the fields' existence): an autosave never
    refuses, so nothing typed is lost. Values of unknown keys are dropped."""
    _own(actor, draft)
    implementation = _prefetched(draft.implementation_id)
    keys = {spec.key for spec in forms.form_for(implementation)}
    current = draft_data(draft)
    for key, value in (data or {}).items():
        if key in keys and isinstance(value, str | int | float) and len(str(value)) <= 4000:
            current[key] = str(value)
    draft.form_data = json.dumps(current, ensure_ascii=False)
    if answers is not None:
        options = {o.id for s in implementation.situations.all() for o in s.options.all()}
        # Unknown options are dropped; two options of a single-choice question keep the answers
        # saved before.
        with contextlib.suppress(CaseError):
            draft.answers = _clean_answers(
                implementation, [a for a in answers if str(a).isdigit() and int(a) in options]
            )
    if commitments is not None:
        allowed = set(
            implementation.materials.filter(allows_commitment=True).values_list("pk", flat=True)
        )
        draft.commitments = sorted({int(c) for c in commitments if str(c).isdigit()} & allowed)
    # Not ``materials``: an upload may have added a file since this draft was read.
    draft.save(update_fields=["form_data", "answers", "commitments", "updated_at"])
    return draft


def _own(actor: Any, draft: Draft) -> None:
    if draft.applicant_id != getattr(actor, "pk", None):
        raise CaseError(CaseErrorCode.NOT_FOUND)
    if draft.company_id is not None and not may_act_for(actor, draft.company):
        raise CaseError(CaseErrorCode.NOT_APPLICANT)


def _material_of(draft: Draft, material_id: int) -> Material:
    material = Material.objects.filter(
        pk=material_id, implementation_id=draft.implementation_id
    ).first()
    if material is None:
        raise CaseError(CaseErrorCode.INVALID_FORM, _("材料不存在"), field=f"m{material_id}")
    return material


def attach(*, actor: Any, draft: Draft, material_id: int, upload: Any) -> LibraryFile:
    """Check an upload for one material, keep it in the library and add it to the draft. A
    refused file raises and changes nothing."""
    _own(actor, draft)
    material = _material_of(draft, material_id)
    kept = uploads.keep(owner=actor, upload=upload, title=material.name, field=f"m{material.pk}")
    _add_file(draft, material.pk, kept.pk)
    return kept


def reuse(*, actor: Any, draft: Draft, material_id: int, library_file_id: int) -> LibraryFile:
    """Use a file from the applicant's materials library for one material."""
    _own(actor, draft)
    material = _material_of(draft, material_id)
    kept = LibraryFile.objects.filter(pk=library_file_id, owner=actor).first()
    if kept is None:
        raise CaseError(CaseErrorCode.NOT_FOUND, _("材料库中没有该文件"), field=f"m{material.pk}")
    _add_file(draft, material.pk, kept.pk)
    return kept


def _add_file(draft: Draft, material_id: int, file_id: int) -> None:
    with transaction.atomic():
        locked = Draft.objects.select_for_update().get(pk=draft.pk)
        files = dict(locked.materials or {})
        chosen = list(files.get(str(material_id), []))
        if file_id not in chosen:
            chosen.append(file_id)
        files[str(material_id)] = chosen
        Draft.objects.filter(pk=draft.pk).update(materials=files, updated_at=timezone.now())
    draft.materials = files


def detach(*, actor: Any, draft: Draft, material_id: int, library_file_id: int) -> None:
    _own(actor, draft)
    with transaction.atomic():
        locked = Draft.objects.select_for_update().get(pk=draft.pk)
        files = dict(locked.materials or {})
        files[str(material_id)] = [
            f for f in files.get(str(material_id), []) if f != library_file_id
        ]
        Draft.objects.filter(pk=draft.pk).update(materials=files, updated_at=timezone.now())
    draft.materials = files


def earlier_answers(user: Any, company: Any = None, *, limit: int = 10) -> dict[str, str]:
    """What the applicant answered before, by shared data-dictionary key (一套表单: one answer
    fills every form that uses the same field): from their latest cases and drafts as the same
    party, the newest answer winning. An implementation's own fields stay with it."""
    from tongban.cases.models import DataElement

    shared = set(DataElement.objects.values_list("key", flat=True))
    if not shared or not getattr(user, "pk", None):
        return {}
    party = {"applicant": user, "company": company}
    sources: list[tuple[Any, str]] = list(
        Case.objects.filter(**party)
        .order_by("-submitted_at")
        .values_list("submitted_at", "form_data")[:limit]
    )
    sources += list(
        Draft.objects.filter(**party)
        .order_by("-updated_at")
        .values_list("updated_at", "form_data")[:limit]
    )
    answers: dict[str, str] = {}
    for _at, raw in sorted(sources, key=lambda pair: pair[0]):
        try:
            data = json.loads(raw or "{}")
        except ValueError:
            continue
        if isinstance(data, dict):
            answers.update({k: str(v) for k, v in data.items() if k in shared and str(v).strip()})
    return answers


# --- What must be uploaded -----------------------------------------------------------------------


@dataclass(frozen=True)
class NeededMaterial:
    material: Material
    required: bool  # must be uploaded before submission
    deferrable: bool  # may follow later if the clerk accepts with deficiencies
    commitment_allowed: bool


def needed_materials(implementation: Implementation, answers: list[int]) -> list[NeededMaterial]:
    """The materials an applicant uploads for ``answers`` (prefetched implementation)."""
    grouped = guides.answers_from_options(implementation, answers)
    out = []
    for choice in guides.material_choices(implementation, grouped):
        m = choice.material
        if m.source not in UPLOADED_SOURCES or m.necessity == Necessity.EXEMPT:
            continue
        out.append(
            NeededMaterial(
                material=m,
                required=m.necessity == Necessity.REQUIRED,
                deferrable=m.necessity == Necessity.DEFERRABLE,
                commitment_allowed=m.allows_commitment,
            )
        )
    return out


def check_application(
    implementation: Implementation,
    *,
    data: dict[str, Any],
    answers: list[int],
    files: dict[str, list[int]],
    commitments: list[int],
    user: Any,
    company: Any,
    licenses: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Every problem with an application at once; returns the cleaned form data. A material is
    provided by files, a commitment (告知承诺) or a license from the wallet (用证)."""
    licenses = licenses or {}
    specs = forms.form_for(implementation)
    known = forms.prefill(specs, user, company)
    locked = forms.locked_keys(specs, user, company)
    merged = {**data, **{k: v for k, v in known.items() if k in locked}}
    cleaned, errors = forms.validate(specs, merged, answers)
    unanswered = [
        s
        for s in implementation.situations.all()
        if not {o.id for o in s.options.all()} & set(answers)
    ]
    for situation in unanswered:
        errors.setdefault(f"s{situation.pk}", []).append(
            _("请回答：%(q)s") % {"q": situation.question}
        )
    for spec in forms.applicable(specs, answers):
        file_id = forms.library_id(cleaned.get(spec.key)) if spec.kind == FieldKind.FILE else None
        if file_id is not None and not LibraryFile.objects.filter(pk=file_id, owner=user).exists():
            errors.setdefault(spec.key, []).append(_("请上传%(label)s") % {"label": spec.label})
    for need in needed_materials(implementation, answers):
        key = str(need.material.pk)
        if key in licenses:
            problem = _license_problem(user, licenses[key], need.material)
            if problem:
                errors.setdefault(f"m{key}", []).append(problem)
            continue
        if need.required and not files.get(key) and need.material.pk not in commitments:
            errors.setdefault(f"m{key}", []).append(
                _("请上传：%(name)s") % {"name": need.material.name}
            )
    if errors:
        raise CaseError(CaseErrorCode.INVALID_FORM, errors=errors)
    return cleaned


def _license_problem(user: Any, license_id: Any, material: Material) -> str:
    """Why the license ``license_id`` cannot stand in for ``material`` ('' when it can)."""
    from tongban.licenses import services as license_services
    from tongban.licenses.errors import LicenseError
    from tongban.licenses.models import License

    lic = License.objects.filter(pk=license_id).first() if str(license_id).isdigit() else None
    try:
        license_services.check_use(actor=user, license=lic or License(), material=material)
    except LicenseError as exc:
        return f"{material.name}：{exc.message}"
    return ""


def use_license(*, actor: Any, draft: Draft, material_id: int, license_id: int) -> None:
    """用证: the applicant consents that their license stands in for one material. Refused with
    the licenses domain's reason (not the holder, not valid, not for this material)."""
    _own(actor, draft)
    material = _material_of(draft, material_id)
    problem = _license_problem(actor, license_id, material)
    if problem:
        raise CaseError(CaseErrorCode.LICENSE_NOT_USABLE, problem, field=f"m{material.pk}")
    with transaction.atomic():
        locked = Draft.objects.select_for_update().get(pk=draft.pk)
        chosen = {**(locked.licenses or {}), str(material.pk): int(license_id)}
        Draft.objects.filter(pk=draft.pk).update(licenses=chosen, updated_at=timezone.now())
    draft.licenses = chosen


def stop_using_license(*, actor: Any, draft: Draft, material_id: int) -> None:
    _own(actor, draft)
    with transaction.atomic():
        locked = Draft.objects.select_for_update().get(pk=draft.pk)
        chosen = {k: v for k, v in (locked.licenses or {}).items() if k != str(material_id)}
        Draft.objects.filter(pk=draft.pk).update(licenses=chosen, updated_at=timezone.now())
    draft.licenses = chosen


def _license_rows(case: Case, applicant: Any, licenses: dict[str, int], needed: dict) -> list:
    """Record the consent for each license used and its case material (the license's PDF, so
    the file is what the department sees; the row names the license to verify it live)."""
    from tongban.licenses import services as license_services
    from tongban.licenses.models import License
    from tongban.licenses.render import render_pdf

    rows = []
    for material_id, license_id in licenses.items():
        material = needed.get(str(material_id))
        if material is None:
            continue
        lic = License.objects.select_related("license_type").get(pk=license_id)
        license_services.grant_use(
            actor=applicant,
            license=lic,
            material=material,
            organization_id=case.organization_id,
            case_reference=case.number,
        )
        content = render_pdf(lic)
        row = CaseMaterial(
            case=case,
            material=material,
            kind=MaterialKind.LICENSE,
            name=f"{lic.license_type.name}（电子证照）.pdf"[:200],
            sm3=uploads.crypto.sm3(content).hex(),
            size=len(content),
            content_type="application/pdf",
            uploaded_by=applicant,
            license_identifier=lic.identifier,
        )
        row.file.save(f"{case.number}-l{material.pk}.pdf", ContentFile(content), save=False)
        rows.append(row)
    return rows


# --- Submission ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    case: Case
    query_code: str  # shown once, on the acknowledgement


def _new_query_code() -> str:
    return f"{secrets.randbelow(10**8):08d}"


def _applicant_display(user: Any, company: Any) -> str:
    person = mask_name(user.real_name) if user.real_name else user.username
    return f"{company.name}（{person}）" if company is not None else person


def create_case(
    *,
    actor: Any,
    applicant: Any,
    company: Any,
    implementation: Implementation,
    data: dict[str, Any],
    answers: list[int],
    files: dict[str, list[int]],
    commitments: list[int],
    channel: str,
    counter_organization: Any = None,
    ip: str | None = None,
    licenses: dict[str, int] | None = None,
) -> Submitted:
    """Check and create a case (shared by online submission and the counter)."""
    licenses = {str(k): int(v) for k, v in (licenses or {}).items()}
    library = {
        f.pk: f
        for f in LibraryFile.objects.filter(
            owner=applicant, pk__in=[i for ids in files.values() for i in ids]
        )
    }
    # A file since removed from the library no longer counts as uploaded.
    files = {k: [i for i in ids if i in library] for k, ids in files.items()}
    cleaned = check_application(
        implementation,
        data=data,
        answers=answers,
        files=files,
        commitments=commitments,
        user=applicant,
        company=company,
        licenses=licenses,
    )
    needed = {str(n.material.pk): n.material for n in needed_materials(implementation, answers)}
    # Pre-review (预审) for depth II: the applicant still comes to the hall once.
    first = (
        CaseStatus.PRE_REVIEW
        if channel == Channel.ONLINE and implementation.online_depth == OnlineDepth.PREREVIEW
        else CaseStatus.TO_ACCEPT
    )
    now = timezone.now()
    code = _new_query_code()
    with transaction.atomic():
        number = numbers.allocate(implementation.region_code, calendar.china_date(now))
        case = Case.objects.create(
            number=number,
            implementation=implementation,
            organization_id=implementation.organization_id,
            region_code=implementation.region_code,
            counter_organization=counter_organization,
            channel=channel,
            applicant=applicant,
            company=company,
            applicant_display=_applicant_display(applicant, company),
            phone_tail=(applicant.phone or "")[-4:],
            query_code_digest=_digest(number, code),
            form_data=json.dumps(cleaned, ensure_ascii=False),
            answers=list(answers),
            commitments=[c for c in commitments if str(c) in needed],
            status=first,
            submitted_at=now,
        )
        rows = []
        for material_id, ids in files.items():
            material = needed.get(str(material_id))
            if material is None:
                continue
            for file_id in ids:
                kept = library.get(file_id)
                if kept is None:
                    continue
                rows.append(
                    CaseMaterial(
                        case=case,
                        material=material,
                        kind=MaterialKind.APPLICATION,
                        name=kept.name,
                        file=kept.file.name,
                        sm3=kept.sm3,
                        size=kept.size,
                        content_type=kept.content_type,
                        uploaded_by=actor,
                    )
                )
        for material_id in case.commitments:
            material = needed[str(material_id)]
            rows.append(_commitment(case, material, actor))
        rows += _license_rows(case, applicant, licenses, needed)
        # Files given in file fields of the form travel with the case as attachments.
        attached = {
            forms.library_id(v): k for k, v in cleaned.items() if forms.library_id(v) is not None
        }
        for kept in LibraryFile.objects.filter(owner=applicant, pk__in=list(attached)):
            rows.append(
                CaseMaterial(
                    case=case,
                    kind=MaterialKind.ATTACHMENT,
                    name=kept.name,
                    file=kept.file.name,
                    sm3=kept.sm3,
                    size=kept.size,
                    content_type=kept.content_type,
                    uploaded_by=actor,
                )
            )
        CaseMaterial.objects.bulk_create(rows)
        event = CaseEvent.objects.create(
            case=case,
            action=CaseAction.SUBMIT,
            from_status="",
            to_status=first,
            actor=actor,
            actor_label=_label(actor, channel),
            at=now,
            details={"channel": channel, "materials": len(rows)},
        )
        from tongban.cases import effects

        effects.after_move(case=case, event=event)
    return Submitted(case, code)


def _digest(number: str, code: str) -> str:
    from tongban.cases.queries import query_code_digest

    return query_code_digest(number, code)


def _label(actor: Any, channel: str) -> str:
    if channel == Channel.COUNTER:
        return _("窗口：%(name)s") % {"name": actor.display_name}
    return _("申请人")


def _commitment(case: Case, material: Material, actor: Any) -> CaseMaterial:
    """A signed commitment (告知承诺书) standing in for ``material``."""
    from tongban.cases import documents

    content = documents.commitment_pdf(case, material)
    row = CaseMaterial(
        case=case,
        material=material,
        kind=MaterialKind.COMMITMENT,
        name=f"告知承诺书-{material.name}.pdf"[:200],
        sm3=uploads.crypto.sm3(content).hex(),
        size=len(content),
        content_type="application/pdf",
        uploaded_by=actor,
    )
    row.file.save(f"{case.number}-c{material.pk}.pdf", ContentFile(content), save=False)
    return row


def submit(*, actor: Any, draft: Draft, ip: str | None = None) -> Submitted:
    """Submit a draft: every problem is listed at once and the draft is kept as it was; on
    success the draft is gone and the case exists."""
    _own(actor, draft)
    implementation = _prefetched(draft.implementation_id)
    _check_can_apply(actor, implementation, counter=False)
    with transaction.atomic():
        locked = Draft.objects.select_for_update().filter(pk=draft.pk).first()
        if locked is None:
            raise CaseError(CaseErrorCode.NOT_FOUND)
        submitted = create_case(
            actor=actor,
            applicant=actor,
            company=locked.company,
            implementation=implementation,
            data=draft_data(locked),
            answers=list(locked.answers or []),
            files={k: list(v) for k, v in (locked.materials or {}).items()},
            commitments=list(locked.commitments or []),
            licenses=dict(locked.licenses or {}),
            channel=Channel.ONLINE,
            ip=ip,
        )
        locked.delete()
    return submitted


def start_at_counter(
    *,
    actor: Any,
    applicant: Any,
    implementation: Implementation,
    data: dict[str, Any],
    answers: list[int],
    uploads_by_material: dict[str, list[Any]],
    company: Any = None,
    counter_organization: Any = None,
) -> Submitted:
    """A counter clerk takes in a walk-in application for any organization's implementation:
    the scans go to the applicant's library, the case routes to the handling organization and
    its result comes back to this counter (前台综合受理、后台分类审批、综合窗口出件).

    The applicant must be verified (L2: the clerk has checked the ID card against the register).
    Every bad file and every bad field is reported at once, and nothing is stored until all are
    right."""
    from tongban.accounts.models import StaffPost, StaffRole
    from tongban.core.levels import VerificationLevel

    posts = StaffPost.objects.filter(user_id=actor.pk, role=StaffRole.CLERK)
    if counter_organization is not None:
        posts = posts.filter(organization=counter_organization)
    post = posts.select_related("organization").order_by("id").first()
    if post is None:
        raise CaseError(CaseErrorCode.FORBIDDEN)
    if getattr(applicant, "level", 0) < VerificationLevel.L2:
        raise CaseError(CaseErrorCode.LEVEL_TOO_LOW, _("申请人尚未完成实名认证"), field="applicant")
    implementation = _prefetched(implementation.pk)
    _check_can_apply(actor, implementation, counter=True)
    answers = _clean_answers(implementation, answers)
    materials = {str(m.pk): m for m in implementation.materials.all()}
    errors: dict[str, list[str]] = {}
    checked: dict[str, list[Any]] = {}
    for material_id, items in uploads_by_material.items():
        if str(material_id) not in materials:
            continue
        for upload in items:
            try:
                uploads.check(upload, field=f"m{material_id}")
            except CaseError as exc:
                errors.setdefault(f"m{material_id}", []).append(exc.message)
                continue
            if hasattr(upload, "seek"):
                upload.seek(0)
            checked.setdefault(str(material_id), []).append(upload)
    try:
        check_application(
            implementation,
            data=data,
            answers=answers,
            files={k: [0] * len(v) for k, v in checked.items()},
            commitments=[],
            user=applicant,
            company=company,
        )
    except CaseError as exc:
        for key, messages in exc.errors.items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        raise CaseError(CaseErrorCode.INVALID_FORM, errors=errors)
    files: dict[str, list[int]] = {}
    for material_id, items in checked.items():
        for upload in items:
            kept = uploads.keep(
                owner=applicant,
                upload=upload,
                title=materials[material_id].name,
                field=f"m{material_id}",
            )
            files.setdefault(material_id, []).append(kept.pk)
    return create_case(
        actor=actor,
        applicant=applicant,
        company=company,
        implementation=implementation,
        data=data,
        answers=answers,
        files=files,
        commitments=[],
        channel=Channel.COUNTER,
        counter_organization=post.organization,
    )
