"""The catalog to and from Excel (layout: docs/catalog-excel.md); this module imports.

One workbook, one sheet per kind of row (事项, 实施清单, 办理地点, 办理时间, 办理流程,
申请材料, 情形, 收费, 中介服务, 常见问题). Row 1 holds the Chinese headers, row 2 the machine
keys; data start on row 3. Columns are found by key (or, without a key row, by header), so
their order is free. Code lists are written as Chinese labels and read as label or code;
booleans are 是/否.

Import is all-or-nothing: every sheet is parsed and every row validated (types, lengths, code
lists, references, duplicates, and :mod:`tongban.catalog.rules`) before anything is written; any
error and the database is untouched, and the report lists every bad cell with its sheet, row,
column, machine code and Chinese message. Then everything is written in one transaction, in bulk.
Items and implementations are matched by code (upsert). An implementation's child rows are
replaced as a whole when they differ from what is stored, and left alone when they do not, so
importing an export changes nothing.

The layout (sheets, columns, labels ↔ codes) is :mod:`tongban.catalog.excel_layout`; reading a
workbook into rows and the report are :mod:`tongban.catalog.excel_read`; writing one is
:mod:`tongban.catalog.excel_export`. Callers use the names re-exported here.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from tongban.catalog import rules, services
from tongban.catalog.excel_export import ExportError, export_catalog
from tongban.catalog.excel_layout import (
    CHILD_MODELS,
    CHILD_SHEETS,
    FAQS,
    FEES,
    HOURS,
    IMPL_COL,
    IMPLEMENTATION_FIELDS,
    IMPLEMENTATIONS,
    INTERMEDIARIES,
    ITEMS,
    LOCATIONS,
    MATERIALS,
    SHEET_BY_KEY,
    SHEETS,
    SITUATIONS,
    STEPS,
    Sheet,
)
from tongban.catalog.excel_read import ImportIssue, ImportReport, Row, read_workbook
from tongban.catalog.models import (
    Implementation,
    Item,
    Material,
    PowerListEntry,
    Situation,
    SituationOption,
    Theme,
)
from tongban.core import audit
from tongban.core.identifiers import IdentifierError, validate_uscc
from tongban.core.models import Organization, Region

__all__ = [
    "SHEETS",
    "ExportError",
    "ImportIssue",
    "ImportReport",
    "export_catalog",
    "import_catalog",
]

_CHUNK = 1000


# --- import ---------------------------------------------------------------------------------------
def _chunks(values: list, size: int = _CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _in_bulk(model, field_name: str, values: Iterable[str], **extra) -> dict:
    found = {}
    values = sorted(set(values))
    for chunk in _chunks(values):
        for obj in model.objects.filter(**{f"{field_name}__in": chunk}, **extra):
            found[getattr(obj, field_name)] = obj
    return found


def _load_existing(codes: list[str]) -> dict[str, Implementation]:
    existing: dict[str, Implementation] = {}
    prefetch = (*rules.GUIDE_PREFETCH, "fees", "faqs")
    for chunk in _chunks(sorted(set(codes))):
        queryset = Implementation.objects.filter(code__in=chunk).prefetch_related(*prefetch)
        for impl in queryset:
            existing[impl.code] = impl
    return existing


def _canonical_stored(impl: Implementation) -> dict[str, list]:
    """The children of a stored implementation as comparable tuples (see _canonical_file)."""
    result: dict[str, list] = {}
    for key, sheet in (
        ("locations", LOCATIONS),
        ("hours", HOURS),
        ("steps", STEPS),
        ("fees", FEES),
        ("intermediaries", INTERMEDIARIES),
        ("faqs", FAQS),
    ):
        cols = [c.key for c in sheet.columns[1:]]
        result[key] = sorted(
            (tuple(_comparable(getattr(obj, k)) for k in cols) for obj in getattr(impl, key).all()),
            key=repr,
        )
    options = {}
    situations = []
    for situation in impl.situations.all():
        opts = tuple(sorted(((o.label, o.order) for o in situation.options.all()), key=repr))
        for option in situation.options.all():
            options[option.pk] = (situation.question, option.label)
        situations.append((situation.question, situation.multiple, situation.order, opts))
    result["situations"] = sorted(situations, key=repr)
    mat_cols = [c.key for c in MATERIALS.columns[2:]]
    result["materials"] = sorted(
        (
            (
                *(_comparable(getattr(m, k)) for k in mat_cols),
                tuple(sorted(options[o.pk] for o in m.conditions.all() if o.pk in options)),
            )
            for m in impl.materials.all()
        ),
        key=repr,
    )
    return result


def _comparable(value: Any) -> Any:
    if hasattr(value, "name") and hasattr(value, "storage"):
        return value.name or ""
    return "" if value is None else value


@functools.cache
def _defaults(sheet: Sheet, model) -> dict[str, Any]:
    """What a blank cell stores: the model field's default, else "" (text) or None."""
    names = {f.name for f in model._meta.get_fields()}
    result = {}
    for col in sheet.columns:
        if col.key == "implementation" or col.key not in names:
            continue  # the key column, or a column that is not a field of this model
        f = model._meta.get_field(col.key)
        if f.has_default():
            result[col.key] = f.get_default()
        else:
            result[col.key] = "" if f.empty_strings_allowed and not f.null else None
    return result


