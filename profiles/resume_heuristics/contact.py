"""Contact and personal details: email, phone (Japanese and international formats), name, location,
work authorization."""

from __future__ import annotations

import re

from profiles.resume_heuristics.sections import heading

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w+])(\+?\(?\d[\d\s().-]{7,18}\d)(?![\w])")
_PHONE_LABEL = re.compile(r"phone|tel|mobile|cell|電話|携帯|連絡先", re.IGNORECASE)
_DATE_LIKE = re.compile(r"(?:19|20)\d{2}\s*[./-]\s*\d{1,2}(?:\D|$)")


def find_email(text: str) -> str | None:
    match = _EMAIL.search(text)
    return match.group(0)[:254] if match else None


def find_phone(text: str) -> str | None:
    """A phone number: 090-1234-5678, 03-1234-5678, +81 90 1234 5678, +1 (415) 555-0100."""
    lines = text.splitlines()
    labelled = [line for line in lines if _PHONE_LABEL.search(line)]
    for line in labelled + lines:
        for match in _PHONE.finditer(line):
            candidate = match.group(1).strip()
            digits = re.sub(r"\D", "", candidate)
            if not 10 <= len(digits) <= 15 or _DATE_LIKE.search(candidate):
                continue
            if candidate.startswith("+") or digits.startswith("0") or re.search(r"[\s().-]", candidate):
                return candidate[:50]
    return None


_NAME_LABEL = re.compile(r"^(?:氏\s*名|名\s*前|full name|name)\s*[:：\t ]\s*(.+)$", re.IGNORECASE)
_TITLE_WORDS = re.compile(r"^(?:resume|résumé|curriculum vitae|cv|履歴書|職務経歴書)$", re.IGNORECASE)
_EN_NAME = re.compile(r"^[A-Z][A-Za-z.'-]+(?:\s+[A-Z][A-Za-z.'-]*){1,3}$")
_JA_NAME = re.compile(
    r"^[\u4e00-\u9fff\u30a0-\u30ff\u3040-\u309f々]{1,6}\s?[\u4e00-\u9fff\u30a0-\u30ff\u3040-\u309f々]{1,6}$"
)
_HIRAGANA_ONLY = re.compile(r"^[\u3040-\u309f\s]+$")


def find_name(lines: list[str]) -> str | None:
    for line in lines:
        match = _NAME_LABEL.match(line.strip())
        if match and not re.search(r"[\d@]", match.group(1)):
            return match.group(1).strip()[:100]
    for line in [line.strip() for line in lines if line.strip()][:6]:
        if _TITLE_WORDS.match(line) or "現在" in line or re.search(r"[\d@]", line):
            continue
        if _EN_NAME.match(line) and len(line) <= 60 and not heading(line):
            return line
        if _JA_NAME.match(line) and not _HIRAGANA_ONLY.match(line) and not _ADDRESS.search(line):
            return line
    return None


_ADDRESS = re.compile(
    r"(?:東京都|北海道|大阪府|京都府|[\u4e00-\u9fff]{2,3}県)(?:[\u4e00-\u9fff\u30a0-\u30ff]{1,8}?[市区町村])?"
)
_LOCATION_LABEL = re.compile(r"^(?:location|address|based in|現住所|住所|所在地)\s*[:：\t]\s*(.+)$", re.IGNORECASE)
_CITY_REGION = re.compile(r"^[A-Z][A-Za-z .'-]{1,40},\s*[A-Z][A-Za-z .'-]{1,40}$")


def find_location(lines: list[str], header: list[str]) -> str | None:
    for line in lines:
        match = _LOCATION_LABEL.match(line.strip())
        if match:
            value = match.group(1).strip()
            address = _ADDRESS.search(value)  # prefecture and city, not the street address
            return (address.group(0) if address else value)[:120]
    for line in header[:8]:
        for part in re.split(r"\s*[|·•/]\s*", line.strip()):
            if _CITY_REGION.match(part) and "@" not in part:
                return part[:120]
        address = _ADDRESS.search(line)
        if address:
            return address.group(0)
    return None


_AUTH_LABEL = re.compile(r"(?:work authori[sz]ation|visa(?: status)?|在留資格|就労資格)\s*[:：]\s*(.+)", re.IGNORECASE)
_AUTH_WORDS = re.compile(r"U\.?S\.? citizen|green card|permanent resident|H-1B|OPT|永住者|日本国籍", re.IGNORECASE)


def find_work_authorization(text: str) -> str | None:
    match = _AUTH_LABEL.search(text)
    if match:
        return match.group(1).strip()[:100]
    match = _AUTH_WORDS.search(text)
    return match.group(0)[:100] if match else None
