"""Handling a case: every action is a move of the one transition table in
:mod:`tongban.cases.workflow`.

Each public function takes keyword arguments with the actor first and the case ``version`` the
actor saw. :func:`_moving` locks the case row, checks the actor's roles on the case, the state, the
version and the opinion, lets the action's own guard and effect run, then writes the change as a
conditional UPDATE on (pk, version) that must touch one row, appends the :class:`CaseEvent` and
hands the event to :mod:`tongban.cases.effects` (notice, SMS, department dispatch) — all in one
transaction. Two staff acting at once: the second waits for the lock, finds the version moved on
and gets ``conflict``; nothing of theirs is written.

A department system acts with ``department=<Organization>`` instead of a staff role.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.cases import clock, effects, forms, queries, uploads, workflow
from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import (
    Case,
    CaseAction,
    CaseEvent,
    CaseMaterial,
    CaseStatus,
    Decision,
    DeliveryMethod,
    MaterialKind,
)
from tongban.core import calendar

A = CaseAction
S = CaseStatus


@dataclass
class Move:
    case: Case
    action: str
    actor: Any
    roles: frozenset[str]
    opinion: str
    now: dt.datetime
    target: str | None
    changes: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def set(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self.case, name, value)
        self.changes.update(values)


def _actor_label(actor: Any, roles: frozenset[str], department: Any) -> str:
    if department is not None:
        return _("部门系统：%(org)s") % {"org": department.name}
    if workflow.APPLICANT in roles and not roles & workflow.STAFF_ROLES:
        return _("申请人")
    name = getattr(actor, "display_name", "") or ""
    return name


def _same_version(given: Any, current: int) -> bool:
    """Whether the version a form or client sent is ``current`` (a malformed one is not)."""
    try:
        return int(given) == current
    except (TypeError, ValueError):
        return False


@contextmanager
def _moving(
    *,
    actor: Any,
    case: Case,
    action: str,
    version: int | None,
    opinion: str = "",
    department: Any = None,
) -> Iterator[Move]:
    transition = workflow.TRANSITIONS[str(action)]
    opinion = (opinion or "").strip()
    with transaction.atomic():
        # Lock the case row only: not the joined rows, which other cases share (and PostgreSQL
        # refuses FOR UPDATE on the nullable side of the outer join to the company).
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("implementation", "organization", "applicant", "company")
            .filter(pk=case.pk)
            .first()
        )
        if locked is None:
            raise CaseError(CaseErrorCode.NOT_FOUND)
        if department is not None:
            roles = (
                frozenset({workflow.DEPARTMENT})
                if department.pk == locked.organization_id
                else frozenset()
            )
        else:
            roles = queries.roles_on(actor, locked)
        if not roles & transition.roles:
            raise CaseError(CaseErrorCode.FORBIDDEN)
        if version is not None and not _same_version(version, locked.version):
            raise CaseError(CaseErrorCode.CONFLICT)
        if locked.status not in transition.sources:
            raise CaseError(CaseErrorCode.NOT_ALLOWED)
        if transition.needs_opinion and not opinion:
            raise CaseError(CaseErrorCode.OPINION_REQUIRED, field="opinion")
        move = Move(
            case=locked,
            action=str(action),
            actor=actor,
            roles=roles,
            opinion=opinion[:2000],
            now=timezone.now(),
            target=transition.target,
        )
        from_status = locked.status
        yield move
        target = move.changes.get("status") or move.target or from_status
        move.changes["status"] = target
        seen = locked.version
        move.changes["version"] = seen + 1
        updated = Case.objects.filter(pk=locked.pk, version=seen).update(
            **move.changes, updated_at=move.now
        )
        if updated != 1:
            raise CaseError(CaseErrorCode.CONFLICT)
        for name, value in move.changes.items():
            setattr(locked, name, value)
        event = CaseEvent.objects.create(
            case=locked,
            action=move.action,
            from_status=from_status,
            to_status=target,
            actor=actor if getattr(actor, "pk", None) else None,
            actor_label=_actor_label(actor, roles, department)[:120],
            opinion=move.opinion,
            details=move.details,
            at=move.now,
        )
        effects.after_move(case=locked, event=event, by_department=department is not None)
    case.__dict__.update({k: v for k, v in locked.__dict__.items() if not k.startswith("_")})


def _store(case: Case, *, kind: str, upload: Any, actor: Any, material=None, field="file"):
    checked = uploads.check(upload, field=field)
    row = CaseMaterial(
        case=case,
        material=material,
        kind=kind,
        name=uploads._safe_name(getattr(upload, "name", "") or kind, checked.extension),
        sm3=checked.sm3,
        size=len(checked.content),
        content_type=checked.content_type,
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    row.file.save(
        f"{case.number}-{kind}-{checked.sm3[:12]}.{checked.extension}",
        ContentFile(checked.content),
        save=False,
    )
    row.save()
    return row


def _start_clock(move: Move) -> None:
    move.set(accepted_at=move.now)
    _set_due(move)


def _set_due(move: Move) -> None:
    dates = clock.due_dates(move.case, move.case.implementation)
    move.set(
        promised_due=dates.promised_due,
        statutory_due=dates.statutory_due,
        warn_on=dates.warn_on,
    )


def _pause(move: Move) -> None:
    if move.case.accepted_at is not None and move.case.paused_at is None:
        move.set(paused_at=move.now)


def _unpause(move: Move) -> None:
    case = move.case
    if case.paused_at is None:
        return
    working, natural = clock.paused_days(case, move.now)
    move.set(
        paused_at=None,
        paused_working_days=case.paused_working_days + working,
        paused_natural_days=case.paused_natural_days + natural,
    )
    _set_due(move)


# --- Intake --------------------------------------------------------------------------------------


def pre_approve(*, actor: Any, case: Case, version: int | None, opinion: str = "") -> Case:
    with _moving(actor=actor, case=case, action=A.PRE_APPROVE, version=version, opinion=opinion):
        pass
    return case


def request_correction(
    *,
    actor: Any,
    case: Case,
    version: int | None,
    opinion: str,
    fields: list[str],
    materials: list[int],
    department: Any = None,
) -> Case:
    """Name exactly what to fix; the applicant sees those and may change only those."""
    with _moving(
        actor=actor,
        case=case,
        action=A.REQUEST_CORRECTION,
        version=version,
        opinion=opinion,
        department=department,
    ) as move:
        locked = move.case
        known_fields = {s.key for s in forms.form_for(locked.implementation)}
        known_materials = set(locked.implementation.materials.values_list("pk", flat=True))
        fields = sorted({f for f in fields or [] if f in known_fields})
        materials = sorted({int(m) for m in materials or [] if int(m) in known_materials})
        if not fields and not materials:
            raise CaseError(CaseErrorCode.CORRECTION_EMPTY, field="fields")
        move.set(
            correction={"fields": fields, "materials": materials, "note": move.opinion},
            resume_status=locked.status,
        )
        _pause(move)
        move.details = {"fields": fields, "materials": materials}
    return case


def resubmit(
    *,
    actor: Any,
    case: Case,
    version: int | None,
    data: dict[str, Any],
    uploads_by_material: dict[str, list[Any]],
) -> Case:
    """The applicant's correction: only the named fields and materials, all of them."""
    with _moving(actor=actor, case=case, action=A.RESUBMIT, version=version) as move:
        locked = move.case
        wanted_fields = set(locked.correction.get("fields", []))
        wanted_materials = {str(m) for m in locked.correction.get("materials", [])}
        given_fields = {k for k, v in (data or {}).items() if str(v).strip()}
        uploads_by_material = {str(k): v for k, v in (uploads_by_material or {}).items()}
        given_materials = {k for k, v in uploads_by_material.items() if v}
        outside = (given_fields - wanted_fields) | (given_materials - wanted_materials)
        if outside:
            names = sorted(outside & given_fields) + [
                f"m{m}" for m in sorted(outside & given_materials)
            ]
            raise CaseError(CaseErrorCode.CORRECTION_OUTSIDE, field=names[0])
        missing_fields = wanted_fields - given_fields
        missing_materials = wanted_materials - given_materials
        if missing_fields or missing_materials:
            names = sorted(missing_fields) + [f"m{m}" for m in sorted(missing_materials)]
            raise CaseError(
                CaseErrorCode.CORRECTION_INCOMPLETE,
                errors={name: [_("请补正此项")] for name in names},
            )
        specs = [s for s in forms.form_for(locked.implementation) if s.key in wanted_fields]
        cleaned, errors = forms.validate(specs, data, locked.answers)
        if errors:
            raise CaseError(CaseErrorCode.INVALID_FORM, errors=errors)
        current = json.loads(locked.form_data or "{}")
        changed = {k: (current.get(k) != v) for k, v in cleaned.items()}
        current.update(cleaned)
        materials = {
            str(m.pk): m for m in locked.implementation.materials.filter(pk__in=wanted_materials)
        }
        replaced = []
        for material_id, files in uploads_by_material.items():
            if not files:
                continue  # nothing given for it: its current files stay as they are
            CaseMaterial.objects.filter(
                case=locked, material_id=int(material_id), kind=MaterialKind.APPLICATION
            ).update(replaced=True)
            for upload in files:
                row = _store(
                    locked,
                    kind=MaterialKind.APPLICATION,
                    upload=upload,
                    actor=actor,
                    material=materials[material_id],
                    field=f"m{material_id}",
                )
                replaced.append(row.pk)
        move.set(
            form_data=json.dumps(current, ensure_ascii=False),
            status=locked.resume_status or S.TO_ACCEPT,
            resume_status="",
            correction={},
        )
        _unpause(move)
        move.details = {
            "fields": sorted(cleaned),
            "changed": sorted(k for k, c in changed.items() if c),
            "materials": sorted(wanted_materials),
        }
    return case


