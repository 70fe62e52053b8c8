"""The reconciler (DESIGN.md §5.9): puts back in line every batch left claimed, queued or submitted
without a live owner, whatever killed its owner (a deploy, OOM, a lost host).

What can get stuck, and what puts it back:
- a batch recorded or built but never submitted (killed between "created" and submit): submitted,
  rebuilt first when its files are gone;
- a submission interrupted mid-way (`submitting`, no progress for the grace period): resumed;
- a batch the provider should be running but one of whose parts never got a provider job
  (`submitted`/`in_progress` with a part still only built, or no part at all): sent again;
- a finished batch nobody ingested: ingested (a resubmission it creates is built for the next run);
- the lease of a dead submit or ingest: deleted (the next caller would take it over anyway).

Items need nothing of their own: an ingest claims them with row locks inside a transaction, which
dies with its owner. Two reconcilers never act twice on one batch: each action goes through the
batch's lease and status conditions (a conditional UPDATE), and the loser is reported as skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from batches.models import Batch, BatchPart
from batches.services.common import ACTIVE, FINISHED, LOCK_PREFIX, logger
from batches.services.ingest import batch_ingest
from batches.services.submit import batch_needs_build, batch_submit
from config.errors import ConflictError, DomainError
from config.leases import leases_expired_delete

RECONCILE_LIMIT = 100  # batches per kind per run; the next run takes the rest
# A dying worker's half-done files and partial state can raise these too; the next run retries.
RECONCILE_ERRORS = (DomainError, OSError)
# A part still only built while its batch counts as submitted: polling never sends it.
NEVER_SENT = Q(parts__isnull=True) | Q(parts__status=BatchPart.Status.BUILT)


@dataclass
class ReconcileReport:
    """Public batch ids by what the reconciler did with them."""

    submitted: list[str] = field(default_factory=list)  # built (or only recorded) and never sent
    rebuilt: list[str] = field(default_factory=list)  # ...of which the files were gone, so built again first
    resumed: list[str] = field(default_factory=list)  # interrupted submissions, parts without a provider job
    ingested: list[str] = field(default_factory=list)  # finished at the provider, never ingested
    leases_released: list[str] = field(default_factory=list)  # locks of dead workers
    skipped: list[str] = field(default_factory=list)  # another worker got there first (or holds it now)
    errors: dict[str, str] = field(default_factory=dict)  # batch id → why it stays for the next run

    @property
    def acted(self) -> int:
        return len(self.submitted) + len(self.resumed) + len(self.ingested)


def batches_reconcile(*, now: datetime | None = None) -> ReconcileReport:
    """Put every stuck batch back in line (see the module docstring); safe to run concurrently.

    Only batches untouched for BATCH_RECONCILE_GRACE_S are taken: a younger one may still have a
    live owner (a pipeline between "created" and submit, an upload in progress).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=float(settings.BATCH_RECONCILE_GRACE_S))
    report = ReconcileReport()
    report.leases_released = leases_expired_delete(prefix=LOCK_PREFIX, now=now)

    unsent = Batch.objects.filter(
        status__in=[Batch.Status.CREATED, Batch.Status.BUILT], created_at__lte=cutoff, cancel_requested_at__isnull=True
    )
    for batch in unsent.order_by("pk")[:RECONCILE_LIMIT]:
        rebuild = batch_needs_build(batch=batch) and batch.status == Batch.Status.BUILT
        if _act(report, batch, lambda b: batch_submit(batch=b)):
            report.submitted.append(batch.batch_id)
            if rebuild:
                report.rebuilt.append(batch.batch_id)

    interrupted = Batch.objects.filter(status=Batch.Status.SUBMITTING).filter(
        Q(last_polled_at__isnull=True) | Q(last_polled_at__lte=cutoff)
    )
    for batch in interrupted.order_by("pk")[:RECONCILE_LIMIT]:
        if _act(report, batch, lambda b: batch_submit(batch=b)):
            report.resumed.append(batch.batch_id)

    for batch in _missing_jobs(cutoff):
        # The claim: only the reconciler whose conditional UPDATE still sees the status it read
        # sends the batch again; `submitting` then lets batch_submit create the missing jobs.
        claimed = Batch.objects.filter(NEVER_SENT, pk=batch.pk, status=batch.status).update(
            status=Batch.Status.SUBMITTING, last_polled_at=timezone.now()
        )
        if not claimed:
            report.skipped.append(batch.batch_id)
            continue
        if _act(report, batch, lambda b: batch_submit(batch=b)):
            report.resumed.append(batch.batch_id)

    uningested = Batch.objects.filter(status__in=FINISHED, ingested_at__isnull=True).filter(
        Q(completed_at__isnull=True) | Q(completed_at__lte=cutoff)
    )
    for batch in uningested.order_by("pk")[:RECONCILE_LIMIT]:
        if _act(report, batch, lambda b: batch_ingest(batch=b)):
            report.ingested.append(batch.batch_id)

    if report.acted or report.leases_released or report.errors:
        logger.info(
            "batches reconciled: %d submitted (%d rebuilt), %d resumed, %d ingested, %d lease(s) released, "
            "%d skipped, %d error(s)",
            len(report.submitted),
            len(report.rebuilt),
            len(report.resumed),
            len(report.ingested),
            len(report.leases_released),
            len(report.skipped),
            len(report.errors),
        )
    return report


def _missing_jobs(cutoff: datetime) -> list[Batch]:
    """Active batches of which some part can never reach the provider (or the offline answerer) by polling."""
    active = [status for status in ACTIVE if status != Batch.Status.CANCELLING]  # cancel ends unsent parts
    stale = Batch.objects.filter(NEVER_SENT, status__in=active, submitted_at__lte=cutoff)
    return list(stale.distinct().order_by("pk")[:RECONCILE_LIMIT])


def _act(report: ReconcileReport, batch: Batch, action: Callable[[Batch], object]) -> bool:
    """Run one action on a batch; a conflict (someone else is on it, or was) is a skip, not an error."""
    try:
        action(batch)
    except ConflictError as exc:
        logger.info("batch %s: reconcile skipped: %s", batch.batch_id, exc.message)
        report.skipped.append(batch.batch_id)
        return False
    except RECONCILE_ERRORS as exc:
        message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        logger.warning("batch %s: reconcile failed: %s", batch.batch_id, message)
        report.errors[batch.batch_id] = message[:300]
        return False
    return True
