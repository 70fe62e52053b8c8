"""The guarded HTTP client for feeds (DESIGN.md §5.5): only public http(s) addresses, every hop checked.

How it stays out of the intranet:
- only `http`/`https` URLs without credentials;
- the host is resolved here and EVERY address it resolves to must be public (not private, loopback,
  link-local, multicast, reserved, unspecified, shared/CGNAT, or a cloud metadata address; IPv4
  embedded in IPv6 — mapped, 6to4, Teredo, NAT64 — is checked as the IPv4 it carries);
- the connection is then pinned to the vetted address: the request goes to the IP itself with the
  original `Host` header (and, for https, the original name as TLS SNI and for certificate
  checks), so a second DNS answer cannot swap in a private address (DNS rebinding);
- redirects are followed here, not by the HTTP library, and each hop is checked the same way
  (at most `FEED_MAX_REDIRECTS`, default 5);
- environment proxies are ignored (`trust_env=False`): a proxy would resolve names itself;
- `FEED_ALLOWED_HOSTS` (host names, IPs or CIDR networks) may name private hosts on purpose —
  tests and intranet feeds — and skips the address check for them only.

Bounded: connect/read timeouts plus a total deadline, and a body cap (`FEED_MAX_BYTES`, default
5 MB) enforced while streaming, on the decoded size too (a gzip bomb stops at the cap).
Conditional GET: pass the stored ETag / Last-Modified; a 304 comes back as `not_modified`.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx2
from django.conf import settings

USER_AGENT = "ContentOps-FeedFetcher/1.0 (+https://contentops.local/bot)"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Cloud metadata endpoints, refused by name even where the generic rules would already catch them,
# so that an allow-list CIDR never opens them by accident.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
METADATA_HOSTNAMES = frozenset({"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FeedFetchError(Exception):
    """A feed could not be fetched; the message is safe to store in `JobFeed.last_error`."""


class UnsafeURLError(FeedFetchError):
    """The URL itself is refused: scheme, missing host, credentials in it."""


class BlockedAddressError(FeedFetchError):
    """The host resolves to (or is) an address we never connect to."""


class HostResolutionError(FeedFetchError):
    """The host name does not resolve."""


class TooManyRedirectsError(FeedFetchError):
    pass


class BodyTooLargeError(FeedFetchError):
    pass


class FetchTimeoutError(FeedFetchError):
    pass


class FetchConnectionError(FeedFetchError):
    pass


class HTTPStatusFetchError(FeedFetchError):
    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class FetchResult:
    url: str  # the final URL, after redirects
    status_code: int
    body: bytes
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""
    redirects: tuple[str, ...] = field(default_factory=tuple)

    @property
    def not_modified(self) -> bool:
        return self.status_code == 304


@dataclass(frozen=True)
class _Limits:
    max_bytes: int
    max_redirects: int
    connect_timeout: float
    read_timeout: float
    total_timeout: float
    allowed: tuple[str, ...]


def _limits() -> _Limits:
    return _Limits(
        max_bytes=settings.FEED_MAX_BYTES,
        max_redirects=settings.FEED_MAX_REDIRECTS,
        connect_timeout=settings.FEED_CONNECT_TIMEOUT,
        read_timeout=settings.FEED_READ_TIMEOUT,
        total_timeout=settings.FEED_TOTAL_TIMEOUT,
        allowed=tuple(str(h).strip().lower() for h in settings.FEED_ALLOWED_HOSTS if str(h).strip()),
    )


def redact_url(url: str) -> str:
    """scheme://host[:port]/path — no credentials, query or fragment (they may carry tokens)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True only for globally routable unicast addresses that are not metadata endpoints."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_is_public(embedded)
    if address in METADATA_ADDRESSES:
        return False
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _is_allowed(
    host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address | None, allowed: tuple[str, ...]
) -> bool:
    if not allowed:
        return False
    if host in allowed:
        return True
    if address is None:
        return False
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a host name, already compared above
    return False