def accept(
    *, actor: Any, case: Case, version: int | None, opinion: str = "", department: Any = None
) -> Case:
    with _moving(
        actor=actor,
        case=case,
        action=A.ACCEPT,
        version=version,
        opinion=opinion,
        department=department,
    ) as move:
        _start_clock(move)
        move.set(step=1)
    return case


def accept_with_deficiencies(
    *,
    actor: Any,
    case: Case,
    version: int | None,
    materials: list[int],
    due: dt.date,
    opinion: str = "",
) -> Case:
    """容缺受理: the listed materials follow by ``due``; the case cannot conclude before."""
    with _moving(
        actor=actor,
        case=case,
        action=A.ACCEPT_WITH_DEFICIENCIES,
        version=version,
        opinion=opinion,
    ) as move:
        names = dict(
            move.case.implementation.materials.filter(
                pk__in=[int(m) for m in materials or []]
            ).values_list("pk", "name")
        )
        if not names:
            raise CaseError(CaseErrorCode.DEFICIENCIES_EMPTY, field="materials")
        if due <= calendar.china_date(move.now):
            raise CaseError(CaseErrorCode.BAD_DEADLINE, field="due")
        move.set(
            deficiencies=[
                {"material": pk, "name": name, "due": due.isoformat(), "supplied_at": None}
                for pk, name in sorted(names.items())
            ]
        )
        _start_clock(move)
        move.set(step=1)
        move.details = {"materials": sorted(names), "due": due.isoformat()}
    return case


