"""On-disk file store behind ``/files`` (uploads and generated batch files).

Contract: file contents live only on disk under ``directory``; metadata is kept
in memory.  Reads are streamed (:meth:`FileStore.iter_lines`,
:meth:`FileStore.iter_chunks`) so arbitrarily large files use bounded memory.
Thread-safe.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from llm.simulator.completions import new_id
from llm.simulator.errors import not_found

READ_CHUNK = 256 * 1024


@dataclass
class StoredFile:
    """Metadata of one stored file (the bytes are at ``path``)."""

    id: str
    filename: str
    purpose: str
    bytes: int
    created_at: int
    path: Path = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        """The SDK ``FileObject`` shape."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }


class FileStore:
    """Files on disk keyed by OpenAI-style ``file-...`` ids."""

    def __init__(self, directory: str | None = None) -> None:
        self.directory = Path(directory or tempfile.mkdtemp(prefix="llm-simulator-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        # A private temp dir is removed on close() or, at the latest, when the store is collected.
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.directory), True) if directory is None else None
        self._files: dict[str, StoredFile] = {}
        self._lock = threading.Lock()

    @contextmanager
    def writer(self, filename: str, purpose: str) -> Iterator[tuple[BinaryIO, list[StoredFile]]]:
        """Write a new file; on clean exit it is registered.

        Yields ``(stream, holder)``; after the block ``holder[0]`` is the
        :class:`StoredFile`.  On error the partial file is removed.
        """
        file_id = new_id("file-")
        path = self.directory / file_id
        holder: list[StoredFile] = []
        try:
            with path.open("wb") as stream:
                yield stream, holder
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        stored = StoredFile(file_id, filename, purpose, path.stat().st_size, int(time.time()), path)
        with self._lock:
            self._files[file_id] = stored
        holder.append(stored)

    def get(self, file_id: str) -> StoredFile:
        """Metadata or a 404 ``SimError``."""
        with self._lock:
            stored = self._files.get(file_id)
        if stored is None:
            raise not_found(f"No such File object: {file_id}", param="id")
        return stored

    def list(self, purpose: str | None = None) -> list[StoredFile]:
        """All files, newest first, optionally filtered by purpose."""
        with self._lock:
            files = [f for f in self._files.values() if purpose is None or f.purpose == purpose]
        return sorted(files, key=lambda f: f.created_at, reverse=True)

    def delete(self, file_id: str) -> None:
        """Remove a file (404 ``SimError`` if unknown)."""
        with self._lock:
            stored = self._files.pop(file_id, None)
        if stored is None:
            raise not_found(f"No such File object: {file_id}", param="id")
        stored.path.unlink(missing_ok=True)

    def iter_lines(self, file_id: str) -> Iterator[bytes]:
        """Stream the file line by line (lines keep their newline)."""
        with self.get(file_id).path.open("rb") as stream:
            yield from stream

    def iter_chunks(self, file_id: str, size: int = READ_CHUNK) -> Iterator[bytes]:
        """Stream the file in ``size`` byte chunks."""
        with self.get(file_id).path.open("rb") as stream:
            while chunk := stream.read(size):
                yield chunk

    def close(self) -> None:
        """Delete the directory if this store created it."""
        with self._lock:
            self._files.clear()
        if self._cleanup is not None:
            self._cleanup()

    def __len__(self) -> int:
        with self._lock:
            return len(self._files)


def safe_filename(name: str) -> str:
    """Strip any directory part a client may send as a filename."""
    return os.path.basename(name.replace("\\", "/")) or "upload.bin"
