"""``tongban expire_licenses``: move licenses past their last valid day to ``expired``."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from tongban.licenses.services import expire_due


class Command(BaseCommand):
    help = (
        "Mark every valid or suspended license whose validity ended before today as expired "
        "(失效), with its history row and audit record. Idempotent: run it daily."
    )

    def handle(self, *args, **options):
        moved = expire_due()
        self.stdout.write(self.style.SUCCESS(f"{moved} license(s) expired"))
