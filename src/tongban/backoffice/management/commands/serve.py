"""Serve Tongban with gunicorn (sync WSGI workers, as ARCHITECTURE.md prescribes), and one
background task worker (``db_worker``: department dispatches …) beside it unless
``TONGBAN_WORKER=0``. Both run as child processes in their own session: Ctrl+C, SIGTERM or SIGHUP
to ``tongban serve`` stops both gracefully, and a worker that dies is started again."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from tongban.conf import env_bool


def demo_account_lines() -> list[str]:
    """The demo operator's login, only while that demo account exists outside production."""
    from django.contrib.auth import get_user_model
    from django.db import DatabaseError

    from tongban.backoffice.management.commands.demo import (
        DEMO_MARKER_EMAIL,
        OPERATOR_PASSWORD,
        OPERATOR_USERNAME,
        is_production,
    )

    if is_production():
        return []
    try:
        exists = get_user_model().objects.filter(email=DEMO_MARKER_EMAIL).exists()
    except DatabaseError:  # not migrated yet: nothing to announce
        return []
    if not exists:
        return []
    return [
        f"    demo staff (password {OPERATOR_PASSWORD} + dynamic code from "
        "`tongban demo_totp <name>`): "
        f"{OPERATOR_USERNAME}, secadmin, sysadmin, auditor, platform, clerk, reviewer, orgadmin",
        f"    demo citizens (password {OPERATOR_PASSWORD}, or SMS code shown at "
        "/account/dev/messages/): 13800000001, 13800000002",
    ]


def worker_argv() -> list[str]:
    """The task worker started beside the server."""
    return [sys.executable, "-m", "tongban", "db_worker", "--no-reload", "--interval", "1"]


def _stop(process: subprocess.Popen, timeout: float = 15) -> None:
    if process.poll() is None:
        process.terminate()  # SIGTERM: gunicorn and db_worker finish what they are doing
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve_with_worker(server_argv: list[str]) -> int:
    """Run the server and one task worker until the server stops or we are told to stop."""
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    server = subprocess.Popen(server_argv, start_new_session=True)  # noqa: S603 - fixed argv
    worker = subprocess.Popen(worker_argv(), start_new_session=True)  # noqa: S603
    try:
        while not stopping and server.poll() is None:
            if worker.poll() is not None:
                sys.stderr.write(f"task worker exited ({worker.returncode}); starting another\n")
                time.sleep(2)
                worker = subprocess.Popen(worker_argv(), start_new_session=True)  # noqa: S603
            time.sleep(0.5)
    finally:
        _stop(server)
        _stop(worker)
    return server.returncode or 0


class Command(BaseCommand):
    help = "Serve the platform on http://127.0.0.1:8000 (gunicorn, sync workers)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("TONGBAN_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("TONGBAN_WORKERS", "2"))
        )

    def handle(self, *args, bind: str, workers: int, **options):
        host = bind if "://" in bind else f"http://{bind}"
        worker = env_bool("TONGBAN_WORKER", True)
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"通办 Tongban is running on {host}/",
                    f"  Portal (citizens):        {host}/   login: {host}/account/login/",
                    f"  Back office (staff):      {host}/backoffice/login/   then {host}/admin/",
                    *demo_account_lines(),
                    f"  Guide audit:              {host}/backoffice/audit/",
                    f"  API and its OpenAPI:      {host}/api/v1/docs   {host}/api/v1/openapi.json",
                    f"  Health:                   {host}/healthz  {host}/readyz",
                    "  Task worker:              "
                    + ("db_worker beside the server" if worker else "none (TONGBAN_WORKER=0)"),
                    f"  Data: {settings.DATABASES['default']['NAME']}",
                    "Press Ctrl+C to stop.",
                    "",
                ]
            )
        )
        sys.stdout.flush()
        argv = [
            "gunicorn",
            "tongban.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--access-logfile",
            "-",
            "--log-level",
            "warning",
        ]
        if worker:
            sys.exit(serve_with_worker([sys.executable, "-m", *argv]))
        os.execvp(sys.executable, [sys.executable, "-m", *argv])  # noqa: S606 - fixed argv
