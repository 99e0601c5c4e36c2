"""``tongban import_regions``: import or update the administrative division table (GB/T 2260)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tongban.core.regions import DEFAULT_TABLE, RegionImportError, load_regions


class Command(BaseCommand):
    help = (
        "Import the region table (CSV: code,name,level,parent_code). Without --file, the shipped "
        "table. Codes missing from a complete table are deactivated, never deleted; a bad row "
        "changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", default=None, help=f"CSV to import (default {DEFAULT_TABLE})")
        parser.add_argument(
            "--edition",
            default=None,
            help="version of the table, e.g. its cut-off date 2024-12-31 (default: from "
            "<file>.meta.json)",
        )
        parser.add_argument(
            "--partial",
            action="store_true",
            help="the file adds to the stored table (e.g. one county's townships): nothing is "
            "deactivated and parents may already be stored",
        )

    def handle(self, *args, file: str | None, edition: str | None, partial: bool, **options):
        try:
            report = load_regions(path=file, edition=edition, complete=not partial)
        except RegionImportError as exc:
            for row in exc.rows:
                self.stderr.write(f"{row.code}\t{row}")
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(report.summary()))
        for warning in report.warnings:
            self.stdout.write(self.style.WARNING(warning))
