"""Loopback HTTP server adapting raw HTTP/1.1 to :meth:`Simulator.handle`.

Contract: :func:`serve` binds only loopback addresses (anything else raises
``ValueError``), runs a ``ThreadingHTTPServer`` in a daemon thread and yields
the base URL ``http://HOST:PORT/v1``; request bodies are streamed into the
simulator and response bodies streamed out, so large files never sit in memory.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from typing import cast

import httpx2

from llm.simulator.core import Simulator
from llm.simulator.errors import server_error

CHUNK = 256 * 1024
_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"})


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Body:
    """Iterator over a request body read straight from the socket.

    A plain iterator (not a generator): httpx2 wraps request content with
    ``yield from``, which would *close* a generator when the consumer stops
    early, leaving unread bytes that corrupt the next keep-alive request.
    :meth:`drain` always consumes the rest.
    """

    def __init__(self, rfile: BufferedIOBase, length: int | None, chunked: bool) -> None:
        self._rfile = rfile
        self._chunked = chunked
        self._remaining = length or 0
        self._done = not chunked and not length

    def __iter__(self) -> _Body:
        return self

    def __next__(self) -> bytes:
        if self._done:
            raise StopIteration
        if self._chunked and self._remaining == 0:
            self._remaining = int(self._rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if self._remaining == 0:
                while self._rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                    continue
                self._done = True
                raise StopIteration
        piece = self._rfile.read(min(CHUNK, self._remaining))
        self._remaining -= len(piece)
        if not piece:
            self._done = True
            raise StopIteration
        if self._remaining == 0:
            if self._chunked:
                self._rfile.readline()  # CRLF closing this chunk
            else:
                self._done = True
        return piece

    def drain(self) -> None:
        """Consume whatever the simulator did not read."""
        for _ in self:
            continue


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    simulator: Simulator

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Silence the default stderr access log."""

    def _serve(self) -> None:
        length_header = self.headers.get("content-length")
        chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        body = _Body(self.rfile, int(length_header) if length_header else None, chunked)
        host, port = cast("tuple[str, int]", self.server.server_address)[:2]  # an IP server's (host, port)
        request = httpx2.Request(
            self.command,
            f"http://{host}:{port}{self.path}",
            headers=[(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS],
            content=body if (length_header or chunked) else b"",
        )
        try:
            response = self.simulator.handle(request)
        except httpx2.TimeoutException:
            response = server_error(504).to_response()
        body.drain()  # keep the keep-alive connection in sync
        self._write(response)

    def _write(self, response: httpx2.Response) -> None:
        declared = response.headers.get("content-length")
        try:
            self.send_response(response.status_code)
            for key, value in response.headers.multi_items():
                if key.lower() not in _HOP_HEADERS:
                    self.send_header(key, value)
            if declared is not None:
                self.send_header("Content-Length", declared)
                self.end_headers()
                for chunk in response.iter_bytes(CHUNK):
                    self.wfile.write(chunk)
            else:
                content = response.read()
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            response.close()

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve
    do_PUT = _serve
    do_PATCH = _serve


@contextmanager
def serve(sim: Simulator, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``sim`` on loopback; yields ``http://HOST:PORT/v1``; stops on exit."""
    if not _is_loopback(host):
        raise ValueError(f"the simulator only binds loopback addresses, not {host!r}")
    handler = type("SimulatorHandler", (_Handler,), {"simulator": sim})
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_cls = type("SimulatorHTTPServer", (ThreadingHTTPServer,), {"address_family": family})
    server = server_cls((host, port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="llm-simulator", daemon=True)
    thread.start()
    try:
        bound_host, bound_port = server.server_address[:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
        yield f"http://{shown}:{bound_port}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
