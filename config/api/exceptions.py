"""API exceptions of the platform layer (the domain ones are config.errors)."""

from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException


def human_size(size: float) -> str:
    if size < 1024:
        return f"{size:g} bytes"
    for unit in ("KiB", "MiB"):
        size /= 1024
        if size < 1024:
            return f"{round(size, 1):g} {unit}"
    return f"{round(size / 1024, 1):g} GiB"


class RequestTooLarge(APIException):
    """The request body is larger than the API accepts (413)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self, *, limit: int) -> None:
        super().__init__(f"The request body is larger than {human_size(limit)}.", code=self.default_code)
        self.limit = limit
