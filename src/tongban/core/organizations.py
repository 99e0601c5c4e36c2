"""Organizations (部门 / 实施主体): the rules for creating and changing one.

:func:`organization_problems` checks a set of values against every rule and returns each problem
with its field, machine code and Chinese message; :func:`create_organization` and
:func:`update_organization` apply it and raise :class:`OrganizationError`; the admin form shows
the same problems beside the fields.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from tongban.core.identifiers import IdentifierError, validate_uscc
from tongban.core.models import Organization, OrganizationKind, Region, UtilitySector

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = (
    "name", "short_name", "uscc", "kind", "sector", "region", "parent", "phone", "address",
    "is_active",
)  # fmt: skip
REQUIRED_FIELDS = ("name", "uscc", "kind", "region")
NON_FIELD = "__all__"


class OrganizationErrorCode(models.TextChoices):
    PERMISSION_DENIED = "permission_denied", _("没有管理部门的权限")
    UNKNOWN_FIELD = "unknown_field", _("部门没有这一项")
    REQUIRED = "required", _("必填项未填")
    TOO_LONG = "too_long", _("内容过长")
    USCC_INVALID = "uscc_invalid", _("统一社会信用代码无效")
    USCC_TAKEN = "uscc_taken", _("统一社会信用代码已被其他部门使用")
    NAME_TAKEN = "name_taken", _("同一区划内已有同名部门")
    KIND_INVALID = "kind_invalid", _("部门性质无效")
    SECTOR_INVALID = "sector_invalid", _("公共服务行业无效")
    SECTOR_NOT_ALLOWED = "sector_not_allowed", _("只有公共服务单位可以填写公共服务行业")
    SECTOR_REQUIRED = "sector_required", _("公共服务单位应填写所属行业")
    REGION_INACTIVE = "region_inactive", _("所属区划已停用")
    PARENT_SELF = "parent_self", _("上级单位不能是本单位")
    PARENT_CYCLE = "parent_cycle", _("上级单位形成循环")
    PARENT_INACTIVE = "parent_inactive", _("上级单位已停用")
    PARENT_REGION = "parent_region", _("上级单位的区划应为本单位区划或其上级区划")
    HAS_ACTIVE_CHILDREN = "has_active_children", _("仍有有效的下级单位，不能停用")
    INVALID = "invalid", _("部门信息有误")


@dataclass(frozen=True)
class FieldProblem:
    field: str
    code: str
    message: str


@dataclass
class OrganizationError(ValueError):
    """Values that cannot be saved; ``problems`` lists every one, ``code`` is the first's."""

    code: str
    message: str
    problems: list[FieldProblem] = field(default_factory=list)

    def __str__(self) -> str:
        return str(self.message)


def _problem(field_name: str, code: OrganizationErrorCode, message: Any = None) -> FieldProblem:
    return FieldProblem(field_name, code.value, str(message if message is not None else code.label))


def _parent_problems(
    organization: Organization | None, parent: Organization, region: Region | None
) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    own_pk = organization.pk if organization is not None else None
    if own_pk is not None and parent.pk == own_pk:
        return [_problem("parent", OrganizationErrorCode.PARENT_SELF)]
    if not parent.is_active:
        problems.append(_problem("parent", OrganizationErrorCode.PARENT_INACTIVE))
    if own_pk is not None:
        seen: set[int] = set()
        ancestor_id: int | None = parent.parent_id
        while ancestor_id is not None and ancestor_id not in seen:
            if ancestor_id == own_pk:
                problems.append(
                    _problem(
                        "parent",
                        OrganizationErrorCode.PARENT_CYCLE,
                        _("“%(parent)s”是本单位的下级单位，不能作为上级单位")
                        % {"parent": parent.name},
                    )
                )
                break
            seen.add(ancestor_id)
            ancestor_id = (
                Organization.objects.filter(pk=ancestor_id)
                .values_list("parent_id", flat=True)
                .first()
            )
    if region is not None:
        parent_code = parent.region.code
        if parent_code != region.code and parent_code not in region.ancestor_codes():
            problems.append(
                _problem(
                    "parent",
                    OrganizationErrorCode.PARENT_REGION,
                    _("上级单位“%(parent)s”属于%(region)s，不是本单位区划或其上级区划")
                    % {"parent": parent.name, "region": parent.region.name},
                )
            )
    return problems


