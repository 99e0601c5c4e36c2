"""``tongban import_holidays <file>``: enter a year's State Council holiday schedule from a file."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError

from tongban.core import calendar
from tongban.core.calendar_errors import CalendarError
from tongban.core.calendar_services import import_schedule_file


class Command(BaseCommand):
    help = (
        "Enter a year's holiday schedule (国务院办公厅部分节假日安排通知) from a CSV "
        "(date,kind,name) or JSON file; see docs/holidays/README.md. All or nothing: every bad "
        "row is listed and nothing changes. Deadlines computed provisionally for that year are "
        "recomputed."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV or JSON file, e.g. docs/holidays/2026.csv")
        parser.add_argument(
            "--year", type=int, default=None, help="year (default: # year: in the file)"
        )
        parser.add_argument("--source", default=None, help="the notice (default: # source:)")
        parser.add_argument(
            "--published",
            default=None,
            help="date of the notice, YYYY-MM-DD (default: # published:)",
        )
        parser.add_argument("--replace", action="store_true", help="replace the year's schedule")
        parser.add_argument(
            "--accept-deviations",
            action="store_true",
            help="accept a schedule that leaves out a statutory holiday (after a new law revision)",
        )

    def handle(self, *args, file, year, source, published, replace, accept_deviations, **options):
        actor = f"命令行 import_holidays（{getpass.getuser()}）"
        try:
            schedule = import_schedule_file(
                actor=actor,
                file=file,
                year=year,
                source=source,
                published=published,
                replace=replace,
                accept_deviations=accept_deviations,
            )
        except CalendarError as exc:
            for row in exc.rows:
                self.stderr.write(f"{row.row}\t{row.code}\t{row.message}")
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        table = calendar.year_source(schedule.year)
        self.stdout.write(
            self.style.SUCCESS(
                f"{schedule.year}: {schedule.days.count()} days entered from {schedule.source} "
                f"(calendar source now: {table.source})"
            )
        )
