"""The rule-based resume parser: RESUME_PARSE's fallback (no model, deterministic, honest).

It reads English resumes and Japanese ones (履歴書 with its 氏名 / 学歴・職歴 grid, 職務経歴書 with
its 職務要約 / 職務経歴 sections): contact details by pattern, skills through the shared dictionary
(catalog.jobs.skills), years from explicit mentions or the date ranges of the experience section,
education from degree and school keywords. What it cannot know (AI insights) it says it doesn't.
`parse_resume` returns a plain dict shaped like profiles.llm.ParsedResume.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from catalog.jobs.skills import extract_skills, skills_by_category
from profiles.resume_heuristics.contact import find_email, find_location, find_name, find_phone, find_work_authorization
from profiles.resume_heuristics.dates import western_years, years_of_experience
from profiles.resume_heuristics.history import education, experience
from profiles.resume_heuristics.preferences import preferences
from profiles.resume_heuristics.sections import split_sections

__all__ = ["NOT_AVAILABLE", "find_email", "find_phone", "parse_resume", "western_years"]

NOT_AVAILABLE = {
    "en": "Not available: generated without a model.",
    "ja": "未生成：AIモデルを使わずに作成したため、分析はありません。",
}


_STUDENT = re.compile(r"student|undergraduate|学生|新卒", re.IGNORECASE)
_STILL_STUDYING = re.compile(r"expected graduation|graduating in|在学中|卒業見込み|修了見込み", re.IGNORECASE)
_LEVELS = ((1, "entry"), (3, "junior"), (7, "mid"), (12, "senior"))


def career_level(years: float | None, *, text: str, titles: list[str], graduation_years: list[int], as_of: date) -> str:
    years = years or 0.0
    # Internships add years while someone is still studying: a graduation ahead outweighs them
    # ("卒業見込み 2025" read in 2026 is a graduate).
    studying = _STILL_STUDYING.search(text) and max(graduation_years, default=as_of.year) >= as_of.year
    if (years < 3 and studying) or (years < 1 and _STUDENT.search(text)):
        return "student"
    level = next((name for limit, name in _LEVELS if years < limit), "lead")
    joined = " ".join(titles)
    if years >= 5 and re.search(r"Lead|Principal|Head|Director|Manager|テックリード|マネージャー", joined):
        return "lead"
    if years >= 3 and level in ("junior", "mid") and re.search(r"Senior|シニア", joined):
        return "senior"
    return level


def _summary(
    sections: dict[str, list[str]],
    *,
    language: str,
    title: str | None,
    years: float | None,
    skills: list[str],
    level: str,
) -> str:
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
    schooling = education(education_lines, section="education" in sections)
    level = career_level(
        years, text=text, titles=work["job_titles"], graduation_years=schooling["graduation_years"], as_of=as_of
    )
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
        "education": schooling,
        "preferences": preferences(lines, sections.get("preferences", [])),
        "insights": {"profile_summary": na, "strengths": [], "improvement_areas": [], "career_advice": na},
    }
