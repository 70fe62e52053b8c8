"""``POST /files``: stream a multipart upload straight to the file store.

Contract: the request body is consumed chunk by chunk from ``request.stream``
and the file part is written to disk as it arrives (bounded memory); a missing
``file``/``purpose`` or an unknown purpose is a 400 and leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import httpx2

from llm.simulator import multipart
from llm.simulator.errors import bad_request, invalid_value, missing_param
from llm.simulator.files import FileStore, StoredFile, safe_filename

PURPOSES = frozenset({"assistants", "batch", "fine-tune", "vision", "user_data", "evals"})


def upload_file(files: FileStore, request: httpx2.Request) -> StoredFile:
    """Store the uploaded file and return its metadata."""
    try:
        boundary = multipart.boundary_of(request.headers.get("content-type", ""))
    except multipart.MultipartError as exc:
        raise bad_request(f"Invalid multipart upload: {exc}", param="file") from None
    created: list[StoredFile] = []

    @contextmanager
    def open_sink(filename: str) -> Iterator[BinaryIO]:
        with files.writer(safe_filename(filename), "pending") as (stream, holder):
            yield stream
        created.extend(holder)

    try:
        fields, part = multipart.parse(request.stream, boundary, open_sink)  # type: ignore[arg-type]
    except multipart.MultipartError as exc:
        for stored in created:
            files.delete(stored.id)
        raise bad_request(f"Invalid multipart upload: {exc}", param="file") from None
    purpose = fields.get("purpose")
    problem = None
    if part is None or not created:
        problem = missing_param("file")
    elif purpose is None:
        problem = missing_param("purpose")
    elif purpose not in PURPOSES:
        problem = invalid_value("purpose", f"{purpose!r} is not a supported purpose.")
    if problem is not None:
        for stored in created:
            files.delete(stored.id)
        raise problem
    stored = created[0]
    stored.purpose = str(purpose)
    return stored
