"""Provider configuration and SDK clients: the only place that constructs an OpenAI client.

`openai`, `azure` (endpoint + deployment + api-version), `compatible` (any OpenAI-compatible base
URL: LM Studio, vLLM, Ollama) and `offline` (no calls; tasks answer with their fallback).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import httpx2
import openai
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from openai._constants import RAW_RESPONSE_HEADER
from openai._legacy_response import LegacyAPIResponse
from openai.types.chat import ChatCompletion

from llm.limits import request_leaving

ProviderKind = Literal["openai", "azure", "compatible", "offline"]
PROVIDER_KINDS: tuple[str, ...] = ("openai", "azure", "compatible", "offline")


@dataclass(frozen=True, kw_only=True)
class ProviderConfig:
    kind: ProviderKind
    model: str
    api_key: str = field(default="", repr=False)
    base_url: str = ""
    azure_endpoint: str = ""
    azure_deployment: str = ""
    api_version: str = ""
    request_timeout: float = 60.0
    connect_timeout: float = 10.0
    max_concurrency: int = 10

    @property
    def name(self) -> str:
        """Stable name for shared state (limits, breaker): one per provider account/host, never the key."""
        if self.kind == "azure":
            return f"azure:{urlsplit(self.azure_endpoint).netloc}:{self.azure_deployment}"
        if self.kind == "compatible":
            return f"compatible:{urlsplit(self.base_url).netloc}"
        if self.base_url:  # e.g. a regional or proxy endpoint: its own limits and health
            return f"{self.kind}:{urlsplit(self.base_url).netloc}"
        return self.kind

    @property
    def wire_model(self) -> str:
        """What goes in the request's `model`: Azure routes by deployment name."""
        return self.azure_deployment if self.kind == "azure" else self.model

    @property
    def is_offline(self) -> bool:
        return self.kind == "offline"

    @property
    def endpoint(self) -> str:
        """Where calls go, safe to print: no credentials, query or fragment (never the key)."""
        if self.kind == "offline":
            return ""
        if self.kind == "azure":
            return _safe_url(self.azure_endpoint)
        return _safe_url(self.base_url or OPENAI_DEFAULT_BASE_URL)


OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # a malformed port: show the host alone
        port = None
    netloc = f"{host}:{port}" if port else host
    if not parts.scheme:
        return url.split("?", 1)[0].rsplit("@", 1)[-1]
    return f"{parts.scheme}://{netloc}{parts.path}".rstrip("/")


def provider_config() -> ProviderConfig:
    """The configured provider, from settings (see DESIGN.md §3 and `.env.example`)."""
    kind = settings.LLM_PROVIDER
    if not kind:
        if not settings.OPENAI_ENABLED:
            kind = "offline"
        elif settings.AZURE_OPENAI_ENDPOINT and (settings.AZURE_OPENAI_API_KEY or settings.OPENAI_API_KEY):
            # Seed 002 configures Azure with AZURE_OPENAI_ENDPOINT + OPENAI_API_KEY: the endpoint decides.
            kind = "azure"
        elif settings.OPENAI_BASE_URL:
            kind = "compatible"
        elif settings.OPENAI_API_KEY:
            kind = "openai"
        else:
            kind = "offline"
    if kind not in PROVIDER_KINDS:
        raise ImproperlyConfigured(f"LLM_PROVIDER must be one of {PROVIDER_KINDS}, not {kind!r}")
    common = {
        "request_timeout": settings.OPENAI_REQUEST_TIMEOUT,
        "connect_timeout": settings.OPENAI_CONNECTION_TIMEOUT,
        "max_concurrency": settings.OPENAI_MAX_CONCURRENT_REQUESTS,
    }
    if kind == "offline":
        return ProviderConfig(kind="offline", model="offline", **common)
    if kind == "azure":
        if not (settings.AZURE_OPENAI_ENDPOINT and settings.AZURE_OPENAI_DEPLOYMENT_NAME):
            raise ImproperlyConfigured("Azure needs AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT_NAME")
        return ProviderConfig(
            kind="azure",
            model=settings.OPENAI_MODEL,
            api_key=settings.AZURE_OPENAI_API_KEY or settings.OPENAI_API_KEY,
            azure_endpoint=settings.AZURE_OPENAI_ENDPOINT,
            azure_deployment=settings.AZURE_OPENAI_DEPLOYMENT_NAME,
            api_version=settings.AZURE_OPENAI_API_VERSION,
            **common,
        )
    if kind == "compatible" and not settings.OPENAI_BASE_URL:
        raise ImproperlyConfigured("The compatible provider needs OPENAI_BASE_URL")
    return ProviderConfig(
        kind=kind,
        model=settings.OPENAI_MODEL,
        # Local servers accept any key; the SDK insists on one.
        api_key=settings.OPENAI_API_KEY or ("not-needed" if kind == "compatible" else ""),
        base_url=settings.OPENAI_BASE_URL,
        **common,
    )


