"""Benchmark: e-licenses (issue 5) on PostgreSQL — issuing and QR verification.

Figures:

1. **Issuing** — :func:`tongban.licenses.services.issue_license` (serial under a row lock, canonical
   bytes sealed with SM2, audit record) plus :func:`tongban.licenses.render.render_pdf` (the PDF
   with the seal image and the verify QR), licenses per second in one process.
2. **QR verification** — :func:`tongban.licenses.presentation.verify_presentation` on fresh holder
   tokens (token signature, license lookup by identifier, the row's seal signature, status, and the
   audit record every verification appends), per second in one process and with ``--workers``
   processes at once, beside the raw SM2 verify rate of the chosen library on the same machine
   (the ceiling issue 5 compares against: target ≥ 70 %).

This run does **not** reach issue 5's 41,000,000 licenses: the verification reads one license by
its unique identifier (a B-tree lookup, one level deeper at 41M than at thousands), so the table
size is not what limits it; the per-scan SM2 work and the chained audit record are (see the
closing note of session 3). ::

    PYTHONPATH=src .venv/bin/python bench/licenses.py --drop
    PYTHONPATH=src .venv/bin/python bench/licenses.py --licenses 500 --seconds 5 --drop
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
DB_NAME = "tb_bench_licenses"
TARGET_RATIO = 0.70


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


def _server(url: str):
    import psycopg

    server, name = url.rsplit("/", 1)
    return psycopg.connect(f"{server}/postgres", autocommit=True), name


def _recreate(url: str) -> None:
    conn, name = _server(url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop(url: str) -> None:
    conn, name = _server(url)
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"dropped database {name}", flush=True)


# --- Child processes -----------------------------------------------------------------------------


def _fixtures():
    """An organization with a license seal, a license type, an issuing superuser, holders."""
    import datetime as dt

    from django.utils import timezone

    from tongban.accounts.models import User
    from tongban.core import crypto
    from tongban.core.identifiers import id_number_check_char, uscc_check_char
    from tongban.core.models import Organization, Region
    from tongban.licenses.models import HolderKind, LicenseType
    from tongban.seals.codes import SealType, seal_code
    from tongban.seals.models import Seal, SealKey

    region, _ = Region.objects.get_or_create(code="150602", defaults={"name": "东胜区", "level": 3})

    def uscc(body: str) -> str:
        return body + uscc_check_char(body)

    org, _ = Organization.objects.get_or_create(
        uscc=uscc("11150602MB1234567"),
        defaults={"name": "东胜区市场监督管理局（基准）", "kind": "organ", "region": region},
    )
    seal = Seal.objects.filter(organization=org, seal_type=SealType.LICENSE).first()
    if seal is None:
        today = timezone.localdate()
        seal = Seal.objects.create(
            organization=org,
            name=f"{org.name}证照专用章",
            code=seal_code(org.uscc, SealType.LICENSE, 1),
            seal_type=SealType.LICENSE,
            valid_from=today - dt.timedelta(days=1),
            valid_to=today + dt.timedelta(days=3650),
        )
        private, public = crypto.generate_keypair()
        SealKey.objects.create(
            seal=seal,
            version=1,
            public_key=public.to_bytes().hex(),
            private_key_sealed=crypto.seal_private_key(private),
        )
    license_type, _ = LicenseType.objects.get_or_create(
        code=uscc("11100000000013338") + "032",
        defaults={
            "name": "食品经营许可证",
            "holder_kind": HolderKind.PERSON,
            "fields": [{"key": "scope", "label": "经营项目", "required": True}],
            "validity_years": 5,
        },
    )
    issuer, _created = User.objects.get_or_create(
        username="bench-issuer", defaults={"is_superuser": True, "is_staff": True}
    )
    return seal, license_type, issuer, id_number_check_char


def _holder(n: int, check_char):
    from django.utils import timezone

    from tongban.accounts.models import User

    body = f"1506021990{(n % 12) + 1:02d}{(n % 28) + 1:02d}{n % 1000:03d}"
    number = body + check_char(body)
    user, _ = User.objects.get_or_create(
        username=f"bench-holder-{n}",
        defaults={
            "real_name": f"测试{n}",
            "id_number": number,
            "level": 2,
            "verified_by": "bench",
            "verified_at": timezone.now(),
        },
    )
    return user


def _issue(count: int) -> None:
    _setup_django()
    from tongban.licenses.render import render_pdf
    from tongban.licenses.services import issue_license

    seal, license_type, issuer, check_char = _fixtures()
    holders = [_holder(n, check_char) for n in range(count)]
    started = time.perf_counter()
    for holder in holders:
        lic = issue_license(
            actor=issuer,
            license_type=license_type,
            holder=holder,
            data={"scope": "预包装食品销售"},
            issuer_seal=seal,
        )
        render_pdf(lic)
    elapsed = time.perf_counter() - started
    print(json.dumps({"issued": count, "seconds": elapsed}))


def _verify(seconds: float, start_at: float) -> None:
    _setup_django()
    from tongban.licenses import presentation
    from tongban.licenses.models import License

    rows = list(License.objects.select_related("person")[:200])
    tokens = [
        presentation.present(lic, holder_user=lic.person, ttl=600) for lic in rows for _ in (0, 1)
    ]
    while time.time() < start_at:
        time.sleep(0.01)
    done, ok, i = 0, 0, 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        result = presentation.verify_presentation(tokens[i % len(tokens)])
        ok += result.ok
        done += 1
        i += 1
    print(json.dumps({"verified": done, "valid": ok, "seconds": seconds}))


def _ceiling(seconds: float) -> None:
    _setup_django()
    from tongban.core import crypto

    private, public = crypto.generate_keypair()
    message = b"x" * 120
    signature = crypto.sign(private, message)
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        crypto.verify(public, message, signature)
        done += 1
    print(json.dumps({"rate": done / seconds}))


# --- Main ----------------------------------------------------------------------------------------


def _run(args: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run(
        [PY, __file__, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _parallel(args: list[str], env: dict[str, str], workers: int) -> list[dict]:
    procs = [
        subprocess.Popen(
            [PY, __file__, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(workers)
    ]
    results = []
    for proc in procs:
        stdout, _ = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"worker failed ({proc.returncode})")
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--licenses", type=int, default=1000, help="licenses issued (timed)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per verification figure")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "issue":
        return _issue(args.licenses)
    if args.child == "verify":
        return _verify(args.seconds, args.start_at)
    if args.child == "ceiling":
        return _ceiling(args.seconds)

    url = f"{args.server.rstrip('/')}/{DB_NAME}"
    env = _env(url, tempfile.mkdtemp(prefix="tb-bench-licenses-"))
    try:
        _recreate(url)
        subprocess.run([PY, "-m", "tongban", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        print(f"machine: {os.cpu_count()} cores; PostgreSQL at {args.server}; {DB_NAME}")
        issued = _run(["--child", "issue", "--licenses", str(args.licenses)], env)
        print(
            f"issuing (seal + audit + PDF): {issued['issued']} in {issued['seconds']:.1f} s = "
            f"{issued['issued'] / issued['seconds']:.1f} licenses/s in one process"
        )
        seconds = str(args.seconds)
        one = _run(["--child", "verify", "--seconds", seconds], env)
        ceiling_one = _run(["--child", "ceiling", "--seconds", seconds], env)["rate"]
        print(
            f"verification, 1 process: {one['verified'] / args.seconds:,.0f}/s "
            f"({one['valid']} valid of {one['verified']}); raw SM2 verify "
            f"{ceiling_one:,.0f}/s per core"
        )
        start_at = time.time() + 3
        many = _parallel(
            ["--child", "verify", "--seconds", seconds, "--start-at", str(start_at)],
            env,
            args.workers,
        )
        total = sum(r["verified"] for r in many) / args.seconds
        ceilings = _parallel(["--child", "ceiling", "--seconds", seconds], env, args.workers)
        ceiling = sum(r["rate"] for r in ceilings)
        ratio = total / ceiling
        verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
        print(
            f"verification, {args.workers} processes: {total:,.0f}/s; raw SM2 verify with "
            f"{args.workers} processes {ceiling:,.0f}/s; ratio {ratio:.1%} "
            f"(target ≥ {TARGET_RATIO:.0%}: {verdict})"
        )
    finally:
        if args.drop:
            _drop(url)


if __name__ == "__main__":
    main()
