"""The guide audit: every active implementation against seed 001 attachment 1.

:func:`audit` reads the active implementations of a scope (a region and below, or one
organization) in chunks of :data:`CHUNK_SIZE` with their guide elements prefetched (a fixed number
of queries per chunk, so memory stays flat at 50,000 implementations), checks each with
:func:`tongban.catalog.rules.check_implementation`, and tallies the indicators below, overall,
per organization and per region (county and city). It returns an :class:`AuditReport` with the
percentages, the seed's targets, pass or fail, and the list of findings to fix.

How each indicator counts (decisions the seed leaves open)
----------------------------------------------------------
* Row 1 (减时间, ≥50%): the reduction of the summed promised limits against the summed statutory
  limits, both in working days (natural days × 5/7, see rules), over implementations with a
  statutory limit above 0. The count beside it is how many are individually reduced by half.
* Row 2 (即办件, ≥20%): ``is_instant`` among all.
* Rows 4–6 (depth Ⅱ ≥90%, Ⅲ ≥60%, Ⅳ ≥50%): shares are cumulative (a depth-Ⅳ implementation has
  also reached Ⅲ and Ⅱ). An implementation counts at its *effective* depth: the highest depth
  not above the declared one whose visit limit it meets and, from Ⅱ up, with an online channel.
  A contradiction therefore never raises a share.
* Row 7 (六类依申请权力事项指南100%发布): power-list entries of the six types whose item has an
  active implementation, among all such entries; only for the whole catalog (entries carry no
  region), so it is left out when a region or organization is chosen.
* Row 8 (公共服务事项指南≥20个/部门): per organization the number of active public-service
  implementations; for a group, the share of its organizations that reach 20.
* Row 9 (关联度 ≥90%): implementations of the six on-application power types whose item is
  linked to a power-list entry.
* Row 10 (名称、编码、依据、类型统一): holds by construction (an implementation cannot carry
  them), so it is not measured.
* Row 11 (按情形分类展示材料 ≥30%): implementations with a situation that decides at least one
  material.
* Rows 12–24 (指南准确度, 100%): implementations without any finding of that row's rules. Row 17
  counts only implementations with intermediaries, rows 23–24 only those with a form to fill in.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tongban.catalog import rules
from tongban.catalog.models import (
    Implementation,
    ImplementationStatus,
    Item,
    ItemType,
    OnlineDepth,
    PowerListEntry,
)
from tongban.catalog.models.choices import MAX_VISITS_FOR_DEPTH, ON_APPLICATION_POWER_TYPES
from tongban.catalog.queries import published_implementations
from tongban.core.models import Organization, Region
from tongban.core.models.regions import region_prefix

__all__ = ["CHUNK_SIZE", "INDICATORS", "AuditReport", "Defect", "GroupReport", "Indicator", "audit"]

CHUNK_SIZE = 2000
PUBLIC_SERVICE_TARGET = 20


@dataclass(frozen=True)
class IndicatorSpec:
    key: str
    seed_row: int
    label: Any
    target: float  # a share between 0 and 1


INDICATORS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec("time_reduction", 1, _("承诺时限较法定时限压缩比例"), 0.5),
    IndicatorSpec("instant", 2, _("即办件占比"), 0.2),
    IndicatorSpec("depth2", 4, _("材料预审（Ⅱ级）及以上占比"), 0.9),
    IndicatorSpec("depth3", 5, _("材料核验（Ⅲ级）及以上占比"), 0.6),
    IndicatorSpec("depth4", 6, _("全程网办（Ⅳ级）占比"), 0.5),
    IndicatorSpec("power_published", 7, _("依申请六类权力事项指南发布率"), 1.0),
    IndicatorSpec("public_service", 8, _("公共服务事项指南达20个的部门占比"), 1.0),
    IndicatorSpec("power_linked", 9, _("依申请六类权力事项与权责清单关联度"), 0.9),
    IndicatorSpec("situations", 11, _("按情形分类展示申请材料的指南占比"), 0.3),
    IndicatorSpec("row12", 12, _("法定办结时限标注完整"), 1.0),
    IndicatorSpec("row13", 13, _("承诺办结时限标注准确"), 1.0),
    IndicatorSpec("row14", 14, _("办理地点（街道、门牌号、房间号、窗口号）"), 1.0),
    IndicatorSpec("row15", 15, _("办理时间"), 1.0),
    IndicatorSpec("row16", 16, _("咨询电话"), 1.0),
    IndicatorSpec("row17", 17, _("中介服务或特殊环节及设定依据"), 1.0),
    IndicatorSpec("row18", 18, _("材料来源或出具单位"), 1.0),
    IndicatorSpec("row19", 19, _("材料份数"), 1.0),
    IndicatorSpec("row20", 20, _("材料类型和形式"), 1.0),
    IndicatorSpec("row21", 21, _("办理流程详实（时限、标准、结果）"), 1.0),
    IndicatorSpec("row22", 22, _("到办事现场次数"), 1.0),
    IndicatorSpec("row23", 23, _("空白表格下载"), 1.0),
    IndicatorSpec("row24", 24, _("示范样表下载"), 1.0),
)
_SPECS = {spec.key: spec for spec in INDICATORS}
_COMPLETENESS_ROWS = tuple(range(12, 25))


@dataclass
class Indicator:
    key: str
    seed_row: int
    label: str
    target: float
    count: int
    total: int
    value: float | None  # None: nothing to measure in this group

    @property
    def passed(self) -> bool | None:
        return None if self.value is None else self.value + 1e-9 >= self.target

    @property
    def value_text(self) -> str:
        return percent(self.value)

    @property
    def target_text(self) -> str:
        return percent(self.target)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "seed_row": self.seed_row,
            "label": self.label,
            "target": self.target,
            "count": self.count,
            "total": self.total,
            "value": None if self.value is None else round(self.value, 4),
            "passed": self.passed,
        }


@dataclass
class GroupReport:
    kind: str  # "all", "organization", "region"
    key: str
    name: str
    total: int
    errors: int
    defects: int
    indicators: list[Indicator]
    public_service_guides: int | None = None  # organizations only (row 8)

    @property
    def failed(self) -> int:
        return sum(1 for i in self.indicators if i.passed is False)

    @property
    def by_key(self) -> dict[str, Indicator]:
        return {i.key: i for i in self.indicators}

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "key": self.key,
            "name": self.name,
            "total": self.total,
            "errors": self.errors,
            "defects": self.defects,
            "public_service_guides": self.public_service_guides,
            "indicators": [i.as_dict() for i in self.indicators],
        }


@dataclass(frozen=True, slots=True)
class Defect:
    implementation_id: int
    implementation_code: str
    item_name: str
    organization_name: str
    region_code: str
    code: str
    severity: str
    seed_row: int
    message: str

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass
class AuditReport:
    generated_at: Any
    region: str | None
    organization: int | None
    overall: GroupReport
    organizations: list[GroupReport]
    regions: list[GroupReport]
    defects: list[Defect]

    @property
    def errors(self) -> int:
        return sum(1 for d in self.defects if d.severity == rules.Severity.ERROR)

    def as_dict(self) -> dict:
        return {
            "generated_at": self.generated_at.isoformat(),
            "region": self.region,
            "organization": self.organization,
            "overall": self.overall.as_dict(),
            "organizations": [g.as_dict() for g in self.organizations],
            "regions": [g.as_dict() for g in self.regions],
            "defects": [d.as_dict() for d in self.defects],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2)


class _Tally:
    """Counters of one group; a few integers and a set of organization ids."""

    __slots__ = (
        "applicable",
        "counts",
        "defects",
        "errors",
        "organizations",
        "promised",
        "statutory",
        "total",
    )

    def __init__(self) -> None:
        self.total = 0
        self.errors = 0
        self.defects = 0
        self.statutory = 0.0
        self.promised = 0.0
        self.counts: dict[str, int] = defaultdict(int)
        self.applicable: dict[str, int] = defaultdict(int)
        self.organizations: set[int] = set()

    def add(self, facts: dict[str, bool | None], impl, findings: list[rules.Finding]) -> None:
        self.total += 1
        self.organizations.add(impl.organization_id)
        for finding in findings:
            if finding.is_error:
                self.errors += 1
            else:
                self.defects += 1
        if impl.statutory_limit:
            self.statutory += float(
                rules.to_working_days(impl.statutory_limit, impl.statutory_unit)
            )
            self.promised += float(rules.to_working_days(impl.promised_limit, impl.promised_unit))
        for key, ok in facts.items():
            if ok is None:
                continue  # not applicable to this implementation
            self.applicable[key] += 1
            if ok:
                self.counts[key] += 1


def _effective_depth(impl) -> int:
    online = impl.handle_on_pc or impl.handle_on_mobile
    depth = OnlineDepth.PUBLISHED
    for level in (OnlineDepth.PREREVIEW, OnlineDepth.VERIFIED, OnlineDepth.FULLY_ONLINE):
        if (
            impl.online_depth >= level
            and online
            and impl.visits_required <= MAX_VISITS_FOR_DEPTH[level]
        ):
            depth = level
    return depth


def _facts(impl, findings: list[rules.Finding]) -> dict[str, bool | None]:
    rows = {f.seed_row for f in findings}
    depth = _effective_depth(impl)
    materials = list(impl.materials.all())
    facts: dict[str, bool | None] = {
        "time_reduction": (
            rules.to_working_days(impl.promised_limit, impl.promised_unit) * 2
            <= rules.to_working_days(impl.statutory_limit, impl.statutory_unit)
            if impl.statutory_limit
            else None
        ),
        "instant": impl.is_instant,
        "depth2": depth >= OnlineDepth.PREREVIEW,
        "depth3": depth >= OnlineDepth.VERIFIED,
        "depth4": depth >= OnlineDepth.FULLY_ONLINE,
        "power_linked": impl.power_linked
        if impl.item.item_type in ON_APPLICATION_POWER_TYPES
        else None,
        "situations": bool(list(impl.situations.all()))
        and any(m.conditions.all() for m in materials),
    }
    for row in _COMPLETENESS_ROWS:
        facts[f"row{row}"] = row not in rows
    if not (impl.has_intermediary or list(impl.intermediaries.all())):
        facts["row17"] = None
    if not any(m.needs_filling for m in materials):
        facts["row23"] = facts["row24"] = None
    return facts


def _indicators(
    tally: _Tally, public_service: dict[int, int], power_published: tuple[int, int] | None
):
    result = []
    for spec in INDICATORS:
        if spec.key == "time_reduction":
            total = tally.applicable["time_reduction"]
            value = 1 - tally.promised / tally.statutory if tally.statutory else None
            count = tally.counts["time_reduction"]
        elif spec.key == "public_service":
            total = len(tally.organizations)
            count = sum(
                1
                for org in tally.organizations
                if public_service.get(org, 0) >= PUBLIC_SERVICE_TARGET
            )
            value = count / total if total else None
        elif spec.key == "power_published":
            if power_published is None:
                continue
            count, total = power_published
            value = count / total if total else None
        else:
            total = tally.applicable[spec.key]
            count = tally.counts[spec.key]
            value = count / total if total else None
        result.append(
            Indicator(spec.key, spec.seed_row, str(spec.label), spec.target, count, total, value)
        )
    return result


def _scope(region: str | None, organization: int | None):
    queryset = published_implementations()  # the guides citizens read (catalog.queries)
    if region:
        queryset = queryset.filter(region_code__startswith=region_prefix(region))
    if organization is not None:
        queryset = queryset.filter(organization_id=organization)
    return queryset


def _region_keys(code: str) -> list[str]:
    """The county and city groups an implementation's region belongs to."""
    base = code[:6]
    if base.endswith("0000"):
        return [base]
    if base.endswith("00"):
        return [base]
    return [base, base[:4] + "00"]


