"""The guarded feed fetcher: address checks on every hop, allow-list, body cap, timeouts, 304."""

from __future__ import annotations

import gzip
import ipaddress
import socket
import time

import pytest

from catalog.jobs import fetch
from catalog.jobs.fetch import (
    BlockedAddressError,
    BodyTooLargeError,
    FetchTimeoutError,
    HTTPStatusFetchError,
    TooManyRedirectsError,
    UnsafeURLError,
    address_is_public,
    fetch_url,
)
from tests.catalog.jobs_helpers import FeedServer, fake_getaddrinfo, rss

FEED = rss([{"title": "Junior Python Developer", "guid": "a-1"}])


@pytest.fixture
def server():
    srv = FeedServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def allow_local(settings):
    settings.FEED_ALLOWED_HOSTS = ["127.0.0.1"]
    return settings


# --- refused addresses -------------------------------------------------------------------------------


def test_loopback_is_refused_without_connecting(server, settings):
    # Given a real server on 127.0.0.1 and no allow-list
    settings.FEED_ALLOWED_HOSTS = []
    url = server.add("/feed.xml", body=FEED)

    # When / then: refused before any connection is made
    with pytest.raises(BlockedAddressError, match="127.0.0.1"):
        fetch_url(url)
    assert server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5/feed",
        "http://192.168.1.10/feed",
        "http://172.16.0.1/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/feed",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/feed",
        "http://0.0.0.0/feed",
        "http://100.64.0.1/feed",
        "http://224.0.0.1/feed",
        "http://metadata.google.internal/computeMetadata/v1/",
    ],
)
def test_private_link_local_and_metadata_addresses_are_refused(url, settings):
    settings.FEED_ALLOWED_HOSTS = []
    with pytest.raises(BlockedAddressError):
        fetch_url(url)


def test_metadata_address_stays_refused_even_inside_an_allowed_network(settings):
    # Given an allow-list that opens the whole link-local range (say, for an intranet feed)
    settings.FEED_ALLOWED_HOSTS = ["169.254.0.0/16"]

    # Then the metadata endpoint is still refused
    with pytest.raises(BlockedAddressError, match="metadata"):
        fetch_url("http://169.254.169.254/latest/meta-data/")


def test_hostname_resolving_to_loopback_is_refused(monkeypatch, settings):
    settings.FEED_ALLOWED_HOSTS = []
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo({"jobs.evil.test": ["127.0.0.1"]}))

    with pytest.raises(BlockedAddressError, match="127.0.0.1"):
        fetch_url("https://jobs.evil.test/feed.xml")


def test_every_resolved_address_is_checked_not_just_the_first(monkeypatch, settings):
    # Given a name with one public and one private A record
    settings.FEED_ALLOWED_HOSTS = []
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo({"mixed.test": ["93.184.216.34", "10.0.0.7"]}))

    with pytest.raises(BlockedAddressError, match="10.0.0.7"):
        fetch_url("http://mixed.test/feed.xml")


def test_unresolvable_host_is_a_resolution_error(monkeypatch):
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(fetch.HostResolutionError):
        fetch_url("https://no-such-host.invalid/feed.xml")


def test_redirect_to_a_private_address_is_refused(server, allow_local):
    # Given an allowed server that redirects to an intranet address
    url = server.add("/moved", status=302, headers={"Location": "http://10.1.2.3/internal-feed"})

    with pytest.raises(BlockedAddressError, match="10.1.2.3"):
        fetch_url(url)
    assert [r.path for r in server.requests] == ["/moved"]


def test_redirect_to_a_name_resolving_to_metadata_is_refused(server, allow_local, monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo({"meta.evil.test": ["169.254.169.254"]}))
    url = server.add("/moved", status=301, headers={"Location": "http://meta.evil.test/latest/"})

    with pytest.raises(BlockedAddressError):
        fetch_url(url)


