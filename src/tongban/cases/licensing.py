"""A concluded, approved case issues its e-license (issue 5's done-when: 证照由办结的办件签发).

The catalog item of the case names the license types it issues (``LicenseType.items``). On
conclusion the reviewer confirms the license fields — prefilled from the application form where a
form field's key, or its last dotted part, equals the license field's key — and the license is
issued in the conclusion's transaction with the organization's active seal of the type's seal
type; its PDF becomes the case's result. A refusal from the licenses domain (missing field, no
usable seal, no permission) rolls the conclusion back and is reported as a case error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile

from tongban.cases.errors import CaseError, CaseErrorCode
from tongban.cases.models import CaseMaterial, Decision, MaterialKind
from tongban.core import crypto
from tongban.licenses import services as license_services
from tongban.licenses.errors import LicenseError
from tongban.licenses.models import License, LicenseType
from tongban.licenses.render import render_pdf
from tongban.seals.models import Seal, SealStatus


@dataclass(frozen=True)
class LicenseField:
    key: str
    label: str
    required: bool
    value: str


def license_type_for(case: Any) -> LicenseType | None:
    if case.decision != Decision.APPROVED:
        return None
    return (
        LicenseType.objects.filter(items=case.implementation.item_id, is_active=True)
        .order_by("code")
        .first()
    )


def fields_for(case: Any, license_type: LicenseType) -> list[LicenseField]:
    form = json.loads(case.form_data or "{}")
    by_suffix = {key.rsplit(".", 1)[-1]: value for key, value in form.items()}
    out = []
    for spec in license_type.field_specs():
        key = spec["key"]
        value = form.get(key, by_suffix.get(key, ""))
        out.append(
            LicenseField(key, spec.get("label", key), bool(spec.get("required")), str(value))
        )
    return out


def issue_for(case: Any, *, actor: Any, data: dict[str, str] | None) -> License | None:
    """Issue the case's license inside the caller's transaction; None if the case issues none."""
    license_type = license_type_for(case)
    if license_type is None:
        return None
    values = {f.key: f.value for f in fields_for(case, license_type)}
    values.update({k: v for k, v in (data or {}).items() if k in values})
    seal = (
        Seal.objects.filter(
            organization_id=case.organization_id,
            seal_type=license_type.seal_type,
            status=SealStatus.ACTIVE,
        )
        .order_by("-id")
        .first()
    )
    if seal is None:
        raise CaseError(CaseErrorCode.NO_SEAL)
    holder = case.company if case.company_id else case.applicant
    try:
        lic = license_services.issue_license(
            actor=actor,
            license_type=license_type,
            holder=holder,
            data={k: v for k, v in values.items() if v},
            issuer_seal=seal,
            case_reference=case.number,
        )
    except LicenseError as exc:
        raise CaseError(
            CaseErrorCode.LICENSE_REFUSED,
            f"{CaseErrorCode.LICENSE_REFUSED.label}：{exc.message}",
            field=f"license.{exc.field}" if getattr(exc, "field", None) else "license",
        ) from exc
    content = render_pdf(lic)
    row = CaseMaterial(
        case=case,
        kind=MaterialKind.RESULT,
        name=f"{license_type.name}-{lic.identifier}.pdf"[:200],
        sm3=crypto.sm3(content).hex(),
        size=len(content),
        content_type="application/pdf",
        uploaded_by=actor if getattr(actor, "pk", None) else None,
    )
    row.file.save(f"{case.number}-license.pdf", ContentFile(content), save=False)
    row.save()
    return lic
