"""Small text helpers shared by the job-score and digest tasks."""

from __future__ import annotations

import re

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def mostly_japanese(text: str, *, share: float = 0.5) -> bool:
    """True when Japanese characters make up at least `share` of the text's units.

    A Latin word counts as one unit, like one kana or kanji: "PythonとDjangoの経験" is Japanese
    prose with two skill names, not English.
    """
    japanese = len(_JAPANESE.findall(text))
    latin_words = len(_LATIN_WORD.findall(text))
    units = japanese + latin_words
    return units > 0 and japanese / units >= share


def one_line(text: str, limit: int) -> str:
    """Whitespace collapsed and cut to `limit` characters (with an ellipsis when cut)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: max(0, limit - 1)].rstrip() + "…"


def money(amount: float | None) -> str:
    return "" if amount is None else f"{amount:,.0f}"


def salary_range(low: float | None, high: float | None, currency: str = "") -> str:
    """ "4,000,000–6,000,000 JPY", "from 50,000 USD", or "" when nothing is known."""
    suffix = f" {currency}" if currency else ""
    if low and high:
        return f"{money(low)}–{money(high)}{suffix}"
    if low:
        return f"from {money(low)}{suffix}"
    if high:
        return f"up to {money(high)}{suffix}"
    return ""


# Labelled lines the prompt already carries as fields (and requirement lists: the skills are
# given as shared/missing): the excerpt keeps the posting's own words about the work instead.
_GIVEN_LINE = re.compile(
    r"^\s*(?:-\s*)?(?:location|locations|office|salary|pay|compensation|company|employer|requirements?|"
    r"nice to have|勤務地|勤務場所|給与|年収|会社名|企業名|必須スキル|歓迎スキル|応募資格)\s*[:：].*$",
    re.IGNORECASE | re.MULTILINE,
)


def posting_excerpt(description: str, limit: int) -> str:
    """The start of a posting's text without the lines the prompt gives as fields, on one line."""
    return one_line(_GIVEN_LINE.sub("", description or ""), limit)
