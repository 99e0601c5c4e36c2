"""``tongban verify_audit``: recompute the SM3 chain of the audit trail.

Exits 0 and prints the head (seq and digest, to be kept elsewhere as an external anchor) when the
chain is intact; exits 1 naming the first broken ``seq`` otherwise. ``--purge`` first deletes the
records past the retention period (see :func:`tongban.core.audit.purge_expired`).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from tongban.core.audit import purge_expired, verify_chain
from tongban.core.models import AuditRecord


class Command(BaseCommand):
    help = "Verify the SM3 digest chain of the audit trail; exit 1 when it is broken."

    def add_arguments(self, parser):
        parser.add_argument("--start", type=int, help="first seq to check")
        parser.add_argument("--end", type=int, help="last seq to check")
        parser.add_argument(
            "--purge", action="store_true", help="delete records past the retention period first"
        )

    def handle(self, *args, start=None, end=None, purge=False, **options):
        if purge:
            deleted = purge_expired()
            self.stdout.write(f"purged {deleted} expired audit records")
        report = verify_chain(start=start, end=end)
        if not report.ok:
            raise CommandError(str(report))
        self.stdout.write(self.style.SUCCESS(str(report)))
        head = AuditRecord.objects.order_by("-seq").values_list("seq", "digest").first()
        if head is not None:
            self.stdout.write(f"head seq={head[0]} digest={head[1]}")