def _power_published() -> tuple[int, int]:
    entries = PowerListEntry.objects.filter(item_type__in=ON_APPLICATION_POWER_TYPES)
    active = Implementation.objects.filter(
        item__power_entries=OuterRef("pk"), status=ImplementationStatus.ACTIVE
    )
    return entries.filter(Exists(active)).count(), entries.count()


def audit(
    *, region: str | None = None, organization: int | None = None, chunk_size: int = CHUNK_SIZE
) -> AuditReport:
    """Audit the active implementations of a region (and below) or of one organization."""
    links = Item.power_entries.through.objects.filter(item_id=OuterRef("item_id"))
    queryset = (
        _scope(region, organization)
        .select_related("item", "organization")
        .defer(
            "conditions",
            "statutory_note",
            "promised_note",
            "quantity_limit",
            "jurisdiction",
            "joint_departments",
            "item__legal_basis",
            "item__description",
            "item__search_document",
        )
        .annotate(power_linked=Exists(links))
        .prefetch_related(*rules.GUIDE_PREFETCH)
        .order_by("pk")
    )
    overall = _Tally()
    by_org: dict[int, _Tally] = defaultdict(_Tally)
    by_region: dict[str, _Tally] = defaultdict(_Tally)
    org_names: dict[int, str] = {}
    public_service: dict[int, int] = defaultdict(int)
    defects: list[Defect] = []
    for impl in queryset.iterator(chunk_size=chunk_size):
        findings = rules.check_implementation(impl)
        facts = _facts(impl, findings)
        overall.add(facts, impl, findings)
        by_org[impl.organization_id].add(facts, impl, findings)
        for key in _region_keys(impl.region_code):
            by_region[key].add(facts, impl, findings)
        org_names[impl.organization_id] = impl.organization.name
        if impl.item.item_type == ItemType.PUBLIC_SERVICE:
            public_service[impl.organization_id] += 1
        for finding in findings:
            defects.append(
                Defect(
                    impl.pk,
                    impl.code,
                    impl.item.name,
                    impl.organization.name,
                    impl.region_code,
                    finding.code,
                    str(finding.severity),
                    finding.seed_row,
                    finding.message,
                )
            )
    whole_catalog = region is None and organization is None
    power = _power_published() if whole_catalog else None
    region_names = dict(Region.objects.filter(code__in=list(by_region)).values_list("code", "name"))
    if not by_region and region:
        region_names.update(Region.objects.filter(code=region).values_list("code", "name"))

    def group(kind: str, key: str, name: str, tally: _Tally, org: int | None = None) -> GroupReport:
        return GroupReport(
            kind,
            key,
            name,
            tally.total,
            tally.errors,
            tally.defects,
            _indicators(tally, public_service, power if kind == "all" else None),
            public_service.get(org, 0) if org is not None else None,
        )

    if organization is not None and not org_names:
        org_names.update(Organization.objects.filter(pk=organization).values_list("pk", "name"))
    scope_name = (
        org_names.get(organization, "")
        if organization is not None
        else region_names.get(region, region or "")
        if region
        else str(_("全部"))
    )
    return AuditReport(
        generated_at=timezone.now(),
        region=region,
        organization=organization,
        overall=group("all", region or "", str(scope_name), overall),
        organizations=sorted(
            (
                group("organization", str(pk), org_names[pk], tally, pk)
                for pk, tally in by_org.items()
            ),
            key=lambda g: g.name,
        ),
        regions=[
            group("region", code, region_names.get(code, code), by_region[code])
            for code in sorted(by_region)
        ],
        defects=defects,
    )


