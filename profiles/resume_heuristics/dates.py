"""Dates in resumes: Japanese era years, employment ranges, and years of experience."""

from __future__ import annotations

import re
from datetime import date

_ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925}
_ERA_YEAR = re.compile(r"(令和|平成|昭和)\s*(元|\d{1,2})\s*年")
_MONTHS = {
    m: i
    for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)
}
_DATE = re.compile(
    r"(?P<y1>(?:19|20)\d{2})\s*(?:年\s*(?P<m1>\d{1,2})\s*月?|[./](?P<m2>\d{1,2})(?!\d))?"
    r"|(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?P<y2>(?:19|20)\d{2})",
    re.IGNORECASE,
)
_PRESENT = re.compile(r"present|current|now|today|現在|至る|在職中|在籍中", re.IGNORECASE)
_RANGE_SEP = re.compile(r"^\s*(?:-|–|—|~|〜|～|to|から|‐)\s*", re.IGNORECASE)


def western_years(text: str) -> str:
    """令和5年 → 2023年 (履歴書 often use Japanese era years)."""

    def convert(match: re.Match[str]) -> str:
        year = 1 if match.group(2) == "元" else int(match.group(2))
        return f"{_ERAS[match.group(1)] + year}年"

    return _ERA_YEAR.sub(convert, text)


def _month_index(match: re.Match[str]) -> int:
    if match.group("y1"):
        year, month = int(match.group("y1")), int(match.group("m1") or match.group("m2") or 1)
    else:
        year, month = int(match.group("y2")), _MONTHS[match.group("mon")[:3].lower()]
    return year * 12 + min(max(month, 1), 12) - 1


def _ranges(lines: list[str], *, as_of: date) -> list[tuple[int, int]]:
    """(start, end) month indexes of the employment periods written in these lines."""
    now = as_of.year * 12 + as_of.month - 1
    periods: list[tuple[int, int]] = []
    open_start: int | None = None
    for line in lines:
        dates = list(_DATE.finditer(line))
        if not dates:
            if open_start is not None and _PRESENT.search(line):  # 履歴書: 「現在に至る」 on its own row
                periods.append((open_start, now))
                open_start = None
            continue
        first = dates[0]
        rest = line[first.end() :]
        if len(dates) >= 2 and _RANGE_SEP.match(rest) and rest.find(dates[1].group(0)) < 8:
            periods.append((_month_index(first), _month_index(dates[1])))
        elif _RANGE_SEP.match(rest) and _PRESENT.match(_RANGE_SEP.sub("", rest, count=1)):
            periods.append((_month_index(first), now))
        elif re.search(r"入社|入職|着任|joined", line, re.IGNORECASE):
            if open_start is not None:
                periods.append((open_start, _month_index(first)))
            open_start = _month_index(first)
        elif re.search(r"退社|退職|離職|left", line, re.IGNORECASE) and open_start is not None:
            periods.append((open_start, _month_index(first)))
            open_start = None
    if open_start is not None:
        periods.append((open_start, now))
    return [(start, min(end, now)) for start, end in periods if start <= min(end, now) and start >= 1950 * 12]


def _merged_months(periods: list[tuple[int, int]]) -> int:
    total, last_end = 0, -1
    for start, end in sorted(periods):
        start = max(start, last_end + 1)
        if end >= start:
            total += end - start + 1
            last_end = end
    return total


_EXPLICIT_YEARS = (
    re.compile(
        r"(\d{1,2}(?:\.\d)?)\s*\+?\s*(?:years?|yrs?)\b(?:\s+of)?(?:\s+[A-Za-z/+#.-]+){0,3}?\s+(?:experience|exp\b)",
        re.IGNORECASE,
    ),
    re.compile(r"(?:経験|実務経験|開発経験|職務経験|業務経験)\s*(?:年数)?\s*[:：]?\s*(?:約)?(\d{1,2}(?:\.\d)?)\s*年"),
    re.compile(r"(\d{1,2}(?:\.\d)?)\s*年(?:間)?(?:以上)?の?(?:実務|開発|業務|職務)?経験"),
)


def years_of_experience(text: str, experience_lines: list[str], *, as_of: date) -> float | None:
    """Explicit "5 years of experience" / 「実務経験3年」 wins; else the experience section's dates."""
    explicit = [float(m.group(1)) for pattern in _EXPLICIT_YEARS for m in pattern.finditer(text)]
    explicit = [value for value in explicit if 0 <= value <= 60]
    if explicit:
        return max(explicit)
    months = _merged_months(_ranges(experience_lines, as_of=as_of))
    return min(round(months / 12, 1), 60.0) if months else None
