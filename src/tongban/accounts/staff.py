"""Staff posts and the separation of the three administrator posts (三权分立, 等保 level 3).

Only a security administrator (安全管理员) grants or revokes a post, never to or from
themself. Nobody holds two of system admin / security admin / audit admin, and an audit admin
holds no other post at all, so nobody can both act and erase (or read away) the trace of acting.

Superuser status is not a way around the rule: a superuser holds every permission, so they
cannot be given a separated post, and superuser status does not make anyone a security
administrator (:func:`is_security_admin` reads posts only). Production has no superuser; the
``operator`` superuser exists only in the demo (``tongban demo`` refuses it with
``TONGBAN_PRODUCTION=true``). The first security administrator of an installation is made with
``tongban create_security_admin`` (:func:`bootstrap_security_admin`), which works only while
there is none.

Each role maps to Django permissions through one group per role (:data:`ROLE_PERMISSIONS`,
:func:`sync_role_groups`); a user's role groups always equal the roles of their posts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from tongban.accounts.errors import AccountError, AccountErrorCode
from tongban.accounts.models import SEPARATED_ADMIN_ROLES, StaffPost, StaffRole, User
from tongban.core.audit import AuditAction, AuditResult, record

GROUP_PREFIX = "岗位:"

_CATALOG_GUIDE_MODELS = (
    "implementation",
    "location",
    "servicehours",
    "processstep",
    "material",
    "situation",
    "situationoption",
    "fee",
    "intermediary",
    "question",
)
_CATALOG_SHARED_MODELS = ("item", "itemtranslation", "theme", "powerlistentry", "synonym")
_CRUD = ("add", "change", "delete", "view")


def _perms(app: str, models: Iterable[str], verbs: Iterable[str] = _CRUD) -> list[str]:
    return [f"{app}.{verb}_{model}" for model in models for verb in verbs]


_CATALOG_VIEW = _perms("catalog", _CATALOG_GUIDE_MODELS + _CATALOG_SHARED_MODELS, ("view",))
_REVEAL = ["core.reveal_personal_data"]
# E-seals (tongban.seals, a domain above this one: named by string, never imported).
_SEAL_USE = ["seals.use_seal", "seals.view_seal"]
_SEAL_MANAGE = ["seals.manage_seal", *_SEAL_USE]
_LICENSE_ISSUE = ["licenses.issue_license", "licenses.view_license"]
_LICENSE_MANAGE = ["licenses.manage_license", *_LICENSE_ISSUE]
# Cases (tongban.cases): an organization's application forms; the data dictionary and department
# business systems are the platform's.
_CASE_FORMS = _perms("cases", ("formfield",))
_CASE_PLATFORM = _perms("cases", ("dataelement", "formfield", "departmentendpoint"))

# What each post may do, as Django permissions; object scope (organization, regions) is applied
# in SQL by :mod:`tongban.accounts.queries`. Later domains (cases …) append their codenames here.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    StaffRole.CLERK: tuple(_CATALOG_VIEW),
    StaffRole.REVIEWER: tuple(_CATALOG_VIEW + _REVEAL + _SEAL_USE + _LICENSE_ISSUE),
    StaffRole.ORG_ADMIN: tuple(
        _CATALOG_VIEW
        + _perms("catalog", _CATALOG_GUIDE_MODELS)
        + _REVEAL
        + _SEAL_MANAGE
        + _LICENSE_MANAGE
        + _CASE_FORMS
    ),
    StaffRole.OPERATOR: (
        *_perms("catalog", _CATALOG_GUIDE_MODELS + _CATALOG_SHARED_MODELS),
        *_CASE_PLATFORM,
        "core.view_region",
        "core.view_organization",
    ),
    # Configuration: regions, the working-day calendar, organizations. Not the audit trail.
    StaffRole.SYSTEM_ADMIN: tuple(
        _perms(
            "core",
            ("region", "organization", "holidayschedule", "scheduleday", "localholiday"),
        )
    ),
    # Accounts and posts (through the services), nothing else: no reveal, no audit.
    StaffRole.SECURITY_ADMIN: (
        *_perms("accounts", ("staffpost",)),
        "accounts.view_user",
        "core.view_organization",
        "core.view_region",
    ),
    StaffRole.AUDIT_ADMIN: ("core.view_auditrecord",),
}


def group_name(role: str) -> str:
    return f"{GROUP_PREFIX}{role}"


def _permission_objects(codes: Iterable[str]) -> list[Permission]:
    wanted = {tuple(code.split(".", 1)) for code in codes}
    query = Q(pk__in=[])
    for app_label, codename in wanted:
        query |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(query))


def role_group(role: str) -> Group:
    """The group of ``role`` with exactly its permissions (created if missing)."""
    group, created = Group.objects.get_or_create(name=group_name(role))
    if created:
        group.permissions.set(_permission_objects(ROLE_PERMISSIONS[role]))
    return group


def sync_role_groups() -> dict[str, Group]:
    """Create or correct the group of every role (idempotent; run after every migrate)."""
    groups = {}
    for role in StaffRole.values:
        group, _created = Group.objects.get_or_create(name=group_name(role))
        group.permissions.set(_permission_objects(ROLE_PERMISSIONS[role]))
        groups[role] = group
    return groups


# --- Reading posts ------------------------------------------------------------------------------


def roles_of(user: Any) -> set[str]:
    if not getattr(user, "pk", None):
        return set()
    return set(StaffPost.objects.filter(user_id=user.pk).values_list("role", flat=True))


def is_security_admin(user: Any) -> bool:
    """Whether ``user`` holds a security-admin post (superuser status does not count)."""
    return bool(
        user
        and getattr(user, "is_active", False)
        and getattr(user, "pk", None)
        and StaffPost.objects.filter(user_id=user.pk, role=StaffRole.SECURITY_ADMIN).exists()
    )


def separation_conflict(roles: Iterable[str], *, is_superuser: bool = False) -> bool:
    """Whether a set of roles breaks 三权分立."""
    roles = set(roles)
    separated = roles & SEPARATED_ADMIN_ROLES
    if len(separated) > 1:
        return True
    if StaffRole.AUDIT_ADMIN in roles and len(roles) > 1:
        return True
    return bool(is_superuser and separated)


# --- Changing posts ------------------------------------------------------------------------------


def _sync_user(user: User) -> None:
    """The user's role groups equal their posts' roles; ``is_staff`` follows having a post."""
    roles = set(StaffPost.objects.filter(user=user).values_list("role", flat=True))
    current = set(user.groups.filter(name__startswith=GROUP_PREFIX))
    wanted = {role_group(role) for role in roles}
    user.groups.remove(*(current - wanted))
    user.groups.add(*(wanted - current))
    is_staff = bool(roles) or user.is_superuser
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])


def _refuse(
    *, actor: Any, code: AccountErrorCode, details: dict, subject: str, ctx: dict
) -> AccountError:
    """Commit a failure record of the refused permission change and return the error to raise."""
    with transaction.atomic():
        record(
            actor=actor,
            action=AuditAction.PERMISSION_CHANGE,
            result=AuditResult.FAILURE,
            object_type="accounts.staffpost",
            subject=subject,
            details={**details, "error": code.value},
            **ctx,
        )
    return AccountError(code)


def _check_actor(actor: Any, user: User, details: dict, ctx: dict) -> None:
    subject = f"user:{user.pk}"
    if not is_security_admin(actor):
        raise _refuse(
            actor=actor,
            code=AccountErrorCode.FORBIDDEN,
            details=details,
            subject=subject,
            ctx=ctx,
        )
    if actor.pk == user.pk:
        raise _refuse(
            actor=actor,
            code=AccountErrorCode.SELF_GRANT,
            details=details,
            subject=subject,
            ctx=ctx,
        )


def grant_post(
    *,
    actor: Any,
    user: User,
    organization,
    role: str,
    regions: Iterable = (),
    ip: str | None = None,
    user_agent: str = "",
) -> StaffPost:
    """Give ``user`` the post ``role`` in ``organization`` over ``regions`` (none: the
    organization's region). Granting a post the user already holds replaces its regions.

    Refusals (each committed to the audit trail as a failure, then raised): ``forbidden`` unless
    the actor is a security admin, ``self_grant``, ``role_conflict`` (三权分立)."""
    regions = list(regions)
    ctx = {"ip": ip, "user_agent": user_agent}
    details = {
        "change": "grant",
        "user": user.pk,
        "role": str(role),
        "organization": organization.pk,
        "regions": sorted(r.code for r in regions),
    }
    if role not in StaffRole.values:
        raise AccountError(AccountErrorCode.FORBIDDEN, field="role")
    _check_actor(actor, user, details, ctx)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        held = set(StaffPost.objects.filter(user=locked).values_list("role", flat=True))
        if not locked.is_active:
            refused = AccountErrorCode.FORBIDDEN
        elif separation_conflict(held | {role}, is_superuser=locked.is_superuser):
            refused = AccountErrorCode.ROLE_CONFLICT
        else:
            refused = None
            post, created = StaffPost.objects.get_or_create(
                user=locked,
                organization=organization,
                role=role,
                defaults={"granted_by": actor},
            )
            post.regions.set(regions)
            _sync_user(locked)
            record(
                actor=actor,
                action=AuditAction.PERMISSION_CHANGE,
                object_type="accounts.staffpost",
                object_id=post.pk,
                subject=f"user:{locked.pk}",
                details={**details, "created": created},
                **ctx,
            )
    if refused is not None:
        raise _refuse(
            actor=actor,
            code=refused,
            details=details,
            subject=f"user:{user.pk}",
            ctx=ctx,
        )
    user.refresh_from_db(fields=["is_staff"])
    return post


def revoke_post(
    *, actor: Any, post: StaffPost, ip: str | None = None, user_agent: str = ""
) -> None:
    """Take a post away (security admin only, never their own)."""
    ctx = {"ip": ip, "user_agent": user_agent}
    user = post.user
    details = {
        "change": "revoke",
        "user": user.pk,
        "role": post.role,
        "organization": post.organization_id,
        "post": post.pk,
    }
    _check_actor(actor, user, details, ctx)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        deleted, _rows = StaffPost.objects.filter(pk=post.pk).delete()
        if not deleted:
            raise AccountError(AccountErrorCode.NOT_FOUND)
        _sync_user(locked)
        record(
            actor=actor,
            action=AuditAction.PERMISSION_CHANGE,
            object_type="accounts.staffpost",
            object_id=details["post"],
            subject=f"user:{locked.pk}",
            details=details,
            **ctx,
        )


def bootstrap_security_admin(*, user: User, organization) -> StaffPost:
    """Make the first security administrator of an installation (command
    ``create_security_admin``); refused once any security administrator exists."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if StaffPost.objects.filter(role=StaffRole.SECURITY_ADMIN).exists():
            raise AccountError(AccountErrorCode.FORBIDDEN)
        held = set(StaffPost.objects.filter(user=locked).values_list("role", flat=True))
        if separation_conflict(held | {StaffRole.SECURITY_ADMIN}, is_superuser=locked.is_superuser):
            raise AccountError(AccountErrorCode.ROLE_CONFLICT)
        post = StaffPost.objects.create(
            user=locked, organization=organization, role=StaffRole.SECURITY_ADMIN
        )
        _sync_user(locked)
        record(
            actor=None,
            action=AuditAction.PERMISSION_CHANGE,
            object_type="accounts.staffpost",
            object_id=post.pk,
            subject=f"user:{locked.pk}",
            details={
                "change": "bootstrap",
                "user": locked.pk,
                "role": StaffRole.SECURITY_ADMIN.value,
                "organization": organization.pk,
            },
        )
    return post


__all__ = [
    "ROLE_PERMISSIONS",
    "bootstrap_security_admin",
    "grant_post",
    "group_name",
    "is_security_admin",
    "revoke_post",
    "role_group",
    "roles_of",
    "separation_conflict",
    "sync_role_groups",
]
