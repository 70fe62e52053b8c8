"""Job preferences: desired roles and places, salary (万円 and $/k), job types, company sizes."""

from __future__ import annotations

import re
from typing import Any

from profiles.resume_heuristics.sections import dedupe

_PREF_LINE = re.compile(r"希望|seeking|looking for|desired|preferred|objective|interested in|job types?", re.IGNORECASE)
_ROLES = re.compile(r"(?:desired (?:roles?|positions?)|target roles?|希望職種)\s*[:：]\s*(.+)", re.IGNORECASE)
_PLACES = re.compile(r"(?:preferred locations?|location preference|希望勤務地)\s*[:：]\s*(.+)", re.IGNORECASE)
_SALARY = re.compile(
    r"(?:desired salary|salary expectations?|expected salary|希望年収|希望給与)\s*[:：]\s*(.+)", re.IGNORECASE
)
_AMOUNT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*(万円|万|k\b|K\b)?")
_JOB_TYPES = {
    "full-time": ("full-time", "full time", "正社員"),
    "part-time": ("part-time", "part time", "アルバイト", "パート"),
    "internship": ("internship", "インターン"),
    "contract": ("contract", "契約社員", "業務委託"),
    "new graduate": ("new grad", "new graduate", "新卒"),
}
_COMPANY_SIZES = {
    "startup": ("startup", "start-up", "スタートアップ", "ベンチャー"),
    "small and medium": ("small company", "mid-size", "中小企業"),
    "large enterprise": ("large enterprise", "large company", "enterprise", "大手", "大企業"),
}


def _amounts(value: str) -> list[int]:
    amounts = []
    for number, unit in _AMOUNT.findall(value):
        amount = float(number.replace(",", ""))
        amount *= {"万円": 10_000, "万": 10_000, "k": 1000, "K": 1000}.get(unit, 1)
        if amount >= 1000:
            amounts.append(int(amount))
    return amounts


def preferences(lines: list[str], section: list[str]) -> dict[str, Any]:
    """Desired roles, places, salary, job types, company sizes: from labelled lines and the preferences section."""
    text = "\n".join(lines)
    pref_text = "\n".join(section + [line for line in lines if _PREF_LINE.search(line)]).lower()
    roles = _ROLES.search(text)
    places = _PLACES.search(text)
    salary = _SALARY.search(text)
    amounts = _amounts(salary.group(1)) if salary else []
    low = min(amounts) if amounts else None
    high = max(amounts) if len(amounts) >= 2 else None
    return {
        "desired_roles": dedupe(re.split(r"\s*[,、/・]\s*", roles.group(1)), length=100) if roles else [],
        "preferred_locations": dedupe(re.split(r"\s*[,、/・]\s*", places.group(1)), length=100) if places else [],
        "salary_range_min": low,
        "salary_range_max": high,
        "job_types": [name for name, words in _JOB_TYPES.items() if any(word in pref_text for word in words)],
        "company_size_preference": [
            name for name, words in _COMPANY_SIZES.items() if any(word in pref_text for word in words)
        ],
    }
