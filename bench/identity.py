"""Benchmark: unified identity (issue 3) on PostgreSQL.

Figures:

1. **Lookup by ID number over 1,000,000 persons** — ``User.objects.filter(id_number_digest=
   lookup_digest("id_number", value))`` for random existing and missing numbers, the way login,
   agent grants and the audit viewer find a person, with the row decrypted. Target p95 <= 5 ms.
2. **Password login per second** — :func:`tongban.accounts.auth.login_with_password` with the
   production hasher (Argon2id, Django's parameters), including the throttle bookkeeping and the
   audit record, in one process and then in one process per core.
3. **Token validation per second** — the API's bearer-token check on a valid access token
   (:class:`tongban.api.auth.BearerToken`), one process.

How to run (from the repository root, PostgreSQL on 127.0.0.1:5432 with trust auth)::

    PYTHONPATH=src .venv/bin/python bench/identity.py
    PYTHONPATH=src .venv/bin/python bench/identity.py --persons 100000 --seconds 3   # quicker

The persons live in their own database (``tb_bench_persons``), created, migrated and filled with
``--persons`` synthetic persons (valid ID numbers, SM4-encrypted, keyed digests) by COPY when it
does not hold that many; later runs reuse it.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
TARGET_LOOKUP_P95_MS = 5.0
BENCH_PASSWORD = "Bench#2026-login"  # noqa: S105 (a benchmark account's password)


def _env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONPATH": str(ROOT / "src"),
        "TONGBAN_LOG_LEVEL": "ERROR",
        "TONGBAN_VAR_DIR": str(ROOT / "var" / "bench"),
    }


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    import django

    django.setup()


def _id_number(n: int) -> str:
    """The n-th synthetic ID number: a real county code, a birth date, a serial, the check."""
    from tongban.core.identifiers import id_number_check_char

    counties = ("150602", "150603", "152501", "530102", "530111", "150102")
    county = counties[n % len(counties)]
    day = 1 + (n // 1000) % 28
    month = 1 + (n // 28000) % 12
    year = 1950 + (n // 336000) % 60
    first17 = f"{county}{year:04d}{month:02d}{day:02d}{n % 1000:03d}"
    return first17 + id_number_check_char(first17)


def _ensure_database(url: str) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}", flush=True)


def _fill(persons: int) -> None:
    """Child process: COPY ``persons`` synthetic persons into an empty user table."""
    _setup_django()
    from django.db import connection

    from tongban.accounts.models import User
    from tongban.core import crypto, personal

    have = User.objects.filter(username__startswith="bench-").count()
    if have == persons:
        return
    print(f"generating {persons} persons …", flush=True)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE accounts_user CASCADE")
    columns = (
        "password, is_superuser, username, first_name, last_name, email, is_staff, is_active, "
        "date_joined, real_name, id_number, id_number_digest, phone, phone_digest, level, "
        "verified_by, session_epoch, totp_secret"
    )
    batch = 50_000
    connection.ensure_connection()
    raw = connection.connection
    for start in range(0, persons, batch):
        buf = io.StringIO()
        for n in range(start, min(start + batch, persons)):
            idn = _id_number(n)
            phone = f"1{30 + n % 70:02d}{n:08d}"
            buf.write(
                "\t".join(
                    [
                        "!",
                        "f",
                        f"bench-{n}",
                        "",
                        "",
                        "",
                        "f",
                        "t",
                        "2026-01-01 00:00:00+08",
                        f"测试{n}",
                        crypto.encrypt(idn.encode(), purpose="id_number"),
                        personal.lookup_digest("id_number", idn),
                        crypto.encrypt(phone.encode(), purpose="phone"),
                        personal.lookup_digest("phone", phone),
                        "2",
                        "bench",
                        "0",
                        "",
                    ]
                )
                + "\n"
            )
        with raw.cursor() as cur, cur.copy(f"COPY accounts_user ({columns}) FROM STDIN") as copy:
            copy.write(buf.getvalue())
        raw.commit()
        print(f"  {min(start + batch, persons):,}", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_user")
    print(f"generated in {time.monotonic() - started:.0f} s", flush=True)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "n": len(ordered)}


def _measure_lookup(persons: int, repeat: int) -> None:
    """Child process: time lookups of existing and missing ID numbers; print one JSON line."""
    _setup_django()
    from tongban.accounts.models import User
    from tongban.core.personal import lookup_digest

    rng = random.Random(1)
    wanted = [_id_number(rng.randrange(persons)) for _ in range(repeat)]
    wanted += [_id_number(persons + rng.randrange(persons)) for _ in range(repeat // 10)]
    for value in wanted[:50]:  # warm-up
        User.objects.filter(id_number_digest=lookup_digest("id_number", value)).first()
    samples, found = [], 0
    for value in wanted:
        t = time.perf_counter()
        user = User.objects.filter(id_number_digest=lookup_digest("id_number", value)).first()
        if user is not None:
            _ = user.id_number  # decrypt, as a caller would
            found += 1
        samples.append((time.perf_counter() - t) * 1000)
    print(json.dumps({**_percentiles(samples), "found": found}))


def _login_loop(seconds: float) -> None:
    """Child process: log the bench account in with its password for ``seconds``."""
    _setup_django()
    from tongban.accounts.auth import login_with_password

    count = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        login_with_password(
            login="13900000001", password=BENCH_PASSWORD, ip=f"10.0.{count % 250}.{count % 199}"
        )
        count += 1
    print(json.dumps({"count": count, "seconds": seconds}))


def _prepare_login() -> str:
    """Child process: create the bench login account (Argon2id) and an access token."""
    _setup_django()
    import datetime as dt

    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Application

    from tongban.accounts.clients import AUTHORIZATION_CODE, register_client
    from tongban.accounts.models import Throttle, User, VerificationLevel
    from tongban.core.models import Organization, OrganizationKind, Region

    def _region():
        return Region.objects.get_or_create(
            code="150600", defaults={"name": "鄂尔多斯市", "level": 2}
        )[0]

    user, _ = User.objects.get_or_create(
        username="perf-login", defaults={"real_name": "压测", "level": VerificationLevel.L1}
    )
    user.phone = "13900000001"
    user.set_password(BENCH_PASSWORD)
    user.save()
    Throttle.objects.all().delete()
    app = Application.objects.filter(name="bench").first()
    if app is None:
        organization, _ = Organization.objects.get_or_create(
            uscc="11150600798118402T",
            defaults={"name": "压测单位", "kind": OrganizationKind.ORGAN, "region": _region()},
        )
        app = register_client(
            actor=None,
            name="bench",
            organization=organization,
            grant=AUTHORIZATION_CODE,
            scopes=["openid", "profile"],
            redirect_uris=["https://bench.example.gov.cn/cb"],
        ).application
    token = "bench-" + "x" * 30
    AccessToken.objects.filter(token=token).delete()
    AccessToken.objects.create(
        user=user,
        application=app,
        token=token,
        scope="openid profile",
        expires=timezone.now() + dt.timedelta(hours=1),
    )
    return token


def _token_loop(seconds: float, token: str) -> None:
    """Child process: validate a bearer token through the API's auth class for ``seconds``."""
    _setup_django()
    from django.test import RequestFactory

    from tongban.api.auth import BearerToken

    auth = BearerToken(scopes=["profile"], person=True)
    request = RequestFactory().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    count = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if not auth(request):
            raise SystemExit("token refused")
        count += 1
    print(json.dumps({"count": count, "seconds": seconds}))


