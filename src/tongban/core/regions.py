"""Administrative divisions: importing the GB/T 2260 table, and the reads other code builds on.

* :func:`load_regions` imports or updates the tree from a CSV (``code,name,level,parent_code``):
  upsert by code, parents resolved, codes missing from a complete table deactivated (never
  deleted). Every row is checked first; if any row is bad nothing changes and
  :class:`RegionImportError` lists each bad row with its line, machine code and Chinese reason.
* :func:`descendants_prefix` gives the code prefix that selects a region and everything below it
  (``Implementation.objects.filter(region_code__startswith=descendants_prefix("150600"))``).
* :func:`region_tree` builds a region's subtree with one query.
* :func:`region_choices_for_portal` lists cities and counties for a region switcher, cached.

Codes are stored as the model expects: 6 digits for provinces, cities and counties, 12 digits
(statistics layout) for townships and villages. A 9-digit township code is padded with ``000``;
a 12-digit code ending in ``000000`` is shortened to its 6-digit form.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
import uuid
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tongban.core.models import Organization, Region, RegionLevel
from tongban.core.models.regions import region_prefix

DEFAULT_TABLE = Path(__file__).resolve().parent / "data" / "regions.csv"
REQUIRED_COLUMNS = ("code", "name", "level", "parent_code")
NAME_MAX_LENGTH = Region._meta.get_field("name").max_length
EDITION_MAX_LENGTH = Region._meta.get_field("edition").max_length
CHOICES_CACHE_SECONDS = 600  # other processes (the import command) cannot clear a local cache
_BATCH = 500

LEVEL_NAMES = {
    "province": RegionLevel.PROVINCE,
    "city": RegionLevel.CITY,
    "county": RegionLevel.COUNTY,
    "township": RegionLevel.TOWNSHIP,
    "village": RegionLevel.VILLAGE,
    **{str(level.value): level for level in RegionLevel},
    **{str(level.label): level for level in RegionLevel},
}


class RegionErrorCode(models.TextChoices):
    NOT_FOUND = "not_found", _("没有这个行政区划")
    CODE_FORMAT = "code_format", _("区划代码应为6位、9位或12位数字")
    FILE_UNREADABLE = "file_unreadable", _("区划文件无法读取")
    FILE_EMPTY = "file_empty", _("区划文件没有数据行")
    COLUMNS_MISSING = "columns_missing", _("区划文件缺少必需的列")
    EDITION_MISSING = "edition_missing", _("没有给出区划数据的版本")
    EDITION_TOO_LONG = "edition_too_long", _("区划数据版本过长")
    ROWS_INVALID = "rows_invalid", _("区划文件有错误，未导入任何数据")


class RowErrorCode(models.TextChoices):
    CODE_FORMAT = "code_format", _("区划代码格式错误")
    CODE_DUPLICATE = "code_duplicate", _("区划代码重复")
    NAME_MISSING = "name_missing", _("缺少名称")
    NAME_TOO_LONG = "name_too_long", _("名称过长")
    LEVEL_UNKNOWN = "level_unknown", _("级别无效")
    LEVEL_MISMATCH = "level_mismatch", _("级别与区划代码不符")
    PARENT_REQUIRED = "parent_required", _("缺少上级区划")
    PARENT_NOT_ALLOWED = "parent_not_allowed", _("省级区划不应有上级")
    PARENT_MISMATCH = "parent_mismatch", _("上级区划与区划代码不对应")
    PARENT_MISSING = "parent_missing", _("上级区划不存在")
    ROW_FORMAT = "row_format", _("行格式有误")


@dataclass(frozen=True)
class RowError:
    """One bad row: ``line`` is the 1-based line in the file (the header is line 1)."""

    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return str(_("第%(line)d行：%(message)s") % {"line": self.line, "message": self.message})


@dataclass
class RegionError(ValueError):
    """A region question that cannot be answered; ``code`` is a :class:`RegionErrorCode`."""

    code: str
    message: str

    def __str__(self) -> str:
        return str(self.message)


@dataclass
class RegionImportError(RegionError):
    """A table that was not imported; ``rows`` lists every bad row. Nothing was changed."""

    rows: list[RowError] = field(default_factory=list)


@dataclass
class ImportReport:
    path: str
    edition: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    reactivated: int = 0
    deactivated: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return str(
            _(
                "区划数据 %(edition)s：%(rows)d行，新增%(created)d，更新%(updated)d，"
                "恢复%(reactivated)d，停用%(deactivated)d，未变%(unchanged)d（%(seconds).2f秒）"
            )
            % {
                "edition": self.edition,
                "rows": self.rows,
                "created": self.created,
                "updated": self.updated,
                "reactivated": self.reactivated,
                "deactivated": self.deactivated,
                "unchanged": self.unchanged,
                "seconds": self.seconds,
            }
        )


# --------------------------------------------------------------------------------------------
# Code shapes
# --------------------------------------------------------------------------------------------


def normalize_region_code(raw: str) -> str:
    """The stored form of a region code, or :class:`RegionError` (``code_format``)."""
    code = (raw or "").strip()
    if code.isascii() and code.isdigit():
        if len(code) == 9:
            code += "000"
        elif len(code) == 12 and code.endswith("000000"):
            code = code[:6]
    well_formed = (
        code.isascii()
        and code.isdigit()
        and len(code) in (6, 12)
        and code[:2] != "00"  # a province part
        and not (code[2:4] == "00" and code[4:6] != "00")  # a county needs a city part
        and (len(code) == 6 or code[6:9] != "000")  # below county: a township part
    )
    if well_formed:
        return code
    raise RegionError(RegionErrorCode.CODE_FORMAT, _("区划代码“%(code)s”格式错误") % {"code": raw})


def level_of_code(code: str) -> RegionLevel:
    """The level a (normalized) code's shape implies."""
    if len(code) == 12:
        return RegionLevel.TOWNSHIP if code.endswith("000") else RegionLevel.VILLAGE
    if code.endswith("0000"):
        return RegionLevel.PROVINCE
    if code.endswith("00"):
        return RegionLevel.CITY
    return RegionLevel.COUNTY


