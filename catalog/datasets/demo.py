"""Demo step of the data dictionaries (run by catalog.demo): the bundled customer CSV and two of this
project's models described, the CSV's dictionary exported as Markdown under var/; offline, also a
small batch of field descriptions through the provider-batch pipeline (answered locally)."""

from pathlib import Path

from django.conf import settings

from batches.services import ItemSpec, batch_create, batch_run_pipeline
from catalog.datasets.llm import FIELD_DESCRIPTION, FieldInput
from catalog.datasets.models import DataDictionary
from catalog.datasets.selectors import data_dictionary_export, data_dictionary_get
from catalog.datasets.sources import dataset_source_read
from catalog.datasets.tasks import data_dictionary_request
from config.demo import DemoReport
from llm.providers import provider_config

DEMO_CSV = Path(__file__).resolve().parent / "demo_data" / "customers.csv"
DEMO_MODELS = ["llm.LLMCall", "config.APIKey"]
DEMO_BATCH_NAME = "demo: field descriptions"
BATCH_FIELDS = [
    ("customer.email", "email", "string", "email_address"),
    ("customer.phone", "phone", "string", "phone_number"),
    ("customer.created_at", "created_at", "datetime", "datetime"),
    ("order.total_amount", "total_amount", "decimal", "currency"),
    ("order.shipping.postal_code", "postal_code", "string", "postal_code"),
    ("order.shipping.country", "country", "string", "country"),
    ("product.sku", "sku", "string", "identifier"),
    ("product.url", "url", "string", "url"),
]


def run(*, report: DemoReport) -> None:
    sources = [
        dataset_source_read(upload_name=DEMO_CSV.name, upload_data=DEMO_CSV.read_bytes()),
        dataset_source_read(model_labels=DEMO_MODELS),
    ]
    dictionary_ids = []
    for source in sources:
        done = DataDictionary.objects.filter(
            name=source.default_name, status=DataDictionary.Status.COMPLETED, entries__isnull=False
        ).first()
        if done is not None:
            # A rerun: described already (no new LLM calls); a person's edits stay as they are.
            dictionary_ids.append(done.pk)
            report.done.append(f"data dictionary {source.default_name!r}: already described; nothing to do")
            continue
        outcome = data_dictionary_request(
            name=source.default_name,
            source_kind=source.source_kind,
            source_name=source.source_name,
            fields=source.fields,
            inline=True,
        )
        summary = outcome.summary
        if summary is None:  # not reached: an inline request describes at once
            raise RuntimeError(f"data dictionary {source.default_name!r} was not described")
        dictionary_ids.append(outcome.dictionary.pk)
        report.done.append(
            f"data dictionary {source.default_name!r}: {summary.fields} fields, {summary.fallbacks} by rule-based "
            f"fallback, {summary.kept} kept as a person edited them"
        )
    dictionary = data_dictionary_get(dictionary_id=dictionary_ids[0])
    text, _, filename = data_dictionary_export(dictionary=dictionary, export_format="md")
    path = settings.VAR_DIR / filename
    path.write_text(text, encoding="utf-8")
    report.done.append(f"exported the {DEMO_CSV.name} dictionary -> {path}")
    report.look += [
        "Data dictionaries: /admin/catalog/datadictionary/ (entries editable inline; edits survive reruns)",
        "LLM calls and costs: /admin/llm/llmcall/ and `python manage.py llm_costs --days 1`",
    ]
    run_batch(report=report)


def run_batch(*, report: DemoReport) -> None:
    """Offline only: field descriptions as a provider batch (JSONL built, answered locally, ingested)."""
    if not provider_config().is_offline:
        report.done.append("batches: skipped the offline batch demo (a provider is configured)")
        return
    from batches.models import Batch

    earlier = Batch.objects.filter(name=DEMO_BATCH_NAME, status=Batch.Status.INGESTED).first()
    if earlier is not None:
        report.done.append(f"batches: the field-description batch {earlier.batch_id} ran before; nothing to do")
        return
    items = [
        ItemSpec(f"field-{path}", FieldInput(field_path=path, field_name=name, data_type=kind, semantic_type=semantic))
        for path, name, kind, semantic in BATCH_FIELDS
    ]
    batch = batch_create(task=FIELD_DESCRIPTION, items=items, name=DEMO_BATCH_NAME)
    result = batch_run_pipeline(batch=batch, poll_interval=0)
    report.done.append(
        f"batches: ran {batch.batch_id} ({len(items)} field descriptions) offline: JSONL built, answered locally, "
        f"ingested — {result.applied} applied, {result.failed} failed"
    )
    report.look.append(
        f"a batch with its parts, files and items: /admin/batches/batch/{batch.pk}/change/ "
        f"(or python manage.py batch_status {batch.batch_id})"
    )