def reject(
    *, actor: Any, case: Case, version: int | None, opinion: str, department: Any = None
) -> Case:
    with _moving(
        actor=actor,
        case=case,
        action=A.REJECT,
        version=version,
        opinion=opinion,
        department=department,
    ) as move:
        move.set(concluded_at=move.now, paused_at=None)
    return case


def supply(*, actor: Any, case: Case, version: int | None, material_id: int, upload: Any) -> Case:
    """A deferred material arrives (from the applicant or at the counter)."""
    with _moving(actor=actor, case=case, action=A.SUPPLY, version=version) as move:
        locked = move.case
        rows = [dict(d) for d in locked.deficiencies]
        open_row = next(
            (d for d in rows if d["material"] == int(material_id) and not d["supplied_at"]),
            None,
        )
        if open_row is None:
            raise CaseError(CaseErrorCode.NOT_ALLOWED, _("该材料不在容缺清单中或已补交"))
        material = locked.implementation.materials.get(pk=int(material_id))
        row = _store(
            locked,
            kind=MaterialKind.APPLICATION,
            upload=upload,
            actor=actor,
            material=material,
            field=f"m{material_id}",
        )
        open_row["supplied_at"] = move.now.isoformat()
        move.set(deficiencies=rows)
        move.details = {"material": int(material_id), "file": row.pk}
    return case


