"""Work history and education: titles, companies, industries, achievements; degrees, schools, years."""

from __future__ import annotations

import re
from typing import Any

from profiles.resume_heuristics.sections import dedupe

_TITLE_EN = re.compile(
    r"\b(?:(?:Senior|Junior|Lead|Principal|Staff|Associate|Chief|Head of|Graduate|Trainee)\s+)?"
    r"(?:[A-Z][\w/+#.-]*\s+){0,3}"
    r"(?:Engineer|Developer|Programmer|Intern|Analyst|Scientist|Designer|Manager|Consultant|Architect|"
    r"Researcher|Administrator|Specialist|Assistant|Director|Coordinator|Technician)\b(?:\s+Intern)?"
)
_TITLE_JA = re.compile(
    r"[\u30a1-\u30fa\u30fc-\u30ff\u4e00-\u9fffA-Za-z/]{0,12}"
    r"(?:エンジニア|プログラマー?|開発者|インターン|アナリスト|デザイナー|マネージャー|コンサルタント|研究員|リーダー)"
)
_COMPANY_JA = re.compile(
    r"(?:株式会社|有限会社|合同会社|\(株\))\s?[^\s、,()（）]{1,30}|[^\s、,()（）]{1,30}?(?:株式会社|有限会社|合同会社|\(株\))"
)
_COMPANY_EN = re.compile(
    r"(?:[A-Z][\w&.'-]*\s+){0,4}[A-Z][\w&.'-]*,?\s+"
    r"(?:Inc|Corp|Corporation|LLC|Ltd|Limited|GmbH|K\.K|Company|Group|Technologies|Labs?|Systems|Solutions)\b\.?"
)
_BULLET = re.compile(r"^\s*[-•・*●◦▪‣]\s*(.+)$")
_INDUSTRIES = {
    "Fintech": ("fintech", "financial services", "banking", "payments", "金融", "フィンテック", "銀行", "証券"),
    "E-commerce": ("e-commerce", "ecommerce", "online retail", "ECサイト", "通販", "EC事業"),
    "Healthcare": ("healthcare", "medical", "hospital", "医療", "ヘルスケア"),
    "Gaming": ("gaming", "game studio", "video game", "ゲーム"),
    "Education": ("edtech", "education", "教育", "学習塾"),
    "SaaS": ("saas",),
    "Consulting": ("consulting", "コンサルティング"),
    "Manufacturing": ("manufacturing", "製造", "メーカー"),
    "Advertising": ("advertising", "adtech", "広告"),
    "Telecommunications": ("telecom", "telecommunications", "通信"),
    "Retail": ("retail", "小売"),
    "Automotive": ("automotive", "自動車"),
    "Logistics": ("logistics", "物流"),
    "Media": ("media company", "publishing", "メディア", "出版"),
    "Human Resources": ("hr tech", "recruiting", "人材"),
}


def experience(lines: list[str]) -> dict[str, list[str]]:
    titles: list[str] = []
    companies: list[str] = []
    descriptions: list[str] = []
    for line in lines:
        bullet = _BULLET.match(line)
        if bullet:
            descriptions.append(bullet.group(1))
        titles += [m.group(0) for m in _TITLE_EN.finditer(line)] + [m.group(0) for m in _TITLE_JA.finditer(line)]
        companies += [m.group(0) for m in _COMPANY_JA.finditer(line)] + [m.group(0) for m in _COMPANY_EN.finditer(line)]
    joined = "\n".join(lines)
    lowered = joined.lower()
    industries = [
        name
        for name, words in _INDUSTRIES.items()
        if any(
            (word in joined) if not word.isascii() else re.search(rf"\b{re.escape(word)}\b", lowered) for word in words
        )
    ]
    return {
        "job_titles": dedupe(titles, length=100),
        "companies": dedupe(companies, length=100),
        "industries": industries[:10],
        "experience_descriptions": dedupe(descriptions, length=240),
    }


# -- education ------------------------------------------------------------------------------------------