def test_redirect_to_a_non_http_scheme_is_refused(server, allow_local):
    url = server.add("/moved", status=302, headers={"Location": "file:///etc/passwd"})

    with pytest.raises(UnsafeURLError):
        fetch_url(url)


def test_redirects_are_followed_and_capped(server, allow_local):
    # Given a chain: /r0 -> /r1 -> ... -> /feed.xml within the limit
    server.add("/feed.xml", body=FEED, headers={"Content-Type": "application/rss+xml"})
    for i in range(3):
        target = "/feed.xml" if i == 2 else f"/r{i + 1}"
        server.add(f"/r{i}", status=302, headers={"Location": target})

    result = fetch_url(server.url("/r0"))
    assert result.body == FEED
    assert result.url.endswith("/feed.xml")
    assert len(result.redirects) == 3

    # And a loop stops after FEED_MAX_REDIRECTS (5)
    server.add("/loop", status=302, headers={"Location": "/loop"})
    with pytest.raises(TooManyRedirectsError):
        fetch_url(server.url("/loop"))
    assert sum(1 for r in server.requests if r.path == "/loop") == 6


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/feed.xml", "gopher://example.com/", "javascript:alert(1)", "/relative"],
)
def test_non_http_schemes_are_refused(url):
    with pytest.raises(UnsafeURLError):
        fetch_url(url)


def test_credentials_in_the_url_are_refused():
    with pytest.raises(UnsafeURLError, match="credentials"):
        fetch_url("https://user:secret@example.com/feed.xml")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.2", False),
        ("10.255.255.255", False),
        ("169.254.1.1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:7f00:1::", False),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 wrapping 10.0.0.1
        ("240.0.0.1", False),
        ("192.0.0.192", False),
        ("100.100.100.200", False),
    ],
)
def test_address_classification(address, public):
    assert address_is_public(ipaddress.ip_address(address)) is public


# --- the allow-list, pinning and conditional GET ----------------------------------------------------------


def test_allow_list_lets_a_local_feed_through(server, allow_local):
    url = server.add("/feed.xml", body=FEED, headers={"Content-Type": "application/rss+xml", "ETag": '"v1"'})

    result = fetch_url(url)

    assert result.status_code == 200
    assert result.body == FEED
    assert result.etag == '"v1"'
    assert result.content_type == "application/rss+xml"


def test_allow_list_by_host_name(server, settings, monkeypatch):
    settings.FEED_ALLOWED_HOSTS = ["feeds.intranet.test"]
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo({"feeds.intranet.test": ["127.0.0.1"]}))
    server.add("/feed.xml", body=FEED)

    result = fetch_url(server.url("/feed.xml", host="feeds.intranet.test"))

    assert result.body == FEED
    assert server.requests[-1].headers["host"] == f"feeds.intranet.test:{server.port}"


def test_connection_is_pinned_to_the_vetted_address(server, settings, monkeypatch):
    # Given a name whose first answer is allowed and whose next answer is a private address
    # (DNS rebinding): the allow-list names the IP 127.0.0.1 only.
    settings.FEED_ALLOWED_HOSTS = ["127.0.0.1"]
    answers = iter([["127.0.0.1"], ["10.9.9.9"], ["10.9.9.9"]])
    calls: list[str] = []
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo({"rebind.test": lambda: next(answers)}, calls=calls))
    server.add("/feed.xml", body=FEED)

    # When fetching, the name is resolved once and the connection goes to the vetted address
    result = fetch_url(server.url("/feed.xml", host="rebind.test"))

    assert result.body == FEED
    assert calls == ["rebind.test"]
    assert server.requests[-1].headers["host"] == f"rebind.test:{server.port}"


