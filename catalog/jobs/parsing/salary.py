"""Salaries in English and Japanese postings.

Decision: amounts are stored per YEAR when the posting gives a yearly or monthly figure — a monthly
salary (月給, "per month") is multiplied by 12 (for Japanese postings this is a floor: bonuses,
usually paid on top of 月給, are not known), so every yearly-comparable listing compares on one
scale. Hourly and daily pay (時給, 日給, "/hour") are kept as stated with `salary_period` "hour" or
"day", because multiplying part-time pay by a full-time year would invent an income.

Amounts are bounded: a figure the listing's column cannot hold (DecimalField(12, 2)) or no employer
pays (over SALARY_CEILING) is not a salary we understood, so the listing gets none.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from catalog.jobs.parsing.text import labelled

SALARY_LABELS = ("Salary", "Pay", "Compensation", "Wage", "給与", "給料", "年収", "月給", "時給", "報酬", "想定年収")
# JobListing.salary_min/max are DecimalField(max_digits=12, decimal_places=2): below 10^10. No
# yearly pay in any currency we read comes near a billion (JPY 10億), so that is the ceiling.
SALARY_CEILING = Decimal(1_000_000_000)


@dataclass
class Salary:
    minimum: Decimal | None
    maximum: Decimal | None
    currency: str
    period: str  # "year" | "hour" | "day"


# A whole number only: never the "5" of "50M" or the "60" of "60,000" after backtracking.
_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?!\d|[,.]\d)"
_SEP = r"\s*(?:-|–|—|~|〜|to|から)\s*"
_CUR_SIGN = {"$": "USD", "us$": "USD", "usd": "USD", "£": "GBP", "gbp": "GBP", "€": "EUR", "eur": "EUR"}
_CUR_SIGN.update({"¥": "JPY", "jpy": "JPY", "a$": "AUD", "aud": "AUD", "c$": "CAD", "cad": "CAD"})
_CUR = r"US\$|A\$|C\$|\$|£|€|¥|USD|GBP|EUR|JPY|AUD|CAD"
_WESTERN = re.compile(
    rf"(?P<cur>{_CUR})\s?(?P<a>{_NUM})\s?(?P<ka>[kK](?![a-zA-Z]))?(?!\s?(?:[mMbB](?:n|illion)?\b))"
    rf"(?:{_SEP}(?:{_CUR})?\s?(?P<b>{_NUM})\s?(?P<kb>[kK](?![a-zA-Z]))?)?"
    rf"(?:\s*(?P<cur2>USD|GBP|EUR|JPY|AUD|CAD)\b)?"
    r"(?P<per>\s*(?:/|per|an?)\s*(?:hour|hr|h|day|month|mo|year|yr|annum)\b)?",
    re.IGNORECASE,
)
_WESTERN_CODE_AFTER = re.compile(
    rf"(?<![\w.,])(?P<a>{_NUM})\s?(?P<ka>[kK])?{_SEP}(?P<b>{_NUM})\s?(?P<kb>[kK])?\s*(?P<cur2>USD|GBP|EUR|AUD|CAD)\b"
    r"(?P<per>\s*(?:/|per|an?)\s*(?:hour|hr|h|day|month|mo|year|yr|annum)\b)?",
    re.IGNORECASE,
)
_JP_PERIOD = r"年収|年俸|想定年収|月給|月収|月額|基本給|時給|日給"
_JAPANESE = re.compile(
    rf"(?P<per>{_JP_PERIOD})?\s*[:：]?\s*(?:¥\s?)?(?P<a>{_NUM})\s*(?P<ua>万|千)?\s*(?P<yen_a>円)?"
    rf"(?:{_SEP}(?:¥\s?)?(?P<b>{_NUM})\s*(?P<ub>万|千)?\s*(?P<yen_b>円))?"
    r"(?P<suffix>(?:\s*(?:以上|程度|~|〜))?(?:\s*(?:/\s*(?:年|月|時間?|日)|[（(](?:年収|月給|時給|日給)[）)]))?)",
)
_JP_UP_TO = re.compile(rf"(?P<per>{_JP_PERIOD})?\s*[:：]?\s*(?:〜|~|最大|最高)\s*(?P<b>{_NUM})\s*(?P<ub>万|千)?\s*円")
_UNIT = {"万": Decimal(10_000), "千": Decimal(1_000), "k": Decimal(1_000), "": Decimal(1)}


def _number(raw: str, unit: str | None) -> Decimal:
    return Decimal(raw.replace(",", "")) * _UNIT[(unit or "").lower()]


def _western_period(per: str | None, amount: Decimal) -> str:
    per = (per or "").lower()
    if re.search(r"hour|hr|\bh\b", per):
        return "hour"
    if "day" in per:
        return "day"
    if "mo" in per:
        return "month"
    if per:
        return "year"
    # No unit given: a figure this small is an hourly rate, one this large a yearly salary.
    if amount < 200:
        return "hour"
    if amount < 10_000:
        return "month"
    return "year"


def _japanese_period(per: str | None, suffix: str | None, context: str, amount: Decimal) -> str:
    said = (per or "") + (suffix or "") + context
    if re.search(r"時給|/\s*時", said):
        return "hour"
    if re.search(r"日給|/\s*日", said):
        return "day"
    if re.search(r"月給|月収|月額|基本給|/\s*月", said):
        return "month"
    if re.search(r"年収|年俸|/\s*年", said):
        return "year"
    if amount >= 1_000_000:
        return "year"
    if amount >= 50_000:
        return "month"
    if amount >= 5_000:
        return "day"
    return "hour"


def _finish(minimum: Decimal | None, maximum: Decimal | None, currency: str, period: str) -> Salary | None:
    if minimum is not None and maximum is not None and minimum > maximum:
        minimum, maximum = maximum, minimum
    if period == "month":
        minimum = minimum * 12 if minimum is not None else None
        maximum = maximum * 12 if maximum is not None else None
        period = "year"
    positive = [v for v in (minimum, maximum) if v is not None]
    if not positive or any(v <= 0 for v in positive):
        return None
    # An hourly rate over 1,000 (outside JPY) or a yearly pay under 1,000 is not a salary we understood.
    floor = {"year": Decimal(1000), "day": Decimal(10), "hour": Decimal(1)}[period]
    if any(v < floor for v in positive):
        return None
    return Salary(minimum=minimum, maximum=maximum, currency=currency, period=period)


def parse_salary(text: str) -> Salary | None:
    """The first salary range in a text: "$60,000–$75,000", "$25/hour", "年収400万円〜600万円",
    "年収400〜600万円", "月給25万円" (→ ×12 per year), "時給1,200円"; None when there is none."""
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text)
    candidates: list[tuple[int, int, Salary]] = []
    for match in _JAPANESE.finditer(text):
        if not (match["yen_a"] or match["yen_b"] or "¥" in match[0]):
            continue
        unit_b = match["ub"]
        unit_a = match["ua"] or (unit_b if match["b"] and not match["yen_a"] else None)
        minimum = _number(match["a"], unit_a)
        maximum = _number(match["b"], unit_b) if match["b"] else None
        suffix = match["suffix"] or ""
        if maximum is None and "以上" not in suffix and not re.search(r"[~〜]", suffix):
            maximum = minimum  # one figure: the salary is that figure
        context = text[max(0, match.start() - 12) : match.start()]
        period = _japanese_period(match["per"], suffix, context, maximum or minimum)
        salary = _finish(minimum, maximum, "JPY", period)
        if salary:
            candidates.append((match.start(), -len(match[0]), salary))
    for match in _JP_UP_TO.finditer(text):
        maximum = _number(match["b"], match["ub"])
        context = text[max(0, match.start() - 12) : match.start()]
        salary = _finish(None, maximum, "JPY", _japanese_period(match["per"], "", context, maximum))
        if salary:
            candidates.append((match.start(), -len(match[0]), salary))
    for pattern in (_WESTERN, _WESTERN_CODE_AFTER):
        for match in pattern.finditer(text):
            sign = (match.groupdict().get("cur") or match["cur2"] or "").lower()
            currency = _CUR_SIGN.get(sign) or _CUR_SIGN.get((match["cur2"] or "").lower(), "")
            if not currency:
                continue
            minimum = _number(match["a"], match["ka"])
            maximum = _number(match["b"], match["kb"] or (match["ka"] if match["b"] else None)) if match["b"] else None
            if match["kb"] and not match["ka"] and minimum < 1000:
                minimum = _number(match["a"], match["kb"])  # "$60-75k"
            open_ended = re.match(r"\s*(?:\+|or more|and up|以上)", text[match.end() : match.end() + 20], re.I)
            if maximum is None and not open_ended:
                maximum = minimum  # one figure: the salary is that figure
            period = _western_period(match["per"], maximum or minimum)
            salary = _finish(minimum, maximum, currency, period)
            if salary:
                candidates.append((match.start(), -len(match[0]), salary))
    if not candidates:
        return None
    # The first salary in the text; at one position the longer reading ("¥4M - ¥5.5M" over "¥4M").
    candidates.sort(key=lambda item: item[:2])
    return candidates[0][2]


def find_salary(*, explicit: str, description: str, title: str) -> Salary | None:
    """Salary from the feed's own field, else a salary line of the description, else the title."""
    for text in (explicit, labelled(description, SALARY_LABELS), title):
        salary = parse_salary(text)
        if salary:
            return salary
    for line in description.splitlines():
        if re.search(r"salary|compensation|pay\b|給与|年収|月給|時給|報酬|万円", line, re.IGNORECASE):
            salary = parse_salary(line)
            if salary:
                return salary
    return None
