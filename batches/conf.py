"""Batch settings, with defaults, read at call time (tests override them with `settings`).

BATCH_MAX_RESUBMITS        automatic resubmissions of an item that can clear (expired, 5xx, ...)
BATCH_POLL_MIN_INTERVAL_S  a batch is polled at most once per this many seconds
BATCH_INGEST_CHUNK         result lines handled per transaction while ingesting
BATCH_CREATE_MAX_ATTEMPTS  provider job creations tried per part (Azure's token_limit_exceeded)
BATCH_CREATE_BACKOFF_S     first wait before creating a job again; doubles per attempt, capped
BATCH_MAX_LINES / _BYTES   lower the provider's per-file limits (None: the provider's own)
BATCH_DIR                  where JSONL files live (default VAR_DIR/batches)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "BATCH_MAX_RESUBMITS": 2,
    "BATCH_POLL_MIN_INTERVAL_S": 60.0,
    "BATCH_INGEST_CHUNK": 1000,
    "BATCH_CREATE_MAX_ATTEMPTS": 5,
    "BATCH_CREATE_BACKOFF_S": 60.0,
    "BATCH_CREATE_BACKOFF_MAX_S": 30 * 60.0,
    "BATCH_MAX_LINES": None,
    "BATCH_MAX_BYTES": None,
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def batch_root() -> Path:
    root = getattr(settings, "BATCH_DIR", None)
    return Path(root) if root else Path(settings.VAR_DIR) / "batches"