def test_conditional_get_sends_validators_and_handles_304(server, allow_local):
    url = server.add("/feed.xml", status=304, headers={"ETag": '"v2"'})

    result = fetch_url(url, etag='"v1"', last_modified="Sun, 01 Nov 2026 09:00:00 GMT")

    assert result.not_modified
    assert result.body == b""
    assert result.etag == '"v2"'
    seen = server.requests[-1].headers
    assert seen["if-none-match"] == '"v1"'
    assert seen["if-modified-since"] == "Sun, 01 Nov 2026 09:00:00 GMT"


def test_http_errors_are_specific(server, allow_local):
    url = server.add("/broken", status=500, body=b"oops")
    with pytest.raises(HTTPStatusFetchError) as caught:
        fetch_url(url)
    assert caught.value.status_code == 500


def test_error_messages_do_not_carry_query_strings(server, allow_local):
    url = server.add("/broken?token=sekret", status=500)
    with pytest.raises(HTTPStatusFetchError) as caught:
        fetch_url(url)
    assert "sekret" not in str(caught.value)


# --- bounded resources ------------------------------------------------------------------------------------


def _endless(total: int, stats: dict, key: str):
    def writer(handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Connection", "close")
        handler.end_headers()
        chunk = b"x" * 65536
        sent = 0
        try:
            while sent < total:
                handler.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        stats[key] = sent

    return writer


def test_body_cap_aborts_the_download(server, allow_local):
    # Given a 5 KB cap and a server that would stream 64 MB with no Content-Length
    allow_local.FEED_MAX_BYTES = 5000
    total = 64 * 1024 * 1024
    url = server.add("/huge", writer=_endless(total, server.stream_stats, "huge"))

    started = time.monotonic()
    with pytest.raises(BodyTooLargeError):
        fetch_url(url)

    # Then the client hung up early: the server could not write the whole body
    deadline = time.monotonic() + 5
    while "huge" not in server.stream_stats and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.stream_stats["huge"] < total
    assert time.monotonic() - started < 5


def test_declared_oversized_body_is_refused_before_reading(server, allow_local):
    allow_local.FEED_MAX_BYTES = 1000
    url = server.add("/big", body=b"x" * 5000)
    with pytest.raises(BodyTooLargeError, match="5000"):
        fetch_url(url)


def test_compressed_body_is_capped_on_its_decoded_size(server, allow_local):
    # A 20 MB gzip bomb that is only ~20 KB on the wire
    allow_local.FEED_MAX_BYTES = 1024 * 1024
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))
    assert len(bomb) < 100_000
    url = server.add("/bomb", body=bomb, headers={"Content-Encoding": "gzip"})

    with pytest.raises(BodyTooLargeError):
        fetch_url(url)


def test_gzip_body_within_the_cap_is_decoded(server, allow_local):
    url = server.add("/gz", body=gzip.compress(FEED), headers={"Content-Encoding": "gzip"})
    assert fetch_url(url).body == FEED


def test_read_timeout(server, allow_local):
    allow_local.FEED_READ_TIMEOUT = 0.2
    url = server.add("/slow", body=FEED, delay=1.0)

    started = time.monotonic()
    with pytest.raises(FetchTimeoutError):
        fetch_url(url)
    assert time.monotonic() - started < 0.9


def test_total_deadline_stops_a_slow_drip(server, allow_local):
    # Each byte arrives within the read timeout, but the whole body would take seconds
    allow_local.FEED_TOTAL_TIMEOUT = 0.3

    def drip(handler) -> None:
        handler.send_response(200)
        handler.send_header("Connection", "close")
        handler.end_headers()
        try:
            for _ in range(40):
                handler.wfile.write(b"<")
                handler.wfile.flush()
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass

    url = server.add("/drip", writer=drip)
    started = time.monotonic()
    with pytest.raises(FetchTimeoutError):
        fetch_url(url)
    assert time.monotonic() - started < 1.5


def test_connect_failure_is_a_connection_error(allow_local):
    # A port on 127.0.0.1 nobody listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(fetch.FetchConnectionError):
        fetch_url(f"http://127.0.0.1:{port}/feed.xml")
