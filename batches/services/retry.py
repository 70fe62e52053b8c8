"""Resubmitting a settled batch's failed items on request (staff decide; no budget applies)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from batches.models import Batch, BatchItem
from batches.services.common import logger
from batches.services.create import UPDATE_CHUNK, batch_build, batch_create_retry
from config.errors import ConflictError, DomainError
from llm.providers import provider_config


def batch_retry_failed(*, batch: Batch) -> Batch:
    """A new batch (retry_of=batch, built, not submitted) with the batch's failed items; those become
    `resubmitted`. Only for settled batches: until then an item's end is not known."""
    with transaction.atomic():
        locked = Batch.objects.select_for_update().get(pk=batch.pk)
        if locked.ingested_at is None:
            raise ConflictError(f"Batch {locked.batch_id} is {locked.status}; retry its failures once it is ingested.")
        failed_ids = list(
            BatchItem.objects.filter(batch=locked, status=BatchItem.Status.FAILED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not failed_ids:
            raise DomainError(f"Batch {locked.batch_id} has no failed items.", code="nothing_to_retry")
        retry = batch_create_retry(batch=locked, item_ids=failed_ids, config=provider_config())
        for start in range(0, len(failed_ids), UPDATE_CHUNK):
            BatchItem.objects.filter(pk__in=failed_ids[start : start + UPDATE_CHUNK]).update(
                status=BatchItem.Status.RESUBMITTED
            )
        Batch.objects.filter(pk=locked.pk).update(
            items_failed=F("items_failed") - len(failed_ids),
            items_resubmitted=F("items_resubmitted") + len(failed_ids),
        )
    batch_build(batch=retry)
    logger.info("batch %s: %d failed item(s) resubmitted as %s", batch.batch_id, len(failed_ids), retry.batch_id)
    return retry
