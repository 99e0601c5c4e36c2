"""State changes of the catalog: each a named function with keyword arguments, one transaction.

An item's name, code, basis and type (seed 001 row 10) are changed only through :func:`update_item`
(or the item admin): an implementation refers to its item and has no field that could override
them. After items or implementations change, the search index is refreshed with
:func:`reindex` (``tongban.catalog.search.reindex_items``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.catalog import rules
from tongban.catalog.models import Implementation, ImplementationStatus, Item
from tongban.core import audit

logger = logging.getLogger(__name__)

__all__ = [
    "ITEM_EDITABLE_FIELDS",
    "CatalogError",
    "CatalogErrorCode",
    "forget_guides_on_commit",
    "item_changed",
    "publish_implementation",
    "reindex",
    "reindex_on_commit",
    "save_implementation",
    "update_item",
]


class CatalogErrorCode(models.TextChoices):
    GUIDE_HAS_ERRORS = "guide_has_errors", _("办事指南存在相互矛盾的内容，不能发布或保存")
    NOT_PUBLISHABLE = "not_publishable", _("已废止的实施清单不能发布")
    INVALID_ITEM = "invalid_item", _("事项信息不符合要求")
    UNKNOWN_FIELD = "unknown_field", _("该字段不能通过此操作修改")


class CatalogError(Exception):
    """A refused catalog change: a machine ``code``, a Chinese ``message`` and any findings."""

    def __init__(
        self,
        code: CatalogErrorCode,
        *,
        findings: Sequence[rules.Finding] = (),
        detail: str = "",
    ):
        self.code = code
        self.findings = list(findings)
        self.detail = detail
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = str(self.code.label)
        if self.findings:
            text += "：" + "；".join(f.message for f in self.findings)
        elif self.detail:
            text += "：" + self.detail
        return text


# Fields of an item that update_item may change. Identity (code) may change too: an operator
# corrects a wrong code once, here, and every implementation follows.
ITEM_EDITABLE_FIELDS = frozenset(
    {
        "code",
        "national_code",
        "name",
        "item_type",
        "legal_basis",
        "level",
        "audiences",
        "keywords",
        "description",
        "is_active",
    }
)


def reindex(items: Iterable[Item]) -> None:
    """Refresh the search tokens of ``items`` (catalog.search owns the index)."""
    items = [item for item in items if item is not None]
    if not items:
        return
    from tongban.catalog.search import reindex_items  # lazily: search is optional here

    reindex_items(items)


def reindex_on_commit(items: Iterable[Item]) -> None:
    """Refresh the search tokens of ``items`` once the current transaction commits."""
    items = list({item.pk: item for item in items}.values())
    transaction.on_commit(lambda: reindex(items))


def forget_guides_on_commit(codes: Iterable[str]) -> None:
    """Once the transaction commits, cached guide pages of these implementations are stale."""
    codes = sorted(set(codes))

    def forget() -> None:
        from tongban.catalog.guides import forget_guide

        for code in codes:
            forget_guide(code)

    transaction.on_commit(forget)


def item_changed(*, item: Item) -> list[str]:
    """An item's own fields, translations or themes changed: its guides must show it at once.

    A guide's cache stamp is its implementation's ``updated_at``, so this refreshes the
    ``updated_at`` of every implementation of ``item`` (one UPDATE) and drops their cached stamps
    once the transaction commits. Call it inside the transaction that changed the item (it opens
    one when there is none). Returns the implementation codes concerned.
    """
    with transaction.atomic():
        implementations = Implementation.objects.filter(item_id=item.pk)
        codes = list(implementations.values_list("code", flat=True))
        implementations.update(updated_at=timezone.now())
        forget_guides_on_commit(codes)
    return codes


def update_item(*, actor, item: Item, **changes) -> Item:
    """Change an item's base-catalog fields; the same values then hold in every region."""
    unknown = set(changes) - ITEM_EDITABLE_FIELDS
    if unknown:
        raise CatalogError(CatalogErrorCode.UNKNOWN_FIELD, detail="、".join(sorted(unknown)))
    with transaction.atomic():
        item = Item.objects.select_for_update().get(pk=item.pk)
        for name, value in changes.items():
            setattr(item, name, value)
        try:
            item.full_clean()
        except ValidationError as exc:
            detail = "；".join(f"{k}：{'，'.join(v)}" for k, v in exc.message_dict.items())
            raise CatalogError(CatalogErrorCode.INVALID_ITEM, detail=detail) from exc
        item.save()
        audit.record(
            actor=actor,
            action="catalog.item_update",
            object_type="catalog.item",
            object_id=item.pk,
            details={"code": item.code, "fields": sorted(changes)},
        )
        reindex_on_commit([item])
        item_changed(item=item)
    logger.info(
        "item %s updated by %s: %s", item.code, getattr(actor, "pk", actor), sorted(changes)
    )
    return item


def save_implementation(*, actor, implementation: Implementation) -> list[rules.Finding]:
    """Save an implementation's own fields after checking the whole guide it will have.

    Its children are read from the database (a new implementation has none). Errors refuse the
    save with :class:`CatalogError`; the defects found are returned so the caller can warn.
    """
    with transaction.atomic():
        if implementation.pk:
            Implementation.objects.select_for_update().filter(pk=implementation.pk).first()
        findings = rules.check_implementation(implementation, prefetched=False)
        blocking = rules.errors(findings)
        if blocking:
            raise CatalogError(CatalogErrorCode.GUIDE_HAS_ERRORS, findings=blocking)
        implementation.full_clean()
        implementation.save()
        audit.record(
            actor=actor,
            action="catalog.implementation_save",
            object_type="catalog.implementation",
            object_id=implementation.pk,
            details={"code": implementation.code},
        )
        reindex_on_commit([implementation.item])
        forget_guides_on_commit([implementation.code])
    logger.info("implementation %s saved by %s", implementation.code, getattr(actor, "pk", actor))
    return findings


def publish_implementation(*, actor, implementation: Implementation) -> Implementation:
    """Make an implementation's guide public (status ``active``), refusing a guide with errors."""
    with transaction.atomic():
        impl = (
            Implementation.objects.select_for_update()
            .select_related("item")
            .get(pk=implementation.pk)
        )
        if impl.status == ImplementationStatus.RETIRED:
            raise CatalogError(CatalogErrorCode.NOT_PUBLISHABLE)
        blocking = rules.errors(rules.check_implementation(impl, prefetched=False))
        if blocking:
            raise CatalogError(CatalogErrorCode.GUIDE_HAS_ERRORS, findings=blocking)
        if impl.status != ImplementationStatus.ACTIVE:
            impl.status = ImplementationStatus.ACTIVE
            if impl.effective_from is None:
                impl.effective_from = timezone.localdate()
            impl.save(update_fields=["status", "effective_from", "updated_at"])
            audit.record(
                actor=actor,
                action="catalog.publish",
                object_type="catalog.implementation",
                object_id=impl.pk,
                details={"code": impl.code},
            )
            reindex_on_commit([impl.item])
            forget_guides_on_commit([impl.code])
    logger.info("implementation %s published by %s", impl.code, getattr(actor, "pk", actor))
    implementation.status = impl.status
    implementation.effective_from = impl.effective_from
    return impl
