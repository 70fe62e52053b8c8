"""Demo step: a small batch of field descriptions through the offline pipeline (build the JSONL,
answer it locally from the task's fallback, ingest through the same code path as the provider's)."""

from __future__ import annotations

from batches.services import ItemSpec, batch_create, batch_run_pipeline
from config.demo import DemoReport
from llm.fields import FIELD_DESCRIPTION, FieldInput
from llm.providers import provider_config

DEMO_FIELDS = [
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
    if not provider_config().is_offline:
        report.done.append("batches: skipped the offline batch demo (a provider is configured)")
        return
    items = [
        ItemSpec(f"field-{path}", FieldInput(field_path=path, field_name=name, data_type=kind, semantic_type=semantic))
        for path, name, kind, semantic in DEMO_FIELDS
    ]
    batch = batch_create(task=FIELD_DESCRIPTION, items=items, name="demo: field descriptions")
    result = batch_run_pipeline(batch=batch, poll_interval=0)
    report.done.append(
        f"batches: ran {batch.batch_id} ({len(items)} field descriptions) offline: JSONL built, answered locally, "
        f"ingested — {result.applied} applied, {result.failed} failed"
    )
    report.look.append(
        f"a batch with its parts, files and items: /admin/batches/batch/{batch.pk}/change/ "
        f"(or python manage.py batch_status {batch.batch_id})"
    )