def expected_parents(code: str) -> tuple[str, ...]:
    """Codes that may be the parent of ``code``, preferred first (none for a province)."""
    level = level_of_code(code)
    if level == RegionLevel.PROVINCE:
        return ()
    if level == RegionLevel.CITY:
        return (code[:2] + "0000",)
    if level == RegionLevel.COUNTY:
        # A county-level city can sit directly under its province (济源市 419001 → 410000).
        return (code[:4] + "00", code[:2] + "0000")
    if level == RegionLevel.TOWNSHIP:
        return (code[:6],)
    return (code[:9] + "000",)


def descendants_prefix(code: str) -> str:
    """The prefix shared by ``code`` and every code below it (``150600`` → ``1506``)."""
    return region_prefix(normalize_region_code(code))


def region_field_errors(
    *, code: str, level: int | None, parent_code: str | None, known: Container[str] = frozenset()
) -> list[tuple[str, str, str]]:
    """Problems of one region's code, level and parent as ``(field, code, message)``.

    ``known`` holds the codes that exist (for the county-under-province case); the caller checks
    that the parent itself exists.
    """
    try:
        code = normalize_region_code(code)
    except RegionError as exc:
        return [("code", RowErrorCode.CODE_FORMAT, exc.message)]
    errors: list[tuple[str, str, str]] = []
    shape = level_of_code(code)
    if level is not None and level != shape:
        errors.append(
            (
                "level",
                RowErrorCode.LEVEL_MISMATCH,
                _("代码%(code)s是%(shape)s区划，不是%(level)s")
                % {"code": code, "shape": shape.label, "level": RegionLevel(level).label},
            )
        )
    allowed = expected_parents(code)
    if not parent_code:
        if allowed:
            errors.append(
                (
                    "parent",
                    RowErrorCode.PARENT_REQUIRED,
                    _("代码%(code)s的上级区划应为%(parent)s")
                    % {"code": code, "parent": allowed[0]},
                )
            )
        return errors
    if not allowed:
        errors.append(("parent", RowErrorCode.PARENT_NOT_ALLOWED, _("省级区划不应有上级区划")))
        return errors
    if parent_code not in allowed or (parent_code != allowed[0] and allowed[0] in known):
        errors.append(
            (
                "parent",
                RowErrorCode.PARENT_MISMATCH,
                _("代码%(code)s的上级区划应为%(expected)s，不是%(parent)s")
                % {"code": code, "expected": allowed[0], "parent": parent_code},
            )
        )
    return errors


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    line: int
    code: str
    name: str
    level: RegionLevel
    parent_code: str


