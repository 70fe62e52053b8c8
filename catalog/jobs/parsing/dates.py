"""Posting dates: the feed's own string read first (Japanese and slash dates feedparser misreads),
then feedparser's reading, then a plausibility check.

feedparser turns "2025年6月3日" and "2025/06/03 10:00" into 1 December 2025 (a handler for another
locale claims them); so those shapes are parsed here, in Japan time when no zone is written and the
posting is Japanese. A date before 2000 or more than a week ahead of the fetch is not a posting
date we believe (a typo, an epoch, a placeholder): the listing gets none, and the item a problem.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(days=7)
JST = timezone(timedelta(hours=9), "JST")
_ERAS = {"令和": 2018, "平成": 1988}
_JAPANESE = re.compile(
    r"^(?:(?P<era>令和|平成)\s*(?P<era_year>元|\d{1,2})|(?P<year>\d{4}))\s*年\s*(?P<month>\d{1,2})\s*月\s*"
    r"(?P<day>\d{1,2})\s*日(?:\s*[(（][^)）]{1,3}[)）])?"
    r"(?:\s*(?:(?P<ampm>午前|午後)\s*)?(?P<hour>\d{1,2})\s*(?:時|:)\s*(?:(?P<minute>\d{1,2})\s*分?)?"
    r"(?:\s*:?\s*(?P<second>\d{1,2})\s*秒?)?)?\s*(?P<zone>JST|UTC|GMT|[+-]\d{2}:?\d{2}|Z)?\s*$"
)
_SLASHED = re.compile(
    r"^(?P<year>\d{4})[/.](?P<month>\d{1,2})[/.](?P<day>\d{1,2})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?\s*(?P<zone>JST|UTC|GMT|[+-]\d{2}:?\d{2}|Z)?$"
)


def _zone(raw: str | None, *, japanese: bool) -> timezone:
    if not raw:
        return JST if japanese else UTC
    if raw == "JST":
        return JST
    if raw in ("UTC", "GMT", "Z"):
        return UTC
    sign = -1 if raw[0] == "-" else 1
    digits = raw[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def parse_date_text(value: str, *, japanese: bool = False) -> datetime | None:
    """A date in a shape feedparser misreads (2025年6月3日 10時, 令和7年6月3日, 2025/06/03 10:00), or None.

    No zone written: Japan time for a Japanese posting, UTC otherwise.
    """
    text = unicodedata.normalize("NFKC", value or "").strip()
    match = _JAPANESE.match(text) or _SLASHED.match(text)
    if match is None:
        return None
    parts = match.groupdict()
    if parts.get("era"):
        year = _ERAS[parts["era"]] + (1 if parts["era_year"] == "元" else int(parts["era_year"]))
    else:
        year = int(parts["year"])
    hour = int(parts.get("hour") or 0)
    if parts.get("ampm") == "午後" and hour < 12:
        hour += 12
    zone = _zone(parts.get("zone"), japanese=japanese or "年" in text)
    try:
        return datetime(
            year,
            int(parts["month"]),
            int(parts["day"]),
            hour,
            int(parts.get("minute") or 0),
            int(parts.get("second") or 0),
            tzinfo=zone,
        ).astimezone(UTC)
    except ValueError:
        return None  # 2025年2月30日: no such day


def _from_struct(parsed: Any) -> datetime | None:
    # feedparser normalizes dates to UTC struct_time; timegm reads it as UTC.
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def entry_date(entry: Any, *, japanese: bool) -> tuple[datetime | None, str]:
    """(the entry's posting date, the raw string it came from): published first, then updated."""
    for name in ("published", "updated", "created"):
        raw = entry.get(name)
        if not isinstance(raw, str) or not raw.strip():
            continue
        own = parse_date_text(raw, japanese=japanese)
        if own is not None:
            return own, raw
        theirs = _from_struct(entry.get(f"{name}_parsed"))
        if theirs is not None:
            return theirs, raw
        return None, raw  # written but unreadable: the caller says so
    return None, ""


def date_problem(value: datetime, *, now: datetime | None) -> str:
    """Why a posting date is not believable ("" when it is): before 2000, or over a week ahead of `now`."""
    if value < EARLIEST:
        return f"posting date {value.date().isoformat()} is before 2000"
    if now is not None and value > now + MAX_AHEAD:
        return f"posting date {value.date().isoformat()} is more than a week ahead"
    return ""
