"""A small per-process memo whose entries expire: for answers that may be a second or two old
(health probes, the row behind an API key or token), so a busy process does not repeat them on
every request. Thread-safe; bounded (the oldest entries go first when it is full)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

MISSING = object()


class Memo:
    def __init__(self, *, max_entries: int = 1024) -> None:
        self._items: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries

    def get(self, key: Any) -> Any:
        """The value stored under `key` if it has not expired, else MISSING."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return MISSING
            if item[0] <= time.monotonic():
                del self._items[key]
                return MISSING
            return item[1]

    def set(self, key: Any, value: Any, *, ttl_s: float) -> None:
        if ttl_s <= 0:
            return
        with self._lock:
            self._items[key] = (time.monotonic() + ttl_s, value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
