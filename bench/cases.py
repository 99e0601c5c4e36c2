"""Benchmark: the staff case queue over millions of cases, and submission throughput, on PostgreSQL.

Figures:

1. **Queue page** — what the workbench runs for a reviewer of one organization: the first page
   of 20 of ``queries.queue(user, "to_review")`` and ``queries.queue_counts(user)`` (one
   aggregate over the organization's open cases), p50/p95/p99 over ``--repeat`` runs, for the
   busiest organization and for an ordinary one; then ``EXPLAIN (ANALYZE, BUFFERS)`` of both
   queries, to show which index serves them.
2. **Submission throughput** — cases per second through the whole online flow (open the draft,
   autosave the form, upload two 200 KB PDF scans into the materials library, submit: checks,
   case number under the region/day counter lock, materials, event, notice, SMS) with
   ``--workers`` processes (default 2) submitting at once.

How to run (from the repository root, PostgreSQL on 127.0.0.1:5432 with trust auth)::

    PYTHONPATH=src .venv/bin/python bench/cases.py                   # 1,000,000 cases
    PYTHONPATH=src .venv/bin/python bench/cases.py --large           # 10,000,000 cases
    PYTHONPATH=src .venv/bin/python bench/cases.py --cases 100000 --repeat 200 --drop

The cases live in their own database (``tb_bench_cases``), created and migrated when missing and
filled by ``INSERT … SELECT generate_series`` (in chunks of 1,000,000) when it does not hold
exactly N generated cases: 100 organizations (half of the cases spread evenly, half on the ten
busiest, so those hold ~5.5 % each), a realistic status mix (≈ 83 % finished, 5 % under review,
1 % decided …) with submission dates over three years for finished cases and 60 days for open
ones, and promised due dates 5–30 days after acceptance (so part of the review queue is overdue).
``--drop`` drops the database afterwards. Uploaded files go to a temporary directory that is
removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DB_NAME = "tb_bench_cases"
ORGANIZATIONS = 100
BUSY = 10  # half of the cases go to these
APPLICANTS = 10_000
CHUNK = 1_000_000
MATERIAL_BYTES = 200 * 1024
FORM = {"property.address": "东胜区鄂尔多斯西街1号", "shop.area": "120"}
COUNTIES = ["150602", "150603", "150621", "150622", "150623"]
COUNTIES += ["150624", "150625", "150626", "150627", "150629"]

# Cumulative share of each status (the rest is archived).
STATUS_MIX = [
    ("pre_review", 0.010),
    ("to_accept", 0.035),
    ("correcting", 0.045),
    ("under_review", 0.095),
    ("suspended", 0.100),
    ("decided", 0.110),
    ("concluded", 0.120),
    ("rejected", 0.150),
    ("withdrawn", 0.170),
    ("delivered", 0.620),
]


def _env(url: str, var_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONPATH": str(ROOT / "src"),
        "TONGBAN_VAR_DIR": var_dir,
        "TONGBAN_LOG_LEVEL": "ERROR",
    }


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()


def _server_db(url: str):
    import psycopg

    server, name = url.rsplit("/", 1)
    return psycopg.connect(f"{server}/postgres", autocommit=True), name


def _ensure_database(url: str) -> None:
    conn, name = _server_db(url)
    with conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}", flush=True)


def _drop_database(url: str) -> None:
    conn, name = _server_db(url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"dropped database {name}", flush=True)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "n": len(ordered)}


# --- Base data and generation (child process) --------------------------------------------------


def _uscc(n: int, region: str) -> str:
    from tongban.core.identifiers import organization_code_check_char, uscc_check_char

    org8 = f"{70000000 + n:08d}"
    first17 = "11" + region + org8 + organization_code_check_char(org8)
    return first17 + uscc_check_char(first17)


def _id_number(n: int) -> str:
    from tongban.core.identifiers import id_number_check_char

    first17 = f"15060219800101{n % 1000:03d}"
    return first17 + id_number_check_char(first17)


def _base() -> None:
    """Regions, organizations with three services and a reviewer each, applicants, and the
    service the submission figure uses. Idempotent."""
    import datetime as dt

    from django.db import transaction

    from tongban.accounts.models import StaffPost, StaffRole, User, VerificationLevel
    from tongban.cases.models import DataElement, FieldKind, FormField, ProfileSource
    from tongban.catalog.models import (
        Implementation,
        Item,
        ItemType,
        Material,
        MaterialForm,
        MaterialMedium,
        MaterialSource,
        Necessity,
    )
    from tongban.core.models import Organization, OrganizationKind, Region

    if Organization.objects.filter(name="压测机构0").exists():
        return
    with transaction.atomic():
        province, _ = Region.objects.get_or_create(
            code="150000", defaults={"name": "内蒙古自治区", "level": 1}
        )
        city, _ = Region.objects.get_or_create(
            code="150600", defaults={"name": "鄂尔多斯市", "level": 2, "parent": province}
        )
        counties = [
            Region.objects.get_or_create(
                code=code, defaults={"name": f"压测县{code}", "level": 3, "parent": city}
            )[0]
            for code in COUNTIES
        ]
        for i in range(ORGANIZATIONS):
            region = counties[i % len(counties)]
            org = Organization.objects.create(
                name=f"压测机构{i}",
                uscc=_uscc(i, region.code),
                kind=OrganizationKind.ORGAN,
                region=region,
            )
            for k in range(3):
                item = Item.objects.create(
                    code=f"BENCH{i:03d}{k}",
                    name=f"压测事项{i}-{k}",
                    item_type=ItemType.LICENSING,
                    legal_basis="《中华人民共和国行政许可法》",
                    level="3",
                    audiences="1",
                )
                Implementation.objects.create(
                    item=item,
                    organization=org,
                    region=region,
                    code=f"BENCH-{i:03d}-{k}",
                    statutory_limit=20,
                    statutory_unit="working",
                    promised_limit=10,
                    promised_unit="working",
                    online_depth=4,
                    visits_required=0,
                    handle_on_pc=True,
                    handle_on_mobile=True,
                    conditions="符合法定条件。",
                    result_name="准予许可决定书",
                    status="active",
                    effective_from=dt.date(2026, 1, 1),
                )
            reviewer = User.objects.create(username=f"bench-reviewer-{i}", is_staff=True)
            StaffPost.objects.create(user=reviewer, organization=org, role=StaffRole.REVIEWER)
        User.objects.bulk_create(
            [User(username=f"bench-applicant-{n}") for n in range(APPLICANTS)],
            batch_size=2000,
        )
        for worker in range(16):
            User.objects.create(
                username=f"bench-submitter-{worker}",
                real_name="压测申请人",
                id_number=_id_number(worker),
                phone=f"139{worker:08d}",
                level=VerificationLevel.L2,
            )
        impl = Implementation.objects.get(code="BENCH-000-0")
        name, _ = DataElement.objects.get_or_create(
            key="applicant.name",
            defaults={
                "label": "申请人姓名",
                "kind": FieldKind.TEXT,
                "profile_source": ProfileSource.PERSON_NAME,
            },
        )
        address, _ = DataElement.objects.get_or_create(
            key="property.address", defaults={"label": "经营场所地址", "kind": FieldKind.ADDRESS}
        )
        FormField.objects.create(implementation=impl, element=name, order=1)
        FormField.objects.create(implementation=impl, element=address, order=2)
        FormField.objects.create(
            implementation=impl,
            key="shop.area",
            label="经营面积",
            kind=FieldKind.NUMBER,
            rules={"min": 1},
            order=3,
        )
        for order, title in enumerate(("营业执照", "场所平面图"), start=1):
            Material.objects.create(
                implementation=impl,
                name=title,
                source=MaterialSource.APPLICANT,
                form=MaterialForm.BOTH,
                medium=MaterialMedium.PAPER,
                necessity=Necessity.REQUIRED,
                order=order,
            )


def _insert_sql(orgs: int, busy: int) -> str:
    status = " ".join(f"WHEN rs < {share} THEN '{name}'" for name, share in STATUS_MIX)
    final = "('delivered', 'archived', 'rejected', 'withdrawn')"
    accepted = "('under_review', 'suspended', 'decided', 'concluded', 'delivered', 'archived')"
    decided = "('decided', 'concluded', 'delivered', 'archived')"
    # Only constants of this module go into the text; the values are parameters.
    return f"""
    WITH s AS (
        SELECT g,
               CASE WHEN random() < 0.5 THEN floor(random() * {orgs})::int
                    ELSE floor(random() * {busy})::int END AS oi,
               random() AS rs, random() AS ra, random() AS rd, random() AS ro
        FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
    ), t AS (
        SELECT s.*, CASE {status} ELSE 'archived' END AS st FROM s
    ), u AS (
        SELECT t.*,
               CASE WHEN st IN {final} THEN now() - ra * interval '1095 days'
                    ELSE now() - ra * interval '60 days' END AS sub,
               st IN {accepted} AS acc
        FROM t
    )
    INSERT INTO cases_case (
        number, implementation_id, organization_id, region_code, counter_organization_id,
        channel, applicant_id, company_id, applicant_display, phone_tail, query_code_digest,
        form_data, answers, commitments, status, decision, step, version, resume_status,
        correction, deficiencies, pending_extension, suspension, submitted_at, accepted_at,
        decided_at, concluded_at, delivered_at, archived_at, promised_due, statutory_due,
        warn_on, paused_at, paused_working_days, paused_natural_days, extension_days,
        decision_note, delivery_method, delivery_note, archive_digest, archive_file,
        created_at, updated_at)
    SELECT 'B' || lpad(g::text, 20, '0'), o.impl[1 + (g %% 3)::int], o.id, o.region, NULL,
           'online', a.id, NULL, '张**', '1234', %(digest)s, %(form)s, '[]', '[]', st,
           CASE WHEN st IN {decided} THEN CASE WHEN ro < 0.9 THEN 'approved' ELSE 'denied' END
                ELSE '' END,
           CASE WHEN acc THEN 1 ELSE 0 END, 1 + (g %% 5)::int,
           CASE WHEN st = 'correcting' THEN 'to_accept' ELSE '' END,
           '{{}}', '[]', '{{}}', '{{}}', sub,
           CASE WHEN acc THEN sub + interval '1 day' END,
           CASE WHEN st IN {decided} THEN sub + interval '5 days' END,
           CASE WHEN st IN ('concluded', 'delivered', 'archived', 'rejected', 'withdrawn')
                THEN sub + interval '6 days' END,
           CASE WHEN st IN ('delivered', 'archived') THEN sub + interval '7 days' END,
           CASE WHEN st = 'archived' THEN sub + interval '30 days' END,
           CASE WHEN acc THEN (sub + (6 + floor(rd * 25)) * interval '1 day')::date END,
           CASE WHEN acc THEN (sub + (30 + floor(rd * 25)) * interval '1 day')::date END,
           CASE WHEN acc THEN (sub + (4 + floor(rd * 25)) * interval '1 day')::date END,
           CASE WHEN st = 'suspended' THEN now() - ro * interval '10 days' END,
           0, 0, 0, '', CASE WHEN st IN ('delivered', 'archived') THEN 'online' ELSE '' END,
           '', '', '', sub, sub
    FROM u
    JOIN bench_org o ON o.idx = u.oi
    JOIN bench_applicant a ON a.idx = (u.g %% {APPLICANTS})::int
    """  # noqa: S608


def _fill(cases: int) -> None:
    """Child process: make the database hold exactly ``cases`` generated cases."""
    _setup_django()
    from django.db import connection

    from tongban.cases.models import Case

    _base()
    have = Case.objects.filter(number__startswith="B").count()
    if have == cases:
        print(f"reusing {have:,} generated cases", flush=True)
        return
    print(f"generating {cases:,} cases …", flush=True)
    started = time.monotonic()
    form = Case._meta.get_field("form_data").get_db_prep_save(json.dumps(FORM), connection)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE cases_case, cases_casecounter RESTART IDENTITY CASCADE")
        cursor.execute("DELETE FROM cases_draft")
        cursor.execute("DELETE FROM cases_libraryfile")
        cursor.execute("DROP TABLE IF EXISTS bench_org, bench_applicant")
        cursor.execute(
            """CREATE UNLOGGED TABLE bench_org AS
               SELECT (row_number() OVER (ORDER BY o.id) - 1)::int AS idx, o.id,
                      r.code AS region,
                      (SELECT array_agg(i.id ORDER BY i.id) FROM catalog_implementation i
                       WHERE i.organization_id = o.id) AS impl
               FROM core_organization o JOIN core_region r ON r.id = o.region_id
               WHERE o.name LIKE '压测机构%%'"""
        )
        cursor.execute(
            """CREATE UNLOGGED TABLE bench_applicant AS
               SELECT (row_number() OVER (ORDER BY id) - 1)::int AS idx, id
               FROM accounts_user WHERE username LIKE 'bench-applicant-%%'"""
        )
        cursor.execute("SELECT setseed(0.42)")
        sql = _insert_sql(ORGANIZATIONS, BUSY)
        for lo in range(1, cases + 1, CHUNK):
            hi = min(cases, lo + CHUNK - 1)
            cursor.execute(sql, {"lo": lo, "hi": hi, "digest": "0" * 64, "form": form})
            print(f"  {hi:,} ({time.monotonic() - started:.0f} s)", flush=True)
        cursor.execute("DROP TABLE bench_org, bench_applicant")
    connection.close()
    _vacuum()
    print(f"generated in {time.monotonic() - started:.0f} s", flush=True)


def _vacuum() -> None:
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    raw.autocommit = True
    with raw.cursor() as cur:
        cur.execute("VACUUM ANALYZE cases_case")
    connection.close()


# --- Queue figure (child process) ----------------------------------------------------------------


def _measure_queue(repeat: int, warmup: int, org_index: int) -> None:
    _setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tongban.accounts.models import User
    from tongban.accounts.queries import forget_scope, staff_scope
    from tongban.cases import queries

    user = User.objects.get(username=f"bench-reviewer-{org_index}")

    def once() -> tuple[list, dict]:
        return list(queries.queue(user, "to_review")[:20]), queries.queue_counts(user)

    for _ in range(warmup):
        once()
    page_ms, counts_ms, total_ms = [], [], []
    for _ in range(repeat):
        forget_scope(user)  # a request reads the reviewer's scope again (two small queries)
        t0 = time.perf_counter()
        staff_scope(user)
        t1 = time.perf_counter()
        page = list(queries.queue(user, "to_review")[:20])
        t2 = time.perf_counter()
        counts = queries.queue_counts(user)
        t3 = time.perf_counter()
        page_ms.append((t2 - t1) * 1000)
        counts_ms.append((t3 - t2) * 1000)
        total_ms.append((t3 - t0) * 1000)
    with CaptureQueriesContext(connection) as captured:
        once()
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            if "cases_case" not in query["sql"]:
                continue  # the reviewer's counter posts (a one-row index probe)
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plans.append([row[0] for row in cursor.fetchall()])
        cursor.execute(
            "SELECT count(*) FROM cases_case c JOIN accounts_staffpost p "
            "ON p.organization_id = c.organization_id WHERE p.user_id = %s",
            [user.pk],
        )
        org_cases = cursor.fetchone()[0]
    print(
        json.dumps(
            {
                "page": _percentiles(page_ms),
                "counts": _percentiles(counts_ms),
                "total": _percentiles(total_ms),
                "rows": len(page),
                "queue_counts": counts,
                "org_cases": org_cases,
                "plans": plans,
            }
        )
    )


# --- Submission figure (child processes) -------------------------------------------------------


def _submit_worker(count: int, worker: int, start_at: float) -> None:
    _setup_django()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tongban.accounts.models import User
    from tongban.cases import applications
    from tongban.catalog.models import Implementation

    impl = Implementation.objects.get(code="BENCH-000-0")
    materials = list(impl.materials.order_by("order"))
    user = User.objects.get(username=f"bench-submitter-{worker}")
    scans = [b"%PDF-1.4\n" + os.urandom(MATERIAL_BYTES - 9) for _ in range(count * len(materials))]
    while time.time() < start_at:
        time.sleep(0.005)
    started = time.time()
    for n in range(count):
        draft = applications.open_draft(actor=user, implementation=impl)
        applications.save_draft(actor=user, draft=draft, data=FORM)
        for k, material in enumerate(materials):
            scan = scans[n * len(materials) + k]
            upload = SimpleUploadedFile("scan.pdf", scan, content_type="application/pdf")
            applications.attach(actor=user, draft=draft, material_id=material.pk, upload=upload)
        applications.submit(actor=user, draft=draft)
    print(json.dumps({"count": count, "started": started, "ended": time.time()}))


# --- Main ----------------------------------------------------------------------------------------


def _child(args: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run(
        [PY, __file__, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    return json.loads(out.splitlines()[-1])


def _report_queue(label: str, r: dict, verbose: bool) -> None:
    print(
        f"{label}: {r['org_cases']:,} cases, to_review {r['queue_counts']['to_review']:,} "
        f"(page of {r['rows']})"
    )
    for key, title in (
        ("page", "queue page (20)"),
        ("counts", "queue counts  "),
        ("total", "scope+page+counts"),
    ):
        p = r[key]
        print(
            f"    {title}: p50 {p['p50']:.2f} ms  p95 {p['p95']:.2f} ms  "
            f"p99 {p['p99']:.2f} ms  (n={p['n']})"
        )
    if verbose:
        for plan in r["plans"][-2:]:
            print("    EXPLAIN (ANALYZE, BUFFERS):")
            for line in plan:
                print(f"      {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--large", action="store_true", help="10,000,000 cases")
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--submissions", type=int, default=150, help="per worker")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--skip", default="", help="comma list of: queue,submit")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--org", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    cases = 10_000_000 if args.large else args.cases

    if args.child == "fill":
        return _fill(cases)
    if args.child == "queue":
        return _measure_queue(args.repeat, args.warmup, args.org)
    if args.child == "submit":
        return _submit_worker(args.submissions, args.worker, args.start_at)

    skip = set(filter(None, args.skip.split(",")))
    url = f"{args.server.rstrip('/')}/{DB_NAME}"
    var_dir = tempfile.mkdtemp(prefix="tb-bench-cases-")
    env = _env(url, var_dir)
    try:
        _ensure_database(url)
        subprocess.run([PY, "-m", "tongban", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        print(f"machine: {os.cpu_count()} cores; PostgreSQL at {args.server}; {DB_NAME}")
        started = time.monotonic()
        subprocess.run(
            [PY, __file__, "--child", "fill", "--cases", str(cases)], cwd=ROOT, env=env, check=True
        )
        print(f"data ready in {time.monotonic() - started:.0f} s")
        if "queue" not in skip:
            for org, label in ((0, "busiest organization"), (50, "ordinary organization")):
                r = _child(
                    [
                        "--child",
                        "queue",
                        "--org",
                        str(org),
                        "--repeat",
                        str(args.repeat),
                        "--warmup",
                        str(args.warmup),
                    ],
                    env,
                )
                _report_queue(f"{label} of {cases:,}", r, verbose=org == 0)
        if "submit" not in skip:
            start_at = time.time() + 8  # every worker set up and its scans made by then
            procs = [
                subprocess.Popen(
                    [
                        PY,
                        __file__,
                        "--child",
                        "submit",
                        "--worker",
                        str(w),
                        "--submissions",
                        str(args.submissions),
                        "--start-at",
                        str(start_at),
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for w in range(args.workers)
            ]
            results = []
            for proc in procs:
                out, _ = proc.communicate()
                if proc.returncode:
                    raise SystemExit(f"submission worker failed ({proc.returncode})")
                results.append(json.loads(out.strip().splitlines()[-1]))
            total = sum(r["count"] for r in results)
            wall = max(r["ended"] for r in results) - min(r["started"] for r in results)
            one = [r["count"] / (r["ended"] - r["started"]) for r in results]
            print(
                f"submissions with two 200 KB materials: {total} in {wall:.1f} s = "
                f"{total / wall:.1f} cases/s with {args.workers} processes "
                f"(per process {', '.join(f'{x:.1f}' for x in one)}/s)"
            )
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
        if args.drop:
            _drop_database(url)
    return None


if __name__ == "__main__":
    main()
