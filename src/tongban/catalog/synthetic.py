"""A synthetic catalog at a province's scale, for benchmarks and load trials (never for a city's
real data).

Shape (Inner Mongolia, 2021 yearbook: about 590,000 implementations online):

- Regions: the autonomous region, its 12 leagues and cities and 103 county-level divisions with
  their real codes and names, and about ten townships (苏木、乡、镇) per county with synthetic
  12-digit codes. Missing regions are created; existing ones (same code) are reused.
- Organizations: every department below in the province, each city and each county, and one
  township government per township. Found by their synthetic USCC, created when absent.
- Items: ``items_for(N) = min(N, max(1500, N // 100))`` — a county-sized deployment (6,000
  implementations) already carries a county catalog of about 1,500 items; a province carries
  a few thousand distinct items (6,000 at 600,000 implementations), each implemented by up to
  every county or township. Names combine a subject of a department with an action and a
  qualifier (食品经营许可证 × 核发/变更/延续/注销/补领 × （跨省通办）…). Codes start with ``SY``.
- Levels: 10 % provincial, 15 % city, 50 % county, 25 % township items. Each item gets at least
  one implementation; the rest are spread in proportion to how many regions can carry it.
- Popularity: Zipf (s = 1.1) over items; an implementation's share follows its item's.

``synthesize(implementations=N, items=M, seed=S)`` is deterministic for a seed and writes in
batches (``bulk_create``), then indexes the items (``reindex_items``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from tongban.catalog.models import (
    Implementation,
    ImplementationStatus,
    Item,
    Synonym,
    TimeUnit,
)
from tongban.catalog.search import rebuild_text_index, reindex_items
from tongban.core.identifiers import organization_code_check_char, uscc_check_char
from tongban.core.models import Organization, OrganizationKind, Region, RegionLevel

CODE_PREFIX = "SY"
BATCH_SIZE = 5000

PROVINCE = ("150000", "内蒙古自治区")
# (code, name, counties) — GB/T 2260 codes of Inner Mongolia.
CITIES: list[tuple[str, str, str]] = [
    (
        "150100",
        "呼和浩特市",
        "150102新城区 150103回民区 150104玉泉区 150105赛罕区 150121土默特左旗 "
        "150122托克托县 150123和林格尔县 150124清水河县 150125武川县",
    ),
    (
        "150200",
        "包头市",
        "150202东河区 150203昆都仑区 150204青山区 150205石拐区 150206白云鄂博矿区 "
        "150207九原区 150221土默特右旗 150222固阳县 150223达尔罕茂明安联合旗",
    ),
    ("150300", "乌海市", "150302海勃湾区 150303海南区 150304乌达区"),
    (
        "150400",
        "赤峰市",
        "150402红山区 150403元宝山区 150404松山区 150421阿鲁科尔沁旗 150422巴林左旗 "
        "150423巴林右旗 150424林西县 150425克什克腾旗 150426翁牛特旗 150428喀喇沁旗 150429宁城县 "
        "150430敖汉旗",
    ),
    (
        "150500",
        "通辽市",
        "150502科尔沁区 150521科尔沁左翼中旗 150522科尔沁左翼后旗 150523开鲁县 "
        "150524库伦旗 150525奈曼旗 150526扎鲁特旗 150581霍林郭勒市",
    ),
    (
        "150600",
        "鄂尔多斯市",
        "150602东胜区 150603康巴什区 150621达拉特旗 150622准格尔旗 "
        "150623鄂托克前旗 150624鄂托克旗 150625杭锦旗 150626乌审旗 150627伊金霍洛旗",
    ),
    (
        "150700",
        "呼伦贝尔市",
        "150702海拉尔区 150703扎赉诺尔区 150721阿荣旗 "
        "150722莫力达瓦达斡尔族自治旗 150723鄂伦春自治旗 150724鄂温克族自治旗 150725陈巴尔虎旗 "
        "150726新巴尔虎左旗 150727新巴尔虎右旗 150781满洲里市 150782牙克石市 150783扎兰屯市 "
        "150784额尔古纳市 150785根河市",
    ),
    (
        "150800",
        "巴彦淖尔市",
        "150802临河区 150821五原县 150822磴口县 150823乌拉特前旗 "
        "150824乌拉特中旗 150825乌拉特后旗 150826杭锦后旗",
    ),
    (
        "150900",
        "乌兰察布市",
        "150902集宁区 150921卓资县 150922化德县 150923商都县 150924兴和县 "
        "150925凉城县 150926察哈尔右翼前旗 150927察哈尔右翼中旗 150928察哈尔右翼后旗 "
        "150929四子王旗 150981丰镇市",
    ),
    (
        "152200",
        "兴安盟",
        "152201乌兰浩特市 152202阿尔山市 152221科尔沁右翼前旗 152222科尔沁右翼中旗 "
        "152223扎赉特旗 152224突泉县",
    ),
    (
        "152500",
        "锡林郭勒盟",
        "152501二连浩特市 152502锡林浩特市 152522阿巴嘎旗 152523苏尼特左旗 "
        "152524苏尼特右旗 152525东乌珠穆沁旗 152526西乌珠穆沁旗 152527太仆寺旗 152528镶黄旗 "
        "152529正镶白旗 152530正蓝旗 152531多伦县",
    ),
    ("152900", "阿拉善盟", "152921阿拉善左旗 152922阿拉善右旗 152923额济纳旗"),
]
TOWNSHIP_STEMS = [
    "巴音",
    "乌兰",
    "新华",
    "城关",
    "红旗",
    "阿拉坦",
    "宝力格",
    "查干",
    "额尔敦",
    "哈日",
    "希望",
    "永丰",
    "胜利",
    "团结",
    "和平",
]
TOWNSHIP_KINDS = ["镇", "苏木", "乡", "街道"]

# (department, item type, audiences, subjects)
DEPARTMENTS: list[tuple[str, str, str, str]] = [
    (
        "公安局",
        "01",
        "1",
        "普通护照 往来港澳通行证 居民身份证 户口迁移 机动车驾驶证 居住证 户籍证明",
    ),
    (
        "民政局",
        "07",
        "1",
        "婚姻登记 收养登记 社会团体 民办非企业单位 最低生活保障 临时救助 殡葬服务",
    ),
    (
        "人力资源和社会保障局",
        "20",
        "1,2",
        "社会保障卡 城乡居民养老保险 失业保险金 工伤认定 就业创业证 职业资格证书 "
        "人力资源服务许可证",
    ),
    (
        "市场监督管理局",
        "01",
        "2",
        "食品经营许可证 食品生产许可证 营业执照 个体工商户登记 特种设备使用登记 药品零售许可证",
    ),
    (
        "住房和城乡建设局",
        "01",
        "2",
        "建筑工程施工许可证 商品房预售许可证 建设工程竣工验收备案 城市建筑垃圾处置核准 住房公积金",
    ),
    (
        "交通运输局",
        "01",
        "1,2",
        "道路运输经营许可证 出租汽车驾驶员从业资格证 道路货物运输 公路超限运输许可",
    ),
    (
        "卫生健康委员会",
        "01",
        "1,2",
        "医师执业注册 护士执业注册 出生医学证明 医疗机构执业许可证 母婴保健技术服务",
    ),
    ("教育局", "07", "1", "教师资格认定 民办学校办学许可证 学生资助 义务教育入学"),
    (
        "自然资源局",
        "01",
        "1,2",
        "不动产登记 建设用地规划许可证 乡村建设规划许可证 采矿许可证",
    ),
    (
        "农牧局",
        "01",
        "1,2",
        "动物防疫条件合格证 种畜禽生产经营许可证 草原征占用审核 农药经营许可证 兽药经营许可证",
    ),
    ("税务局", "20", "1,2", "发票领用 纳税申报 税务登记 完税证明"),
    ("林业和草原局", "01", "1,2", "林木采伐许可证 野生动物驯养繁殖许可证"),
    ("生态环境局", "01", "2", "排污许可证 建设项目环境影响评价 危险废物经营许可证"),
    (
        "文化和旅游局",
        "01",
        "2",
        "娱乐场所经营许可证 互联网上网服务营业场所经营许可 旅行社业务经营许可 出版物经营许可证",
    ),
    (
        "退役军人事务局",
        "05",
        "1",
        "退役军人优待证 伤残抚恤 自主就业退役士兵一次性经济补助",
    ),
    (
        "医疗保障局",
        "20",
        "1",
        "医保关系转移接续 医疗费用报销 异地就医备案 城乡居民医疗保险参保登记",
    ),
]
ACTIONS = {
    "01": ["核发", "变更", "延续", "注销", "补领", "换证"],
    "07": ["登记", "认定", "备案", "变更", "注销", "补办"],
    "05": ["申领", "发放", "审核", "停发"],
    "20": ["办理", "申请", "补办", "转移", "查询", "注销"],
}
QUALIFIERS = [
    "",
    "（新办）",
    "（跨省通办）",
    "（个人）",
    "（企业）",
    "（首次申请）",
    "（遗失补办）",
    "（有效期届满）",
    "（信息变更）",
    "（告知承诺）",
    "（网上办理）",
    "（容缺受理）",
]
# Words people use for a subject, kept as the item's keywords.
SUBJECT_KEYWORDS = {
    "社会保障卡": "社保卡 社保",
    "城乡居民养老保险": "社保 养老金",
    "婚姻登记": "结婚 离婚",
    "住房公积金": "公积金",
    "最低生活保障": "低保",
    "营业执照": "开办企业",
    "互联网上网服务营业场所经营许可": "网吧",
    "出生医学证明": "出生证",
}
SYNONYMS = {"结婚": "婚姻登记", "低保": "最低生活保障", "社保": "社会保障卡 养老保险"}
LEVELS = [  # (level, share of items)
    (RegionLevel.PROVINCE, 0.10),
    (RegionLevel.CITY, 0.15),
    (RegionLevel.COUNTY, 0.50),
    (RegionLevel.TOWNSHIP, 0.25),
]
EXERCISE_LEVEL = {
    RegionLevel.PROVINCE: "2",
    RegionLevel.CITY: "3",
    RegionLevel.COUNTY: "4",
    RegionLevel.TOWNSHIP: "5",
}


def items_for(implementations: int) -> int:
    """How many distinct items a catalog of this many implementations carries (module doc)."""
    return min(implementations, max(1500, implementations // 100))


def _uscc(region_code: str, serial: int) -> str:
    org8 = f"9{serial:07d}"
    inner = org8 + organization_code_check_char(org8)
    first17 = "11" + region_code[:6] + inner
    return first17 + uscc_check_char(first17)


@dataclass
class _Place:
    region: Region
    orgs: dict[str, Organization]  # department (or "政府") → organization


def _ensure_regions() -> dict[int, list[Region]]:
    """Regions by level, created when absent (by code)."""
    wanted: list[tuple[str, str, int, str | None]] = [(*PROVINCE, RegionLevel.PROVINCE, None)]
    for city_code, city_name, counties in CITIES:
        wanted.append((city_code, city_name, RegionLevel.CITY, PROVINCE[0]))
        for entry in counties.split():
            code, name = entry[:6], entry[6:]
            wanted.append((code, name, RegionLevel.COUNTY, city_code))
            for n in range(1, 11):
                stem = TOWNSHIP_STEMS[(int(code) + n) % len(TOWNSHIP_STEMS)]
                kind = TOWNSHIP_KINDS[n % len(TOWNSHIP_KINDS)]
                wanted.append((f"{code}{n:03d}000", f"{stem}{kind}", RegionLevel.TOWNSHIP, code))
    existing = {r.code: r for r in Region.objects.filter(code__in=[w[0] for w in wanted])}
    with transaction.atomic():
        for code, name, level, parent_code in wanted:  # parents come first in `wanted`
            if code not in existing:
                region = Region(code=code, name=name, level=level, parent=existing.get(parent_code))
                region.save()  # computes the prefix
                existing[code] = region
    by_level: dict[int, list[Region]] = {}
    for code, _name, level, _parent in wanted:
        by_level.setdefault(level, []).append(existing[code])
    return by_level


def _ensure_organizations(by_level: dict[int, list[Region]]) -> dict[str, _Place]:
    wanted: list[Organization] = []
    places: dict[str, _Place] = {}
    serial = 0
    for level, regions in by_level.items():
        for region in regions:
            places[region.code] = _Place(region, {})
            if level == RegionLevel.TOWNSHIP:
                serial += 1
                org = Organization(
                    name=f"{region.name}人民政府",
                    short_name="",
                    region=region,
                    kind=OrganizationKind.ORGAN,
                    uscc=_uscc(region.code, serial),
                )
                wanted.append(org)
                places[region.code].orgs["政府"] = org
                continue
            for department, *_rest in DEPARTMENTS:
                serial += 1
                name = f"{region.name}{department}"
                org = Organization(
                    name=name,
                    region=region,
                    kind=OrganizationKind.ORGAN,
                    uscc=_uscc(region.code, serial),
                )
                wanted.append(org)
                places[region.code].orgs[department] = org
    existing = {o.uscc: o for o in Organization.objects.filter(uscc__in=[o.uscc for o in wanted])}
    Organization.objects.bulk_create(
        [o for o in wanted if o.uscc not in existing], batch_size=BATCH_SIZE
    )
    for place in places.values():
        for key, org in place.orgs.items():
            place.orgs[key] = existing.get(org.uscc, org)
    return places


def _item_names(rng: random.Random, count: int) -> list[tuple[int, str, str, str, str]]:
    """(department index, subject, name, item type, audiences) for ``count`` distinct items."""
    combos = []
    for index, (_dept, item_type, audiences, subjects) in enumerate(DEPARTMENTS):
        for subject in subjects.split():
            for action in ACTIONS[item_type]:
                if subject.endswith(action):
                    continue
                for qualifier in QUALIFIERS:
                    name = f"{subject}{action}{qualifier}"
                    combos.append((index, subject, name, item_type, audiences))
    rng.shuffle(combos)
    if count <= len(combos):
        return combos[:count]
    extra = [
        (d, subject, f"{name}（{n // len(combos) + 1}类）", t, a)
        for n, (d, subject, name, t, a) in enumerate(combos * (count // len(combos)))
    ]
    return (combos + extra)[:count]


def _spread(rng: random.Random, capacities: list[int], total: int) -> list[int]:
    """Numbers k_i with 1 <= k_i <= capacity_i, summing to ``total``, proportional to capacity."""
    n = len(capacities)
    room = sum(capacities)
    if total < n or total > room:
        raise ValueError(f"cannot place {total} implementations on {n} items (room {room})")
    counts = [1] * n
    left = total - n
    scale = left / max(1, room - n)
    for i, cap in enumerate(capacities):
        add = min(cap - 1, int((cap - 1) * scale))
        counts[i] += add
        left -= add
    order = list(range(n))
    while left > 0:
        rng.shuffle(order)
        for i in order:
            if left == 0:
                break
            if counts[i] < capacities[i]:
                counts[i] += 1
                left -= 1
    return counts


def synthesize(
    *,
    implementations: int,
    items: int | None = None,
    seed: int = 1,
    progress: Callable[[str], None] = lambda _message: None,
) -> dict[str, int]:
    """Add a synthetic catalog of ``implementations`` implementations over ``items`` items (see
    the module doc). Refuses when synthetic items (codes ``SY…``) exist: remove them first with
    :func:`remove_synthetic`. Returns counts."""
    if implementations < 1:
        raise ValueError("implementations must be positive")
    items = items or items_for(implementations)
    if not 1 <= items <= implementations:
        raise ValueError("items must be between 1 and the number of implementations")
    if Item.objects.filter(code__startswith=CODE_PREFIX).exists():
        raise ValueError("synthetic items already exist: remove them first (--replace)")
    rng = random.Random(seed)
    started = time.monotonic()
    by_level = _ensure_regions()
    places = _ensure_organizations(by_level)
    progress(f"regions {sum(len(r) for r in by_level.values())}, organizations ready")

    levels = [level for level, share in LEVELS for _ in range(round(share * 1000))]
    specs = _item_names(rng, items)
    item_levels = [rng.choice(levels) for _ in specs]
    capacities = [len(by_level[level]) for level in item_levels]
    counts = _spread(rng, capacities, implementations)
    ranks = list(range(1, items + 1))
    rng.shuffle(ranks)
    popularity = [int(200_000 / rank**1.1) for rank in ranks]

    new_items = [
        Item(
            code=f"{CODE_PREFIX}{n:08d}",
            name=name,
            item_type=item_type,
            legal_basis="《中华人民共和国行政许可法》",
            level=EXERCISE_LEVEL[item_levels[n]],
            audiences=audiences,
            keywords=SUBJECT_KEYWORDS.get(subject, ""),
            popularity=popularity[n],
        )
        for n, (_dept, subject, name, item_type, audiences) in enumerate(specs)
    ]
    with transaction.atomic():
        Item.objects.bulk_create(new_items, batch_size=BATCH_SIZE)
    if not new_items[0].pk:  # backends that do not return ids
        ids = dict(Item.objects.filter(code__startswith=CODE_PREFIX).values_list("code", "pk"))
        for item in new_items:
            item.pk = ids[item.code]
    progress(f"items {items}")

    written = 0
    batch: list[dict] = []
    for n, item in enumerate(new_items):
        dept_name = DEPARTMENTS[specs[n][0]][0]
        regions = rng.sample(by_level[item_levels[n]], counts[n])
        for region in regions:
            place = places[region.code]
            org = place.orgs.get(dept_name) or place.orgs["政府"]
            batch.append(_implementation(rng, item, org, region, popularity[n], counts[n]))
            if len(batch) >= BATCH_SIZE:
                written += _flush(batch)
                progress(f"implementations {written}/{implementations}")
    written += _flush(batch)
    progress(f"implementations {written}/{implementations}")

    for term, expansions in SYNONYMS.items():
        Synonym.objects.get_or_create(term=term, defaults={"expansions": expansions})
    indexed_at = time.monotonic()
    reindex_items(Item.objects.filter(code__startswith=CODE_PREFIX))
    progress(f"indexed {items} items in {time.monotonic() - indexed_at:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Steady state of a live database (autovacuum's work): statistics for the planner and
            # the visibility map that lets counts use index-only scans.
            # VACUUM cannot run inside a transaction (a test, a caller's atomic block).
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            cursor.execute(f"{command} catalog_item")
            cursor.execute(f"{command} catalog_implementation")
    progress(f"done in {time.monotonic() - started:.1f} s")
    return {"items": items, "implementations": written}


# Text and flags every synthetic implementation shares.
_CONSTANT = {
    "statutory_unit": TimeUnit.WORKING_DAYS.value,
    "promised_unit": TimeUnit.WORKING_DAYS.value,
    "conditions": "申请人符合法定条件，材料齐全、符合法定形式。",
    "consultation_phone": "12345",
    "complaint_phone": "12345",
}
_STATUSES = [
    ImplementationStatus.ACTIVE.value,
    ImplementationStatus.DRAFT.value,
    ImplementationStatus.SUSPENDED.value,
]


def _implementation(rng, item, org, region, item_popularity, spread) -> dict:
    """The column values of one implementation (by attribute name)."""
    depth = rng.choices([1, 2, 3, 4], weights=[5, 15, 40, 40])[0]
    visits = {4: 0, 3: 1, 2: rng.choice([1, 2])}.get(depth, 2)
    instant = rng.random() < 0.2
    statutory = rng.choice([5, 10, 15, 20, 30])
    return {
        **_CONSTANT,
        "item_id": item.pk,
        "organization_id": org.pk,
        "region_id": region.pk,
        "region_code": region.code,
        "code": f"{org.uscc}{item.code}",
        "statutory_limit": statutory,
        "promised_limit": 0 if instant else max(1, statutory // 2),
        "is_instant": instant,
        "online_depth": depth,
        "visits_required": visits,
        "handle_on_pc": depth >= 2,
        "handle_on_mobile": depth >= 3,
        "result_name": f"{item.name}结果",
        "status": rng.choices(_STATUSES, weights=[97, 2, 1])[0],
        "popularity": int(item_popularity * rng.uniform(0.2, 1.0) / max(1, spread) ** 0.5),
    }


def _flush(batch: list[dict]) -> int:
    """Write a batch: PostgreSQL COPY (no model instances, about ten times faster), else
    bulk_create."""
    count = len(batch)
    if not count:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _copy(batch)
        else:
            Implementation.objects.bulk_create(
                [Implementation(**values) for values in batch], batch_size=BATCH_SIZE
            )
    batch.clear()
    return count


def _copy(batch: list[dict]) -> None:
    fields = [f for f in Implementation._meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    defaults = {}
    for f in fields:  # the model's defaults, prepared for the database once per batch
        value = now if f.attname in {"created_at", "updated_at"} else f.get_default()
        defaults[f.attname] = f.get_db_prep_save(value, connection)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    names = [f.attname for f in fields]
    with connection.cursor() as cursor:
        statement = f"COPY {Implementation._meta.db_table} ({columns}) FROM STDIN"
        with cursor.cursor.copy(statement) as copy:
            for values in batch:
                copy.write_row([values.get(name, defaults[name]) for name in names])


def remove_synthetic(progress: Callable[[str], None] = lambda _message: None) -> int:
    """Delete synthetic items (codes ``SY…``) and their implementations; regions and
    organizations stay for reuse. Returns the number of items removed."""
    with transaction.atomic():
        Implementation.objects.filter(item__code__startswith=CODE_PREFIX).delete()
        removed, _ = Item.objects.filter(code__startswith=CODE_PREFIX).delete()
    rebuild_text_index()
    progress(f"removed synthetic items ({removed} rows)")
    return removed


__all__ = ["items_for", "remove_synthetic", "synthesize"]
