"""Helpers for the job feed tests: a real HTTP server on 127.0.0.1, feed builders, a factory."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # before the status line
    # Custom writer for streaming tests: (handler) -> None; it writes status, headers and body itself.
    writer: Callable[[BaseHTTPRequestHandler], None] | None = None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients hanging up mid-response is what the cap and timeout tests provoke; stay quiet.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]


class FeedServer:
    """A threaded HTTP server on 127.0.0.1; tests register routes and read what it saw."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[SeenRequest] = []
        self.stream_stats: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
                return

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                server.requests.append(
                    SeenRequest(path=self.path, headers={k.lower(): v for k, v in self.headers.items()})
                )
                route = server.routes.get(self.path)
                if route is None:
                    route = Route(status=404, body=b"not found")
                if route.delay:
                    time.sleep(route.delay)
                try:
                    if route.writer is not None:
                        route.writer(self)
                        return
                    self.send_response(route.status)
                    headers = {"Content-Length": str(len(route.body)), **route.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client hung up (timeouts, caps): expected

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def add(self, path: str, **kwargs: object) -> str:
        self.routes[path] = Route(**kwargs)  # type: ignore[arg-type]
        return self.url(path)


def rss(items: list[dict], *, title: str = "Test feed") -> bytes:
    """A small RSS 2.0 document; each item: title, guid, link, description, pub (datetime), extra (raw XML)."""
    parts = []
    for item in items:
        pub = item.get("pub") or datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
        guid = f'<guid isPermaLink="false">{escape(item["guid"])}</guid>' if item.get("guid") else ""
        parts.append(
            "<item>"
            f"<title>{escape(item['title'])}</title>"
            f"<link>{escape(item.get('link', 'https://jobs.example.com/' + item.get('guid', 'x')))}</link>"
            f"{guid}<pubDate>{format_datetime(pub)}</pubDate>"
            f"<description>{escape(item.get('description', ''))}</description>"
            f"{item.get('extra', '')}"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:job="https://contentops.local/ns/job"><channel>'
        f"<title>{escape(title)}</title><link>https://jobs.example.com/</link><description>d</description>"
        + "".join(parts)
        + "</channel></rss>"
    ).encode()


def fake_getaddrinfo(mapping: dict[str, list[str] | Callable[[], list[str]]], calls: list[str] | None = None):
    """A `socket.getaddrinfo` that answers the given names and defers to the real one otherwise."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name in mapping:
            if calls is not None:
                calls.append(name)
            answer = mapping[name]
            addresses = answer() if callable(answer) else answer
            result = []
            for address in addresses:
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                sockaddr = (address, port or 0, 0, 0) if family == socket.AF_INET6 else (address, port or 0)
                result.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
            return result
        return real(host, port, *args, **kwargs)

    return getaddrinfo


