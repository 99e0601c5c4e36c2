"""Guide page throughput against a bare Django view, side by side, on this machine.

    PYTHONPATH=src .venv/bin/python bench/guide_page.py [--workers 2] [--connections 4]
        [--seconds 10] [--warmup 2] [--implementations 500] [--tool auto|wrk|python]

1. Builds a bench database with the test catalog plus ``--implementations`` complete guides
   (materials, situations, steps …): SQLite in a temporary TONGBAN_VAR_DIR, or with
   ``--postgres URL`` a PostgreSQL database that the bench drops and creates anew (its name must
   start with ``bench`` or ``tb_``), as production runs (persistent connections).
2. Starts gunicorn (sync workers, 127.0.0.1, a free port) serving ``bench.bare_site`` (a
   constant view behind the same settings and middleware), drives load, stops it; then the same
   with the real site's guide page ``/guide/<code>/``, cycling over many guides.
3. Load comes from a separate process: ``wrk`` when installed, else a Python generator (threads
   with keep-alive ``http.client`` connections in worker processes). Each run warms up, then
   measures for a fixed time. Prints requests per second of both, their ratio (target ≥ 70 %)
   and the guide page's p50/p95/p99 latency (target p99 ≤ 50 ms). Exit status 1 if a target
   is missed. Loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- data --------------------------------------------------------------------------------------

SETUP = r"""
import json, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from tests.portal.fixtures import build_catalog
from tests.catalog.factories import (ImplementationFactory, MaterialFactory, SituationFactory,
    SituationOptionFactory, ItemFactory)
from tests.core.factories import OrganizationFactory, RegionFactory
from tongban.catalog.search import reindex_items
catalog = build_catalog()
count = int(sys.argv[1])
codes = [catalog.marriage.code, catalog.business.code, catalog.kangbashi.code]
region = RegionFactory(dongsheng=True)
orgs = [OrganizationFactory(region=region, name=f"东胜区第{i}局") for i in range(20)]
for n in range(count):
    impl = ImplementationFactory(complete=True, organization=orgs[n % 20],
        item=ItemFactory(name=f"压力测试事项{n}", code=f"9{n:09d}"), code=f"BENCH{n:08d}")
    situation = SituationFactory(implementation=impl, question="是否委托代理")
    yes = SituationOptionFactory(situation=situation, label="委托代理")
    SituationOptionFactory(situation=situation, label="本人办理")
    for k in range(5):
        material = MaterialFactory(implementation=impl, name=f"材料{k}", order=k + 2)
        if k == 4:
            material.conditions.add(yes)
    codes.append(impl.code)
reindex_items()
print(json.dumps(codes))
"""


def build_database(env: dict[str, str], implementations: int) -> list[str]:
    out = subprocess.run(
        [PYTHON, "-c", SETUP, str(implementations)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        sys.exit(f"building the bench database failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def recreate_postgres(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    if not name.startswith(("bench", "tb_")) or not name.replace("_", "").isalnum():
        sys.exit(f"--postgres: refusing to recreate database {name!r} (name it bench… or tb_…)")
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_postgres(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- server ------------------------------------------------------------------------------------


class Server:
    def __init__(self, app: str, env: dict[str, str], workers: int):
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                app,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        sys.exit(f"gunicorn {app} did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# ---- load: wrk ---------------------------------------------------------------------------------

WRK_SCRIPT = r"""
local paths = {PATHS}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %f %d %d %d %d %d\n", summary.requests,
    summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout, latency.max))
end
"""


def load_wrk(port: int, paths: list[str], connections: int, seconds: float, warmup: float) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            WRK_SCRIPT.replace("{PATHS}", "{" + ",".join(json.dumps(p) for p in paths) + "}")
        )
    try:
        threads = max(1, min(connections, 2))
        base = ["wrk", "-t", str(threads), "-c", str(connections), "-s", script.name]
        url = f"http://127.0.0.1:{port}/"
        subprocess.run(
            [*base, "-d", f"{max(1, int(warmup))}s", url], capture_output=True, check=True
        )
        out = subprocess.run(
            [*base, "-d", f"{max(1, round(seconds))}s", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in out.splitlines() if line.startswith("RESULT"))
    requests, duration, p50, p95, p99, errors, _max = line.split()[1:]
    return {
        "rps": int(requests) / float(duration),
        "p50": int(p50) / 1000,
        "p95": int(p95) / 1000,
        "p99": int(p99) / 1000,
        "errors": int(errors),
    }


# ---- load: Python ------------------------------------------------------------------------------


def _client(port: int, paths: list[str], start: float, stop: float, offset: int, queue) -> None:
    import threading

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def run(index: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = index
        mine: list[float] = []
        bad = 0
        while True:
            now = time.perf_counter()
            if now >= stop:
                break
            path = paths[i % len(paths)]
            i += 7
            try:
                conn.request("GET", path, headers={"Connection": "keep-alive"})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            except OSError:
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            done = time.perf_counter()
            if now >= start:
                mine.append(done - now)
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=run, args=(offset + k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    queue.put((latencies, errors))


def load_python(
    port: int, paths: list[str], connections: int, seconds: float, warmup: float
) -> dict:
    begin = time.perf_counter()
    start, stop = begin + warmup, begin + warmup + seconds
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_client, args=(port, paths, start, stop, k * 2, queue))
        for k in range(max(1, connections // 2))
    ]
    for proc in procs:
        proc.start()
    latencies: list[float] = []
    errors = 0
    for _ in procs:
        lat, err = queue.get()
        latencies.extend(lat)
        errors += err
    for proc in procs:
        proc.join()
    latencies.sort()
    q = (
        statistics.quantiles(latencies, n=100, method="inclusive")
        if len(latencies) > 1
        else [0] * 99
    )
    return {
        "rps": len(latencies) / seconds,
        "p50": q[49] * 1000,
        "p95": q[94] * 1000,
        "p99": q[98] * 1000,
        "errors": errors,
    }


def combine(parts: list[dict]) -> dict:
    """Rounds → one figure: mean rate; median p50; the worst round's p95 and p99 (conservative)."""
    return {
        "rps": statistics.fmean(p["rps"] for p in parts),
        "p50": statistics.median(p["p50"] for p in parts),
        "p95": max(p["p95"] for p in parts),
        "p99": max(p["p99"] for p in parts),
        "errors": sum(p["errors"] for p in parts),
    }