def _edition_for(path: Path, edition: str | None) -> str:
    if edition is None:
        meta = path.with_suffix(".meta.json")
        if meta.exists():
            try:
                edition = str(json.loads(meta.read_text(encoding="utf-8")).get("edition") or "")
            except (OSError, ValueError) as exc:
                raise RegionImportError(
                    RegionErrorCode.FILE_UNREADABLE,
                    _("版本说明文件%(path)s无法读取：%(error)s") % {"path": meta, "error": exc},
                ) from exc
    edition = (edition or "").strip()
    if not edition:
        raise RegionImportError(
            RegionErrorCode.EDITION_MISSING,
            _("请用 --edition 给出区划数据的版本（如 2024-12-31），或提供同名的 .meta.json"),
        )
    if len(edition) > EDITION_MAX_LENGTH:
        raise RegionImportError(
            RegionErrorCode.EDITION_TOO_LONG,
            _("区划数据版本最多%(n)d个字符") % {"n": EDITION_MAX_LENGTH},
        )
    return edition


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the data rows with their line numbers; blank and ``#`` lines skipped."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            content = [
                (n, text)
                for n, text in enumerate(fh, start=1)
                if text.strip() and not text.startswith("#")
            ]
    except (OSError, UnicodeDecodeError) as exc:
        raise RegionImportError(
            RegionErrorCode.FILE_UNREADABLE,
            _("区划文件%(path)s无法读取：%(error)s") % {"path": path, "error": exc},
        ) from exc
    if len(content) < 2:
        raise RegionImportError(
            RegionErrorCode.FILE_EMPTY, _("区划文件%(path)s没有数据行") % {"path": path}
        )
    header = [column.strip().lower() for column in next(csv.reader([content[0][1]]))]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise RegionImportError(
            RegionErrorCode.COLUMNS_MISSING,
            _("区划文件缺少列：%(columns)s（需要 code,name,level,parent_code）")
            % {"columns": ",".join(missing)},
        )
    return header, [(n, next(csv.reader([text]))) for n, text in content[1:]]


def _parse_row(
    line: int, values: dict[str, str], first_line: dict[str, int], errors: list[RowError]
) -> _Row | None:
    """One row checked on its own; problems appended to ``errors``."""
    raw_code = values["code"].strip()
    try:
        code = normalize_region_code(raw_code)
    except RegionError as exc:
        errors.append(RowError(line, RowErrorCode.CODE_FORMAT, exc.message))
        return None
    if code in first_line:
        errors.append(
            RowError(
                line,
                RowErrorCode.CODE_DUPLICATE,
                _("区划代码%(code)s重复，第%(first)d行已有")
                % {"code": code, "first": first_line[code]},
            )
        )
        return None
    first_line[code] = line
    name = values["name"].strip()
    if not name:
        errors.append(
            RowError(line, RowErrorCode.NAME_MISSING, _("区划%(code)s缺少名称") % {"code": code})
        )
    elif len(name) > NAME_MAX_LENGTH:
        errors.append(
            RowError(
                line,
                RowErrorCode.NAME_TOO_LONG,
                _("区划%(code)s的名称超过%(n)d个字") % {"code": code, "n": NAME_MAX_LENGTH},
            )
        )
    raw_level = values["level"].strip()
    level = LEVEL_NAMES.get(raw_level.lower())
    if level is None:
        errors.append(
            RowError(
                line,
                RowErrorCode.LEVEL_UNKNOWN,
                _(
                    "区划%(code)s的级别“%(level)s”无效，应为province、city、county、township或village"
                )
                % {"code": code, "level": raw_level},
            )
        )
        return None
    raw_parent = values["parent_code"].strip()
    parent = ""
    if raw_parent:
        try:
            parent = normalize_region_code(raw_parent)
        except RegionError:
            errors.append(
                RowError(
                    line,
                    RowErrorCode.PARENT_MISMATCH,
                    _("区划%(code)s的上级区划代码“%(parent)s”格式错误")
                    % {"code": code, "parent": raw_parent},
                )
            )
            return None
    return _Row(line, code, name, level, parent)


