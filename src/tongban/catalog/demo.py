"""Demo data that looks real: Ordos (鄂尔多斯) and Erenhot (二连浩特), complete guides.

The data is kept as readable JSON under ``catalog/data/demo/`` so that an operator can see what a
complete guide (seed 001, attachment 1, rows 12–24) looks like:

- ``regions.json``: the regions needed, the service halls with their hours, and the
  organizations of each area with their counters (room and window) and phones;
- ``catalog.json``: themes, power-list entries (权责清单) and synonyms;
- ``forms.json``: the forms applicants fill in, rendered into a blank ``.xlsx`` and a sample
  ``.pdf`` in the default storage (:mod:`tongban.catalog.demo_forms`);
- ``items/*.json``: one item per file, its guide written once and the implementations that
  carry it out in each area.

``load_demo()`` is idempotent: everything is upserted by its code (regions by code,
organizations by USCC, items and implementations by code, themes and power-list entries by
code, synonyms by term), rows are saved only when a value differs, and an implementation's guide
rows (locations, hours, steps, materials, situations …) are replaced only when they differ from
the data. A second run changes nothing and creates nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.db import models, transaction

from tongban.catalog.demo_forms import ensure_forms
from tongban.catalog.models import (
    Fee,
    Implementation,
    ImplementationStatus,
    Intermediary,
    Item,
    ItemTranslation,
    Location,
    Material,
    PowerListEntry,
    ProcessStep,
    Question,
    ServiceHours,
    Situation,
    SituationOption,
    Synonym,
    Theme,
)
from tongban.core.identifiers import (
    USCC_ALPHABET,
    organization_code_check_char,
    uscc_check_char,
    validate_uscc,
)
from tongban.core.models import Organization, Region

DATA_DIR = Path(__file__).resolve().parent / "data" / "demo"
EFFECTIVE_FROM = dt.date(2026, 1, 1)
COMPLAINT_PHONE = "12345"

# Implementation fields a guide (or an implementation's override) may set.
GUIDE_FIELDS = frozenset(
    {
        "handling_unit", "joint_departments",
        "statutory_limit", "statutory_unit", "statutory_note",
        "promised_limit", "promised_unit", "promised_note", "is_instant",
        "online_depth", "visits_required",
        "handle_at_window", "handle_on_pc", "handle_on_mobile", "handle_by_post",
        "conditions", "quantity_limit", "jurisdiction", "cross_area", "result_name",
        "charges_fee", "has_intermediary",
        "supports_appointment", "supports_online_payment", "supports_express",
        "deliver_at_window", "deliver_by_express", "deliver_online",
    }
)  # fmt: skip
GUIDE_CHILDREN = frozenset({"fees", "intermediaries", "steps", "situations", "materials", "faqs"})
MATERIAL_FIELDS = frozenset(
    {"name", "source", "issuer", "originals", "copies", "form", "medium", "necessity",
     "requirements", "note"}
)  # fmt: skip
MATERIAL_KEYS = MATERIAL_FIELDS | {"template", "when"}
ITEM_KEYS = frozenset(
    {"code", "name", "item_type", "level", "audiences", "legal_basis", "description", "keywords",
     "popularity", "themes", "power_entries", "translations", "guide", "implementations"}
)  # fmt: skip

# Labels of the counted kinds, in the order the summary prints them.
KIND_LABELS = {
    "region": "行政区划",
    "organization": "部门和公共服务单位",
    "theme": "服务主题",
    "power_entry": "权责清单事项",
    "synonym": "同义词",
    "item": "政务服务事项",
    "translation": "事项译文",
    "implementation": "实施清单",
    "guide": "办事指南明细",
    "form_file": "空表样表文件",
}


class DemoDataError(ValueError):
    """The demo data files are inconsistent; the message names the file and the element."""


@dataclass
class DemoReport:
    """What one run of ``load_demo`` did, counted per kind of row."""

    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    regions_source: str = ""
    search: str = ""
    active_implementations: int = 0

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()))

    def total(self, kind: str) -> int:
        return self.created[kind] + self.updated[kind] + self.unchanged[kind]

    def lines(self) -> list[str]:
        lines = []
        for kind, label in KIND_LABELS.items():
            lines.append(
                f"  {label}：共 {self.total(kind)}（新建 {self.created[kind]}，"
                f"更新 {self.updated[kind]}，未变 {self.unchanged[kind]}）"
            )
        lines.append(f"  在用实施清单：{self.active_implementations}")
        lines.append(f"  行政区划来源：{self.regions_source}")
        lines.append(f"  检索索引：{self.search}")
        return lines


# --- reading the data --------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoData:
    regions: dict[str, Any]
    catalog: dict[str, Any]
    forms: dict[str, Any]
    items: list[dict[str, Any]]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DemoDataError(f"{path.name}: {exc}") from exc


def read_demo_data(data_dir: Path = DATA_DIR) -> DemoData:
    """Read and cross-check the demo data files; raise DemoDataError naming what is wrong."""
    regions = _read_json(data_dir / "regions.json")
    catalog = _read_json(data_dir / "catalog.json")
    forms = {k: v for k, v in _read_json(data_dir / "forms.json").items() if not k.startswith("_")}
    items = []
    for path in sorted((data_dir / "items").glob("*.json")):
        item = _read_json(path)
        item["_file"] = path.name
        items.append(item)
    if not items:
        raise DemoDataError(f"{data_dir / 'items'}: no item files")
    data = DemoData(regions=regions, catalog=catalog, forms=forms, items=items)
    _check(data)
    return data


def _check(data: DemoData) -> None:
    orgs = {
        f"{area['region']}/{org['key']}": org
        for area in data.regions["areas"]
        for org in area["organizations"]
    }
    themes = {t["code"] for t in data.catalog["themes"]}
    entries = {e["code"] for e in data.catalog["power_entries"]}
    codes: set[str] = set()
    for item in data.items:
        where = item["_file"]
        unknown = set(item) - ITEM_KEYS - {"_file"}
        if unknown:
            raise DemoDataError(f"{where}: unknown keys {sorted(unknown)}")
        if item["code"] in codes:
            raise DemoDataError(f"{where}: duplicate item code {item['code']}")
        codes.add(item["code"])
        for code in item["themes"]:
            if code not in themes:
                raise DemoDataError(f"{where}: unknown theme {code}")
        for code in item["power_entries"]:
            if code not in entries:
                raise DemoDataError(f"{where}: unknown power-list entry {code}")
        guide = item["guide"]
        unknown = set(guide) - GUIDE_FIELDS - GUIDE_CHILDREN
        if unknown:
            raise DemoDataError(f"{where}: unknown guide keys {sorted(unknown)}")
        options = {
            f"{s['key']}:{o['key']}" for s in guide.get("situations", []) for o in s["options"]
        }
        for material in guide["materials"]:
            unknown = set(material) - MATERIAL_KEYS
            if unknown:
                raise DemoDataError(f"{where}: material {material['name']}: unknown {unknown}")
            for ref in material.get("when", []):
                if ref not in options:
                    raise DemoDataError(f"{where}: material {material['name']}: no option {ref}")
            template = material.get("template")
            if template and template not in data.forms:
                raise DemoDataError(f"{where}: material {material['name']}: no form {template}")
        for impl in item["implementations"]:
            org = orgs.get(impl["org"])
            if org is None:
                raise DemoDataError(f"{where}: unknown organization {impl['org']}")
            if "site" not in org and "counter" not in org:
                raise DemoDataError(f"{where}: {impl['org']} has no counter or site")
            unknown = set(impl) - GUIDE_FIELDS - {"org"}
            if unknown:
                raise DemoDataError(f"{where}: {impl['org']}: unknown keys {sorted(unknown)}")


# --- identifiers -------------------------------------------------------------------------------


def demo_uscc(*, region_code: str, key: str, prefix: str) -> str:
    """A deterministic, valid USCC for a demo organization (GB 32100 and GB 11714 checks).

    ``prefix`` is the registration authority and category: ``11`` organs, ``12`` public
    institutions, ``91`` enterprises (whose organization code starts ``MA`` since 2015).
    """
    number = int.from_bytes(hashlib.sha256(f"tongban-demo:{region_code}:{key}".encode()).digest())
    if prefix == "91":
        body = "MA" + "".join(USCC_ALPHABET[(number >> (5 * i)) % 31] for i in range(6))
    else:
        body = f"{number % 10**8:08d}"
    first17 = prefix + region_code + body + organization_code_check_char(body)
    return validate_uscc(first17 + uscc_check_char(first17))


def _implementation_code(organization: Organization, item: Item) -> str:
    """实施编码: the body's USCC followed by the item's basic code."""
    return f"{organization.uscc}{item.code}"


# --- generic upsert ----------------------------------------------------------------------------


_MISSING = object()


def _upsert(
    model: type[models.Model],
    kind: str,
    report: DemoReport,
    lookup: dict,
    values: dict,
    *,
    existing: Any = _MISSING,
) -> tuple[Any, str]:
    """Create the row, or update only the values that differ; return it and what happened.

    ``existing`` is the row already fetched by the caller (None: known not to exist)."""
    obj = model.objects.filter(**lookup).first() if existing is _MISSING else existing
    if obj is None:
        obj = model(**lookup, **values)
        _validate(obj, kind)
        obj.save()
        report.created[kind] += 1
        return obj, "created"
    changed = [name for name, value in values.items() if not _same(obj, name, value)]
    if not changed:
        report.unchanged[kind] += 1
        return obj, "unchanged"
    for name in changed:
        setattr(obj, name, values[name])
    _validate(obj, kind)
    obj.save()
    report.updated[kind] += 1
    return obj, "updated"


def _same(obj: models.Model, name: str, value: Any) -> bool:
    if isinstance(value, models.Model) or (value is None and name in _foreign_keys(type(obj))):
        # Compare a foreign key by its id, without loading the related row.
        return getattr(obj, f"{name}_id") == (value.pk if value is not None else None)
    return getattr(obj, name) == value


def _foreign_keys(model: type[models.Model]) -> set[str]:
    return {f.name for f in model._meta.fields if f.is_relation}


def _validate(obj: models.Model, kind: str) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise DemoDataError(f"{kind} {obj}: {exc.message_dict}") from exc


def _set_m2m(manager, wanted: Iterable[models.Model]) -> bool:
    wanted_ids = {obj.pk for obj in wanted}
    if set(manager.values_list("pk", flat=True)) == wanted_ids:
        return False
    manager.set(wanted_ids)
    return True


def _optional(module: str, name: str) -> Callable | None:
    """A function of a module another engineer may not have written yet, or None."""
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise
    return getattr(found, name, None)


# --- regions, organizations, catalog data ------------------------------------------------------


def _ensure_regions(definitions: list[dict], report: DemoReport) -> dict[str, Region]:
    load_regions = _optional("tongban.core.regions", "load_regions")
    if load_regions is not None:
        load_regions()
        report.regions_source = "tongban.core.regions.load_regions()"
    else:
        report.regions_source = "演示数据自带的区划（tongban.core.regions 尚不可用）"
    regions: dict[str, Region] = {}
    for definition in definitions:
        region = Region.objects.filter(code=definition["code"]).first()
        if region is None:
            region = Region(
                code=definition["code"],
                name=definition["name"],
                level=definition["level"],
                parent=regions.get(definition["parent"]) if definition["parent"] else None,
            )
            _validate(region, "region")
            region.save()
            report.created["region"] += 1
        else:
            # Regions belong to the region tables; the demo never rewrites one.
            report.unchanged["region"] += 1
        regions[region.code] = region
    return regions


def _address(area: dict, org: dict) -> str:
    place = org.get("site") or area["hall"]
    return f"{place['street']}{place['number']}"


def _upsert_organizations(
    areas: list[dict], regions: dict[str, Region], report: DemoReport
) -> dict[str, Organization]:
    found: dict[str, Organization] = {}
    for area in areas:
        region = regions[area["region"]]
        for org in area["organizations"]:
            ref = f"{area['region']}/{org['key']}"
            parent = None
            if org.get("parent"):
                parent = found.get(f"{area['region']}/{org['parent']}")
                if parent is None:
                    raise DemoDataError(f"regions.json: {ref}: parent must be listed before it")
            uscc = demo_uscc(
                region_code=area["region"], key=org["key"], prefix=org.get("uscc_type", "11")
            )
            found[ref], _status = _upsert(
                Organization,
                "organization",
                report,
                {"uscc": uscc},
                {
                    "name": org["name"],
                    "kind": org["kind"],
                    "sector": org.get("sector", ""),
                    "region": region,
                    "parent": parent,
                    "phone": org["phone"],
                    "address": _address(area, org),
                    "is_active": True,
                },
            )
    return found


def _upsert_catalog(catalog: dict, report: DemoReport) -> tuple[dict, dict]:
    themes = {
        t["code"]: _upsert(
            Theme, "theme", report, {"code": t["code"]},
            {"name": t["name"], "audience": t["audience"], "icon": t["icon"], "order": t["order"]},
        )[0]
        for t in catalog["themes"]
    }  # fmt: skip
    entries = {
        e["code"]: _upsert(
            PowerListEntry, "power_entry", report, {"code": e["code"]},
            {"name": e["name"], "item_type": e["item_type"], "department": e["department"],
             "basis": e["basis"], "url": e.get("url", "")},
        )[0]
        for e in catalog["power_entries"]
    }  # fmt: skip
    for synonym in catalog["synonyms"]:
        _upsert(
            Synonym, "synonym", report, {"term": synonym["term"]},
            {"expansions": synonym["expansions"]},
        )  # fmt: skip
    return themes, entries


def _ensure_forms(forms: dict, report: DemoReport) -> dict[str, tuple[str, str]]:
    """Write the forms' blank and sample files (see :mod:`tongban.catalog.demo_forms`)."""
    files = ensure_forms(forms)
    report.created["form_file"] += files.created
    report.unchanged["form_file"] += files.unchanged
    return files.paths


