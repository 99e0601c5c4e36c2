"""``tongban synthesize_catalog --implementations N [--items M] [--seed S] [--replace]``."""

from django.core.management.base import BaseCommand, CommandError

from tongban.catalog import synthetic


class Command(BaseCommand):
    help = (
        "Add a synthetic catalog (Inner Mongolia's regions, Zipf popularity) of N implementations "
        "for benchmarks and load trials. Items default to max(1500, N/100)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--implementations", type=int, required=True)
        parser.add_argument("--items", type=int, default=None)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--replace", action="store_true", help="remove earlier synthetic items first"
        )

    def handle(self, *args, implementations, items, seed, replace, **options):
        def progress(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        if replace:
            synthetic.remove_synthetic(progress=progress)
        try:
            counts = synthetic.synthesize(
                implementations=implementations, items=items, seed=seed, progress=progress
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"synthetic catalog: {counts['items']} items, "
                f"{counts['implementations']} implementations"
            )
        )
