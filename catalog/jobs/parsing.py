"""Feed bytes → job listings: feedparser on bytes we fetched ourselves, plus the text heuristics
(company, location, remote, salary, language, skills) for English and Japanese postings.

Pure functions, no database: the services upsert what these return.

Salary decision: amounts are stored per YEAR when the posting gives a yearly or monthly figure —
a monthly salary (月給, "per month") is multiplied by 12 (for Japanese postings this is a floor: bonuses,
usually paid on top of 月給, are not known), so every yearly-comparable listing compares on one
scale. Hourly and daily pay (時給, 日給, "/hour") are kept as stated with `salary_period` "hour" or
"day", because multiplying part-time pay by a full-time year would invent an income.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import feedparser

from catalog.jobs.skills import extract_skills

TITLE_MAX = 300
COMPANY_MAX = 200
LOCATION_MAX = 200
GUID_MAX = 500
URL_MAX = 1000
DESCRIPTION_MAX = 20_000


class FeedParseError(ValueError):
    """The bytes are not an RSS or Atom feed we can read."""


@dataclass
class Salary:
    minimum: Decimal | None
    maximum: Decimal | None
    currency: str
    period: str  # "year" | "hour" | "day"


@dataclass
class ParsedListing:
    guid: str
    title: str
    company: str = ""
    location: str = ""
    remote: bool = False
    salary_min: Decimal | None = None
    salary_max: Decimal | None = None
    salary_currency: str = ""
    salary_period: str = ""
    description: str = ""
    url: str = ""
    posted_at: datetime | None = None
    skills: list[str] = field(default_factory=list)
    language: str = ""

    def values(self) -> dict[str, Any]:
        """The model fields this listing sets (everything but the key)."""
        return {
            "title": self.title,
            "company": self.company,
            "location": self.location,
            "remote": self.remote,
            "salary_min": self.salary_min,
            "salary_max": self.salary_max,
            "salary_currency": self.salary_currency,
            "salary_period": self.salary_period,
            "description": self.description,
            "url": self.url,
            "posted_at": self.posted_at,
            "skills": self.skills,
            "language": self.language,
        }


@dataclass
class ParsedFeed:
    title: str
    listings: list[ParsedListing]
    warning: str = ""  # set when feedparser had to recover from malformed XML


# --- HTML to text ---------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section", "article"}
)
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "noscript", "template", "iframe", "object"})


class _TextExtractor(HTMLParser):
    """Collects visible text; drops scripts and styles; block tags become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(value: str) -> str:
    """Plain text from (untrusted) HTML: no tags, entities decoded, whitespace tidied."""
    if not value:
        return ""
    if "<" not in value:
        text = html.unescape(value)
    else:
        extractor = _TextExtractor()
        extractor.feed(value)
        extractor.close()
        text = "".join(extractor.parts)
    lines = [re.sub(r"[ \t\u00a0\u3000]+", " ", line).strip() for line in text.splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- language, remote, labelled fields --------------------------------------------------------------

_JAPANESE_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def detect_language(text: str) -> str:
    """ "ja" when Japanese script is a real share of the letters, else "en" (or "" for no text)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return ""
    japanese = sum(1 for ch in letters if _JAPANESE_CHAR.match(ch))
    return "ja" if japanese / len(letters) >= 0.2 else "en"


_REMOTE_NEGATIVE = re.compile(
    r"\b(?:no|not|non)[\s-]+remote\b|\bon[\s-]?site\s+only\b|\bremote\s+(?:work\s+)?(?:is\s+)?not\s+(?:possible|available)\b"
    r"|\bin[\s-]office\s+only\b|(?:リモート|在宅|テレワーク)(?:勤務|ワーク)?(?:不可|なし|無し|NG)|出社必須|フル出社|完全出社",
    re.IGNORECASE,
)
_REMOTE_POSITIVE = re.compile(
    r"\bremote\b|\bwork(?:ing)?\s+from\s+home\b|\bwfh\b|\btelecommut\w*|\bdistributed\s+team\b"
    r"|\bhybrid\s+(?:work\w*|role|remote|schedule|model|position|office)\b|\(hybrid\)"
    r"|リモート|在宅|テレワーク|ハイブリッド勤務",
    re.IGNORECASE,
)
_TRUE_WORDS = frozenset(
    {"true", "yes", "1", "remote", "fully remote", "hybrid", "可", "あり", "フルリモート", "リモート可"}
)


def detect_remote(*, explicit: str, texts: list[str]) -> bool:
    """Remote when the posting allows any remote work (fully remote, hybrid, リモート可, 在宅勤務)
    and does not say it is excluded ("no remote", リモート不可, 出社必須)."""
    if explicit:
        value = unicodedata.normalize("NFKC", explicit).strip().lower()
        if value in _TRUE_WORDS:
            return True
        if value in {"false", "no", "0", "onsite", "on-site", "不可", "なし"}:
            return False
    joined = "\n".join(t for t in texts if t)
    if _REMOTE_NEGATIVE.search(joined):
        return False
    return bool(_REMOTE_POSITIVE.search(joined))


def _labelled(text: str, labels: tuple[str, ...]) -> str:
    """The value of a "Label: value" line (English or Japanese colon), or ""."""
    pattern = r"^\s*(?:" + "|".join(re.escape(label) for label in labels) + r")\s*[:：]\s*(.+?)\s*$"
    match = re.search(pattern, text, re.IGNORECASE | re.MULTILINE)
    return match.group(1) if match else ""


_LOCATION_LABELS = ("Location", "Locations", "Office", "Work location", "勤務地", "勤務場所", "所在地")
_COMPANY_LABELS = ("Company", "Employer", "会社名", "企業名", "社名")
_SALARY_LABELS = ("Salary", "Pay", "Compensation", "Wage", "給与", "給料", "年収", "月給", "時給", "報酬", "想定年収")
_TITLE_AT = re.compile(r"^(?P<title>.+?)\s+(?:at|@)\s+(?P<company>[^()\[\]|–—-]{2,80})$")


# --- salary -------------------------------------------------------------------------------------------

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
    for text in (explicit, _labelled(description, _SALARY_LABELS), title):
        salary = parse_salary(text)
        if salary:
            return salary
    for line in description.splitlines():
        if re.search(r"salary|compensation|pay\b|給与|年収|月給|時給|報酬|万円", line, re.IGNORECASE):
            salary = parse_salary(line)
            if salary:
                return salary
    return None


# --- entries ------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return html_to_text(value) if isinstance(value, str) else ""


def _aware(parsed: Any) -> datetime | None:
    # feedparser normalizes dates to UTC struct_time; timegm reads it as UTC.
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _clip(value: str, limit: int) -> str:
    value = value.strip()
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _entry_description(entry: Any) -> str:
    contents = entry.get("content") or []
    bodies = [c.get("value", "") for c in contents if isinstance(c, dict)]
    raw = max(bodies, key=len) if bodies else ""
    summary = entry.get("summary", "") or ""
    if len(summary) > len(raw):
        raw = summary
    return html_to_text(raw)


def _job_field(entry: Any, *names: str) -> str:
    for name in names:
        for key in (f"job_{name}", name):
            value = entry.get(key)
            if isinstance(value, str) and value.strip():
                return html_to_text(value)
    return ""


def entry_to_listing(entry: Any) -> ParsedListing | None:
    """One feed entry as a listing, or None when it has neither a title nor an id to key it on."""
    title = _text(entry.get("title", ""))
    description = _entry_description(entry)
    url = (entry.get("link") or "").strip()
    guid = (entry.get("id") or "").strip() or url
    if not guid and title:
        # No id and no link: key on the content itself so a re-fetch still finds the same row.
        guid = "sha1:" + hashlib.sha1(f"{title}\n{description[:500]}".encode(), usedforsecurity=False).hexdigest()
    if not guid or not title:
        return None

    company = _job_field(entry, "company", "employer", "hiringorganization") or _labelled(description, _COMPANY_LABELS)
    location = _job_field(entry, "location", "joblocation") or _labelled(description, _LOCATION_LABELS)
    if not company:
        at = _TITLE_AT.match(title)
        if at:
            title, company = at["title"], at["company"].strip()
    if not company:
        company = _text(entry.get("author", ""))
    tags = [t.get("term", "") for t in entry.get("tags", []) or [] if isinstance(t, dict) and t.get("term")]
    remote = detect_remote(explicit=_job_field(entry, "remote"), texts=[title, location, description, " ".join(tags)])
    if remote and not location:
        location = "Remote"
    salary = find_salary(explicit=_job_field(entry, "salary", "compensation"), description=description, title=title)
    skills = extract_skills("\n".join([title, " ".join(tags), description]))
    return ParsedListing(
        guid=_clip(guid, GUID_MAX),
        title=_clip(title, TITLE_MAX),
        company=_clip(company, COMPANY_MAX),
        location=_clip(location, LOCATION_MAX),
        remote=remote,
        salary_min=salary.minimum if salary else None,
        salary_max=salary.maximum if salary else None,
        salary_currency=salary.currency if salary else "",
        salary_period=salary.period if salary else "",
        description=_clip(description, DESCRIPTION_MAX),
        url=url if len(url) <= URL_MAX and url.startswith(("http://", "https://")) else "",
        posted_at=_aware(entry.get("published_parsed") or entry.get("updated_parsed")),
        skills=skills,
        language=detect_language(f"{title}\n{description}"),
    )


def rebase_posted_at(listings: list[ParsedListing], *, newest: datetime) -> None:
    """Shift every posting date so the newest one is `newest`, keeping their spacing (demo data
    shipped with fixed dates would otherwise look months old)."""
    dates = [item.posted_at for item in listings if item.posted_at is not None]
    if not dates:
        return
    shift = newest - max(dates)
    for item in listings:
        if item.posted_at is not None:
            item.posted_at = item.posted_at + shift


def parse_feed(body: bytes, *, content_type: str = "") -> ParsedFeed:
    """Parse RSS/Atom bytes (never a URL or a path: feedparser would fetch or open those)."""
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    listings: list[ParsedListing] = []
    seen: set[str] = set()
    for entry in parsed.entries:
        listing = entry_to_listing(entry)
        if listing is None or listing.guid in seen:
            continue  # a feed that repeats a guid keeps its first entry
        seen.add(listing.guid)
        listings.append(listing)
    # Malformed XML from which no usable entry was recovered, or something that is not a feed at all.
    # (A well-formed feed with no entries is fine: an empty board.)
    if not listings and (parsed.get("bozo") or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no RSS or Atom content"
        raise FeedParseError(f"not a readable feed: {reason}")
    warning = ""
    if parsed.get("bozo") and parsed.get("bozo_exception") is not None:
        warning = f"malformed feed, read leniently: {parsed.bozo_exception}"
    return ParsedFeed(title=_text(parsed.feed.get("title", "")), listings=listings, warning=warning)
