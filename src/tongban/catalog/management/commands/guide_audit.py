"""``tongban guide_audit [--region CODE] [--organization USCC] [--format text|json|xlsx]``."""

import sys

from django.core.management.base import BaseCommand, CommandError

from tongban.catalog.guide_audit import audit, render_text, write_xlsx
from tongban.core.identifiers import IdentifierError, validate_uscc
from tongban.core.models import Organization, Region


class Command(BaseCommand):
    help = "Audit every active service guide against seed 001 attachment 1 (rows 1–24)."

    def add_arguments(self, parser):
        parser.add_argument("--region", help="a region code: that region and every region below")
        parser.add_argument("--organization", help="the USCC of one implementing organization")
        parser.add_argument("--format", choices=["text", "json", "xlsx"], default="text")
        parser.add_argument("--output", help="write to this file (required for xlsx)")
        parser.add_argument(
            "--max-defects", type=int, default=200, help="findings listed in text (default 200)"
        )

    def handle(self, *args, region, organization, format, output, max_defects, **options):
        if region and not Region.objects.filter(code=region).exists():
            raise CommandError(f"区划代码“{region}”不存在")
        org_id = None
        if organization:
            try:
                uscc = validate_uscc(organization)
            except IdentifierError as exc:
                raise CommandError(str(exc.message)) from exc
            org_id = Organization.objects.filter(uscc=uscc).values_list("pk", flat=True).first()
            if org_id is None:
                raise CommandError(f"统一社会信用代码为{uscc}的部门不存在")
        if format == "xlsx" and not output:
            raise CommandError("xlsx 格式需要用 --output 指定文件")
        report = audit(region=region, organization=org_id)
        if format == "xlsx":
            with open(output, "wb") as fileobj:
                write_xlsx(report, fileobj)
            self.stdout.write(f"审计报告已写入 {output}（问题{len(report.defects)}处）")
            return
        text = (
            report.to_json() if format == "json" else render_text(report, max_defects=max_defects)
        )
        if output:
            with open(output, "w", encoding="utf-8") as fileobj:
                fileobj.write(text + "\n")
            self.stdout.write(f"审计报告已写入 {output}")
        else:
            self.stdout.write(text)
            sys.stdout.flush()
