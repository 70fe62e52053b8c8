import json
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from llm.services import data_dictionary_generate


class Command(BaseCommand):
    help = "Write a data dictionary: a business name and description for every field of the given models."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("models", nargs="+", help="Model labels, e.g. catalog.Product llm.LLMCall")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a table.")

    def handle(self, *args: object, models: list[str], **options: object) -> None:
        bar = tqdm(total=0, disable=not sys.stderr.isatty(), desc="fields")

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            entries = data_dictionary_generate(model_labels=models, on_progress=progress)
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        if options["json"]:
            self.stdout.write(json.dumps(entries, ensure_ascii=False, indent=2))
            return
        width = max(len(e["field"]) for e in entries)
        for entry in entries:
            flag = " (fallback)" if entry["is_fallback"] else ""
            self.stdout.write(f"{entry['field']:<{width}}  {entry['business_name']}: {entry['description']}{flag}")
        fallbacks = sum(1 for e in entries if e["is_fallback"])
        self.stdout.write(f"{len(entries)} fields described, {fallbacks} by the rule-based fallback.")