def _parse(
    path: Path, *, existing: dict[str, Region], complete: bool
) -> tuple[list[_Row], list[RowError]]:
    header, raw_rows = _read_rows(path)
    rows: list[_Row] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    for line, values in raw_rows:
        if len(values) < len(header):
            errors.append(
                RowError(
                    line,
                    RowErrorCode.ROW_FORMAT,
                    _("列数不足：应有%(n)d列，实有%(m)d列") % {"n": len(header), "m": len(values)},
                )
            )
            continue
        row = _parse_row(line, dict(zip(header, values, strict=False)), first_line, errors)
        if row is not None:
            rows.append(row)

    in_file = set(first_line)
    known = in_file if complete else in_file | {c for c, r in existing.items() if r.is_active}
    for row in rows:
        for _field, code, message in region_field_errors(
            code=row.code, level=row.level, parent_code=row.parent_code, known=known
        ):
            errors.append(RowError(row.line, code, message))
        if row.parent_code and row.parent_code not in known:
            where = _("文件中") if complete else _("文件或系统中")
            errors.append(
                RowError(
                    row.line,
                    RowErrorCode.PARENT_MISSING,
                    _("上级区划%(parent)s不在%(where)s")
                    % {"parent": row.parent_code, "where": where},
                )
            )
    errors.sort(key=lambda e: e.line)
    return rows, errors


def _edition_date(edition: str) -> dt.date:
    try:
        return dt.date.fromisoformat(edition[:10])
    except ValueError:
        return timezone.localdate()


def load_regions(
    *,
    path: str | Path | None = None,
    edition: str | None = None,
    stdout: TextIO | None = None,
    complete: bool = True,
) -> ImportReport:
    """Import the region table at ``path`` (default: the shipped GB/T 2260 table).

    ``edition`` names the table's version; without it, ``edition`` of the sibling
    ``<name>.meta.json`` is used. With ``complete`` (the default) the file is the whole table for
    the levels it covers: an active code of those levels missing from it, and everything below
    such a code, is deactivated with ``valid_to`` = the edition date (or today); every parent must
    be in the file. With ``complete=False`` the file adds to or corrects the
    stored table (e.g. the townships of one county) and parents may already be stored.

    Reloading the same table changes nothing. Raises :class:`RegionImportError` and changes
    nothing if the file or any row is bad.
    """
    started = time.perf_counter()
    path = Path(path) if path else DEFAULT_TABLE
    edition = _edition_for(path, edition)
    report = ImportReport(path=str(path), edition=edition)

    with transaction.atomic():
        existing = {region.code: region for region in Region.objects.select_for_update().all()}
        rows, errors = _parse(path, existing=existing, complete=complete)
        if errors:
            raise RegionImportError(
                RegionErrorCode.ROWS_INVALID,
                _("区划文件有%(n)d处错误，未导入任何数据") % {"n": len(errors)},
                rows=errors,
            )
        report.rows = len(rows)
        changed_on = _edition_date(edition)
        initial = not existing
        ids = {code: region.pk for code, region in existing.items()}
        to_update: list[Region] = []

        for level in RegionLevel:
            new = []
            for row in rows:
                if row.level != level:
                    continue
                parent_id = ids[row.parent_code] if row.parent_code else None
                region = existing.get(row.code)
                if region is None:
                    new.append(
                        Region(
                            code=row.code,
                            name=row.name,
                            level=row.level,
                            parent_id=parent_id,
                            prefix=region_prefix(row.code),
                            edition=edition,
                            is_active=True,
                            valid_from=None if initial else changed_on,
                        )
                    )
                    continue
                substantive = (
                    region.name != row.name
                    or region.level != row.level
                    or region.parent_id != parent_id
                    or region.prefix != region_prefix(row.code)
                )
                revived = not region.is_active or region.valid_to is not None
                if substantive or revived or region.edition != edition:
                    region.name, region.level, region.parent_id = row.name, row.level, parent_id
                    region.prefix = region_prefix(row.code)
                    region.edition, region.is_active, region.valid_to = edition, True, None
                    to_update.append(region)
                report.updated += int(substantive and not revived)
                report.reactivated += int(revived)
                report.unchanged += int(not substantive and not revived)
            created = Region.objects.bulk_create(new, batch_size=_BATCH)
            report.created += len(created)
            if any(region.pk is None for region in created):
                ids.update(Region.objects.filter(level=level).values_list("code", "pk"))
            else:
                ids.update((region.code, region.pk) for region in created)

        if complete:
            # Missing codes at the levels the file covers go, and so does everything below them;
            # townships added with complete=False survive a reload of the county-level table.
            in_file = {row.code for row in rows}
            levels = {row.level for row in rows}
            code_of = {pk: code for code, pk in ids.items()}
            gone: set[str] = set()
            for code, region in sorted(existing.items(), key=lambda item: (item[1].level, item[0])):
                if code in in_file:
                    continue
                if region.level in levels or code_of.get(region.parent_id) in gone:
                    gone.add(code)
                    if region.is_active:
                        region.is_active, region.valid_to = False, changed_on
                        to_update.append(region)
                        report.deactivated += 1
        Region.objects.bulk_update(
            to_update,
            ["name", "level", "parent", "prefix", "edition", "is_active", "valid_to"],
            batch_size=_BATCH,
        )
        if report.deactivated:
            stranded = Organization.objects.filter(is_active=True, region__is_active=False).count()
            if stranded:
                report.warnings.append(
                    str(_("%(n)d个有效部门所属的区划已停用，请调整其所属区划") % {"n": stranded})
                )
        transaction.on_commit(invalidate_region_cache)

    report.seconds = time.perf_counter() - started
    if stdout is not None:
        stdout.write(report.summary() + "\n")
        for warning in report.warnings:
            stdout.write(warning + "\n")
    return report


