"""Demo step for the llm layer: a data dictionary of the ledger's own fields."""

import json

from django.conf import settings

from config.demo import DemoReport
from llm.services import data_dictionary_generate

DEMO_MODELS = ["llm.LLMCall", "config.APIKey"]


def run(*, report: DemoReport) -> None:
    entries = data_dictionary_generate(model_labels=DEMO_MODELS)
    path = settings.VAR_DIR / "data_dictionary.json"
    path.write_text(json.dumps(entries, ensure_ascii=False, indent=2), encoding="utf-8")
    fallbacks = sum(1 for e in entries if e["is_fallback"])
    report.done.append(f"described {len(entries)} data fields ({fallbacks} by rule-based fallback) -> {path}")
    report.look.append("LLM calls and costs: /admin/llm/llmcall/ and `python manage.py llm_costs --days 1`")
