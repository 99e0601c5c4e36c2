"""``tongban export_catalog out.xlsx [--region CODE]``: the catalog as an Excel workbook."""

from django.core.management.base import BaseCommand, CommandError

from tongban.catalog.importexport import export_catalog
from tongban.catalog.models import Implementation
from tongban.core.models import Region
from tongban.core.models.regions import region_prefix


class Command(BaseCommand):
    help = "Export the catalog (items, implementations and every guide element) to Excel."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the .xlsx file to write")
        parser.add_argument("--region", help="only implementations in this region and below")

    def handle(self, *args, path: str, region: str | None, **options):
        queryset = None
        if region:
            if not Region.objects.filter(code=region).exists():
                raise CommandError(f"区划代码“{region}”不存在")
            queryset = Implementation.objects.filter(region_code__startswith=region_prefix(region))
        with open(path, "wb") as fileobj:
            export_catalog(queryset, fileobj)
        count = (queryset if queryset is not None else Implementation.objects).count()
        self.stdout.write(f"已导出实施清单{count}项到 {path}")
