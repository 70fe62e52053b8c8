"""Streaming ``multipart/form-data`` parser with bounded memory.

Contract: :func:`parse` consumes an iterable of byte chunks, returns the small
text fields as a dict, and streams the single file part (if any) into the
writable binary sink produced by ``open_sink(filename)``; memory use is bounded
by the chunk size plus the boundary length, regardless of the file size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

MAX_HEADER_BYTES = 16 * 1024
MAX_FIELD_BYTES = 1024 * 1024
CHUNK_BYTES = 256 * 1024
_PARAM = re.compile(r';\s*([\w*-]+)="?([^";]*)"?')


class MultipartError(ValueError):
    """The body is not valid multipart/form-data."""


@dataclass
class FilePart:
    """The uploaded file: its form field name, filename and streamed size."""

    field: str
    filename: str
    size: int


def boundary_of(content_type: str) -> bytes:
    """Extract the boundary parameter of a ``multipart/form-data`` content type."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise MultipartError("expected multipart/form-data")
    params = dict((k.lower(), v) for k, v in _PARAM.findall(content_type))
    if not params.get("boundary"):
        raise MultipartError("missing multipart boundary")
    return params["boundary"].encode("latin-1")


def _rechunk(chunks: Iterable[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Split oversized chunks (e.g. an in-memory request body) into ``size`` pieces."""
    for chunk in chunks:
        if len(chunk) <= size:
            yield chunk
            continue
        view = memoryview(chunk)
        for start in range(0, len(view), size):
            yield bytes(view[start : start + size])


class _Reader:
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks: Iterator[bytes] = _rechunk(chunks)
        self.buf = b""
        self.eof = False

    def more(self) -> bool:
        if self.eof:
            return False
        for chunk in self._chunks:
            if chunk:
                self.buf += chunk
                return True
        self.eof = True
        return False

    def read_until(self, sep: bytes, limit: int) -> bytes:
        while True:
            index = self.buf.find(sep)
            if index >= 0:
                head, self.buf = self.buf[:index], self.buf[index + len(sep) :]
                return head
            if len(self.buf) > limit or not self.more():
                raise MultipartError("malformed multipart body")

    def stream_until(self, sep: bytes, write: Callable[[bytes], object], limit: int | None = None) -> int:
        written = 0
        while True:
            index = self.buf.find(sep)
            if index >= 0:
                write(self.buf[:index])
                written += index
                self.buf = self.buf[index + len(sep) :]
                return written
            keep = len(sep) - 1  # a separator may straddle two chunks
            if len(self.buf) > keep:
                flush, self.buf = self.buf[:-keep], self.buf[-keep:]
                write(flush)
                written += len(flush)
                if limit is not None and written > limit:
                    raise MultipartError("form field too large")
            if not self.more():
                raise MultipartError("unterminated multipart part")


def _disposition(raw_headers: bytes) -> tuple[str, str | None]:
    for line in raw_headers.decode("utf-8", "replace").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-disposition":
            params = dict((k.lower(), v) for k, v in _PARAM.findall(value))
            return params.get("name", ""), params.get("filename")
    raise MultipartError("part without content-disposition")


def parse(
    chunks: Iterable[bytes], boundary: bytes, open_sink: Callable[[str], BinaryIO]
) -> tuple[dict[str, str], FilePart | None]:
    """Parse the body; see the module docstring for the memory contract."""
    reader = _Reader(chunks)
    delimiter = b"--" + boundary
    reader.read_until(delimiter, MAX_HEADER_BYTES + len(delimiter))
    fields: dict[str, str] = {}
    file_part: FilePart | None = None
    while True:
        while len(reader.buf) < 2 and reader.more():
            continue
        if reader.buf.startswith(b"--"):
            return fields, file_part
        if not reader.buf.startswith(b"\r\n"):
            raise MultipartError("malformed boundary line")
        reader.buf = reader.buf[2:]
        name, filename = _disposition(reader.read_until(b"\r\n\r\n", MAX_HEADER_BYTES))
        if filename is not None and file_part is None:
            with open_sink(filename) as sink:
                size = reader.stream_until(b"\r\n" + delimiter, sink.write)
            file_part = FilePart(field=name, filename=filename, size=size)
        else:
            pieces: list[bytes] = []
            reader.stream_until(b"\r\n" + delimiter, pieces.append, MAX_FIELD_BYTES)
            fields[name] = b"".join(pieces).decode("utf-8", "replace")
