"""Produce deterministic, schema-valid sample values from JSON schemas.

Contract of :func:`fill`: for any satisfiable JSON schema of the kind pydantic v2
emits (and OpenAI strict structured outputs accept) the returned value validates
against that schema; the same ``(schema, seed, japanese)`` always yields the same
value.  :func:`strict_schema_problems` reports the violations OpenAI's strict mode
would reject (so callers can fail like the real API does).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import uuid
from typing import Any

from llm.simulator import regex_gen

#: Beyond this depth recursion is cut short (null variants, minimal arrays).
SOFT_DEPTH = 6
#: Hard stop for schemas that cannot terminate (e.g. required self-reference).
HARD_DEPTH = 48

JA_PHRASES: tuple[str, ...] = (
    "シミュレーションの要約です。",
    "これは模擬的な回答の本文です。",
    "テスト用に生成された説明文です。",
    "検証のためのサンプル文章です。",
    "自動生成された日本語の内容です。",
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class SchemaFillError(ValueError):
    """Raised when a schema cannot be satisfied (e.g. infinite required recursion)."""


def fill(schema: dict[str, Any], *, seed: str, japanese: bool = False) -> Any:
    """Return a value valid for ``schema``, deterministic for ``seed``.

    Strings are short plausible text mentioning the property name (e.g.
    ``"Simulated summary 3f2a"``), or mostly Japanese when ``japanese``.
    """
    return _Filler(schema, seed=seed, japanese=japanese).value(schema, "value", 0)


def humanize(name: str) -> str:
    """``"dueDate"``/``"due_date"`` -> ``"due date"``."""
    return _CAMEL.sub(" ", name).replace("_", " ").replace("-", " ").strip().lower() or "value"


class _Filler:
    def __init__(self, root: dict[str, Any], *, seed: str, japanese: bool) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.japanese = japanese

    # -- schema plumbing -------------------------------------------------
    def resolve(self, node: Any) -> dict[str, Any]:
        """Follow ``$ref`` (merging sibling keys) and flatten ``allOf``."""
        if node is True or node is None:
            return {}
        if not isinstance(node, dict):
            raise SchemaFillError(f"schema node must be an object, got {node!r}")
        hops = 0
        while "$ref" in node:
            target = self._pointer(node["$ref"])
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            hops += 1
            if hops > HARD_DEPTH:
                raise SchemaFillError("$ref cycle without structure")
        if "allOf" in node:
            merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
            for part in node["allOf"]:
                part = self.resolve(part)
                props = {**merged.get("properties", {}), **part.get("properties", {})}
                required = list(dict.fromkeys([*merged.get("required", []), *part.get("required", [])]))
                merged = {**part, **merged}
                if props:
                    merged["properties"] = props
                if required:
                    merged["required"] = required
            node = merged
        return node

    def _pointer(self, ref: str) -> dict[str, Any]:
        if not ref.startswith("#"):
            raise SchemaFillError(f"only local $ref is supported: {ref}")
        node: Any = self.root
        for part in [p for p in ref[1:].split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(part)] if isinstance(node, list) else node[part]
            except (KeyError, IndexError, ValueError, TypeError) as exc:
                raise SchemaFillError(f"unresolvable $ref {ref}") from exc
        return node

    def tag(self) -> str:
        return f"{self.rng.getrandbits(16):04x}"

    # -- dispatch --------------------------------------------------------
    def value(self, node: Any, name: str, depth: int) -> Any:
        if depth > HARD_DEPTH:
            raise SchemaFillError("schema recursion does not terminate")
        node = self.resolve(node)
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return self.rng.choice(node["enum"])
        for key in ("anyOf", "oneOf"):
            if key in node:
                return self.value(self._pick_variant(node[key], depth), name, depth)
        kind = node.get("type")
        if isinstance(kind, list):
            options = [t for t in kind if t != "null"] or ["null"]
            kind = "null" if depth >= SOFT_DEPTH and "null" in kind else self.rng.choice(options)
        if kind is None:
            kind = _infer_type(node)
        handler = {
            "object": self.obj,
            "array": self.array,
            "string": self.string,
            "integer": self.integer,
            "number": self.number,
        }.get(kind)
        if handler is not None:
            return handler(node, name, depth)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        raise SchemaFillError(f"unsupported type {kind!r}")

    def _pick_variant(self, variants: list[Any], depth: int) -> Any:
        resolved = [self.resolve(v) for v in variants]
        nulls = [v for v in resolved if v.get("type") == "null"]
        others = [v for v in resolved if v.get("type") != "null"]
        if depth >= SOFT_DEPTH:
            if nulls:
                return nulls[0]
            flat = [v for v in others if v.get("type") not in ("object", "array")]
            return (flat or others)[0]
        return self.rng.choice(others) if others else nulls[0]

    # -- containers ------------------------------------------------------
    def obj(self, node: dict[str, Any], name: str, depth: int) -> dict[str, Any]:
        props: dict[str, Any] = node.get("properties") or {}
        required = set(node.get("required") or [])
        out: dict[str, Any] = {}
        for key, sub in props.items():
            if key in required or depth < SOFT_DEPTH:
                out[key] = self.value(sub, key, depth + 1)
        extra = node.get("additionalProperties")
        if not props and isinstance(extra, dict):
            low = node.get("minProperties", 0)
            high = node.get("maxProperties", max(low, 2))
            count = low if depth >= SOFT_DEPTH else max(low, min(high, self.rng.randint(1, 2)))
            for index in range(count):
                out[f"{name}_{index + 1}"] = self.value(extra, name, depth + 1)
        return out

    def array(self, node: dict[str, Any], name: str, depth: int) -> list[Any]:
        low = int(node.get("minItems", 0))
        high = node.get("maxItems")
        prefix = node.get("prefixItems") or []
        items = node.get("items")
        count = max(low, len(prefix), 0 if depth >= SOFT_DEPTH else self.rng.randint(1, 3))
        if high is not None:
            count = min(count, int(high))
        if prefix and not isinstance(items, dict):
            count = len(prefix)
        unique = bool(node.get("uniqueItems"))
        out: list[Any] = []
        seen: set[str] = set()
        attempts = 0
        while len(out) < count and attempts < count * 8 + 8:
            attempts += 1
            index = len(out)
            sub = prefix[index] if index < len(prefix) else (items if isinstance(items, dict) else {})
            item = self.value(sub, name, depth + 1)
            key = repr(item)
            if unique and key in seen:
                continue
            seen.add(key)
            out.append(item)
        return out

    # -- scalars ---------------------------------------------------------
    def string(self, node: dict[str, Any], name: str, depth: int) -> str:
        fmt = node.get("format")
        pattern = node.get("pattern")
        text: str | None = self._formatted(fmt, name) if fmt else None
        if text is None and pattern:
            text = regex_gen.generate(pattern, self.rng)
        if text is None and node.get("contentMediaType") == "application/json":
            text = "{}"
        if text is not None:
            return text
        text = self._text(name)
        low = int(node.get("minLength", 0))
        high = node.get("maxLength")
        if len(text) < low:
            filler = "です" if self.japanese else " lorem"
            text += filler * math.ceil((low - len(text)) / len(filler))
        if high is not None and len(text) > int(high):
            text = text[: int(high)].rstrip().ljust(low, "x")
        return text

    def _text(self, name: str) -> str:
        label = humanize(name)
        if self.japanese:
            phrase = self.rng.choice(JA_PHRASES)
            return f"{phrase[:-1]}（{label}）。" if len(label) <= 12 else phrase
        return f"Simulated {label} {self.tag()}"

    def _formatted(self, fmt: str, name: str) -> str | None:
        rng = self.rng
        slug = re.sub(r"[^a-z0-9]+", "-", humanize(name)).strip("-") or "value"
        base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(0, 3 * 365 * 86400))
        samples = {
            "date": lambda: base.date().isoformat(),
            "date-time": lambda: base.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "time": lambda: base.strftime("%H:%M:%S"),
            "duration": lambda: f"PT{rng.randint(1, 9)}H{rng.randint(0, 59)}M",
            "email": lambda: f"{slug}.{self.tag()}@example.com",
            "idn-email": lambda: f"{slug}.{self.tag()}@example.com",
            "uri": lambda: f"https://example.com/{slug}/{self.tag()}",
            "url": lambda: f"https://example.com/{slug}/{self.tag()}",
            "iri": lambda: f"https://example.com/{slug}/{self.tag()}",
            "uri-reference": lambda: f"/{slug}/{self.tag()}",
            "hostname": lambda: f"{slug}-{self.tag()}.example.com",
            "ipv4": lambda: f"192.0.2.{rng.randint(1, 254)}",
            "ipv6": lambda: f"2001:db8::{rng.randint(1, 65535):x}",
            "uuid": lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        }
        maker = samples.get(fmt)
        return maker() if maker else None

    def integer(self, node: dict[str, Any], name: str, depth: int) -> int:
        low, high = _bounds(node)
        lo = None if low is None else (math.floor(low[0]) + 1 if low[1] else math.ceil(low[0]))
        hi = None if high is None else (math.ceil(high[0]) - 1 if high[1] else math.floor(high[0]))
        lo, hi = _default_range(lo, hi, 1, 100)
        step = node.get("multipleOf")
        if step:
            first, last = math.ceil(lo / step), math.floor(hi / step)
            if first <= last:
                return int(self.rng.randint(first, last) * step)
        return self.rng.randint(lo, hi)

    def number(self, node: dict[str, Any], name: str, depth: int) -> float:
        low, high = _bounds(node)
        lo_v = None if low is None else float(low[0])
        hi_v = None if high is None else float(high[0])
        lo, hi = _default_range(lo_v, hi_v, 0.0, 100.0)
        step = node.get("multipleOf")
        if step:
            first, last = math.ceil(lo / step), math.floor(hi / step)
            for k in (self.rng.randint(first, last) if first <= last else first, first + 1, last - 1):
                if _within(k * step, low, high):
                    return k * step
        value = round(self.rng.uniform(lo, hi), 2)
        if not _within(value, low, high):
            value = (lo + hi) / 2
        return value


def _infer_type(node: dict[str, Any]) -> str:
    if "properties" in node or "additionalProperties" in node:
        return "object"
    return "array" if "items" in node or "prefixItems" in node else "string"


def _bounds(node: dict[str, Any]) -> tuple[tuple[float, bool] | None, tuple[float, bool] | None]:
    """Return ``((low, exclusive), (high, exclusive))`` honouring draft-4 booleans."""
    low: tuple[float, bool] | None = None
    high: tuple[float, bool] | None = None
    if "minimum" in node:
        low = (node["minimum"], node.get("exclusiveMinimum") is True)
    if "maximum" in node:
        high = (node["maximum"], node.get("exclusiveMaximum") is True)
    ex_min, ex_max = node.get("exclusiveMinimum"), node.get("exclusiveMaximum")
    if isinstance(ex_min, int | float) and not isinstance(ex_min, bool) and (low is None or ex_min >= low[0]):
        low = (ex_min, True)
    if isinstance(ex_max, int | float) and not isinstance(ex_max, bool) and (high is None or ex_max <= high[0]):
        high = (ex_max, True)
    return low, high


def _default_range(lo: Any, hi: Any, default_lo: Any, default_hi: Any) -> tuple[Any, Any]:
    if lo is None and hi is None:
        return default_lo, default_hi
    if lo is None:
        return min(hi, default_lo) if hi >= default_lo else hi - default_hi, hi
    if hi is None:
        return lo, max(lo, default_lo) + default_hi
    if lo > hi:
        raise SchemaFillError(f"empty numeric range [{lo}, {hi}]")
    return lo, hi


def _within(value: float, low: tuple[float, bool] | None, high: tuple[float, bool] | None) -> bool:
    if low is not None and (value < low[0] or (low[1] and value == low[0])):
        return False
    return not (high is not None and (value > high[0] or (high[1] and value == high[0])))


def strict_schema_problems(schema: dict[str, Any]) -> list[str]:
    """Return OpenAI-strict-mode violations (empty list when acceptable).

    Checks: the root is an object (no root ``anyOf``); every object node has
    ``additionalProperties: false`` and lists every property in ``required``.
    """
    problems: list[str] = []
    if schema.get("type") != "object" or "anyOf" in schema:
        problems.append("In context=(), schema must be a JSON Schema of 'type: \"object\"', got 'type: None'.")

    def walk(node: Any, context: tuple[str, ...]) -> None:
        if not isinstance(node, dict):
            return
        if node.get("type") == "object" or "properties" in node:
            if node.get("additionalProperties") is not False:
                problems.append(
                    f"In context={context}, 'additionalProperties' is required to be supplied and to be false."
                )
            props = node.get("properties") or {}
            missing = [key for key in props if key not in (node.get("required") or [])]
            if missing:
                problems.append(
                    f"In context={context}, 'required' is required to be supplied and to be an array including "
                    f"every key in properties. Missing '{missing[0]}'."
                )
            for key, sub in props.items():
                walk(sub, (*context, "properties", key))
        for key in ("items", "additionalProperties", "not"):
            walk(node.get(key), (*context, key))
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            for index, sub in enumerate(node.get(key) or []):
                walk(sub, (*context, key, str(index)))
        for key in ("$defs", "definitions"):
            for def_name, sub in (node.get(key) or {}).items():
                walk(sub, (key, def_name))

    walk(schema, ())
    return problems
