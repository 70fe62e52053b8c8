import json
import sys
from collections import Counter

import pydantic
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from catalog.products.llm import PRODUCT_CONTENT, ProductInput
from catalog.products.models import LOCALES
from catalog.products.selectors import locales_parse, products_for_generation
from catalog.products.services.generation import product_content_input
from llm.runtime import run

PER_CATEGORY = 5


class Command(BaseCommand):
    help = (
        "Try product content generation now (seed 002's test script): 5 products per category (or one "
        "with --single) × locales, one call each; every output is saved as JSON under "
        "VAR_DIR/test_results/, schema-checked, and success/fallback/failure rates are printed. "
        "Nothing is written to the catalog unless --apply is given."
    )

    def add_arguments(self, parser):  # noqa: ANN001
        parser.add_argument("--single", action="store_true", help="One product only.")
        parser.add_argument("--locales", default="", help=f"Comma-separated; default all: {','.join(LOCALES)}.")
        parser.add_argument("--apply", action="store_true", help="Also store the generated content.")

    def handle(self, *args: object, single: bool, locales: str, apply: bool, **options: object) -> None:
        wanted = locales_parse(locales)
        products = list(products_for_generation(per_category=1 if single else PER_CATEGORY, include_completed=True))
        if single:
            products = products[:1]
        if not products:
            raise CommandError("No products: import some first (python manage.py import_products FILE or demo).")
        out_dir = settings.VAR_DIR / "test_results" / timezone.now().strftime("%Y%m%dT%H%M%SZ")
        out_dir.mkdir(parents=True, exist_ok=True)
        outcome: Counter[str] = Counter()
        failures: list[str] = []
        jobs = [(product, locale) for product in products for locale in wanted]
        for product, locale in tqdm(jobs, unit="call", file=sys.stderr, disable=not sys.stderr.isatty()):
            task_input = product_content_input(product=product, locale=locale)
            result = run(PRODUCT_CONTENT, task_input, apply=apply)
            path = out_dir / f"{product.slug}.{locale}.json"
            path.write_text(
                json.dumps(
                    {
                        "product": {"id": product.pk, "slug": product.slug, "name": product.name},
                        "locale": locale,
                        "provenance": {
                            "provider": result.provenance.provider,
                            "model": result.provenance.model,
                            "task_version": result.provenance.task_version,
                            "is_fallback": result.provenance.is_fallback,
                            "fallback_reason": result.provenance.fallback_reason,
                            "call_id": result.provenance.call_id,
                        },
                        "output": result.output.model_dump(mode="json"),
                    },
                    ensure_ascii=False,
                    indent=2,
                ),
                encoding="utf-8",
            )
            # Check what was saved, not the object in memory: the file is what people will use.
            problems = _schema_problems(path.read_text(encoding="utf-8"), task_input)
            if problems:
                outcome["failure"] += 1
                failures.append(f"{path.name}: {'; '.join(problems)[:300]}")
            elif result.is_fallback:
                outcome["fallback"] += 1
            else:
                outcome["success"] += 1
        total = len(jobs)
        self.stdout.write(f"Saved {total} result(s) under {out_dir}")
        for label in ("success", "fallback", "failure"):
            self.stdout.write(f"  {label:<9} {outcome[label]:>4}  ({100 * outcome[label] / total:.1f}%)")
        for line in failures[:20]:
            self.stdout.write(self.style.ERROR(f"  {line}"))
        if outcome["failure"]:
            raise CommandError(f"{outcome['failure']} output(s) failed the schema check.")


def _schema_problems(text: str, task_input: ProductInput) -> list[str]:
    try:
        output = PRODUCT_CONTENT.output_model.model_validate(json.loads(text)["output"])
    except (pydantic.ValidationError, json.JSONDecodeError, KeyError) as exc:
        return [f"schema: {exc}"]
    return PRODUCT_CONTENT.quality_problems(task_input, output)