_DEGREE_EN = re.compile(
    # "Bachelor"/"Master" only as degrees ("Master of Science", "Master's"), never "Scrum Master".
    r"\b(?:(?:Bachelor|Master)(?:'?s)?(?=\s+(?:of|in|degree)\b)|Bachelor's|Master's|Ph\.?\s?D|Doctor(?:ate| of)|"
    r"MBA|Associate(?:'s)? degree|B\.S\.|B\.A\.|M\.S\.|M\.A\.|"
    r"B\.Sc|M\.Sc|BSc|MSc|BEng|MEng|B\.Eng|M\.Eng)[^,|;(\t\n]*",
)
_DEGREE_STOP = re.compile(r"\s+(?:[-–—]|at|from)\s+|\s+(?:19|20)\d{2}")
_DEGREE_JA = re.compile(r"(学士|修士|博士)(?:\s*[（(][^）)]{1,20}[）)])?")
_SCHOOL_EN = re.compile(
    r"(?:University of(?:\s+[A-Z][\w.'&-]*)+|(?:[A-Z][\w.'&-]*\s+){1,5}"
    r"(?:University|College|Institute of Technology|Institute|Polytechnic|Academy))"
)
_SCHOOL_JA = re.compile(r"[\u4e00-\u9fff\u30a0-\u30ffー・]{1,20}?(?:大学院|大学|高等専門学校|専門学校|高等学校)")
# Words that make a line an education entry by themselves (a degree or school name does too).
_GRADUATION = re.compile(
    r"graduat|expected\s+(?:graduation|to\s+graduate|(?:in\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|"
    r"19\d\d|20\d\d))|class\s+of|卒業|修了|学位",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<!\d)(?:19[5-9]\d|20\d{2})(?!\d)")
_ENROLLED = re.compile(r"入学|編入|enrolled|enrolment|enrollment|\bstart", re.IGNORECASE)
# A 履歴書's 学歴・職歴 grid mixes schooling with jobs; a job line is never a graduation.
_EMPLOYMENT = re.compile(
    r"入社|退社|退職|入職|転職|株式会社|有限会社|合同会社|\b(?:joined|intern(?:ship)?|inc|ltd|llc|corp)\b|TOEIC|GPA",
    re.IGNORECASE,
)
_COURSEWORK = re.compile(r"(?:relevant coursework|coursework|主な履修科目|履修科目)\s*[:：]\s*(.+)", re.IGNORECASE)


# What a bare date line ("Sep 2019 – Jun 2023", "2019年4月〜2023年3月") may hold besides its years.
_DATE_ONLY_NOISE = re.compile(
    r"\d+|[\s\-–—~〜.,/()（）年月日]|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|"
    r"\b(?:present|current|now|to)\b|現在",
    re.IGNORECASE,
)


def _graduation_year(line: str, *, entry: bool, follows_entry: bool) -> int | None:
    """The year an education line says someone graduated (or will), or None.

    Only education entries count: a line naming a school or a degree, or saying 卒業 / graduated /
    expected graduation, or a bare date line right under such an entry ("Sep 2019 – Jun 2023").
    Enrolment lines (入学, "started") and job lines in a 学歴・職歴 grid never do; of a range, the end.
    """
    found = [int(y) for y in _YEAR.findall(line)]
    if not found:
        return None
    says_graduated = bool(_GRADUATION.search(line))
    if _EMPLOYMENT.search(line) and not says_graduated:
        return None
    if _ENROLLED.search(line) and not says_graduated:
        return None
    if entry or says_graduated:
        return max(found)
    if follows_entry and not _DATE_ONLY_NOISE.sub("", line):
        return max(found)
    return None


def education(lines: list[str], *, section: bool) -> dict[str, list[Any]]:
    """Degrees, schools, graduation years, coursework; `section`: the lines are the education section."""
    degrees: list[str] = []
    schools: list[str] = []
    years: list[int] = []
    coursework: list[str] = []
    previous_entry = False
    for line in lines:
        line_degrees = [_DEGREE_STOP.split(match.group(0))[0] for match in _DEGREE_EN.finditer(line)]
        found_ja = [m.group(0) for m in _DEGREE_JA.finditer(line)]
        line_degrees += found_ja
        if not found_ja and "大学院" in line and "修了" in line:
            line_degrees.append("修士")
        elif not found_ja and "大学" in line and "大学院" not in line and "卒業" in line:
            line_degrees.append("学士")
        line_schools = [m.group(0).strip() for m in _SCHOOL_EN.finditer(line)] + [
            m.group(0) for m in _SCHOOL_JA.finditer(line)
        ]
        degrees += line_degrees
        schools += line_schools
        entry = bool(line_degrees or line_schools)
        year = _graduation_year(line, entry=entry, follows_entry=previous_entry and section)
        if year is not None:
            years.append(year)
        if line.strip():
            previous_entry = entry and year is None
        course = _COURSEWORK.search(line)
        if course:
            coursework += re.split(r"\s*[,、/・;]\s*", course.group(1))
    return {
        "degrees": dedupe(degrees, length=120),
        "institutions": dedupe(schools, length=150),
        "graduation_years": sorted(set(years))[:10],
        "relevant_coursework": dedupe(coursework, limit=20, length=100),
    }