def warm(port: int, paths: list[str], workers: int) -> None:
    """Fetch every URL a few times per worker first, so that the timed run measures the steady
    state (each worker process has its own in-memory cache unless REDIS_URL is set)."""
    for _ in range(workers * 3):
        for path in paths:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()


# ---- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per site")
    parser.add_argument("--implementations", type=int, default=500)
    parser.add_argument(
        "--guides",
        type=int,
        default=100,
        help="distinct guide URLs to cycle over (each process's in-memory cache keeps "
        "TONGBAN_LOCAL_CACHE_ENTRIES, 20,000 by default; two per guide: stamp and page)",
    )
    parser.add_argument("--tool", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--postgres", metavar="URL", help="a database the bench may recreate")
    args = parser.parse_args()

    tool = args.tool
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    load = load_wrk if tool == "wrk" else load_python

    var = Path(tempfile.mkdtemp(prefix="tongban-bench-"))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "tongban.settings",
        "TONGBAN_VAR_DIR": str(var),
        "TONGBAN_DEBUG": "false",
        "TONGBAN_LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    if args.postgres:
        recreate_postgres(args.postgres)
        env["DATABASE_URL"] = args.postgres
    try:
        print(f"building the bench database ({args.implementations} extra guides) …", flush=True)
        codes = build_database(env, args.implementations)
        paths = [f"/guide/{code}/" for code in codes[: args.guides]]
        print(
            f"gunicorn: {args.workers} sync workers; load: {tool}, {args.connections} connections, "
            f"{args.warmup:g} s warm-up + {args.seconds:g} s; {len(paths)} guide URLs",
            flush=True,
        )
        sites = {
            "bare": ("bench.bare_site:application", ["/"]),
            "guide": ("tongban.wsgi:application", paths),
        }
        servers: dict[str, Server] = {}
        try:
            for name, (app, urls) in sites.items():
                servers[name] = server = Server(app, env, args.workers)
                probe = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                probe.request("GET", urls[0])
                response = probe.getresponse()
                body = response.read()
                if response.status != 200:
                    sys.exit(f"{name}: GET {urls[0]} answered {response.status}: {body[:300]!r}")
                probe.close()
                warm(server.port, urls, args.workers)
            # Alternate short rounds (A B B A …) so that other load on the machine hits both alike.
            rounds: dict[str, list[dict]] = {"bare": [], "guide": []}
            slice_seconds = max(1.0, args.seconds / args.rounds)
            for index in range(args.rounds):
                order = ["bare", "guide"] if index % 2 == 0 else ["guide", "bare"]
                for name in order:
                    warmup = args.warmup if index == 0 else 0
                    result = load(
                        servers[name].port, sites[name][1], args.connections, slice_seconds, warmup
                    )
                    rounds[name].append(result)
        finally:
            for server in servers.values():
                server.stop()
        results = {name: combine(parts) for name, parts in rounds.items()}
        bare, guide = results["bare"], results["guide"]
        ratio = guide["rps"] / bare["rps"] if bare["rps"] else 0.0
        print(
            f"bare Django view : {bare['rps']:8.1f} req/s   p50 {bare['p50']:.1f} ms  "
            f"p99 {bare['p99']:.1f} ms  errors {bare['errors']}"
        )
        print(
            f"guide page       : {guide['rps']:8.1f} req/s   p50 {guide['p50']:.1f} ms  "
            f"p95 {guide['p95']:.1f} ms  p99 {guide['p99']:.1f} ms  errors {guide['errors']}"
        )
        ok_ratio, ok_p99 = ratio >= 0.70, guide["p99"] <= 50
        print(
            f"ratio guide/bare : {ratio:.1%} (target ≥ 70 %: {'met' if ok_ratio else 'MISSED'}); "
            f"guide p99 {guide['p99']:.1f} ms (target ≤ 50 ms: {'met' if ok_p99 else 'MISSED'})"
        )
        if not (ok_ratio and ok_p99) or guide["errors"] or bare["errors"]:
            sys.exit(1)
    finally:
        shutil.rmtree(var, ignore_errors=True)
        if args.postgres:
            drop_postgres(args.postgres)


if __name__ == "__main__":
    main()
