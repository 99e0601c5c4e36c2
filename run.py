#!/usr/bin/env python3
"""Tongban's two commands.

    python3 run.py          set up everything and run the platform with demo data
    python3 run.py test     run every gate CI runs (lint, layering, migrations, tests, browser)

Needs only Python 3.11+. Creates ``.venv`` from the pinned lock files, installs Tongban into it,
migrates the embedded SQLite database under ``var/``, loads the demo data and serves
http://127.0.0.1:8000. Everything else (PostgreSQL, Redis, S3) is optional and chosen by
environment variables; see README.md.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def run(*args: str | Path, env: dict[str, str] | None = None, check: bool = True) -> int:
    merged = {**os.environ, **(env or {})}
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=merged, check=False)
    if check and result.returncode != 0:
        print(f"\nFAILED ({result.returncode}): {' '.join(str(a) for a in args)}", flush=True)
        sys.exit(result.returncode)
    return result.returncode


def ensure_environment(dev: bool) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - run.py may be started by an older python3
        sys.exit("Tongban needs Python 3.11 or newer.")
    if not PY.exists():
        say("Creating the virtual environment in .venv")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    locks = ["requirements.lock"] + (["requirements-dev.lock"] if dev else [])
    digest = hashlib.sha256()
    for name in [*locks, "pyproject.toml"]:
        digest.update((ROOT / name).read_bytes())
    stamp = VENV / f".installed-{digest.hexdigest()[:16]}"
    if stamp.exists():
        return
    say("Installing pinned dependencies (" + ", ".join(locks) + ")")
    run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    for name in locks:
        run(PY, "-m", "pip", "install", "--quiet", "--require-hashes", "-r", name)
    run(PY, "-m", "pip", "install", "--quiet", "--no-deps", "-e", ".")
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def tongban(*args: str, env: dict[str, str] | None = None, check: bool = True) -> int:
    return run(PY, "-m", "tongban", *args, env=env, check=check)


def start() -> None:
    ensure_environment(dev=False)
    say("Preparing the database and demo data (SQLite under var/)")
    tongban("migrate", "--no-input", "-v", "0")
    tongban("demo")
    tongban("collectstatic", "--no-input", "-v", "0")
    say("Starting Tongban")
    tongban("serve")


def postgres_url() -> str | None:
    """A URL for the PostgreSQL server tests run on, or None when none answers."""
    url = os.environ.get(
        "TONGBAN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/tongban_ci"
    )
    probe = (
        "import sys, psycopg\n"
        "try:\n"
        "    server = sys.argv[1].rsplit('/', 1)[0]\n"
        "    psycopg.connect(server + '/postgres', connect_timeout=3).close()\n"
        "except Exception as exc:\n"
        "    print(exc); sys.exit(1)\n"
    )
    ok = subprocess.run([str(PY), "-c", probe, url], capture_output=True, text=True, check=False)
    return url if ok.returncode == 0 else None


def chromium() -> str | None:
    for candidate in (
        os.environ.get("TONGBAN_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def test(extra: list[str]) -> None:
    ensure_environment(dev=True)
    tmp = Path(tempfile.mkdtemp(prefix="tongban-test-"))
    base_env = {"TONGBAN_VAR_DIR": str(tmp / "var"), "PYTHONDONTWRITEBYTECODE": "1"}
    sqlite_env = {**base_env, "DATABASE_URL": f"sqlite:///{tmp / 'var' / 'test.sqlite3'}"}
    if extra:
        say("pytest " + " ".join(extra))
        run(PY, "-m", "pytest", *extra, env=sqlite_env)
        return

    say("ruff: lint and format")
    run(BIN / "ruff", "check", "src", "tests", "bench", "run.py")
    run(BIN / "ruff", "format", "--check", "src", "tests", "bench", "run.py")
    say("import-linter: channels → domains → core")
    run(BIN / "lint-imports", env={"PYTHONPATH": str(ROOT / "src")})
    say("Django checks, migrations, OpenAPI document, translations")
    tongban("check", "--fail-level", "WARNING", env=sqlite_env)
    tongban("makemigrations", "--check", "--dry-run", env=sqlite_env)
    tongban("export_openapi", "--check", str(ROOT / "docs" / "openapi.json"), env=sqlite_env)
    if shutil.which("msgfmt"):
        tongban("compilemessages", "--ignore", ".venv", env=sqlite_env)
    elif IN_CI:
        sys.exit("msgfmt (Debian package gettext) is required in CI")
    else:
        print("   msgfmt not installed: using the committed .mo files")

    say("Tests on SQLite")
    run(PY, "-m", "pytest", "-m", "not browser", "-q", env=sqlite_env)

    pg = postgres_url()
    if pg:
        say(f"Tests on PostgreSQL ({pg.rsplit('@', 1)[-1]})")
        run(PY, "-m", "pytest", "-m", "not browser", "-q", env={**base_env, "DATABASE_URL": pg})
    elif IN_CI:
        sys.exit("PostgreSQL is required in CI and did not answer on 127.0.0.1:5432")
    else:
        print("   PostgreSQL not reachable: skipped (set TONGBAN_TEST_POSTGRES_URL to run them)")

    browser = chromium()
    if browser:
        say(f"Browser tests in headless Chromium ({browser})")
        run(
            PY,
            "-m",
            "pytest",
            "-m",
            "browser",
            "-q",
            env={**sqlite_env, "TONGBAN_CHROMIUM": browser},
        )
    elif IN_CI:
        sys.exit("Chromium is required in CI (apt-get install chromium)")
    else:
        print("   Chromium not installed: browser tests skipped (apt-get install chromium)")
    shutil.rmtree(tmp, ignore_errors=True)
    say("All gates passed")


def main() -> None:
    args = sys.argv[1:]
    if not args or args[0] in {"start", "up"}:
        start()
    elif args[0] == "test":
        test(args[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
