"""``tongban load_enterprises <csv>``: load the enterprise register used for company checks."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tongban.accounts.companies import load_enterprises


class Command(BaseCommand):
    help = (
        "Load uscc,name,legal_rep_name,legal_rep_id_number rows (UTF-8 CSV with a header) into "
        "the enterprise register that the local company provider checks. Every row is checked "
        "(credit code and ID number check characters); bad rows are reported by line and a file "
        "with a bad row changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("csv", help="path of the CSV file")
        parser.add_argument("--source", default="", help="where the data came from (kept per row)")
        parser.add_argument("--check", action="store_true", help="check only, load nothing")

    def handle(self, *args, csv: str, source: str, check: bool, **options):
        path = Path(csv)
        try:
            with path.open(encoding="utf-8-sig", newline="") as fileobj:
                report = load_enterprises(fileobj, source=source or path.name, dry_run=check)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {csv}: {exc}") from exc
        for line, message in report.errors:
            self.stderr.write(f"line {line}: {message}")
        if not report.ok:
            raise CommandError(f"{len(report.errors)} bad row(s), nothing loaded")
        if check:
            self.stdout.write(self.style.SUCCESS("all rows are valid (nothing loaded: --check)"))
            return
        self.stdout.write(self.style.SUCCESS(f"{report.created} created, {report.updated} updated"))