# --- items and implementations -----------------------------------------------------------------


def _upsert_item(
    definition: dict, themes: dict, entries: dict, report: DemoReport
) -> tuple[Item, bool]:
    """Upsert one item with its themes, power-list links and translations; return it and
    whether anything that the search index reads has changed."""
    item, status = _upsert(
        Item,
        "item",
        report,
        {"code": definition["code"]},
        {
            "name": definition["name"],
            "item_type": definition["item_type"],
            "legal_basis": definition["legal_basis"],
            "level": definition["level"],
            "audiences": definition["audiences"],
            "keywords": definition["keywords"],
            "description": definition["description"],
            "popularity": definition["popularity"],
            "is_active": True,
        },
    )
    linked = [
        _set_m2m(item.themes, [themes[c] for c in definition["themes"]]),
        _set_m2m(item.power_entries, [entries[c] for c in definition["power_entries"]]),
    ]
    if any(linked) and status == "unchanged":
        # A relation changed on an item whose own fields did not: count it as updated.
        report.unchanged["item"] -= 1
        report.updated["item"] += 1
        status = "updated"
    for language, text in definition.get("translations", {}).items():
        _upsert(
            ItemTranslation, "translation", report, {"item": item, "language": language},
            {"name": text["name"], "description": text.get("description", "")},
        )  # fmt: skip
    return item, status != "unchanged"


