"""The rule-based resume parser: RESUME_PARSE's fallback (no model, deterministic, honest).

It reads English resumes and Japanese ones (履歴書 with its 氏名 / 学歴・職歴 grid, 職務経歴書 with
its 職務要約 / 職務経歴 sections): contact details by pattern, skills through the shared dictionary
(catalog.skills), years from explicit mentions or the date ranges of the experience section,
education from degree and school keywords. What it cannot know (AI insights) it says it doesn't.
`parse_resume` returns a plain dict shaped like profiles.llm.ParsedResume.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from catalog.skills import extract_skills, skills_by_category

NOT_AVAILABLE = {
    "en": "Not available: generated without a model.",
    "ja": "未生成：AIモデルを使わずに作成したため、分析はありません。",
}

# -- sections ----------------------------------------------------------------------------------------

_HEADINGS = {
    "summary": (
        "summary", "professional summary", "profile", "objective", "career objective", "about me",
        "職務要約", "自己pr", "自己紹介", "要約", "概要", "志望動機",
    ),
    "experience": (
        "experience", "work experience", "professional experience", "employment", "employment history",
        "work history", "internships", "internship experience", "職歴", "職務経歴", "職務経歴詳細", "経歴",
        "業務経験", "職務内容",
    ),
    "education": ("education", "academic background", "学歴", "学歴・職歴", "学歴職歴"),
    "skills": (
        "skills", "technical skills", "skills & tools", "certifications", "技術スキル", "スキル", "保有スキル",
        "活かせる経験・知識・技術", "資格", "免許・資格", "テクニカルスキル",
    ),
    "projects": ("projects", "personal projects", "プロジェクト", "開発実績"),
    "preferences": ("preferences", "job preferences", "本人希望記入欄", "希望条件", "希望"),
}
_HEADING_OF = {name: section for section, names in _HEADINGS.items() for name in names}
_DECORATION = re.compile(r"^[\s■□●◆◇▼▽★☆#*=\-【\[(]+|[\s】\])*:=\-]+$")


def _heading(line: str) -> str | None:
    key = _DECORATION.sub("", line).strip().lower()
    return _HEADING_OF.get(key) if len(key) <= 40 else None


def split_sections(lines: list[str]) -> dict[str, list[str]]:
    """Lines grouped under the section heading above them ("header" before the first heading)."""
    sections: dict[str, list[str]] = {"header": []}
    current = "header"
    for line in lines:
        section = _heading(line)
        if section is not None:
            current = section
            sections.setdefault(current, [])
            continue
        sections.setdefault(current, []).append(line)
    return sections


# -- dates -------------------------------------------------------------------------------------------

_ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925}
_ERA_YEAR = re.compile(r"(令和|平成|昭和)\s*(元|\d{1,2})\s*年")
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
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
        rest = line[first.end():]
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


# -- contact and personal details ------------------------------------------------------------------

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
_JA_NAME = re.compile(r"^[\u4e00-\u9fff\u30a0-\u30ff\u3040-\u309f々]{1,6}\s?[\u4e00-\u9fff\u30a0-\u30ff\u3040-\u309f々]{1,6}$")
_HIRAGANA_ONLY = re.compile(r"^[\u3040-\u309f\s]+$")


def find_name(lines: list[str]) -> str | None:
    for line in lines:
        match = _NAME_LABEL.match(line.strip())
        if match and not re.search(r"[\d@]", match.group(1)):
            return match.group(1).strip()[:100]
    for line in [line.strip() for line in lines if line.strip()][:6]:
        if _TITLE_WORDS.match(line) or "現在" in line or re.search(r"[\d@]", line):
            continue
        if _EN_NAME.match(line) and len(line) <= 60 and not _heading(line):
            return line
        if _JA_NAME.match(line) and not _HIRAGANA_ONLY.match(line) and not _ADDRESS.search(line):
            return line
    return None


_ADDRESS = re.compile(r"(?:東京都|北海道|大阪府|京都府|[\u4e00-\u9fff]{2,3}県)(?:[\u4e00-\u9fff\u30a0-\u30ff]{1,8}?[市区町村])?")
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


# -- experience ---------------------------------------------------------------------------------------

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
_COMPANY_JA = re.compile(r"(?:株式会社|有限会社|合同会社|\(株\))\s?[^\s、,()（）]{1,30}|[^\s、,()（）]{1,30}?(?:株式会社|有限会社|合同会社|\(株\))")
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


def _dedupe(values: list[str], *, limit: int = 10, length: int = 200) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        value = value.strip(" \t,、。.-–—|")[:length]
        if value and value.lower() not in seen:
            seen[value.lower()] = value
    return list(seen.values())[:limit]


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
        if any((word in joined) if not word.isascii() else re.search(rf"\b{re.escape(word)}\b", lowered) for word in words)
    ]
    return {
        "job_titles": _dedupe(titles, length=100),
        "companies": _dedupe(companies, length=100),
        "industries": industries[:10],
        "experience_descriptions": _dedupe(descriptions, length=240),
    }


# -- education ------------------------------------------------------------------------------------------

_DEGREE_EN = re.compile(
    r"\b(?:Bachelor|Master|Ph\.?\s?D|Doctor(?:ate| of)|MBA|Associate(?:'s)? degree|B\.S\.|B\.A\.|M\.S\.|M\.A\.|"
    r"B\.Sc|M\.Sc|BSc|MSc|BEng|MEng|B\.Eng|M\.Eng)[^,|;(\t\n]*",
)
_DEGREE_STOP = re.compile(r"\s+(?:[-–—]|at|from)\s+|\s+(?:19|20)\d{2}")
_DEGREE_JA = re.compile(r"(学士|修士|博士)(?:\s*[（(][^）)]{1,20}[）)])?")
_SCHOOL_EN = re.compile(
    r"(?:University of(?:\s+[A-Z][\w.'&-]*)+|(?:[A-Z][\w.'&-]*\s+){1,5}"
    r"(?:University|College|Institute of Technology|Institute|Polytechnic|Academy))"
)
_SCHOOL_JA = re.compile(r"[\u4e00-\u9fff\u30a0-\u30ffー・]{1,20}?(?:大学院|大学|高等専門学校|専門学校|高等学校)")
_GRADUATION = re.compile(r"graduat|expected|class of|卒業|修了|degree|bachelor|master|ph\.?d|学士|修士|博士", re.IGNORECASE)
_YEAR = re.compile(r"(?:19|20)\d{2}")
_ENROLLED = re.compile(r"入学|enrolled|start", re.IGNORECASE)
_COURSEWORK = re.compile(r"(?:relevant coursework|coursework|主な履修科目|履修科目)\s*[:：]\s*(.+)", re.IGNORECASE)


def education(lines: list[str], *, section: bool) -> dict[str, list[Any]]:
    """Degrees, schools, graduation years, coursework; `section`: the lines are the education section."""
    degrees: list[str] = []
    schools: list[str] = []
    years: list[int] = []
    coursework: list[str] = []
    for line in lines:
        for match in _DEGREE_EN.finditer(line):
            degrees.append(_DEGREE_STOP.split(match.group(0))[0])
        found_ja = [m.group(0) for m in _DEGREE_JA.finditer(line)]
        degrees += found_ja
        if not found_ja and "大学院" in line and "修了" in line:
            degrees.append("修士")
        elif not found_ja and "大学" in line and "大学院" not in line and "卒業" in line:
            degrees.append("学士")
        schools += [m.group(0).strip() for m in _SCHOOL_EN.finditer(line)] + [m.group(0) for m in _SCHOOL_JA.finditer(line)]
        if _GRADUATION.search(line) or (section and not _ENROLLED.search(line)):
            line_years = [int(y) for y in _YEAR.findall(line)]
            if line_years:
                years.append(max(line_years))
        course = _COURSEWORK.search(line)
        if course:
            coursework += re.split(r"\s*[,、/・;]\s*", course.group(1))
    return {
        "degrees": _dedupe(degrees, length=120),
        "institutions": _dedupe(schools, length=150),
        "graduation_years": sorted(set(years))[:10],
        "relevant_coursework": _dedupe(coursework, limit=20, length=100),
    }


# -- preferences --------------------------------------------------------------------------------------

_PREF_LINE = re.compile(r"希望|seeking|looking for|desired|preferred|objective|interested in|job types?", re.IGNORECASE)
_ROLES = re.compile(r"(?:desired (?:roles?|positions?)|target roles?|希望職種)\s*[:：]\s*(.+)", re.IGNORECASE)
_PLACES = re.compile(r"(?:preferred locations?|location preference|希望勤務地)\s*[:：]\s*(.+)", re.IGNORECASE)
_SALARY = re.compile(r"(?:desired salary|salary expectations?|expected salary|希望年収|希望給与)\s*[:：]\s*(.+)", re.IGNORECASE)
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
        "desired_roles": _dedupe(re.split(r"\s*[,、/・]\s*", roles.group(1)), length=100) if roles else [],
        "preferred_locations": _dedupe(re.split(r"\s*[,、/・]\s*", places.group(1)), length=100) if places else [],
        "salary_range_min": low,
        "salary_range_max": high,
        "job_types": [name for name, words in _JOB_TYPES.items() if any(word in pref_text for word in words)],
        "company_size_preference": [
            name for name, words in _COMPANY_SIZES.items() if any(word in pref_text for word in words)
        ],
    }


# -- the whole resume ---------------------------------------------------------------------------------

_STUDENT = re.compile(r"student|undergraduate|学生|新卒", re.IGNORECASE)
_STILL_STUDYING = re.compile(r"expected graduation|graduating in|在学中|卒業見込み|修了見込み", re.IGNORECASE)
_LEVELS = ((1, "entry"), (3, "junior"), (7, "mid"), (12, "senior"))


def career_level(years: float | None, *, text: str, titles: list[str]) -> str:
    years = years or 0.0
    # Internships add years while someone is still studying: a graduation ahead outweighs them.
    if (years < 3 and _STILL_STUDYING.search(text)) or (years < 1 and _STUDENT.search(text)):
        return "student"
    level = next((name for limit, name in _LEVELS if years < limit), "lead")
    joined = " ".join(titles)
    if years >= 5 and re.search(r"Lead|Principal|Head|Director|Manager|テックリード|マネージャー", joined):
        return "lead"
    if years >= 3 and level in ("junior", "mid") and re.search(r"Senior|シニア", joined):
        return "senior"
    return level


def _summary(sections: dict[str, list[str]], *, language: str, title: str | None, years: float | None,
             skills: list[str], level: str) -> str:
    written = " ".join(line.strip() for line in sections.get("summary", []) if line.strip())
    if written:
        return written[:800]
    top = skills[:5]
    if language == "ja":
        role = title or ("学生" if level == "student" else "候補者")
        years_part = f"{years:g}年の実務経験を持つ" if years else ""
        skills_part = f"主なスキルは{'、'.join(top)}です。" if top else ""
        return f"{years_part}{role}です。{skills_part}"
    role = title or ("Student" if level == "student" else "Candidate")
    years_part = f" with {years:g} years of experience" if years else ""
    skills_part = f", skilled in {', '.join(top)}" if top else ""
    return f"{role}{years_part}{skills_part}."


def parse_resume(text: str, *, language: str, as_of: date) -> dict[str, Any]:
    """Everything the rules can find in a resume, shaped like profiles.llm.ParsedResume."""
    text = western_years(text)
    lines = [line.rstrip() for line in text.splitlines()]
    sections = split_sections(lines)
    has_sections = len(sections) > 1
    experience_lines = (sections.get("experience", []) + sections.get("projects", [])) if has_sections else lines
    education_lines = sections.get("education", []) if has_sections else lines
    if has_sections and not education_lines:  # a 履歴書 may name no 学歴 heading: look everywhere
        education_lines = lines

    skills = extract_skills(text)
    grouped = skills_by_category(skills)
    years = years_of_experience(text, experience_lines, as_of=as_of)
    work = experience(experience_lines + sections.get("header", [])[:6])
    level = career_level(years, text=text, titles=work["job_titles"])
    title = work["job_titles"][0] if work["job_titles"] else None
    na = NOT_AVAILABLE["ja" if language == "ja" else "en"]
    return {
        "personal_info": {
            "full_name": find_name(lines),
            "email": find_email(text),
            "phone": find_phone(text),
            "location": find_location(lines, sections.get("header", [])),
            "work_authorization": find_work_authorization(text),
        },
        "professional_summary": _summary(
            sections, language=language, title=title, years=years, skills=skills, level=level
        ),
        "years_of_experience": years,
        "career_level": level,
        "skills": {category: values[:40] for category, values in grouped.items()},
        "experience": work,
        "education": education(education_lines, section="education" in sections),
        "preferences": preferences(lines, sections.get("preferences", [])),
        "insights": {"profile_summary": na, "strengths": [], "improvement_areas": [], "career_advice": na},
    }