# --- Review --------------------------------------------------------------------------------------


def advance(*, actor: Any, case: Case, version: int | None, opinion: str = "") -> Case:
    """Pass the current review step (审查/审核) on to the next one of the process."""
    with _moving(actor=actor, case=case, action=A.ADVANCE, version=version, opinion=opinion) as m:
        steps = m.case.implementation.steps.count()
        if m.case.step >= max(1, steps - 1):
            raise CaseError(CaseErrorCode.LAST_STEP)
        m.set(step=m.case.step + 1)
        m.details = {"step": m.case.step}
    return case


def suspend(*, actor: Any, case: Case, version: int | None, opinion: str, procedure: str) -> Case:
    """A special procedure (听证、现场核查、专家评审…): the clock stops until it ends."""
    with _moving(actor=actor, case=case, action=A.SUSPEND, version=version, opinion=opinion) as m:
        procedure = (procedure or "").strip()[:50]
        if not procedure:
            raise CaseError(CaseErrorCode.OPINION_REQUIRED, _("请选择特别程序"), field="procedure")
        m.set(suspension={"procedure": procedure, "since": m.now.isoformat()})
        _pause(m)
        m.details = {"procedure": procedure}
    return case


def resume(*, actor: Any, case: Case, version: int | None, opinion: str = "") -> Case:
    with _moving(actor=actor, case=case, action=A.RESUME, version=version, opinion=opinion) as m:
        m.details = {"procedure": m.case.suspension.get("procedure", "")}
        m.set(suspension={})
        _unpause(m)
    return case


def request_extension(
    *, actor: Any, case: Case, version: int | None, days: int, opinion: str
) -> Case:
    with _moving(
        actor=actor, case=case, action=A.REQUEST_EXTENSION, version=version, opinion=opinion
    ) as m:
        limit = m.case.implementation.statutory_limit
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= max(1, limit):
            raise CaseError(CaseErrorCode.BAD_DAYS, field="days")
        m.set(
            pending_extension={
                "days": days,
                "reason": m.opinion,
                "by": getattr(actor, "pk", None),
                "at": m.now.isoformat(),
            }
        )
        m.details = {"days": days}
    return case


def approve_extension(*, actor: Any, case: Case, version: int | None, opinion: str = "") -> Case:
    """The head of the organization approves the time limit's extension (延期须经负责人批准)."""
    with _moving(
        actor=actor, case=case, action=A.APPROVE_EXTENSION, version=version, opinion=opinion
    ) as m:
        pending = m.case.pending_extension
        if not pending:
            raise CaseError(CaseErrorCode.NO_EXTENSION)
        if pending.get("by") == getattr(actor, "pk", None):
            raise CaseError(CaseErrorCode.OWN_EXTENSION)
        m.set(extension_days=m.case.extension_days + int(pending["days"]), pending_extension={})
        if m.case.paused_at is None:
            _set_due(m)
        m.details = {"days": int(pending["days"]), "reason": pending.get("reason", "")}
    return case