def resolve_public(host: str, port: int, *, allowed: tuple[str, ...] = ()) -> list[str]:
    """Every address `host` resolves to, all vetted; raises if any one of them is refused.

    Refusing when ANY address is private (not just the first) closes the trick of a name with one
    public and one private A record.
    """
    host = host.lower().rstrip(".")
    if host in METADATA_HOSTNAMES and host not in allowed:
        raise BlockedAddressError(f"refused host {host!r}: cloud metadata service")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        candidates = [str(literal)]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError) as exc:
            raise HostResolutionError(f"cannot resolve {host!r}: {exc}") from exc
        candidates = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
        if not candidates:
            raise HostResolutionError(f"{host!r} resolves to no address")
    for candidate in candidates:
        address = ipaddress.ip_address(candidate)
        if address in METADATA_ADDRESSES and str(address) not in allowed:
            raise BlockedAddressError(f"refused {host!r}: resolves to the cloud metadata address {address}")
        if not address_is_public(address) and not _is_allowed(host, address, allowed):
            raise BlockedAddressError(f"refused {host!r}: resolves to non-public address {address}")
    return candidates


def _check_url(url: httpx2.URL) -> None:
    if url.scheme not in {"http", "https"}:
        raise UnsafeURLError(f"only http and https feeds are fetched, not {url.scheme or 'no scheme'!r}")
    if not url.host:
        raise UnsafeURLError("the URL has no host")
    if url.userinfo:
        raise UnsafeURLError("credentials in feed URLs are not accepted")


def _parse_url(raw: str) -> httpx2.URL:
    try:
        url = httpx2.URL(raw)
    except (httpx2.InvalidURL, TypeError, ValueError) as exc:
        raise UnsafeURLError(f"invalid URL: {exc}") from exc
    _check_url(url)
    return url


