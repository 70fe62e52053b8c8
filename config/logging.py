"""Structured logs (structlog over the standard library) with the request or task they belong to.

Every module keeps logging through `logging.getLogger("contentops.…")`; the one formatter in
settings.LOGGING runs each record through structlog's processors, which add the ids bound in the
context (request id and path for a request, task id and name for a Celery task). `LOG_FORMAT=json`
prints one JSON object per line for a log shipper; `console` keeps readable lines for people.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_META = "HTTP_X_REQUEST_ID"
# A caller's id is kept only when it looks like an id (no spaces, quotes or control characters that
# could forge log lines); otherwise we make our own.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,100}$")

_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.ExtraAdder(),
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def formatter(*, json: bool) -> structlog.stdlib.ProcessorFormatter:
    """The formatter settings.LOGGING names: JSON lines, or coloured console lines."""
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if json
        # Plain tracebacks: rich's (when installed) print every frame's locals, which can hold
        # credentials (a Redis URL with its password) and took seconds per logged exception.
        else structlog.dev.ConsoleRenderer(
            colors=False, pad_event_to=0, exception_formatter=structlog.dev.plain_traceback
        )
    )
    processors: list[Any] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if json:
        processors.append(structlog.processors.format_exc_info)
    processors.append(renderer)
    return structlog.stdlib.ProcessorFormatter(foreign_pre_chain=_SHARED_PROCESSORS, processors=processors)


def configure_structlog() -> None:
    """structlog's own loggers (structlog.get_logger) go through the same standard-library handlers."""
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def request_id_for(request: HttpRequest) -> str:
    """The caller's X-Request-ID when it is a plain id, else a new random one."""
    # META directly: `request.headers` builds a dict of every header on its first read.
    given = request.META.get(_REQUEST_ID_META, "").strip()
    return given if _SAFE_ID.match(given) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Binds `request_id` (echoed as X-Request-ID), method and path to every log line of a request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.logger = logging.getLogger("contentops.requests")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, method=request.method, path=request.path)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            if response.status_code >= 500:
                self.logger.error(
                    "request failed",
                    extra={"status": response.status_code, "ms": round((time.perf_counter() - started) * 1000)},
                )
            return response
        finally:
            structlog.contextvars.clear_contextvars()


def bind_task(*, task_id: str | None, task_name: str | None) -> None:
    """Celery's task_prerun: the task's id and name on every line it logs."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task_id=task_id, task_name=task_name)


def unbind_task() -> None:
    structlog.contextvars.clear_contextvars()
