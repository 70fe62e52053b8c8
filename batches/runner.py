"""Carrying a batch launched by a person (admin action, progress page) through to the end.

With a broker, Celery does it: the submission is queued now and the minute schedule polls and
ingests (`batches.batch_poll_due`). Without one (the embedded mode) nothing else would ever poll,
so this process does it: a background thread runs the whole pipeline (submit → poll → ingest →
resubmissions) while the progress page polls the batch's JSON status. With
ADMIN_BACKGROUND_THREADS off (tests) the pipeline runs inside the call instead.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection

from batches.models import Batch
from batches.services import batch_run_pipeline
from batches.services.common import ACTIVE, FINISHED
from batches.services.submit import SUBMITTABLE
from batches.tasks import batch_ingest_enqueue, batch_submit_enqueue
from config.errors import DomainError

logger = logging.getLogger("contentops.batches")


@dataclass
class _Run:
    thread: threading.Thread | None = None
    error: str = ""
    done: bool = False
    followed: list[int] = field(default_factory=list)  # the batch and its resubmissions, as run


_runs: dict[int, _Run] = {}
_runs_lock = threading.Lock()


def batch_run_mode() -> str:
    """How work launched from the admin proceeds: "celery" (workers and the schedule) or "embedded"."""
    return "celery" if settings.CELERY_BROKER_URL else "embedded"


def batch_carry_start(*, batch: Batch) -> str:
    """Make sure something carries `batch` to the end; says what: "celery", "thread", "inline",
    "running" (a thread of this process already is), "waiting" (awaiting approval) or "finished"."""
    batch.refresh_from_db()
    if batch.status == Batch.Status.AWAITING_APPROVAL:
        return "waiting"
    if batch.status in (Batch.Status.INGESTED,) or (
        batch.status == Batch.Status.CANCELLED and batch.ingested_at is not None
    ):
        return "finished"
    if batch_run_mode() == "celery":
        if batch.status in SUBMITTABLE:
            batch_submit_enqueue(batch=batch)
        elif batch.status in FINISHED:
            batch_ingest_enqueue(batch=batch)
        return "celery"
    if not settings.ADMIN_BACKGROUND_THREADS:
        _carry(batch.pk)
        return "inline"
    with _runs_lock:
        run = _runs.get(batch.pk)
        if run is not None and run.thread is not None and run.thread.is_alive():
            return "running"
        run = _Run()
        run.thread = threading.Thread(target=_carry, args=(batch.pk,), name=f"batch-{batch.pk}", daemon=True)
        _runs[batch.pk] = run
        run.thread.start()
    return "thread"


def batch_carry_state(*, batch_pk: int) -> tuple[bool, str]:
    """(a thread of this process is carrying it now, the last error it met)."""
    run = _runs.get(batch_pk)
    if run is None:
        return False, ""
    return bool(run.thread is not None and run.thread.is_alive()), run.error


def batch_needs_carrying(*, batch: Batch) -> bool:
    """Unfinished work that only this process would carry on (embedded mode, nobody at it now)."""
    if batch_run_mode() != "embedded" or not settings.ADMIN_BACKGROUND_THREADS:
        return False
    running, error = batch_carry_state(batch_pk=batch.pk)
    if running or error:
        return False
    unfinished = batch.status in SUBMITTABLE or batch.status in ACTIVE or batch.status in FINISHED
    return unfinished and batch.status != Batch.Status.AWAITING_APPROVAL


def _carry(batch_pk: int) -> None:
    run = _runs.setdefault(batch_pk, _Run())
    in_thread = run.thread is threading.current_thread()
    try:
        batch = Batch.objects.get(pk=batch_pk)
        result = batch_run_pipeline(
            batch=batch,
            poll_interval=settings.ADMIN_BATCH_POLL_INTERVAL_S,
            on_progress=lambda b: None,
        )
        run.followed = [b.pk for b in result.batches]
        run.error = ""
    except DomainError as exc:
        # Shown on the progress page (and kept on the batch when the service recorded it there).
        run.error = exc.message
        Batch.objects.filter(pk=batch_pk).update(error_message=exc.message)
        logger.warning("batch #%s: the admin's run stopped: %s", batch_pk, exc.message)
    finally:
        run.done = True
        if in_thread:
            close_old_connections()
            connection.close()
