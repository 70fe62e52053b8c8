"""URL normalization for OpenAI, Azure OpenAI and LM Studio style paths.

Contract: :func:`parse_route` accepts the prefixes ``/v1``, ``/openai/v1``,
``/openai`` and ``/openai/deployments/{deployment}`` and returns the remaining
path segments.  Azure-style paths (``/openai/...`` except ``/openai/v1``) need
an ``api-version`` query parameter: missing -> 404, malformed -> 400, like
Azure.  Under ``/openai/deployments/{deployment}`` only the deployment-scoped
endpoints (chat completions, completions, embeddings) exist; files and batches
live at ``/openai/files`` and ``/openai/batches``.  Anything else is a 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from llm.simulator.errors import azure_resource_not_found, bad_request, invalid_url

_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?|latest|preview")
# What Azure serves under /openai/deployments/{deployment}/ (the rest is resource-wide).
DEPLOYMENT_ENDPOINTS = frozenset({("chat", "completions"), ("completions",), ("embeddings",)})


@dataclass(frozen=True)
class Route:
    """A normalized request target."""

    segments: tuple[str, ...]
    deployment: str | None = None
    #: An Azure-style path (``/openai/...`` with an ``api-version``): ``api-key`` auth, Azure errors.
    azure: bool = False

    @property
    def endpoint(self) -> str:
        """Stats key: ``chat.completions``, ``responses``, ``files``, ``batches``, ``models``."""
        if self.segments[:2] == ("chat", "completions"):
            return "chat.completions"
        return self.segments[0] if self.segments else "unknown"


def parse_route(method: str, path: str, api_version: str | None) -> Route:
    """Strip a supported prefix; raise :class:`SimError` for unknown shapes."""
    parts = tuple(p for p in path.split("/") if p)
    if parts[:1] == ("v1",):
        return Route(parts[1:])
    if parts[:2] == ("openai", "v1"):
        return Route(parts[2:])
    if parts[:1] != ("openai",):
        raise invalid_url(method, path)
    deployment = None
    rest = parts[1:]
    if rest[:1] == ("deployments",):
        if len(rest) < 3:
            raise invalid_url(method, path)
        deployment, rest = rest[1], rest[2:]
    if not api_version:
        raise azure_resource_not_found()
    if not _API_VERSION.fullmatch(api_version):
        raise bad_request("API version not supported", param="api-version", code="BadRequest")
    if deployment is not None and rest not in DEPLOYMENT_ENDPOINTS:
        raise azure_resource_not_found()
    return Route(rest, deployment=deployment, azure=True)


def normalize_endpoint(url: str) -> str:
    """``/v1/chat/completions``, ``/openai/v1/...``, ``/chat/completions?x`` -> ``/chat/completions``."""
    path = url.split("?", 1)[0]
    parts = [p for p in path.split("/") if p]
    for prefix in (["openai", "v1"], ["v1"], ["openai"]):
        if parts[: len(prefix)] == prefix:
            parts = parts[len(prefix) :]
            break
    return "/" + "/".join(parts)
