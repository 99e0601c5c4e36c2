"""Who may issue and manage which license, and whose licenses a person may present.

* **Issue** (``licenses.issue_license``) or **manage** (``licenses.manage_license``: suspend,
  reinstate, revoke, cancel): a post *in the issuing organization* whose role group holds the
  permission (:mod:`tongban.accounts.staff` maps roles to permissions); a superuser, or a post
  whose role sees everything and holds it, acts everywhere. Outside the actor's staff scope a
  license looks missing (``not_found``); in scope without the permission, ``forbidden``.
* **Present** (亮证): the person holding it, or for a company's license its legal representative
  or a live agent (:func:`tongban.accounts.companies.may_act_for`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from tongban.accounts.companies import may_act_for
from tongban.accounts.models import AgentGrant
from tongban.accounts.queries import organizations_permitting, staff_scope
from tongban.licenses.errors import LicenseError, LicenseErrorCode
from tongban.licenses.models import HolderKind, License, LicenseStatus

ISSUE = "issue_license"
MANAGE = "manage_license"
ACTIONS = (ISSUE, MANAGE)


def organizations_for(user: Any, action: str) -> frozenset[int] | None:
    """Organization ids where ``user`` may ``action`` (``None``: every organization)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown license action {action!r}")
    return organizations_permitting(user, f"licenses.{action}")


def check(user: Any, organization_id: int, action: str) -> None:
    """Raise ``not_found`` outside the user's scope, ``forbidden`` in scope without ``action``."""
    if not staff_scope(user).covers(organization_id, None):
        raise LicenseError(LicenseErrorCode.NOT_FOUND)
    allowed = organizations_for(user, action)
    if allowed is not None and organization_id not in allowed:
        raise LicenseError(LicenseErrorCode.FORBIDDEN)


def may_present(user: Any, license: License) -> bool:
    if not (user and getattr(user, "pk", None) and user.is_active):
        return False
    if license.holder_kind == HolderKind.PERSON:
        return license.person_id == user.pk
    return may_act_for(user, license.company)


def held_by(user: Any) -> QuerySet[License]:
    """The licenses ``user`` may present: their own and those of companies they represent."""
    if not (user and getattr(user, "pk", None) and user.is_active):
        return License.objects.none()
    live_grants = AgentGrant.objects.filter(
        agent_id=user.pk, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).values("company_id")
    return License.objects.filter(
        Q(person_id=user.pk) | Q(company__legal_rep_id=user.pk) | Q(company_id__in=live_grants)
    )


def usable_for(user: Any, material_ids: Any) -> dict[int, list[License]]:
    """The valid licenses ``user`` holds that stand in for each of ``material_ids`` (用证)."""
    ids = [int(m) for m in material_ids]
    if not ids:
        return {}
    rows = (
        held_by(user)
        .filter(status=LicenseStatus.VALID, license_type__materials__in=ids)
        .select_related("license_type")
        .annotate(material_id=F("license_type__materials"))
        .order_by("-issued_at")
    )
    today = timezone.localdate()
    out: dict[int, list[License]] = {}
    for lic in rows:
        if lic.material_id in ids and not lic.is_past_validity(today):
            out.setdefault(lic.material_id, []).append(lic)
    return out


__all__ = [
    "ACTIONS",
    "ISSUE",
    "MANAGE",
    "check",
    "held_by",
    "may_present",
    "organizations_for",
    "usable_for",
]