def organization_problems(
    *, organization: Organization | None, fields: Mapping[str, Any]
) -> list[FieldProblem]:
    """Every problem of setting ``fields`` on ``organization`` (``None``: a new organization).

    ``region`` and ``parent`` are model instances (or ``None``). Values not in ``fields`` are
    taken from ``organization``.
    """
    problems = [
        _problem(name, OrganizationErrorCode.UNKNOWN_FIELD)
        for name in fields
        if name not in EDITABLE_FIELDS
    ]
    values: dict[str, Any] = {}
    if organization is not None:
        values = {
            name: getattr(organization, name)
            for name in EDITABLE_FIELDS
            if name not in ("region", "parent")
        }
        values["region"] = organization.region if organization.region_id else None
        values["parent"] = organization.parent if organization.parent_id else None
    values.update({name: value for name, value in fields.items() if name in EDITABLE_FIELDS})

    for name in REQUIRED_FIELDS:
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append(_problem(name, OrganizationErrorCode.REQUIRED))
    for name in ("name", "short_name", "phone", "address"):
        limit = Organization._meta.get_field(name).max_length
        if len(values.get(name) or "") > limit:
            problems.append(
                _problem(name, OrganizationErrorCode.TOO_LONG, _("最多%(n)d个字") % {"n": limit})
            )

    own_pk = organization.pk if organization is not None else None
    creating = organization is None

    def touched(*names: str) -> bool:
        return creating or any(name in fields for name in names)

    uscc = values.get("uscc")
    if uscc and touched("uscc"):
        try:
            normalized = validate_uscc(uscc)
        except IdentifierError as exc:
            problems.append(_problem("uscc", OrganizationErrorCode.USCC_INVALID, exc.message))
        else:
            if Organization.objects.filter(uscc=normalized).exclude(pk=own_pk).exists():
                problems.append(
                    _problem(
                        "uscc",
                        OrganizationErrorCode.USCC_TAKEN,
                        _("统一社会信用代码%(uscc)s已被其他部门使用") % {"uscc": normalized},
                    )
                )

    kind, sector = values.get("kind"), values.get("sector") or ""
    if kind and kind not in OrganizationKind.values:
        problems.append(_problem("kind", OrganizationErrorCode.KIND_INVALID))
    if sector not in UtilitySector.values:
        problems.append(_problem("sector", OrganizationErrorCode.SECTOR_INVALID))
    elif kind == OrganizationKind.PUBLIC_SERVICE and not sector:
        problems.append(_problem("sector", OrganizationErrorCode.SECTOR_REQUIRED))
    elif kind and kind != OrganizationKind.PUBLIC_SERVICE and sector:
        problems.append(_problem("sector", OrganizationErrorCode.SECTOR_NOT_ALLOWED))

    region: Region | None = values.get("region")
    region_changed = "region" in fields and (
        organization is None or organization.region_id != getattr(region, "pk", None)
    )
    if region is not None and not region.is_active and (creating or region_changed):
        problems.append(
            _problem(
                "region",
                OrganizationErrorCode.REGION_INACTIVE,
                _("区划“%(region)s”已停用，请选择有效的区划") % {"region": region},
            )
        )
    name = (values.get("name") or "").strip()
    if (
        name
        and region is not None
        and values.get("is_active", True)
        and touched("name", "region", "is_active")
    ):
        taken = Organization.objects.filter(name=name, region=region, is_active=True).exclude(
            pk=own_pk
        )
        if taken.exists():
            problems.append(
                _problem(
                    "name",
                    OrganizationErrorCode.NAME_TAKEN,
                    _("%(region)s已有名为“%(name)s”的部门") % {"region": region.name, "name": name},
                )
            )

    parent: Organization | None = values.get("parent")
    if parent is not None and touched("parent", "region"):
        problems.extend(_parent_problems(organization, parent, region))
    deactivating = (
        own_pk is not None and values.get("is_active") is False and organization.is_active
    )
    if deactivating and Organization.objects.filter(parent_id=own_pk, is_active=True).exists():
        problems.append(_problem("is_active", OrganizationErrorCode.HAS_ACTIVE_CHILDREN))
    return problems


def _check_actor(actor, permission: str) -> None:
    """``actor=None`` is the platform itself (imports, demo data); a user needs ``permission``."""
    if actor is not None and not actor.has_perm(permission):
        code = OrganizationErrorCode.PERMISSION_DENIED
        raise OrganizationError(code.value, str(code.label), [_problem(NON_FIELD, code)])


def _raise_if(problems: list[FieldProblem]) -> None:
    if problems:
        first = problems[0]
        raise OrganizationError(first.code, first.message, problems)


def _save(organization: Organization) -> Organization:
    try:
        with transaction.atomic():
            organization.save()
    except IntegrityError as exc:
        # Another request took the same credit code between the check and the insert.
        code = OrganizationErrorCode.USCC_TAKEN
        raise OrganizationError(code.value, str(code.label), [_problem("uscc", code)]) from exc
    return organization


@transaction.atomic
def create_organization(*, actor, **fields: Any) -> Organization:
    """Create an organization after checking every rule; raises :class:`OrganizationError`."""
    _check_actor(actor, "core.add_organization")
    _raise_if(organization_problems(organization=None, fields=fields))
    values = {**fields, "uscc": validate_uscc(fields["uscc"])}
    values["name"] = values["name"].strip()
    organization = _save(Organization(**values))
    logger.info(
        "organization created",
        extra={"organization": organization.pk, "actor": getattr(actor, "pk", None)},
    )
    return organization


@transaction.atomic
def update_organization(*, actor, organization: Organization, **fields: Any) -> Organization:
    """Change ``fields`` of ``organization`` (row locked) after checking every rule."""
    _check_actor(actor, "core.change_organization")
    current = (
        Organization.objects.select_for_update(of=("self",))
        .select_related("region", "parent")
        .get(pk=organization.pk)
    )
    _raise_if(organization_problems(organization=current, fields=fields))
    if "uscc" in fields:
        fields = {**fields, "uscc": validate_uscc(fields["uscc"])}
    if "name" in fields:
        fields = {**fields, "name": fields["name"].strip()}
    for name, value in fields.items():
        setattr(current, name, value)
    _save(current)
    logger.info(
        "organization updated",
        extra={
            "organization": current.pk,
            "actor": getattr(actor, "pk", None),
            "fields": sorted(fields),
        },
    )
    return current