# --------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------


@dataclass
class RegionNode:
    code: str
    name: str
    level: int
    is_active: bool
    children: list[RegionNode] = field(default_factory=list)

    def walk(self) -> Iterator[RegionNode]:
        """This node and every node below it, depth first, in code order."""
        yield self
        for child in self.children:
            yield from child.walk()


def region_tree(
    root_code: str, *, include_inactive: bool = False, max_level: int | None = None
) -> RegionNode:
    """The subtree under ``root_code`` (itself included) with one query; children by code."""
    code = normalize_region_code(root_code)
    queryset = Region.objects.filter(code__startswith=region_prefix(code))
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    if max_level is not None:
        queryset = queryset.filter(level__lte=max_level)
    nodes: dict[int, RegionNode] = {}
    parents: dict[int, int | None] = {}
    root: RegionNode | None = None
    for pk, row_code, name, level, active, parent_id in queryset.order_by("code").values_list(
        "pk", "code", "name", "level", "is_active", "parent_id"
    ):
        nodes[pk] = RegionNode(row_code, name, level, active)
        parents[pk] = parent_id
        if row_code == code:
            root = nodes[pk]
    if root is None:
        raise RegionError(RegionErrorCode.NOT_FOUND, _("没有区划%(code)s") % {"code": code})
    for pk, parent_id in parents.items():
        if parent_id in nodes and nodes[pk] is not root:
            nodes[parent_id].children.append(nodes[pk])
    return root


@dataclass(frozen=True)
class RegionChoice:
    code: str
    name: str
    level: int
    parent_code: str | None


_VERSION_KEY = "tongban:regions:version"


def invalidate_region_cache() -> None:
    """Forget cached region lists in this process's cache (and everywhere, with a shared cache)."""
    cache.set(_VERSION_KEY, uuid.uuid4().hex, None)


def region_choices_for_portal(root_code: str | None = None) -> tuple[RegionChoice, ...]:
    """Active cities and counties (under ``root_code`` if given), in code order, for a region
    switcher. Cached; a change is seen at once in this process and within
    :data:`CHOICES_CACHE_SECONDS` in others that keep a local cache."""
    prefix = descendants_prefix(root_code) if root_code else ""
    version = cache.get_or_set(_VERSION_KEY, uuid.uuid4().hex, None)
    key = f"tongban:regions:choices:{version}:{prefix}"
    choices = cache.get(key)
    if choices is None:
        rows = (
            Region.objects.filter(
                is_active=True,
                level__in=(RegionLevel.CITY, RegionLevel.COUNTY),
                code__startswith=prefix,
            )
            .order_by("code")
            .values_list("code", "name", "level", "parent__code")
        )
        choices = tuple(RegionChoice(*row) for row in rows)
        cache.set(key, choices, CHOICES_CACHE_SECONDS)
    return choices