_clients: dict[ProviderConfig, openai.OpenAI] = {}
_clients_lock = threading.Lock()
_transport: httpx2.BaseTransport | None = None


def get_client(config: ProviderConfig) -> openai.OpenAI:
    """A shared SDK client for `config` (thread-safe; connection pool sized for our concurrency)."""
    if config.is_offline:
        raise ImproperlyConfigured("the offline provider makes no calls")
    client = _clients.get(config)
    if client is not None:
        return client
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            client = _build_client(config)
            _clients[config] = client
    return client


def _request_leaving(request: httpx2.Request) -> None:
    """The HTTP client's request hook: the request goes out now; tell its rate-governor slot, and
    again once its body is written (httpcore's trace; after a new connection's handshake, say)."""
    request_leaving()
    request.extensions = {**request.extensions, "trace": _request_sent}


def _request_sent(event: str, info: dict[str, Any]) -> None:
    if event.endswith(".send_request_body.complete"):
        request_leaving()


def _build_client(config: ProviderConfig) -> openai.OpenAI:
    timeout = httpx2.Timeout(config.request_timeout, connect=config.connect_timeout)
    http_client = httpx2.Client(
        timeout=timeout,
        transport=_transport,
        limits=httpx2.Limits(max_connections=max(config.max_concurrency * 2, 10), max_keepalive_connections=50),
        # When a request leaves: the rate governor's window counts it from then (llm/limits.py).
        event_hooks={"request": [_request_leaving]},
    )
    # Our layer owns retries (classified, shared backoff): the SDK must never retry on its own.
    common: dict[str, Any] = {"timeout": timeout, "max_retries": 0, "http_client": http_client}
    if config.kind == "azure":
        return openai.AzureOpenAI(
            api_key=config.api_key,
            azure_endpoint=config.azure_endpoint,
            azure_deployment=config.azure_deployment,
            api_version=config.api_version,
            **common,
        )
    return openai.OpenAI(api_key=config.api_key, base_url=config.base_url or None, **common)


def chat_completion_post(config: ProviderConfig, body: dict[str, Any]) -> LegacyAPIResponse[ChatCompletion]:
    """POST a ready JSON body to chat completions; the raw response (headers, request id, body) back.

    What `chat.completions.with_raw_response.create/parse` send, minus their per-call CPU: the SDK
    walks every message and the schema through its type transform and `parse` rebuilds the strict
    schema on each call (about half of the layer's GIL time under load). Same client, so the same
    auth, Azure deployment routing, timeouts, and `APIStatusError`s for non-2xx answers.
    """
    client = get_client(config)
    raw = client.post(
        "/chat/completions", cast_to=ChatCompletion, body=body, options={"headers": {RAW_RESPONSE_HEADER: "true"}}
    )
    return cast("LegacyAPIResponse[ChatCompletion]", raw)


def clients_reset() -> None:
    """Drop cached clients (after settings or transport change)."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


@contextmanager
def use_transport(transport: httpx2.BaseTransport | None) -> Iterator[None]:
    """Route every client built inside the block through `transport` (the in-process simulator)."""
    global _transport
    previous = _transport
    clients_reset()
    _transport = transport
    try:
        yield
    finally:
        clients_reset()
        _transport = previous
