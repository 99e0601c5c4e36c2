"""Reads that decide what a staff member may see: object-level scope applied in SQL.

A post covers the rows of its organization within its jurisdiction: the post's regions, or, when
it lists none, the organization's own region; a region covers its sub-regions (code prefixes,
:func:`tongban.core.models.regions.region_prefix`). A staff member sees the union of their posts.
Platform operators (and the demo superuser) see everything; a user without a post sees nothing.

Usage, in any channel: ``queryset.filter(scope_q(user, "organization", "region_code"))``. The
region field should be a code column (``region_code``) so the prefix filter uses its index; a
``region`` foreign key works as ``"region__code"`` at the cost of a join. Pass ``None`` for a
model that has no organization (or no region) column.

Domains below accounts (catalog) never import this module: the channels apply it (see
:mod:`tongban.backoffice.scoping`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from tongban.accounts.models import AgentGrant, Company, StaffPost, StaffRole, User
from tongban.core.models.regions import region_prefix
from tongban.core.personal import lookup_digest, normalize

SEES_EVERYTHING = frozenset({StaffRole.OPERATOR})
_CACHE_ATTR = "_tongban_staff_scope"


@dataclass(frozen=True)
class PostScope:
    organization_id: int
    region_prefixes: tuple[str, ...]


@dataclass(frozen=True)
class StaffScope:
    everything: bool = False
    posts: tuple[PostScope, ...] = field(default_factory=tuple)

    @property
    def organization_ids(self) -> frozenset[int]:
        return frozenset(p.organization_id for p in self.posts)

    @property
    def region_prefixes(self) -> tuple[str, ...]:
        return tuple(sorted({prefix for p in self.posts for prefix in p.region_prefixes}))

    @property
    def nothing(self) -> bool:
        return not self.everything and not self.posts

    def covers(self, organization_id: int | None, region_code: str | None) -> bool:
        """The same rule as :meth:`q`, for one object already in memory."""
        if self.everything:
            return True
        for post in self.posts:
            if organization_id is not None and organization_id != post.organization_id:
                continue
            if region_code is not None and not region_code.startswith(post.region_prefixes):
                continue
            return True
        return False

    def q(self, organization_field: str | None, region_field: str | None) -> Q:
        if self.everything:
            return Q()
        if not self.posts:
            return Q(pk__in=[])
        result = Q(pk__in=[])
        for post in self.posts:
            part = Q()
            if organization_field:
                part &= Q(**{organization_field: post.organization_id})
            if region_field:
                regions = Q(pk__in=[])
                for prefix in post.region_prefixes:
                    regions |= Q(**{f"{region_field}__startswith": prefix})
                part &= regions
            result |= part
        return result


def staff_scope(user: Any) -> StaffScope:
    """The organizations and regions ``user`` may see (two queries, cached on the user)."""
    if not (user and getattr(user, "is_authenticated", False) and user.is_active):
        return StaffScope()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    posts = list(
        StaffPost.objects.filter(user_id=user.pk)
        .select_related("organization__region")
        .prefetch_related("regions")
    )
    if user.is_superuser or any(p.role in SEES_EVERYTHING for p in posts):
        scope = StaffScope(everything=True)
    else:
        merged: dict[int, set[str]] = {}
        for post in posts:
            codes = [r.code for r in post.regions.all()] or [post.organization.region.code]
            merged.setdefault(post.organization_id, set()).update(region_prefix(c) for c in codes)
        scope = StaffScope(
            posts=tuple(
                PostScope(org, tuple(sorted(prefixes))) for org, prefixes in sorted(merged.items())
            )
        )
    setattr(user, _CACHE_ATTR, scope)
    return scope


def forget_scope(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def scope_q(user: Any, organization_field: str | None, region_field: str | None) -> Q:
    """A ``Q`` restricting a queryset to the rows of ``user``'s posts (see module doc)."""
    return staff_scope(user).q(organization_field, region_field)


def restrict(
    queryset: QuerySet, user: Any, organization_field: str | None, region_field: str | None
) -> QuerySet:
    return queryset.filter(scope_q(user, organization_field, region_field))


# --- Persons and companies -----------------------------------------------------------------------


def find_person(identifier: str) -> User | None:
    """The active user whose mobile or ID number is exactly ``identifier`` (by digest)."""
    text = normalize("id_number", identifier or "")
    if not text:
        return None
    if len(text) == 18:
        query = Q(id_number_digest=lookup_digest("id_number", text))
    else:
        query = Q(phone_digest=lookup_digest("phone", identifier))
    return User.objects.filter(query, is_active=True).first()


def visible_users(user: Any) -> QuerySet[User]:
    """Persons a staff member may list in the back office: everyone for a security admin or an
    operator (account administration), staff of their own organizations for others."""
    scope = staff_scope(user)
    if scope.everything or (
        getattr(user, "pk", None)
        and StaffPost.objects.filter(user_id=user.pk, role=StaffRole.SECURITY_ADMIN).exists()
    ):
        return User.objects.all()
    if scope.nothing:
        return User.objects.none()
    return User.objects.filter(staff_posts__organization_id__in=scope.organization_ids).distinct()


def companies_of(user: Any) -> QuerySet[Company]:
    """Companies ``user`` represents (legal representative) or holds a grant for (live or not,
    so an expired grant still shows, marked)."""
    if not getattr(user, "pk", None):
        return Company.objects.none()
    return Company.objects.filter(
        Q(legal_rep_id=user.pk) | Q(agent_grants__agent_id=user.pk, agent_grants__revoked_at=None)
    ).distinct()


def live_grants(company: Company) -> QuerySet[AgentGrant]:
    return (
        AgentGrant.objects.filter(company=company, revoked_at__isnull=True)
        .select_related("agent")
        .prefetch_related("items")
        .order_by("expires_at")
    )


def organizations_permitting(user: Any, permission: str) -> frozenset[int] | None:
    """Ids of the organizations where ``user`` holds a post whose role carries ``permission``
    (``"app_label.codename"``); ``None`` means every organization (a superuser, or a post that
    sees everything). A permission counts only through a post: a direct grant gives no
    organization. Two queries."""
    from django.contrib.auth.models import Group

    from tongban.accounts.staff import GROUP_PREFIX

    if not (user and getattr(user, "is_authenticated", False) and user.is_active):
        return frozenset()
    if user.is_superuser:
        return None
    app_label, codename = permission.split(".", 1)
    names = Group.objects.filter(
        name__startswith=GROUP_PREFIX,
        permissions__content_type__app_label=app_label,
        permissions__codename=codename,
    ).values_list("name", flat=True)
    roles = {name[len(GROUP_PREFIX) :] for name in names}
    if not roles:
        return frozenset()
    organization_ids = set()
    posts = StaffPost.objects.filter(user_id=user.pk, role__in=roles)
    for organization_id, role in posts.values_list("organization_id", "role"):
        if role in SEES_EVERYTHING:
            return None
        organization_ids.add(organization_id)
    return frozenset(organization_ids)


__all__ = [
    "PostScope",
    "StaffScope",
    "companies_of",
    "find_person",
    "forget_scope",
    "live_grants",
    "organizations_permitting",
    "restrict",
    "scope_q",
    "staff_scope",
    "visible_users",
]
