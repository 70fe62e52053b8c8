import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.products.document import product_document
from catalog.products.selectors import products_for_documents


class Command(BaseCommand):
    help = (
        "Export products as seed 002's product documents (the shape import_products reads): one JSON document "
        "for one slug, a JSON array, or JSON Lines (--jsonl)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="Products to export (default: every product).")
        parser.add_argument("--jsonl", action="store_true", help="One document per line.")
        parser.add_argument("--output", "-o", type=Path, help="Write to this file instead of standard output.")

    def handle(self, *args: object, slugs: list[str], **options: Any) -> None:
        products = products_for_documents(slugs=slugs)
        if slugs:
            missing = sorted(set(slugs) - set(products.values_list("slug", flat=True)))
            if missing:
                raise CommandError(f"No product with slug(s) {missing}; nothing was exported.")
        documents = (product_document(product) for product in products.iterator(chunk_size=500))
        path: Path | None = options["output"]
        stream = path.open("w", encoding="utf-8") if path else self.stdout
        count = 0
        try:
            if options["jsonl"]:
                for document in documents:
                    stream.write(json.dumps(document, ensure_ascii=False) + "\n")
                    count += 1
            else:
                listed = list(documents)
                count = len(listed)
                # One product: one document, as the seed shows it.
                exported: object = listed[0] if len(slugs) == 1 and count == 1 else listed
                stream.write(json.dumps(exported, ensure_ascii=False, indent=2) + "\n")
        finally:
            if path:
                stream.close()
        if path:
            self.stderr.write(f"Exported {count} product document(s) to {path}.")
