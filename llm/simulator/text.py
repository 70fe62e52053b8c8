"""Text helpers: token estimates, Japanese detection, plain replies, seeds.

Contract: token counts are ``ceil(len(text) / 4)`` (at least 1 for non-empty
text), the same rule for prompts and completions, so usage is predictable in
tests; seeds derived by :func:`seed_for` depend only on the simulator seed and
the request content (never on call order or threads).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Iterable
from typing import Any

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_TEXT_KEYS = frozenset({"content", "text", "input", "output", "instructions", "refusal", "arguments"})

EN_REPLIES: tuple[str, ...] = (
    "This is a simulated reply from the test model.",
    "Simulated answer: the request was processed successfully.",
    "Here is a short simulated response for your prompt.",
)
JA_REPLIES: tuple[str, ...] = (
    "これはシミュレーターからの模擬的な回答です。",
    "ご依頼の内容を処理しました。これはテスト用の応答です。",
    "シミュレーションの要約です。内容は自動生成されています。",
)


def estimate_tokens(text: str) -> int:
    """Approximate OpenAI token count: ~4 characters per token."""
    return math.ceil(len(text) / 4) if text else 0


def collect_text(value: Any) -> list[str]:
    """Gather the human-readable strings of messages / response input items.

    Plain strings count as text; in mappings only values under text-bearing
    keys (``content``, ``text``, ``output``, ...) are collected, recursively.
    """
    out: list[str] = []
    _collect(value, out, top=True)
    return out


def _collect(value: Any, out: list[str], *, top: bool) -> None:
    if isinstance(value, str):
        if top:
            out.append(value)
    elif isinstance(value, list):
        for item in value:
            _collect(item, out, top=top)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in _TEXT_KEYS and isinstance(item, str):
                out.append(item)
            elif isinstance(item, list | dict):
                _collect(item, out, top=key in _TEXT_KEYS)


def count_tokens(parts: Iterable[str]) -> int:
    """Token estimate of several texts joined by newlines."""
    return estimate_tokens("\n".join(parts))


def has_japanese(parts: Iterable[str]) -> bool:
    """True when any text contains Hiragana, Katakana or CJK ideographs."""
    return any(_JAPANESE.search(part) for part in parts)


def seed_for(base_seed: int, *material: Any) -> str:
    """Stable seed string from the simulator seed and JSON-able material."""
    blob = json.dumps(material, sort_keys=True, ensure_ascii=False, default=str)
    return f"{base_seed}:{hashlib.sha256(blob.encode()).hexdigest()[:32]}"


def reply_text(seed: str, *, japanese: bool) -> str:
    """Short plain-text assistant reply (used without a JSON response format)."""
    rng = random.Random(seed)
    choice = rng.choice(JA_REPLIES if japanese else EN_REPLIES)
    return f"{choice} ({rng.getrandbits(16):04x})"


def cut_text(text: str, max_tokens: int) -> str:
    """Cut ``text`` to roughly ``max_tokens`` tokens (always strictly shorter)."""
    limit = max(0, min(len(text) - 1, max_tokens * 4))
    return text[:limit]