def _fill(value: Any, context: dict[str, str]) -> Any:
    if not isinstance(value, str):
        return value
    for key, text in context.items():
        value = value.replace("{" + key + "}", text)
    return value


def _implementation_values(
    item: Item, guide: dict, override: dict, organization: Organization, area: dict, org: dict
) -> dict:
    context = {"region": area["area_name"], "org": organization.name, "hall": area["hall"]["name"]}
    values: dict[str, Any] = {
        "item": item,
        "organization": organization,
        "region": organization.region,
        "consultation_phone": organization.phone,
        "complaint_phone": COMPLAINT_PHONE,
        "status": ImplementationStatus.ACTIVE,
        "effective_from": EFFECTIVE_FROM,
        "popularity": item.popularity * area["population_share"] // 100,
    }
    for name in GUIDE_FIELDS:
        if name in override:
            values[name] = _fill(override[name], context)
        elif name in guide:
            values[name] = _fill(guide[name], context)
    return values


def _desired_children(
    guide: dict, area: dict, org: dict, hours: list[dict], forms: dict, context: dict
) -> dict[str, list]:
    """The guide rows of one implementation, in the shape ``_current_children`` reads back."""
    place = org.get("site") or {
        "name": area["hall"]["name"],
        "street": area["hall"]["street"],
        "number": area["hall"]["number"],
        **org["counter"],
    }
    situations = guide.get("situations", [])
    option_index = {
        f"{s['key']}:{o['key']}": (si, oi)
        for si, s in enumerate(situations)
        for oi, o in enumerate(s["options"])
    }
    materials = []
    for order, m in enumerate(guide["materials"]):
        template = m.get("template")
        blank, sample = forms[template] if template else ("", "")
        materials.append(
            {
                **{name: _fill(m.get(name, ""), context) for name in MATERIAL_FIELDS},
                "needs_filling": bool(template),
                "blank_form": blank,
                "sample_form": sample,
                "order": order,
                "conditions": sorted(option_index[ref] for ref in m.get("when", [])),
            }
        )
    return {
        "locations": [
            {
                "name": place["name"], "street": place["street"], "number": place["number"],
                "room": place["room"], "window": place["window"], "note": "", "order": 0,
            }
        ],
        "hours": [
            {
                "weekday_from": h["weekday_from"], "weekday_to": h["weekday_to"],
                "opens": dt.time.fromisoformat(h["opens"]),
                "closes": dt.time.fromisoformat(h["closes"]), "note": h["note"],
            }
            for h in hours
        ],
        "fees": [
            {"name": f["name"], "standard": f["standard"], "basis": f["basis"],
             "reducible": f.get("reducible", False)}
            for f in guide.get("fees", [])
        ],
        "intermediaries": [
            {"name": i["name"], "basis": i["basis"], "is_special_step": i["is_special_step"]}
            for i in guide.get("intermediaries", [])
        ],
        "steps": [
            {"order": n + 1, "name": s["name"], "actor": _fill(s["actor"], context),
             "time_limit": s["time_limit"], "time_unit": s["time_unit"],
             "standard": s["standard"], "result": s["result"]}
            for n, s in enumerate(guide["steps"])
        ],
        "faqs": [
            {"question": q["question"], "answer": _fill(q["answer"], context), "order": n}
            for n, q in enumerate(guide.get("faqs", []))
        ],
        "situations": [
            {"question": s["question"], "multiple": s.get("multiple", False), "order": si,
             "options": [{"label": o["label"], "order": oi} for oi, o in enumerate(s["options"])]}
            for si, s in enumerate(situations)
        ],
        "materials": materials,
    }  # fmt: skip


