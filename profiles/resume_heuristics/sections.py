"""Section headings of English and Japanese resumes, and list clean-up shared by the parsers."""

from __future__ import annotations

import re

_HEADINGS = {
    "summary": (
        "summary",
        "professional summary",
        "profile",
        "objective",
        "career objective",
        "about me",
        "職務要約",
        "自己pr",
        "自己紹介",
        "要約",
        "概要",
        "志望動機",
    ),
    "experience": (
        "experience",
        "work experience",
        "professional experience",
        "employment",
        "employment history",
        "work history",
        "internships",
        "internship experience",
        "職歴",
        "職務経歴",
        "職務経歴詳細",
        "経歴",
        "業務経験",
        "職務内容",
    ),
    "education": ("education", "academic background", "学歴", "学歴・職歴", "学歴職歴"),
    "skills": (
        "skills",
        "technical skills",
        "skills & tools",
        "certifications",
        "技術スキル",
        "スキル",
        "保有スキル",
        "活かせる経験・知識・技術",
        "資格",
        "免許・資格",
        "テクニカルスキル",
    ),
    "projects": ("projects", "personal projects", "プロジェクト", "開発実績"),
    "preferences": ("preferences", "job preferences", "本人希望記入欄", "希望条件", "希望"),
}
_HEADING_OF = {name: section for section, names in _HEADINGS.items() for name in names}
_DECORATION = re.compile(r"^[\s■□●◆◇▼▽★☆#*=\-【\[(]+|[\s】\])*:=\-]+$")


def heading(line: str) -> str | None:
    key = _DECORATION.sub("", line).strip().lower()
    return _HEADING_OF.get(key) if len(key) <= 40 else None


def split_sections(lines: list[str]) -> dict[str, list[str]]:
    """Lines grouped under the section heading above them ("header" before the first heading)."""
    sections: dict[str, list[str]] = {"header": []}
    current = "header"
    for line in lines:
        section = heading(line)
        if section is not None:
            current = section
            sections.setdefault(current, [])
            continue
        sections.setdefault(current, []).append(line)
    return sections


def dedupe(values: list[str], *, limit: int = 10, length: int = 200) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        value = value.strip(" \t,、。.-–—|")[:length]
        if value and value.lower() not in seen:
            seen[value.lower()] = value
    return list(seen.values())[:limit]
