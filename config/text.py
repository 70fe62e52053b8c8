"""Text cleaning at the boundary (DESIGN.md §5.10): what comes in from a request, a feed, a file or a
model is made storable and renderable before any layer below sees it.

`text_clean` removes what PostgreSQL refuses (NUL), what UTF-8 cannot encode (lone UTF-16 surrogates,
e.g. from a JSON `\\ud800` escape or a PDF's text layer) and C0 control characters and DEL, keeping
tab, newline and carriage return. Valid characters, scripts and emoji are kept as they are.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls except \t \n \r, DEL, and every UTF-16 surrogate code point (a str that holds one is
# not encodable as UTF-8: only lone ones can exist in a Python str).
_UNWANTED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def text_clean(value: str) -> str:
    """`value` without NUL, lone surrogates and control characters (tab, newline, CR kept)."""
    return _UNWANTED.sub("", value)


def text_is_clean(value: str) -> bool:
    return _UNWANTED.search(value) is None


def data_clean(value: Any) -> Any:
    """Clean every string and every dict key in a JSON-like value (dicts, lists, scalars), iteratively.

    Returns new containers; the value passed in is left as it was.
    """
    if isinstance(value, str):
        return text_clean(value)
    if not isinstance(value, dict | list):
        return value
    root: list[Any] = [value]
    # (parent copy, slot in it, original node): each node is copied, cleaned and put in its parent's slot.
    stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]
    while stack:
        parent, slot, node = stack.pop()
        if isinstance(node, dict):
            cleaned: dict[Any, Any] = {}
            for key, item in node.items():
                new_key = text_clean(key) if isinstance(key, str) else key
                cleaned[new_key] = item
            parent[slot] = cleaned
            for key, item in cleaned.items():
                if isinstance(item, str):
                    cleaned[key] = text_clean(item)
                elif isinstance(item, dict | list):
                    stack.append((cleaned, key, item))
        elif isinstance(node, list):
            copied = list(node)
            parent[slot] = copied
            for index, item in enumerate(copied):
                if isinstance(item, str):
                    copied[index] = text_clean(item)
                elif isinstance(item, dict | list):
                    stack.append((copied, index, item))
    return root[0]


def data_depth(value: Any) -> int:
    """Nesting depth of a JSON-like value (a scalar is 0, `[]` is 1), computed without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            depth += 1
            stack.extend((item, depth) for item in node.values())
        elif isinstance(node, list):
            depth += 1
            stack.extend((item, depth) for item in node)
        deepest = max(deepest, depth)
    return deepest
