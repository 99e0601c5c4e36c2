"""``tongban rotate_personal_data``: move every encrypted personal value to the current data key
(the first of ``TONGBAN_DATA_KEYS``); ``--redigest`` also recomputes lookup digests after the
lookup key changed. Afterwards the old key can be removed from the ring."""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand

from tongban.core.audit import AuditAction, record
from tongban.core.crypto import keyring
from tongban.core.personal import encrypted_fields, rotate_model


class Command(BaseCommand):
    help = "Re-encrypt personal data under the current data key."

    def add_arguments(self, parser):
        parser.add_argument("--redigest", action="store_true", help="recompute lookup digests")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, redigest=False, batch_size=500, **options):
        total = 0
        for model in apps.get_models():
            if not encrypted_fields(model):
                continue
            count = rotate_model(model, redigest=redigest, batch_size=batch_size)
            total += count
            self.stdout.write(f"{model._meta.label}: {count} rows rewritten")
        record(
            actor=None,
            action=AuditAction.KEY_ROTATION,
            details={"current": keyring().current_version, "rows": total, "redigest": redigest},
        )
        self.stdout.write(
            self.style.SUCCESS(f"{total} rows now under key {keyring().current_version}")
        )
