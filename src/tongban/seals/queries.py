"""Who may see, manage and use which seal, applied in SQL.

* **See** a seal: staff whose posts cover its organization (:func:`tongban.accounts.queries.scope_q`
  on ``organization``; seals have no region of their own).
* **Manage** (``seals.manage_seal``) or **use** (``seals.use_seal``) a seal: a post *in the seal's
  organization* whose role group holds the permission (:mod:`tongban.accounts.staff` maps roles
  to permissions), so an org admin of one organization who is a clerk in another manages only
  the first one's seals. A superuser, or a post whose role sees everything (operator) and holds
  the permission, acts on every seal.

Missing and forbidden look the same to the caller: :func:`get_for` raises ``NOT_FOUND`` for both.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from tongban.accounts.queries import organizations_permitting, scope_q, staff_scope
from tongban.seals.errors import SealError, SealErrorCode
from tongban.seals.models import Seal

MANAGE = "manage_seal"
USE = "use_seal"
ACTIONS = (MANAGE, USE)


def organizations_for(user: Any, action: str) -> frozenset[int] | None:
    """Organization ids where ``user`` may ``action`` (``None``: every organization)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown seal action {action!r}")
    return organizations_permitting(user, f"seals.{action}")


def visible_q(user: Any) -> Q:
    """A ``Q`` on Seal: the seals of the organizations ``user``'s posts cover."""
    return scope_q(user, "organization", None)


def visible_to(user: Any, action: str | None = None) -> QuerySet[Seal]:
    """Seals ``user`` may see (``action=None``), manage (``MANAGE``) or use (``USE``)."""
    seals = Seal.objects.filter(visible_q(user))
    if action is None:
        return seals
    organization_ids = organizations_for(user, action)
    if organization_ids is None:
        return seals
    return seals.filter(organization_id__in=organization_ids)


def can(user: Any, seal: Seal, action: str) -> bool:
    """The same rule as :func:`visible_to` for one seal already in memory."""
    if not staff_scope(user).covers(seal.organization_id, None):
        return False
    organization_ids = organizations_for(user, action)
    return organization_ids is None or seal.organization_id in organization_ids


def get_for(user: Any, pk: int, action: str | None = None) -> Seal:
    try:
        return visible_to(user, action).select_related("organization").get(pk=pk)
    except (Seal.DoesNotExist, ValueError, TypeError):
        raise SealError(SealErrorCode.NOT_FOUND) from None


__all__ = [
    "ACTIONS",
    "MANAGE",
    "USE",
    "can",
    "get_for",
    "organizations_for",
    "visible_q",
    "visible_to",
]
