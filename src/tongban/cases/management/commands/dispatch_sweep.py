"""``tongban dispatch_sweep``: re-enqueue department dispatches whose task was lost.

Run it from cron (every few minutes) beside the workers; it is cheap and safe to run often.
"""

from django.core.management.base import BaseCommand

from tongban.cases import tasks


class Command(BaseCommand):
    help = (
        "Re-enqueue pending department dispatches overdue by more than TONGBAN_DISPATCH_GRACE "
        "seconds whose task was lost (a worker died mid-way)."
    )

    def handle(self, *args, **options):
        count = tasks.sweep()
        self.stdout.write(f"re-enqueued {count} dispatch(es)")
