"""Benchmark: catalog search at 6,000 and 600,000 implementations on PostgreSQL.

Targets (issue "Search"): p95 <= 20 ms at 600,000 implementations (Inner Mongolia's scale) and
p95(600,000) <= 1.5 x p95(6,000).

How to run (from the repository root, PostgreSQL on 127.0.0.1:5432 with trust auth)::

    PYTHONPATH=src .venv/bin/python bench/search.py
    PYTHONPATH=src .venv/bin/python bench/search.py --sizes 6000 --repeat 50   # quicker

For each size the script uses its own database (``tb_bench_6k``, ``tb_bench_600k`` on the
server of ``--server``), creating it, migrating it and filling it with
``tongban synthesize_catalog --implementations N --seed 1`` when it does not hold exactly N
synthetic implementations (600,000 take a few minutes once; later runs reuse the database).
Then a child process with ``DATABASE_URL`` pointing at that database calls
``tongban.catalog.queries.search`` in-process, as a view does, for a fixed query mix
(two-character words, pinyin, initials, multi-word, browse; with and without a region), after a
warm-up, ``--repeat`` times each, and reports p50/p95/p99 of the whole mix.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
TARGET_P95_MS = 20.0
TARGET_RATIO = 1.5

# (q, region): two-character words, pinyin, initials, multi-word, synonyms, single character,
# browsing; a county, a city, a township and no region.
QUERY_MIX: list[tuple[str, str | None]] = [
    ("护照", None),
    ("护照", "150602"),
    ("社保", None),
    ("社保", "150600"),
    ("hunyin", None),
    ("hunyin", "152501"),
    ("hydj", "150602"),
    ("shehuibaozhangka", None),
    ("食品 经营 许可", None),
    ("食品经营许可证", "150602"),
    ("营业执照 变更", "150100"),
    ("結婚", "150602"),
    ("公积金", "150602001000"),
    ("证", "150602"),
    ("不动产登记", None),
    ("", "150602"),
    ("", None),
]


def _database_url(server: str, size: int) -> str:
    name = f"tb_bench_{size // 1000}k" if size % 1000 == 0 else f"tb_bench_{size}"
    return f"{server.rstrip('/')}/{name}"


def _env(url: str, var_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONPATH": str(ROOT / "src"),
        "TONGBAN_VAR_DIR": var_dir,
        "TONGBAN_LOG_LEVEL": "WARNING",
    }


def _ensure_database(url: str) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}", flush=True)


def _prepare(size: int, url: str, var_dir: str) -> None:
    _ensure_database(url)
    env = _env(url, var_dir)
    subprocess.run([PY, "-m", "tongban", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    count = subprocess.run(
        [PY, __file__, "--count"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    if count != str(size):
        print(f"generating {size} implementations in {url.rsplit('/', 1)[1]} …", flush=True)
        started = time.monotonic()
        subprocess.run(
            [
                PY,
                "-m",
                "tongban",
                "synthesize_catalog",
                "--implementations",
                str(size),
                "--seed",
                "1",
                "--replace",
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        print(f"generated in {time.monotonic() - started:.0f} s", flush=True)


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()


def _count() -> None:
    _setup_django()
    from tongban.catalog.models import Implementation
    from tongban.catalog.synthetic import CODE_PREFIX

    print(Implementation.objects.filter(item__code__startswith=CODE_PREFIX).count())


def _measure(repeat: int, warmup: int) -> None:
    """Child process: time the query mix and print one JSON line."""
    _setup_django()
    from django.db import connection

    from tongban.catalog.queries import search

    for _ in range(warmup):
        for q, region in QUERY_MIX:
            search(q, region=region)
    samples: list[float] = []
    per_query: dict[str, list[float]] = {}
    totals: dict[str, int] = {}
    for _ in range(repeat):
        for q, region in QUERY_MIX:
            started = time.perf_counter()
            page = search(q, region=region)
            elapsed = (time.perf_counter() - started) * 1000
            samples.append(elapsed)
            key = f"{q or '(browse)'} @{region or 'all'}"
            per_query.setdefault(key, []).append(elapsed)
            totals[key] = page.total
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_implementation")
        implementations = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM catalog_item")
        items = cursor.fetchone()[0]
    print(
        json.dumps(
            {
                "implementations": implementations,
                "items": items,
                "samples": samples,
                "per_query": {k: _pct(v, 95) for k, v in per_query.items()},
                "totals": totals,
            }
        )
    )


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="6000,600000")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--var-dir", default=str(ROOT / "var" / "bench"))
    parser.add_argument("--verbose", action="store_true", help="p95 of each query")
    parser.add_argument("--count", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count:
        return _count()
    if args.measure:
        return _measure(args.repeat, args.warmup)

    p95: dict[int, float] = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        url = _database_url(args.server, size)
        _prepare(size, url, args.var_dir)
        out = (
            subprocess.run(
                [
                    PY,
                    __file__,
                    "--measure",
                    "--repeat",
                    str(args.repeat),
                    "--warmup",
                    str(args.warmup),
                ],
                cwd=ROOT,
                env=_env(url, args.var_dir),
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        result = json.loads(out)
        samples = result["samples"]
        p95[size] = _pct(samples, 95)
        print(
            f"{size:>9,} implementations ({result['items']:,} items, "
            f"{result['implementations']:,} rows): n={len(samples)} "
            f"p50={statistics.median(samples):.2f} ms p95={p95[size]:.2f} ms "
            f"p99={_pct(samples, 99):.2f} ms max={max(samples):.2f} ms",
            flush=True,
        )
        if args.verbose:
            for key, value in result["per_query"].items():
                print(f"    p95 {value:7.2f} ms  total {result['totals'][key]:>6}  {key}")
    largest, smallest = max(p95), min(p95)
    verdict = "PASS" if p95[largest] <= TARGET_P95_MS else "FAIL"
    print(f"target p95 <= {TARGET_P95_MS:.0f} ms at {largest:,}: {p95[largest]:.2f} ms {verdict}")
    if largest != smallest:
        ratio = p95[largest] / p95[smallest]
        verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
        print(
            f"ratio p95({largest:,}) / p95({smallest:,}) = {ratio:.2f} "
            f"(target <= {TARGET_RATIO}) {verdict}"
        )


if __name__ == "__main__":
    main()