def _decide(
    *,
    actor: Any,
    case: Case,
    version: int | None,
    action: str,
    decision: str,
    opinion: str,
    document: Any,
    department: Any,
) -> Case:
    from tongban.cases import documents

    with _moving(
        actor=actor,
        case=case,
        action=action,
        version=version,
        opinion=opinion,
        department=department,
    ) as m:
        m.set(decision=decision, decided_at=m.now, decision_note=m.opinion)
        if document is not None:
            row = _store(m.case, kind=MaterialKind.DECISION, upload=document, actor=actor)
        else:
            content = documents.decision_pdf(m.case, decided_at=m.now)
            row = _store(m.case, kind=MaterialKind.DECISION, upload=content, actor=actor)
            CaseMaterial.objects.filter(pk=row.pk).update(name=f"{m.case.number}-决定书.pdf")
        m.details = {"decision": decision, "document": row.pk, "sm3": row.sm3}
    return case


def approve(
    *,
    actor: Any,
    case: Case,
    version: int | None,
    opinion: str = "",
    document: Any = None,
    department: Any = None,
) -> Case:
    """准予: with the decision document (uploaded, or drawn up from the case)."""
    return _decide(
        actor=actor,
        case=case,
        version=version,
        action=A.APPROVE,
        decision=Decision.APPROVED,
        opinion=opinion,
        document=document,
        department=department,
    )


def deny(
    *,
    actor: Any,
    case: Case,
    version: int | None,
    opinion: str,
    document: Any = None,
    department: Any = None,
) -> Case:
    """不予准予: the reasons are required and go into the decision document."""
    return _decide(
        actor=actor,
        case=case,
        version=version,
        action=A.DENY,
        decision=Decision.DENIED,
        opinion=opinion,
        document=document,
        department=department,
    )


def handle_instantly(
    *, actor: Any, case: Case, version: int | None, opinion: str = "", document: Any = None
) -> Case:
    """即办件: accepted, approved and concluded on the spot."""
    from tongban.cases import documents

    with _moving(
        actor=actor, case=case, action=A.HANDLE_INSTANTLY, version=version, opinion=opinion
    ) as m:
        if not m.case.implementation.is_instant:
            raise CaseError(CaseErrorCode.NOT_INSTANT)
        m.set(
            accepted_at=m.now,
            decided_at=m.now,
            concluded_at=m.now,
            decision=Decision.APPROVED,
            decision_note=m.opinion,
        )
        upload = document if document is not None else documents.decision_pdf(m.case, m.now)
        row = _store(m.case, kind=MaterialKind.DECISION, upload=upload, actor=actor)
        m.details = {"document": row.pk}
    return case


def withdraw(*, actor: Any, case: Case, version: int | None, opinion: str) -> Case:
    with _moving(actor=actor, case=case, action=A.WITHDRAW, version=version, opinion=opinion) as m:
        m.set(paused_at=None, concluded_at=m.now)
    return case


def conclude(
    *,
    actor: Any,
    case: Case,
    version: int | None,
    opinion: str = "",
    result: Any = None,
    license_data: dict[str, str] | None = None,
    department: Any = None,
) -> Case:
    """办结: every deferred material supplied; an approved case may attach its result, and one
    whose item issues an e-license issues it now (:mod:`tongban.cases.licensing`; a department
    system issues its own)."""
    with _moving(
        actor=actor,
        case=case,
        action=A.CONCLUDE,
        version=version,
        opinion=opinion,
        department=department,
    ) as m:
        open_rows = [d for d in m.case.deficiencies if not d.get("supplied_at")]
        if open_rows:
            raise CaseError(CaseErrorCode.DEFICIENCIES_OPEN)
        if result is not None:
            row = _store(m.case, kind=MaterialKind.RESULT, upload=result, actor=actor)
            m.details = {"result": row.pk, "sm3": row.sm3}
        if department is None:
            from tongban.cases import licensing

            issued = licensing.issue_for(m.case, actor=actor, data=license_data)
            if issued is not None:
                m.details = {**m.details, "license": issued.identifier}
        m.set(concluded_at=m.now)
    return case