def _child(args: list[str], url: str) -> dict:
    out = subprocess.run(
        [PY, __file__, *args], cwd=ROOT, env=_env(url), check=True, capture_output=True, text=True
    ).stdout.strip()
    return json.loads(out.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--skip", default="", help="comma list of: lookup,login,token")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child == "fill":
        return _fill(args.persons)
    if args.child == "lookup":
        return _measure_lookup(args.persons, args.repeat)
    if args.child == "prepare":
        print(json.dumps({"token": _prepare_login()}))
        return None
    if args.child == "login":
        return _login_loop(args.seconds)
    if args.child == "token":
        return _token_loop(args.seconds, args.token)

    skip = set(filter(None, args.skip.split(",")))
    url = f"{args.server.rstrip('/')}/tb_bench_persons"
    _ensure_database(url)
    subprocess.run([PY, "-m", "tongban", "migrate", "-v", "0"], cwd=ROOT, env=_env(url), check=True)
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores; PostgreSQL at {args.server}")

    if "lookup" not in skip:
        subprocess.run(
            [PY, __file__, "--child", "fill", "--persons", str(args.persons)],
            cwd=ROOT,
            env=_env(url),
            check=True,
        )
        r = _child(
            ["--child", "lookup", "--persons", str(args.persons), "--repeat", str(args.repeat)], url
        )
        verdict = "met" if r["p95"] <= TARGET_LOOKUP_P95_MS else "NOT met"
        print(
            f"lookup by ID number over {args.persons:,} persons ({r['n']} lookups, "
            f"{r['found']} found): p50 {r['p50']:.2f} ms  p95 {r['p95']:.2f} ms  "
            f"p99 {r['p99']:.2f} ms  (target p95 <= {TARGET_LOOKUP_P95_MS} ms: {verdict})"
        )

    token = _child(["--child", "prepare"], url)["token"]
    if "login" not in skip:
        one = _child(["--child", "login", "--seconds", str(args.seconds)], url)
        per_core = one["count"] / one["seconds"]
        procs = [
            subprocess.Popen(
                [PY, __file__, "--child", "login", "--seconds", str(args.seconds)],
                cwd=ROOT,
                env=_env(url),
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(cores)
        ]
        total = sum(json.loads(p.communicate()[0].strip().splitlines()[-1])["count"] for p in procs)
        print(
            f"password login (Argon2id, throttle + audit): {per_core:,.1f}/s in one process, "
            f"{total / args.seconds:,.1f}/s in {cores} processes"
        )
    if "token" not in skip:
        r = _child(["--child", "token", "--seconds", str(args.seconds), "--token", token], url)
        print(f"bearer token validation: {r['count'] / r['seconds']:,.0f}/s in one process")
    return None


if __name__ == "__main__":
    main()
