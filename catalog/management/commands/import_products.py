from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.products.services.imports import ProductImportError, products_import_file
from config.errors import DomainError


class Command(BaseCommand):
    help = (
        "Import products from a CSV, JSON (one object or an array) or JSON Lines file, upserting on slug. A JSON "
        "row is flat (the CSV's columns) or seed 002's product document as it is (product_input, images, "
        "ai_generated_content, customer_reviews, content_metadata, qa). Every row is validated first: any bad "
        "row is reported with its line and nothing is imported."
    )

    def add_arguments(self, parser):  # noqa: ANN001
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=["csv", "json", "jsonl"], help="Default: from the file extension.")

    def handle(self, *args: object, file: Path, format: str | None, **options: object) -> None:  # noqa: A002
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        try:
            summary = products_import_file(path=file, file_format=format)
        except ProductImportError as exc:
            for error in exc.errors:
                self.stderr.write(f"{file.name}: {error}")
            raise CommandError(f"{len(exc.errors)} problem(s) in {file.name}; nothing was imported.") from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {summary.rows} product(s) from {file.name}: {summary.created} created, "
                f"{summary.updated} updated; {summary.brands_created} brand(s) and "
                f"{summary.categories_created} categor(y/ies) created"
                + (f"; {summary.contents_imported} locale content(s) imported." if summary.contents_imported else ".")
            )
        )