# --- rendering ------------------------------------------------------------------------------------
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def verdict(indicator: Indicator) -> str:
    return str({True: _("达标"), False: _("未达标"), None: _("不适用")}[indicator.passed])


def severity_label(defect: Defect) -> str:
    return rules.Severity(defect.severity).label


def render_text(report: AuditReport, *, max_defects: int | None = None) -> str:
    """A readable Chinese report for the command line."""
    overall = report.overall
    lines = [
        gettext("办事指南标准化审计（政务服务事项标准化建设重点工作任务清单）%(at)s")
        % {"at": f"{timezone.localtime(report.generated_at):%Y-%m-%d %H:%M}"},
        gettext("范围：%(name)s；在用实施清单%(n)d项，错误%(e)d处，缺项%(d)d处")
        % {"name": overall.name, "n": overall.total, "e": overall.errors, "d": overall.defects},
        "",
    ]
    for i in overall.indicators:
        lines.append(
            gettext(
                "第%(row)s项 %(label)s：%(value)s（目标%(target)s，%(count)d/%(total)d）%(verdict)s"
            )
            % {
                "row": i.seed_row,
                "label": i.label,
                "value": percent(i.value),
                "target": percent(i.target),
                "count": i.count,
                "total": i.total,
                "verdict": verdict(i),
            }
        )
    for title, groups in (
        (gettext("按部门"), report.organizations),
        (gettext("按区划"), report.regions),
    ):
        lines += ["", title]
        for g in groups:
            failed = "、".join(str(i.seed_row) for i in g.indicators if i.passed is False)
            lines.append(
                (
                    gettext("  %(name)s（%(key)s）实施清单%(n)d项，错误%(e)d处，缺项%(d)d处，")
                    + gettext("未达标指标：%(failed)s")
                )
                % {
                    "name": g.name,
                    "key": g.key,
                    "n": g.total,
                    "e": g.errors,
                    "d": g.defects,
                    "failed": failed or gettext("无"),
                }
            )
    shown = report.defects if max_defects is None else report.defects[:max_defects]
    lines += ["", gettext("待整改问题（共%(n)d处）：") % {"n": len(report.defects)}]
    for d in shown:
        lines.append(
            f"  [{severity_label(d)}] {d.implementation_code} {d.item_name}"
            f"（{d.organization_name}）#{d.seed_row} {d.code}：{d.message}"
        )
    if len(shown) < len(report.defects):
        lines.append(
            gettext("  ……另有%(n)d处，请用 --format xlsx 导出全部")
            % {"n": len(report.defects) - len(shown)}
        )
    return "\n".join(lines)


