"""Serve Tongban with gunicorn (sync WSGI workers, as ARCHITECTURE.md prescribes)."""

import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand


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


class Command(BaseCommand):
    help = "Serve the platform on http://127.0.0.1:8000 (gunicorn, sync workers)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("TONGBAN_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("TONGBAN_WORKERS", "2"))
        )

    def handle(self, *args, bind: str, workers: int, **options):
        host = bind if "://" in bind else f"http://{bind}"
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
        os.execvp(sys.executable, [sys.executable, "-m", *argv])  # noqa: S606 - fixed argv