_CHILD_FIELDS = {
    "locations": ("name", "street", "number", "room", "window", "note", "order"),
    "hours": ("weekday_from", "weekday_to", "opens", "closes", "note"),
    "fees": ("name", "standard", "basis", "reducible"),
    "intermediaries": ("name", "basis", "is_special_step"),
    "steps": ("order", "name", "actor", "time_limit", "time_unit", "standard", "result"),
    "faqs": ("question", "answer", "order"),
}


GUIDE_RELATIONS = (
    "locations", "hours", "fees", "intermediaries", "steps", "faqs",
    "situations__options", "materials__conditions",
)  # fmt: skip


def _by_pk(rows: Iterable[models.Model]) -> list:
    return sorted(rows, key=lambda row: row.pk)


def _current_children(impl: Implementation) -> dict[str, list]:
    """The guide rows of a saved implementation whose GUIDE_RELATIONS are prefetched."""
    current: dict[str, list] = {
        relation: [
            {name: getattr(row, name) for name in names}
            for row in _by_pk(getattr(impl, relation).all())
        ]
        for relation, names in _CHILD_FIELDS.items()
    }
    situations = sorted(impl.situations.all(), key=lambda s: (s.order, s.pk))
    options = {s.pk: sorted(s.options.all(), key=lambda o: (o.order, o.pk)) for s in situations}
    option_index = {
        option.pk: (si, oi)
        for si, situation in enumerate(situations)
        for oi, option in enumerate(options[situation.pk])
    }
    current["situations"] = [
        {"question": s.question, "multiple": s.multiple, "order": s.order,
         "options": [{"label": o.label, "order": o.order} for o in options[s.pk]]}
        for s in situations
    ]  # fmt: skip
    current["materials"] = [
        {
            **{name: getattr(m, name) for name in MATERIAL_FIELDS},
            "needs_filling": m.needs_filling,
            "blank_form": m.blank_form.name or "",
            "sample_form": m.sample_form.name or "",
            "order": m.order,
            "conditions": sorted(option_index.get(o.pk, (-1, -1)) for o in m.conditions.all()),
        }
        for m in _by_pk(impl.materials.all())
    ]
    return current


