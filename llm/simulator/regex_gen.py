"""Generate a short string matching a (JSON-schema style) regular expression.

Contract: :func:`generate` returns a string ``s`` with ``re.search(pattern, s)``
true for the common subset used in schemas (literals, classes, ``\\d\\w\\s``,
``.``, groups, alternation, bounded/unbounded repeats, anchors).  It returns
``None`` for constructs it cannot honour (look-arounds, back-references) or
when the generated candidate does not verify.
"""

from __future__ import annotations

import random
import re
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_MAX_UNBOUNDED = 3
_CATEGORY_CHARS: dict[Any, str] = {
    c.CATEGORY_DIGIT: "0123456789",
    c.CATEGORY_WORD: "abcdefghijklmnopqrstuvwxyz",
    c.CATEGORY_SPACE: " ",
    c.CATEGORY_NOT_DIGIT: "abcxyz",
    c.CATEGORY_NOT_WORD: "-. ",
    c.CATEGORY_NOT_SPACE: "abcxyz",
}
_PRINTABLE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class _Unsupported(Exception):
    """Raised internally for regex features we do not generate."""


def _class_chars(items: list[tuple[Any, Any]]) -> list[str]:
    negate = False
    chars: list[str] = []
    for op, arg in items:
        if op is c.NEGATE:
            negate = True
        elif op is c.LITERAL:
            chars.append(chr(arg))
        elif op is c.RANGE:
            lo, hi = arg
            chars.extend(chr(code) for code in range(lo, min(hi, lo + 25) + 1))
        elif op is c.CATEGORY:
            chars.extend(_CATEGORY_CHARS.get(arg, "a"))
        else:
            raise _Unsupported(str(op))
    if negate:
        excluded = set(chars)
        return [ch for ch in _PRINTABLE if ch not in excluded][:26] or ["~"]
    return chars


def _emit(tokens: Any, rng: random.Random) -> str:
    out: list[str] = []
    for op, arg in tokens:
        if op is c.LITERAL:
            out.append(chr(arg))
        elif op is c.NOT_LITERAL:
            out.append("a" if chr(arg) != "a" else "b")
        elif op is c.ANY:
            out.append(rng.choice(_PRINTABLE))
        elif op is c.IN:
            out.append(rng.choice(_class_chars(arg)))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)):
            lo, hi, sub = arg
            hi = lo + _MAX_UNBOUNDED if hi is c.MAXREPEAT else hi
            count = rng.randint(lo, max(lo, min(hi, lo + _MAX_UNBOUNDED)))
            out.extend(_emit(sub, rng) for _ in range(count))
        elif op is c.SUBPATTERN:
            out.append(_emit(arg[-1], rng))
        elif op is getattr(c, "ATOMIC_GROUP", None):
            out.append(_emit(arg, rng))
        elif op is c.BRANCH:
            out.append(_emit(rng.choice(arg[1]), rng))
        elif op is c.AT:
            continue
        else:
            raise _Unsupported(str(op))
    return "".join(out)


def generate(pattern: str, rng: random.Random) -> str | None:
    """Return a string matching ``pattern`` or ``None`` if not possible here."""
    try:
        parsed = sre_parse.parse(pattern)
        for _ in range(5):
            candidate = _emit(parsed, rng)
            if re.search(pattern, candidate):
                return candidate
    except (_Unsupported, re.error, RecursionError, ValueError, IndexError):
        return None
    return None