class _BoundedDecoder:
    """Decodes gzip/deflate incrementally, never producing more than the cap (bomb-safe)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._zlib: zlib._Decompress | None  # typeshed's name for zlib.Decompress
        if encoding in {"gzip", "x-gzip"}:
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
        elif encoding in {"", "identity"}:
            self._zlib = None
        else:
            raise FeedFetchError(f"unsupported Content-Encoding {encoding!r}")

    def feed(self, chunk: bytes, room: int) -> bytes:
        if self._zlib is None:
            return chunk
        try:
            # At most one byte more than the room left: enough to tell the caller the cap was
            # crossed without ever inflating the rest of a compression bomb.
            return self._zlib.decompress(chunk, room + 1)
        except zlib.error as exc:
            raise FeedFetchError(f"corrupt {self.encoding} body: {exc}") from exc


def _read_capped(response: httpx2.Response, *, max_bytes: int, deadline: float, url: str) -> bytes:
    declared = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if declared.isdigit() and int(declared) > max_bytes and encoding in {"", "identity"}:
        raise BodyTooLargeError(f"{url}: body of {int(declared)} bytes is over the {max_bytes}-byte cap")
    decoder = _BoundedDecoder(encoding)
    parts: list[bytes] = []
    size = 0
    # No chunk_size: a chunker would wait for 64 KB before yielding, hiding a slow drip from the deadline.
    raw: Iterator[bytes] = response.iter_raw()
    for chunk in raw:
        if time.monotonic() > deadline:
            raise FetchTimeoutError(f"{url}: took longer than the total fetch deadline")
        data = decoder.feed(chunk, max_bytes - size)
        size += len(data)
        if size > max_bytes:
            # Stop here: closing the stream drops the connection instead of reading the rest.
            raise BodyTooLargeError(f"{url}: body is over the {max_bytes}-byte cap")
        parts.append(data)
    return b"".join(parts)


def _pinned_request(client: httpx2.Client, url: httpx2.URL, ip: str, headers: dict[str, str]) -> httpx2.Request:
    target = url.copy_with(host=ip)
    extensions = {}
    if url.scheme == "https":
        extensions["sni_hostname"] = url.host  # TLS name and certificate check stay on the real host
    request_headers = {**headers, "Host": url.netloc.decode("ascii")}
    request = client.build_request("GET", target, headers=request_headers, extensions=extensions)
    return request


def fetch_url(url: str, *, etag: str = "", last_modified: str = "") -> FetchResult:
    """GET a feed URL safely (see the module docstring); raises a `FeedFetchError` subclass."""
    limits = _limits()
    current = _parse_url(url)
    deadline = time.monotonic() + limits.total_timeout
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
        "Accept-Encoding": "gzip, deflate, identity",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    timeout = httpx2.Timeout(
        connect=limits.connect_timeout, read=limits.read_timeout, write=limits.read_timeout, pool=limits.connect_timeout
    )
    redirects: list[str] = []
    with httpx2.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        while True:
            shown = redact_url(str(current))
            if time.monotonic() > deadline:
                raise FetchTimeoutError(f"{shown}: took longer than the total fetch deadline")
            port = current.port or (443 if current.scheme == "https" else 80)
            addresses = resolve_public(current.host, port, allowed=limits.allowed)
            response = _send_pinned(client, current, addresses, headers, shown=shown)
            try:
                if response.status_code in REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    if not location:
                        raise HTTPStatusFetchError(
                            f"{shown}: redirect without a Location header", status_code=response.status_code
                        )
                    if len(redirects) >= limits.max_redirects:
                        raise TooManyRedirectsError(f"{shown}: more than {limits.max_redirects} redirects")
                    try:
                        nxt = current.join(location)
                    except (httpx2.InvalidURL, ValueError) as exc:
                        raise UnsafeURLError(f"{shown}: invalid redirect location: {exc}") from exc
                    _check_url(nxt)
                    redirects.append(redact_url(str(nxt)))
                    current = nxt
                    continue
                if response.status_code == 304:
                    return FetchResult(
                        url=str(current),
                        status_code=304,
                        body=b"",
                        etag=response.headers.get("etag", etag),
                        last_modified=response.headers.get("last-modified", last_modified),
                        redirects=tuple(redirects),
                    )
                if not 200 <= response.status_code < 300:
                    raise HTTPStatusFetchError(
                        f"{shown}: HTTP {response.status_code}", status_code=response.status_code
                    )
                try:
                    body = _read_capped(response, max_bytes=limits.max_bytes, deadline=deadline, url=shown)
                except httpx2.TimeoutException as exc:
                    raise FetchTimeoutError(f"{shown}: timed out reading the body") from exc
                except httpx2.TransportError as exc:
                    raise FetchConnectionError(f"{shown}: connection failed while reading: {exc}") from exc
                return FetchResult(
                    url=str(current),
                    status_code=response.status_code,
                    body=body,
                    etag=response.headers.get("etag", ""),
                    last_modified=response.headers.get("last-modified", ""),
                    content_type=response.headers.get("content-type", ""),
                    redirects=tuple(redirects),
                )
            finally:
                response.close()


def _send_pinned(
    client: httpx2.Client, url: httpx2.URL, addresses: list[str], headers: dict[str, str], *, shown: str
) -> httpx2.Response:
    """Send to the vetted addresses in turn until one connects (all were checked beforehand)."""
    last: Exception | None = None
    for ip in addresses:
        request = _pinned_request(client, url, ip, headers)
        try:
            return client.send(request, stream=True)
        except httpx2.ConnectTimeout as exc:
            last = FetchTimeoutError(f"{shown}: connect timed out")
            last.__cause__ = exc
        except httpx2.ConnectError as exc:
            last = FetchConnectionError(f"{shown}: cannot connect: {exc}")
            last.__cause__ = exc
        except httpx2.TimeoutException as exc:
            raise FetchTimeoutError(f"{shown}: timed out waiting for the response") from exc
        except httpx2.TransportError as exc:
            raise FetchConnectionError(f"{shown}: {exc.__class__.__name__}: {exc}") from exc
    assert last is not None  # noqa: S101 - addresses is never empty
    raise last
