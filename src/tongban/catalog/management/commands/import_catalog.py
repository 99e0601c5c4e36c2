"""``tongban import_catalog in.xlsx [--dry-run]``: validate, then apply all or nothing."""

import json
import time

from django.core.management.base import BaseCommand, CommandError

from tongban.catalog.importexport import import_catalog


class Command(BaseCommand):
    help = (
        "Import the catalog from Excel (layout: docs/catalog-excel.md); a bad file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the .xlsx file to read")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and count, change nothing"
        )
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print the report as JSON"
        )

    def handle(self, *args, path: str, dry_run: bool, as_json: bool = False, **options):
        started = time.perf_counter()
        try:
            with open(path, "rb") as fileobj:
                report = import_catalog(fileobj, actor=None, dry_run=dry_run)
        except OSError as exc:
            raise CommandError(f"无法读取文件：{exc}") from exc
        elapsed = time.perf_counter() - started
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            for issue in report.errors:
                self.stdout.write(f"错误 {issue}")
            for issue in report.warnings:
                self.stdout.write(f"缺项 {issue}")
            self.stdout.write(f"{report.summary()}（用时{elapsed:.1f}秒）")
        if not report.ok:
            raise CommandError(report.summary())
