import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalog.datasets.selectors import data_dictionary_get, entry_row
from catalog.datasets.sources import dataset_source_read
from catalog.datasets.tasks import data_dictionary_request
from config.errors import DomainError


class Command(BaseCommand):
    help = (
        "Write a data dictionary (kept, editable in the admin): a business name and description for every field "
        "of the given models, or of a CSV / JSON / JSON Lines file or seed 001 field list (--file). Running it "
        "again with the same --name keeps every entry a person edited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("models", nargs="*", help="Model labels, e.g. catalog.Product llm.LLMCall")
        parser.add_argument("--file", type=Path, help="A CSV, JSON or JSON Lines file, or a JSON field list.")
        parser.add_argument("--format", choices=["csv", "json", "jsonl"], help="Default: from the file name.")
        parser.add_argument("--name", help="The dictionary's name (default: the file name or the model labels).")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

    def handle(self, *args: object, models: list[str], **options: Any) -> None:
        path: Path | None = options["file"]
        if bool(models) == bool(path):
            raise CommandError("Give model labels or --file PATH (one of the two).")
        if path is not None and not path.is_file():
            raise CommandError(f"{path} is not a file.")
        bar = tqdm(total=0, disable=not sys.stderr.isatty(), desc="fields")

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            if path is not None:
                source = dataset_source_read(
                    upload_name=path.name, upload_data=path.read_bytes(), file_format=options["format"]
                )
            else:
                source = dataset_source_read(model_labels=models)
            outcome = data_dictionary_request(
                name=options["name"] or source.default_name,
                source_kind=source.source_kind,
                source_name=source.source_name,
                fields=source.fields,
                inline=True,
                on_progress=progress,
            )
        except DomainError as exc:
            problems = exc.detail if isinstance(exc.detail, list) else []
            for problem in problems[:50]:
                self.stderr.write(f"  {problem}")
            raise CommandError(exc.message) from exc
        finally:
            bar.close()
        dictionary = data_dictionary_get(dictionary_id=outcome.dictionary.pk)
        rows = [entry_row(entry) for entry in dictionary.entry_list]  # type: ignore[attr-defined]  # prefetched
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        width = max((len(row["field_path"]) for row in rows), default=0)
        for row in rows:
            flag = " (edited)" if row["edited_at"] else " (fallback)" if row["is_fallback"] else ""
            self.stdout.write(f"{row['field_path']:<{width}}  {row['business_name']}: {row['description']}{flag}")
        summary = outcome.summary
        if summary is None:  # an inline request always describes
            raise CommandError("The dictionary was not described.")
        self.stdout.write(
            f"Data dictionary {dictionary.name!r} (id {dictionary.pk}): {summary.fields} fields, "
            f"{summary.described} described by the model, {summary.fallbacks} by the rule-based fallback, "
            f"{summary.kept} kept as a person edited them."
        )
