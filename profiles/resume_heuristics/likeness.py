"""Does this text look like a resume at all? An invoice or a product manual read as a resume gives a
confident-looking garbage profile, so an upload below RESUME_MIN_CONFIDENCE is refused with the reason.

The score adds what resumes have (contact details, resume headings, skills, job titles, schools and
dates, the words resume / 履歴書) and takes off what other documents have (invoice and manual
vocabulary). It is deliberately lenient: a short resume with an email and a few skills passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from catalog.jobs.skills import SKILL_CATEGORIES, extract_skills
from profiles.resume_heuristics.contact import find_email, find_phone
from profiles.resume_heuristics.sections import split_sections

_RESUME_WORDS = re.compile(
    r"\b(?:resume|résumé|curriculum vitae|CV)\b|履歴書|職務経歴書|氏名|学歴|職歴|自己PR", re.IGNORECASE
)
_TITLES = re.compile(
    r"\b(?:engineer|developer|programmer|intern|analyst|scientist|designer|manager|consultant|student|"
    r"researcher|assistant|specialist)\b|エンジニア|開発者|インターン|アナリスト|デザイナー|学生",
    re.IGNORECASE,
)
_SCHOOLING = re.compile(
    r"\b(?:university|college|institute|bachelor|master|degree|B\.?S\.?c?)\b|大学|学部|高等学校|卒業", re.IGNORECASE
)
_YEAR = re.compile(r"(?<!\d)(?:19[5-9]\d|20\d{2})(?!\d)")
# (what it reads like, its vocabulary): each distinct word found costs NEGATIVE_PER_WORD.
_OTHER_DOCUMENTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "an invoice",
        re.compile(
            r"\b(?:invoice|bill to|subtotal|sub-total|total due|amount due|balance due|unit price|qty|"
            r"payment terms|due date|vat|remit)\b|請求書|御請求|小計|合計金額|消費税|振込先|支払期限|単価|数量",
            re.IGNORECASE,
        ),
    ),
    (
        "a manual",
        re.compile(
            r"\b(?:chapter|table of contents|troubleshooting|specifications|installation|warning|caution|"
            r"user manual|user guide|safety instructions|press the|figure \d+)\b"
            r"|取扱説明書|目次|第\d+章|警告|注意事項|仕様",
            re.IGNORECASE,
        ),
    ),
)
NEGATIVE_PER_WORD = 0.15


@dataclass(frozen=True)
class Likeness:
    score: float  # 0..1
    found: list[str] = field(default_factory=list)  # what made it look like a resume
    reads_like: str = ""  # "an invoice", "a manual" or ""
    against: list[str] = field(default_factory=list)  # the words that made it read like that

    def reason(self, *, japanese: bool = False) -> str:
        if self.reads_like:
            words = ", ".join(self.against[:4])
            if japanese:
                return f"履歴書ではなく{_JA_KIND.get(self.reads_like, '別の文書')}のようです（{words}）。"
            return f"it reads like {self.reads_like} ({words})"
        if japanese:
            return "連絡先・職歴・学歴・スキルのいずれも見つかりませんでした。"
        return "no contact details, work history, education or skills were found"


_JA_KIND = {"an invoice": "請求書", "a manual": "取扱説明書"}


def resume_likeness(text: str) -> Likeness:
    """How much `text` looks like a resume (0..1) and why."""
    score = 0.0
    found: list[str] = []
    if find_email(text):
        score, found = score + 0.15, [*found, "email"]
    if find_phone(text):
        score, found = score + 0.1, [*found, "phone"]
    headings = set(split_sections(text.splitlines())) - {"header"}
    if headings:
        score += min(0.3, 0.1 * len(headings))
        found.append("sections: " + ", ".join(sorted(headings)))
    technical = [s for s in extract_skills(text) if SKILL_CATEGORIES.get(s) != "soft_skills"]
    if technical:
        score += 0.3 if len(technical) >= 5 else 0.2 if len(technical) >= 3 else 0.1
        found.append(f"{len(technical)} skill(s)")
    if _TITLES.search(text):
        score, found = score + 0.1, [*found, "job title"]
    if _SCHOOLING.search(text) and _YEAR.search(text):
        score, found = score + 0.15, [*found, "education"]
    if _RESUME_WORDS.search(text):
        score, found = score + 0.2, [*found, "resume words"]
    worst = ""
    worst_words: list[str] = []
    for kind, vocabulary in _OTHER_DOCUMENTS:
        words = list(dict.fromkeys(match.group(0).lower() for match in vocabulary.finditer(text)))
        if len(words) > len(worst_words):
            worst, worst_words = kind, words
    score -= NEGATIVE_PER_WORD * len(worst_words)
    return Likeness(
        score=round(min(max(score, 0.0), 1.0), 2),
        found=found,
        reads_like=worst if len(worst_words) >= 2 else "",
        against=worst_words,
    )
