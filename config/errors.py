"""Domain errors every app raises; the API maps them to one JSON shape and a status code.

Apps subclass these (e.g. the llm layer's provider errors subclass ServiceUnavailableError), so
views never translate exceptions by hand.
"""

from typing import Any


class DomainError(Exception):
    """A failure the caller can understand: bad input, a missing object, a conflict."""

    status_code = 400
    code = "invalid_request"

    def __init__(self, message: str, *, detail: Any = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        if code is not None:
            self.code = code


class NotFoundError(DomainError):
    status_code = 404
    code = "not_found"


class ConflictError(DomainError):
    status_code = 409
    code = "conflict"


class RateLimitedError(DomainError):
    """Too many requests; `retry_after` (seconds) becomes a Retry-After header when known."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailableError(DomainError):
    """A dependency (the LLM provider, the broker) is down or refusing work."""

    status_code = 503
    code = "service_unavailable"
