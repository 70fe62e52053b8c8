from django.core.management.base import BaseCommand

from config.periodic import periodic_tasks_sync


class Command(BaseCommand):
    help = "Sync the periodic tasks declared in code into django-celery-beat (safe to run repeatedly)."

    def handle(self, *args: object, **options: object) -> None:
        report = periodic_tasks_sync()
        for label, names in (
            ("created", report.created),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
            ("removed", report.removed),
        ):
            for name in names:
                self.stdout.write(f"  {label:<9} {name}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Periodic tasks: {len(report.created)} created, {len(report.updated)} updated, "
                f"{len(report.unchanged)} unchanged, {len(report.removed)} removed."
            )
        )