def deliver(
    *,
    actor: Any,
    case: Case,
    version: int | None,
    method: str,
    note: str = "",
    department: Any = None,
) -> Case:
    """送达: at the window, by express (with the waybill in ``note``) or for online download."""
    with _moving(
        actor=actor, case=case, action=A.DELIVER, version=version, department=department
    ) as m:
        if method not in DeliveryMethod.values:
            raise CaseError(CaseErrorCode.NOT_ALLOWED, _("送达方式无效"), field="method")
        if method == DeliveryMethod.ONLINE and not result_files(m.case).exists():
            raise CaseError(CaseErrorCode.RESULT_REQUIRED, field="method")
        if method == DeliveryMethod.EXPRESS and not note.strip():
            raise CaseError(CaseErrorCode.OPINION_REQUIRED, _("请填写快递单号"), field="note")
        m.set(delivered_at=m.now, delivery_method=method, delivery_note=note.strip()[:300])
        m.details = {"method": method}
    return case


def archive(*, actor: Any, case: Case, version: int | None) -> Case:
    """归档: a sealed package of the case data, events and materials with a manifest digest."""
    from tongban.cases import archives

    with _moving(actor=actor, case=case, action=A.ARCHIVE, version=version) as m:
        package = archives.build(m.case, archived_at=m.now)
        m.case.archive_file.save(f"{m.case.number}.zip", ContentFile(package.content), save=False)
        m.set(
            archived_at=m.now,
            archive_digest=package.manifest_digest,
            archive_file=m.case.archive_file.name,
        )
        m.details = {"manifest_sm3": package.manifest_digest, "files": package.count}
    return case


# --- Reads used by several channels ------------------------------------------------------------


def offered_actions(case: Case, roles: frozenset[str] | set[str]) -> list[str]:
    """The actions a page offers: those the table allows ``roles`` in the case's state, less
    those whose guard is sure to refuse now (not an instant item, no extension pending, no open
    deficiency). Posting one anyway still gets the service's own error."""
    out = []
    for action in workflow.allowed_actions(case.status, roles):
        if action == A.HANDLE_INSTANTLY and not case.implementation.is_instant:
            continue
        if action == A.APPROVE_EXTENSION and not case.pending_extension:
            continue
        if action == A.SUPPLY and not any(not d.get("supplied_at") for d in case.deficiencies):
            continue
        out.append(action)
    return out


def result_files(case: Case):
    """What the applicant downloads once the case is delivered online or concluded."""
    return CaseMaterial.objects.filter(
        case=case, kind__in=[MaterialKind.RESULT, MaterialKind.DECISION], replaced=False
    ).order_by("-kind", "id")


def may_download_results(case: Case) -> bool:
    return case.status in (S.CONCLUDED, S.DELIVERED, S.ARCHIVED) or (
        case.status == S.DECIDED and case.decision == Decision.DENIED
    )


ACTIONS = {
    A.PRE_APPROVE: pre_approve,
    A.REQUEST_CORRECTION: request_correction,
    A.RESUBMIT: resubmit,
    A.ACCEPT: accept,
    A.ACCEPT_WITH_DEFICIENCIES: accept_with_deficiencies,
    A.REJECT: reject,
    A.SUPPLY: supply,
    A.ADVANCE: advance,
    A.SUSPEND: suspend,
    A.RESUME: resume,
    A.REQUEST_EXTENSION: request_extension,
    A.APPROVE_EXTENSION: approve_extension,
    A.APPROVE: approve,
    A.DENY: deny,
    A.HANDLE_INSTANTLY: handle_instantly,
    A.WITHDRAW: withdraw,
    A.CONCLUDE: conclude,
    A.DELIVER: deliver,
    A.ARCHIVE: archive,
}
