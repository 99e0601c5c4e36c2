"""Write the OpenAPI document to a file, or with --check fail when the file is out of date."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Write /api/v1/openapi.json to a file (or check that the file is current)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--check", action="store_true", help="fail if the file differs")

    def handle(self, *args, path: Path, check: bool, **options):
        from tongban.api.router import api

        document = (
            json.dumps(api.get_openapi_schema(), ensure_ascii=False, indent=2, sort_keys=True)
            + "\n"
        )
        if check:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != document:
                raise CommandError(
                    f"{path} is out of date: run `tongban export_openapi {path}` and commit it"
                )
            self.stdout.write(f"{path} is current")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document, encoding="utf-8")
        self.stdout.write(f"wrote {path}")