def write_xlsx(report: AuditReport, fileobj) -> None:
    """The report as a workbook: indicators, organizations, regions, and every finding."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)

    def text_safe(values: Iterable):
        """Cells whose text is never read as a formula: item names come from departments."""
        cells = []
        for value in values:
            cell = WriteOnlyCell(ws_ref[0], value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            cells.append(cell)
        return cells

    ws_ref: list = [None]

    def sheet(title, columns: Iterable):
        ws = book.create_sheet(str(title))
        cells = []
        for value in columns:
            cell = WriteOnlyCell(ws, value=str(value))
            cell.font = bold
            cells.append(cell)
        ws.append(cells)
        ws_ref[0] = ws
        return ws

    ws = sheet(
        _("指标"),
        [_("序号"), _("指标"), _("达标数"), _("统计数"), _("实际值"), _("目标"), _("结果")],
    )
    for i in report.overall.indicators:
        ws.append(
            text_safe(
                [
                    i.seed_row,
                    str(i.label),
                    i.count,
                    i.total,
                    percent(i.value),
                    percent(i.target),
                    str(verdict(i)),
                ]
            )
        )
    labels = [f"{s.seed_row}.{s.label}" for s in INDICATORS]
    for title, groups in ((_("按部门"), report.organizations), (_("按区划"), report.regions)):
        ws = sheet(title, [_("名称"), _("代码"), _("实施清单数"), _("错误"), _("缺项"), *labels])
        for g in groups:
            values = {i.key: percent(i.value) for i in g.indicators}
            ws.append(
                text_safe(
                    [
                        g.name,
                        g.key,
                        g.total,
                        g.errors,
                        g.defects,
                        *(values.get(s.key, "—") for s in INDICATORS),
                    ]
                )
            )
    ws = sheet(
        _("问题清单"),
        [
            _("实施编码"),
            _("事项名称"),
            _("实施主体"),
            _("区划代码"),
            _("类别"),
            _("规则"),
            _("指标序号"),
            _("说明"),
        ],
    )
    for d in report.defects:
        ws.append(
            text_safe(
                [
                    d.implementation_code,
                    d.item_name,
                    d.organization_name,
                    d.region_code,
                    severity_label(d),
                    d.code,
                    d.seed_row,
                    str(d.message),
                ]
            )
        )
    book.save(fileobj)