_CHILD_MODELS = {
    "locations": Location, "hours": ServiceHours, "fees": Fee,
    "intermediaries": Intermediary, "steps": ProcessStep, "faqs": Question,
}  # fmt: skip


def _new_rows(model: type[models.Model], impl: Implementation, rows: list[dict]) -> list:
    built = []
    for values in rows:
        row = model(implementation=impl, **values)
        try:
            # The parent is saved and the rows are new: field checks suffice, without a query.
            row.full_clean(
                exclude=["implementation"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            raise DemoDataError(f"{impl.code} {model.__name__}: {exc.message_dict}") from exc
        built.append(row)
    return model.objects.bulk_create(built)


def _replace_children(impl: Implementation, desired: dict[str, list]) -> None:
    for relation in (*_CHILD_FIELDS, "situations", "materials"):
        getattr(impl, relation).all().delete()
    for relation, model in _CHILD_MODELS.items():
        _new_rows(model, impl, desired[relation])
    situations = Situation.objects.bulk_create(
        [
            Situation(
                implementation=impl,
                question=s["question"],
                multiple=s["multiple"],
                order=s["order"],
            )
            for s in desired["situations"]
        ]
    )
    options = SituationOption.objects.bulk_create(
        [
            SituationOption(situation=situation, **option)
            for situation, s in zip(situations, desired["situations"], strict=True)
            for option in s["options"]
        ]
    )
    option_at = {}
    position = 0
    for si, s in enumerate(desired["situations"]):
        for oi in range(len(s["options"])):
            option_at[(si, oi)] = options[position]
            position += 1
    materials = _new_rows(
        Material,
        impl,
        [{k: v for k, v in m.items() if k != "conditions"} for m in desired["materials"]],
    )
    Material.conditions.through.objects.bulk_create(
        [
            Material.conditions.through(
                material_id=material.pk, situationoption_id=option_at[tuple(ref)].pk
            )
            for material, m in zip(materials, desired["materials"], strict=True)
            for ref in m["conditions"]
        ]
    )


@dataclass
class _Run:
    """What every implementation of one run needs."""

    report: DemoReport
    organizations: dict[str, Organization]
    areas: dict[str, dict]
    orgs: dict[str, dict]
    hours: dict[str, list]
    forms: dict[str, tuple[str, str]]
    existing: dict[str, Implementation]


def _upsert_implementation(
    run: _Run, item: Item, definition: dict, override: dict
) -> Implementation:
    ref = override["org"]
    organization = run.organizations[ref]
    area, org = run.areas[ref.split("/")[0]], run.orgs[ref]
    guide = definition["guide"]
    values = _implementation_values(item, guide, override, organization, area, org)
    code = _implementation_code(organization, item)
    impl, status = _upsert(
        Implementation, "implementation", run.report, {"code": code}, values,
        existing=run.existing.get(code),
    )  # fmt: skip
    context = {"region": area["area_name"], "org": organization.name, "hall": area["hall"]["name"]}
    hours_key = org.get("hours") or area["hall"]["hours"]
    desired = _desired_children(guide, area, org, run.hours[hours_key], run.forms, context)
    if status == "created":
        _replace_children(impl, desired)
        run.report.created["guide"] += 1
    elif _current_children(run.existing[code]) == desired:
        run.report.unchanged["guide"] += 1
    else:
        _replace_children(impl, desired)
        run.report.updated["guide"] += 1
    return impl


# --- search index ------------------------------------------------------------------------------


def _reindex(item_ids: set[int], codes: list[str], report: DemoReport) -> None:
    reindex_items = _optional("tongban.catalog.search", "reindex_items")
    if reindex_items is None:
        report.search = "未重建（tongban.catalog.search.reindex_items 尚不可用）"
        return
    stale = Item.objects.filter(code__in=codes).filter(
        models.Q(pk__in=item_ids) | models.Q(search_document="")
    )
    count = stale.count()
    if count:
        reindex_items(stale)
    report.search = f"已重建 {count} 个事项的检索词" if count else "无需重建"


# --- entry point -------------------------------------------------------------------------------


def load_demo(*, stdout: TextIO | None = None) -> DemoReport:
    """Load (or bring up to date) the demo regions, organizations and catalog. Idempotent."""

    def say(message: str) -> None:
        if stdout is not None:
            stdout.write(message + "\n")

    data = read_demo_data()
    report = DemoReport()
    areas = {area["region"]: area for area in data.regions["areas"]}
    orgs = {
        f"{code}/{org['key']}": org for code, area in areas.items() for org in area["organizations"]
    }
    changed_items: set[int] = set()
    with transaction.atomic():
        say("载入行政区划和部门……")
        regions = _ensure_regions(data.regions["regions"], report)
        organizations = _upsert_organizations(data.regions["areas"], regions, report)
        themes, entries = _upsert_catalog(data.catalog, report)
        say("生成空白表格和示范样表……")
        forms = _ensure_forms(data.forms, report)
        say(f"载入 {len(data.items)} 个事项的办事指南……")
        codes = [
            _implementation_code(organizations[o["org"]], Item(code=d["code"]))
            for d in data.items
            for o in d["implementations"]
        ]
        run = _Run(
            report=report,
            organizations=organizations,
            areas=areas,
            orgs=orgs,
            hours=data.regions["hours"],
            forms=forms,
            existing={
                impl.code: impl
                for impl in Implementation.objects.filter(code__in=codes).prefetch_related(
                    *GUIDE_RELATIONS
                )
            },
        )
        for definition in data.items:
            item, changed = _upsert_item(definition, themes, entries, report)
            if changed:
                changed_items.add(item.pk)
            for override in definition["implementations"]:
                _upsert_implementation(run, item, definition, override)
        report.active_implementations = Implementation.objects.filter(
            item__code__in=[d["code"] for d in data.items], status=ImplementationStatus.ACTIVE
        ).count()
    _reindex(changed_items, [d["code"] for d in data.items], report)
    return report
