"""``tongban reindex_catalog``: recompute every item's search tokens and the text index."""

from django.core.management.base import BaseCommand

from tongban.catalog.models import Item
from tongban.catalog.search import rebuild_text_index, reindex_items


class Command(BaseCommand):
    help = "Recompute the search tokens of every item and rebuild the text index."

    def handle(self, *args, **options):
        rebuild_text_index()
        count = reindex_items(Item.objects.all())
        self.stdout.write(self.style.SUCCESS(f"indexed {count} items"))