@dataclass
class _Guide:
    """One implementation of the file with its child rows."""

    row: Row
    children: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    situations: list[dict] = field(default_factory=list)
    conditions: dict[int, list] = field(default_factory=dict)  # material number → option keys


def import_catalog(fileobj: BinaryIO, *, actor, dry_run: bool = False) -> ImportReport:
    """Validate a workbook and, if it has no error and ``dry_run`` is false, apply it."""
    with translation.override("zh-hans"):
        return _Importer(actor=actor, dry_run=dry_run).run(fileobj)


class _Importer:
    def __init__(self, *, actor, dry_run: bool):
        self.actor = actor
        self.report = ImportReport(dry_run=dry_run)

    # -- phase 1: read --------------------------------------------------------------------------
    def run(self, fileobj: BinaryIO) -> ImportReport:
        report = self.report
        rows = read_workbook(fileobj, report)
        if rows is None:
            return report
        self.rows = rows
        self.validate()
        if report.errors:
            return report
        try:
            # A dry run writes too, inside a transaction it then rolls back: its counts are exact
            # and it meets the same database constraints, yet nothing changes.
            with transaction.atomic():
                self.write()
                if report.dry_run:
                    transaction.set_rollback(True)
        except DatabaseError as exc:
            report.error(
                "",
                None,
                "",
                "database_conflict",
                _("写入时发生冲突，未导入任何数据：%(e)s") % {"e": exc},
            )
            return report
        report.applied = not report.dry_run
        return report

    # -- phase 2: validate ------------------------------------------------------------------------
    def validate(self) -> None:
        report = self.report
        items: dict[str, Row] = {}
        for row in self.rows["items"]:
            code = row.values["code"]
            if code in items:
                report.error(
                    ITEMS.name,
                    row.number,
                    ITEMS.column("code").label,
                    "duplicate_code",
                    _("基本编码“%(c)s”与第%(r)d行重复") % {"c": code, "r": items[code].number},
                )
                continue
            items[code] = row
        guides: dict[str, _Guide] = {}
        for row in self.rows["implementations"]:
            code = row.values["code"]
            if code in guides:
                report.error(
                    IMPLEMENTATIONS.name,
                    row.number,
                    IMPLEMENTATIONS.column("code").label,
                    "duplicate_code",
                    _("实施编码“%(c)s”与第%(r)d行重复") % {"c": code, "r": guides[code].row.number},
                )
                continue
            guides[code] = _Guide(row)
        for sheet in CHILD_SHEETS:
            for row in self.rows[sheet.key]:
                guide = guides.get(row.values["implementation"])
                if guide is None:
                    report.error(
                        sheet.name,
                        row.number,
                        IMPL_COL.label,
                        "implementation_not_in_file",
                        _("实施编码“%(c)s”不在“实施清单”工作表中")
                        % {"c": row.values["implementation"]},
                    )
                    continue
                guide.children[sheet.key].append(row)
        self.items, self.guides = items, guides

        # Bulk lookups: one query per kind and chunk, never one per row.
        impl_rows = [g.row for g in guides.values()]
        self.db_items = _in_bulk(
            Item, "code", [*items, *(r.values["item_code"] for r in impl_rows)]
        )
        self.themes = _in_bulk(
            Theme, "code", [c for r in items.values() for c in r.values.get("themes") or ()]
        )
        self.powers = _in_bulk(
            PowerListEntry,
            "code",
            [c for r in items.values() for c in r.values.get("power_entries") or ()],
        )
        usccs = {}
        for row in impl_rows:
            raw = row.values["organization_uscc"]
            try:
                usccs[row.number] = validate_uscc(raw)
            except IdentifierError as exc:
                report.error(
                    IMPLEMENTATIONS.name,
                    row.number,
                    IMPLEMENTATIONS.column("organization_uscc").label,
                    f"uscc_{exc.reason}",
                    exc.message,
                )
        self.usccs = usccs
        self.organizations = _in_bulk(Organization, "uscc", usccs.values())
        self.regions = _in_bulk(Region, "code", [r.values["region_code"] for r in impl_rows])
        self.existing = _load_existing(list(guides))
        self._validate_items()
        for guide in guides.values():
            self._validate_guide(guide)

    def _validate_items(self) -> None:
        references = (
            ("themes", self.themes, "theme_unknown", _("服务主题")),
            ("power_entries", self.powers, "power_entry_unknown", _("权责清单")),
        )
        for row in self.items.values():
            for key, known, code, label in references:
                for value in row.values.get(key) or ():
                    if value not in known:
                        self.report.error(
                            ITEMS.name,
                            row.number,
                            ITEMS.column(key).label,
                            code,
                            _("%(what)s编码“%(v)s”不存在") % {"what": label, "v": value},
                        )

    def _item_name(self, code: str) -> str | None:
        if code in self.items and "name" in self.items[code].values:
            return self.items[code].values["name"]
        item = self.db_items.get(code)
        return item.name if item else None

    def _validate_guide(self, guide: _Guide) -> None:
        report, values, number = self.report, guide.row.values, guide.row.number
        sheet = IMPLEMENTATIONS
        item_code = values["item_code"]
        if item_code not in self.items and item_code not in self.db_items:
            report.error(
                sheet.name,
                number,
                sheet.column("item_code").label,
                "item_unknown",
                _("基本编码“%(c)s”的事项既不在“事项”工作表中也不在目录中") % {"c": item_code},
            )
        else:
            name = values.get("item_name")
            expected = self._item_name(item_code)
            if name and expected is not None and name != expected:
                report.error(
                    sheet.name,
                    number,
                    sheet.column("item_name").label,
                    "item_element_override",
                    _(
                        "事项名称“%(n)s”与基本目录中的“%(e)s”不一致；事项名称、编码、依据、类型只能在事项中修改"
                    )
                    % {"n": name, "e": expected},
                )
        uscc = self.usccs.get(number)
        if uscc and uscc not in self.organizations:
            report.error(
                sheet.name,
                number,
                sheet.column("organization_uscc").label,
                "organization_unknown",
                _("统一社会信用代码为%(c)s的实施主体不存在") % {"c": uscc},
            )
        if values["region_code"] not in self.regions:
            report.error(
                sheet.name,
                number,
                sheet.column("region_code").label,
                "region_unknown",
                _("区划代码“%(c)s”不存在") % {"c": values["region_code"]},
            )
        for key in ("result_sample",):
            self._check_file(sheet, guide.row, key)
        self._validate_children(guide)
        self._check_rules(guide)

    def _check_file(self, sheet: Sheet, row: Row, key: str) -> None:
        name = row.values.get(key)
        if not name:
            return
        try:
            exists = default_storage.exists(name)
        except (SuspiciousFileOperation, ValueError):
            exists = False
        if not exists:
            self.report.error(
                sheet.name,
                row.number,
                sheet.column(key).label,
                "file_not_found",
                _("文件“%(f)s”不存在，请先在后台上传") % {"f": name},
            )

    def _validate_children(self, guide: _Guide) -> None:
        report = self.report
        seen_orders: dict[int, int] = {}
        for row in guide.children["steps"]:
            order = row.values["order"]
            if order in seen_orders:
                report.error(
                    STEPS.name,
                    row.number,
                    STEPS.column("order").label,
                    "duplicate_code",
                    _("办理环节序号%(o)d与第%(r)d行重复") % {"o": order, "r": seen_orders[order]},
                )
            seen_orders.setdefault(order, row.number)
        numbers: dict[int, Row] = {}
        for row in guide.children["materials"]:
            number = row.values["number"]
            if number in numbers:
                report.error(
                    MATERIALS.name,
                    row.number,
                    MATERIALS.column("number").label,
                    "duplicate_code",
                    _("材料编号%(n)d与第%(r)d行重复") % {"n": number, "r": numbers[number].number},
                )
                continue
            numbers[number] = row
            for key in ("blank_form", "sample_form"):
                self._check_file(MATERIALS, row, key)
        situations: dict[str, dict] = {}
        conditions: dict[int, list] = defaultdict(list)
        for row in guide.children["situations"]:
            v = row.values
            question = v["question"]
            situation = situations.get(question)
            if situation is None:
                situation = situations[question] = {
                    "question": question,
                    "multiple": v.get("multiple") or False,
                    "order": v.get("order") or 0,
                    "options": [],
                    "row": row.number,
                }
            elif (v.get("multiple") or False) != situation["multiple"] or (
                v.get("order") or 0
            ) != situation["order"]:
                report.error(
                    SITUATIONS.name,
                    row.number,
                    SITUATIONS.column("multiple").label,
                    "situation_inconsistent",
                    _("同一情形“%(q)s”的“可多选”或“情形排序”与第%(r)d行不一致")
                    % {"q": question, "r": situation["row"]},
                )
            label = v.get("option")
            if not label:
                if v.get("materials"):
                    report.error(
                        SITUATIONS.name,
                        row.number,
                        SITUATIONS.column("option").label,
                        "required",
                        _("指定了适用材料的行必须填写选项"),
                    )
                continue
            if any(o["label"] == label for o in situation["options"]):
                report.error(
                    SITUATIONS.name,
                    row.number,
                    SITUATIONS.column("option").label,
                    "duplicate_code",
                    _("情形“%(q)s”的选项“%(o)s”重复") % {"q": question, "o": label},
                )
                continue
            key = (question, label)
            situation["options"].append(
                {"key": key, "label": label, "order": v.get("option_order") or 0}
            )
            for ref in v.get("materials") or ():
                material = numbers.get(int(ref)) if ref.isdigit() else None
                if material is None:
                    report.error(
                        SITUATIONS.name,
                        row.number,
                        SITUATIONS.column("materials").label,
                        "material_unknown",
                        _("本实施清单没有编号为“%(n)s”的申请材料") % {"n": ref},
                    )
                    continue
                conditions[material.values["number"]].append(key)
        guide.situations = list(situations.values())
        guide.conditions = conditions

    def _check_rules(self, guide: _Guide) -> None:
        values = guide.row.values
        stored = self.existing.get(values["code"])
        data: dict[str, Any] = {}
        defaults = _defaults(IMPLEMENTATIONS, Implementation)
        for name in rules.IMPLEMENTATION_FIELDS:
            if name in values:  # a blank cell means the model's default, as when writing
                data[name] = defaults.get(name) if values[name] is None else values[name]
            else:  # a column the file does not have leaves the stored value
                data[name] = getattr(stored, name) if stored else defaults.get(name)
        for key in ("locations", "hours", "steps", "intermediaries"):
            data[key] = [row.values for row in guide.children[key]]
        data["materials"] = [
            {**row.values, "conditions": guide.conditions.get(row.values["number"], [])}
            for row in guide.children["materials"]
        ]
        data["situations"] = guide.situations
        for finding in rules.check_values(data):
            sheet, row, column = self._locate(guide, finding)
            issue = ImportIssue(sheet, row, column, finding.code, finding.message)
            (self.report.errors if finding.is_error else self.report.warnings).append(issue)

    def _locate(self, guide: _Guide, finding: rules.Finding) -> tuple[str, int, str]:
        if finding.scope == rules.IMPLEMENTATION or finding.index is None:
            sheet = IMPLEMENTATIONS
            if finding.scope != rules.IMPLEMENTATION:
                child = SHEET_BY_KEY[finding.scope]
                return sheet.name, guide.row.number, child.name
            col = sheet.column(finding.field)
            return sheet.name, guide.row.number, str(col.label) if col else ""
        child = SHEET_BY_KEY[finding.scope]
        if finding.scope == "situations":
            number = guide.situations[finding.index]["row"]
        else:
            number = guide.children[finding.scope][finding.index].number
        col = child.column(finding.field)
        return child.name, number, str(col.label) if col else ""

    # -- phase 3: write ---------------------------------------------------------------------------
    def write(self) -> None:
        report = self.report
        now = timezone.now()
        touched_items: dict[int, Item] = {}
        item_by_code = self._write_items(now, touched_items)
        new_impls, changed_impls, child_changes = [], [], []
        impl_fields: set[str] = set()
        for code, guide in self.guides.items():
            values = guide.row.values
            own = {k: v for k, v in values.items() if k in IMPLEMENTATION_FIELDS or k == "code"}
            item = item_by_code[values["item_code"]]
            org = self.organizations[self.usccs[guide.row.number]]
            region = self.regions[values["region_code"]]
            own.update(
                item_id=item.pk,
                organization_id=org.pk,
                region_id=region.pk,
                region_code=region.code,
            )
            defaults = _defaults(IMPLEMENTATIONS, Implementation)
            for name, value in list(own.items()):
                if value is None and name in defaults:
                    own[name] = defaults[name]
            stored = self.existing.get(code)
            if stored is None:
                impl = Implementation(**own)
                new_impls.append((impl, guide))
                report.created["implementations"] += 1
                touched_items[item.pk] = item
                continue
            changed = {
                k for k, v in own.items() if _comparable(getattr(stored, k)) != _comparable(v)
            }
            children_changed = _canonical_stored(stored) != self._canonical_file(guide)
            if changed or children_changed:
                for k in changed:
                    setattr(stored, k, own[k])
                stored.updated_at = now
                impl_fields |= changed
                changed_impls.append(stored)
                report.updated["implementations"] += 1
                touched_items[item.pk] = item
                if children_changed:
                    child_changes.append((stored, guide))
            else:
                report.unchanged["implementations"] += 1
        replaced = [impl.pk for impl, _guide in child_changes]
        created = Implementation.objects.bulk_create(
            [impl for impl, _guide in new_impls], batch_size=500
        )
        for impl, (_impl, guide) in zip(created, new_impls, strict=True):
            child_changes.append((impl, guide))
        if changed_impls:
            Implementation.objects.bulk_update(
                changed_impls, sorted(impl_fields | {"updated_at"}), batch_size=500
            )
        self._replace_children(child_changes, replaced)
        services.reindex_on_commit(touched_items.values())
        if not report.dry_run:
            audit.record(
                actor=self.actor,
                action="catalog.import",
                object_type="catalog.implementation",
                details={"created": report.created, "updated": report.updated},
            )

    def _write_items(self, now, touched: dict[int, Item]) -> dict[str, Item]:
        report = self.report
        item_by_code = dict(self.db_items)
        new_items, changed_items, fields_changed = [], [], set()
        m2m: list[tuple[Item, Row]] = []
        for code, row in self.items.items():
            defaults = _defaults(ITEMS, Item)
            own = {
                k: defaults.get(k) if v is None else v
                for k, v in row.values.items()
                if k not in ("themes", "power_entries")
            }
            stored = self.db_items.get(code)
            if stored is None:
                item = Item(**own)
                new_items.append(item)
                item_by_code[code] = item
                report.created["items"] += 1
                m2m.append((item, row))
                continue
            changed = {k for k, v in own.items() if getattr(stored, k) != v}
            m2m_changed = self._m2m_changed(stored, row)
            if changed or m2m_changed:
                for k in changed:
                    setattr(stored, k, own[k])
                stored.updated_at = now
                fields_changed |= changed
                changed_items.append(stored)
                report.updated["items"] += 1
                touched[stored.pk] = stored
                if m2m_changed:
                    m2m.append((stored, row))
            else:
                report.unchanged["items"] += 1
        for item in Item.objects.bulk_create(new_items, batch_size=500):
            touched[item.pk] = item
        if changed_items:
            Item.objects.bulk_update(
                changed_items, sorted(fields_changed | {"updated_at"}), batch_size=500
            )
        for relation, key, known in (
            ("themes", "themes", self.themes),
            ("power_entries", "power_entries", self.powers),
        ):
            rows = [(item, row) for item, row in m2m if key in row.values]
            if not rows:
                continue
            through = getattr(Item, relation).through
            target = "theme_id" if relation == "themes" else "powerlistentry_id"
            through.objects.filter(item_id__in=[item.pk for item, _r in rows]).delete()
            through.objects.bulk_create(
                [
                    through(item_id=item.pk, **{target: known[code].pk})
                    for item, row in rows
                    for code in dict.fromkeys(row.values.get(key) or ())
                ],
                batch_size=1000,
            )
        return item_by_code

    def _m2m_changed(self, item: Item, row: Row) -> bool:
        if not hasattr(self, "_stored_m2m"):
            self._stored_m2m = {"themes": defaultdict(set), "power_entries": defaultdict(set)}
            ids = [i.pk for i in self.db_items.values()]
            for chunk in _chunks(ids):
                for item_id, code in Item.themes.through.objects.filter(
                    item_id__in=chunk
                ).values_list("item_id", "theme__code"):
                    self._stored_m2m["themes"][item_id].add(code)
                for item_id, code in Item.power_entries.through.objects.filter(
                    item_id__in=chunk
                ).values_list("item_id", "powerlistentry__code"):
                    self._stored_m2m["power_entries"][item_id].add(code)
        return any(
            key in row.values and set(row.values[key] or ()) != self._stored_m2m[key][item.pk]
            for key in ("themes", "power_entries")
        )

    def _canonical_file(self, guide: _Guide) -> dict[str, list]:
        result: dict[str, list] = {}
        for key, model in CHILD_MODELS.items():
            sheet = SHEET_BY_KEY[key]
            defaults = _defaults(sheet, model)
            cols = [c.key for c in sheet.columns[1:]]
            result[key] = sorted(
                (
                    tuple(_comparable(_or_default(r.values, k, defaults)) for k in cols)
                    for r in guide.children[key]
                ),
                key=repr,
            )
        result["situations"] = sorted(
            (
                (
                    s["question"],
                    s["multiple"],
                    s["order"],
                    tuple(sorted(((o["label"], o["order"]) for o in s["options"]), key=repr)),
                )
                for s in guide.situations
            ),
            key=repr,
        )
        defaults = _defaults(MATERIALS, Material)
        mat_cols = [c.key for c in MATERIALS.columns[2:]]
        result["materials"] = sorted(
            (
                (
                    *(_comparable(_or_default(r.values, k, defaults)) for k in mat_cols),
                    tuple(sorted(guide.conditions.get(r.values["number"], []))),
                )
                for r in guide.children["materials"]
            ),
            key=repr,
        )
        return result

    def _replace_children(
        self, changes: list[tuple[Implementation, _Guide]], replaced: list[int]
    ) -> None:
        """Delete the children of ``replaced`` implementations, then create every change's rows."""
        for chunk in _chunks(replaced):
            for model in (*CHILD_MODELS.values(), Material, Situation):
                model.objects.filter(implementation_id__in=chunk).delete()
        batches: dict[type, list] = defaultdict(list)
        situations: list[tuple[Situation, dict]] = []
        materials: list[tuple[Material, list]] = []
        for impl, guide in changes:
            for key, model in CHILD_MODELS.items():
                sheet = SHEET_BY_KEY[key]
                defaults = _defaults(sheet, model)
                for row in guide.children[key]:
                    fields = {k: _or_default(row.values, k, defaults) for k in defaults}
                    batches[model].append(model(implementation_id=impl.pk, **fields))
            for s in guide.situations:
                situations.append(
                    (
                        Situation(
                            implementation_id=impl.pk,
                            question=s["question"],
                            multiple=s["multiple"],
                            order=s["order"],
                        ),
                        s,
                    )
                )
            defaults = _defaults(MATERIALS, Material)
            for row in guide.children["materials"]:
                fields = {k: _or_default(row.values, k, defaults) for k in defaults}
                materials.append(
                    (
                        Material(implementation_id=impl.pk, **fields),
                        [(impl.pk, key) for key in guide.conditions.get(row.values["number"], [])],
                    )
                )
        for model, objs in batches.items():
            model.objects.bulk_create(objs, batch_size=1000)
        Situation.objects.bulk_create([s for s, _spec in situations], batch_size=1000)
        options: list[tuple[SituationOption, tuple]] = []
        for situation, spec in situations:
            for option in spec["options"]:
                options.append(
                    (
                        SituationOption(
                            situation_id=situation.pk, label=option["label"], order=option["order"]
                        ),
                        (situation.implementation_id, option["key"]),
                    )
                )
        SituationOption.objects.bulk_create([o for o, _k in options], batch_size=1000)
        option_ids = {key: option.pk for option, key in options}
        Material.objects.bulk_create([m for m, _c in materials], batch_size=1000)
        through = Material.conditions.through
        through.objects.bulk_create(
            [
                through(material_id=material.pk, situationoption_id=option_ids[key])
                for material, keys in materials
                for key in keys
            ],
            batch_size=1000,
        )


def _or_default(values: dict, key: str, defaults: dict) -> Any:
    value = values.get(key)
    return defaults.get(key) if value is None else value
