"""Token estimates before a call and cost estimates after it (no tiktoken: no downloads at run time)."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from django.conf import settings

from llm.task import Message

# Roughly 4 characters a token for Latin text; CJK scripts run about one token a character.
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xFF00, 0xFFEF))
# The same ranges as one character class: counted in C (a Python loop per character cost ~2 % of
# the bulk hot path's GIL time on Japanese prompts).
_CJK = re.compile("[" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _CJK_RANGES) + "]")
MESSAGE_OVERHEAD_TOKENS = 4


def estimate_text_tokens(text: str) -> int:
    cjk = len(text) - len(_CJK.sub("", text)) if not text.isascii() else 0
    return cjk + math.ceil((len(text) - cjk) / 4)


def estimate_tokens(messages: list[Message], *, max_output_tokens: int = 0) -> int:
    """An upper-ish estimate for rate budgeting; corrected from the provider's usage afterwards."""
    prompt = sum(estimate_text_tokens(m.get("content") or "") + MESSAGE_OVERHEAD_TOKENS for m in messages)
    return prompt + max_output_tokens


def price_per_million(*, model: str) -> tuple[Decimal, Decimal]:
    """(input, output) USD per million tokens; the longest matching price-table prefix wins."""
    prices = settings.LLM_PRICES
    for name in sorted(prices, key=len, reverse=True):
        if model == name or model.startswith(name + "-") or model.startswith(name + ":"):
            price_in, price_out = prices[name]
            return Decimal(str(price_in)), Decimal(str(price_out))
    return Decimal(0), Decimal(0)


def estimate_cost(
    *, provider: str, model: str, tokens_in: int, tokens_out: int, tokens_cached: int = 0, batch: bool = False
) -> Decimal:
    """Estimated USD for a call: local servers are free; the Batch API is discounted, and so are the
    input tokens the provider served from its prompt cache (`tokens_cached`, part of `tokens_in`)."""
    if provider in ("offline", "compatible") or provider.startswith("compatible:"):
        return Decimal(0)
    price_in, price_out = price_per_million(model=model)
    cached = min(max(tokens_cached, 0), tokens_in)
    cached_price = price_in * Decimal(str(settings.LLM_CACHED_INPUT_DISCOUNT))
    cost = (price_in * (tokens_in - cached) + cached_price * cached + price_out * tokens_out) / Decimal(1_000_000)
    if batch:
        cost *= Decimal(str(settings.LLM_BATCH_DISCOUNT))
    return cost.quantize(Decimal("0.000001"))
