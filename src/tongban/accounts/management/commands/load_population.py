"""``tongban load_population <csv>``: load the population table used for real-name checks."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tongban.accounts.verification.population import load_population_file


class Command(BaseCommand):
    help = (
        "Load name,id_number rows (UTF-8 CSV, header optional) into the population table that "
        "the local real-name provider checks. Bad rows are reported by line; a file with a bad "
        "row changes nothing unless --skip-bad is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("csv", help="path of the CSV file")
        parser.add_argument("--source", default="", help="where the data came from (kept per row)")
        parser.add_argument(
            "--skip-bad", action="store_true", help="load the good rows even if some are bad"
        )

    def handle(self, *args, csv: str, source: str, skip_bad: bool, **options):
        try:
            report = load_population_file(csv, source=source, skip_bad=skip_bad)
        except OSError as exc:
            raise CommandError(f"cannot read {csv}: {exc}") from exc
        for bad in report.bad:
            self.stderr.write(str(bad))
        if not report.loaded:
            raise CommandError(
                f"{len(report.bad)} bad row(s), nothing loaded (fix them or use --skip-bad)"
            )
        self.stdout.write(self.style.SUCCESS(report.summary()))
