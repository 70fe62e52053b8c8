"""Rendering a job email: responsive table layout, CSS inlined (css-inline), a plain-text part,
UTF-8, BudouX phrase breaks for Japanese. Model text is escaped (Django autoescape through
`phrase_breaks`); every link is ours: signed click redirects (emails.tracking) to each job, the
open pixel, the person's preference page and the one-click unsubscribe.

A run renders thousands of emails that share jobs, so each job's card is rendered and inlined once
per (job, language, line) with random placeholders for its click URL and call to action, and each
email only fills those in. The text part is built from the same data (not converted from HTML).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import css_inline
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString

from emails import tracking
from emails.jobmail.llm import JobEmailOutput
from emails.jobmail.sections import Section
from emails.jobmail.selectors import JobInfo
from emails.rendering import RenderedEmail
from emails.templatetags.email_text import phrase_breaks
from profiles.matching.prefilter import is_remote_text

EMAIL_TEMPLATE = "emails/jobmail/email.html"
CARD_TEMPLATE = "emails/jobmail/card.html"
CARD_CSS = """
.job { border-top: 1px solid #e4e7eb; }
.job-cell { padding: 14px 0; font-family: -apple-system, "Segoe UI", "Hiragino Sans", Meiryo, Arial, sans-serif; }
.job-title { color: #0b69a3; font-size: 16px; line-height: 1.4; font-weight: bold; text-decoration: none; }
.job-meta { color: #616e7c; font-size: 13px; line-height: 1.5; margin-top: 4px; }
.job-line { color: #323f4b; font-size: 14px; line-height: 1.6; margin-top: 6px; }
.cta { margin-top: 10px; }
.cta-cell { border-radius: 4px; background-color: #0b69a3; }
.cta-link { display: inline-block; padding: 7px 14px; color: #ffffff; font-size: 13px; font-weight: bold;
  text-decoration: none; }
"""
# Placeholders that no escaped text can contain (random per process).
_TOKEN = secrets.token_hex(8)
CLICK_TOKEN = f"https://click.invalid/{_TOKEN}"
CTA_TOKEN = f"cta{_TOKEN}"
SECTION_TOKEN = f"<!--section-{_TOKEN}-"

LABELS = {
    "en": {
        "empty": "Nothing for this section this week.",
        "remote": "remote possible",
        "undisclosed": "Company not disclosed",
        "footer": "You get this weekly email because you have a ContentOps profile.",
        "preferences": "Email preferences",
        "unsubscribe": "Unsubscribe",
        "rule_based": "This week's wording is rule-based.",
        "text_cta": "{cta}",
    },
    "ja": {
        "empty": "今週はこのセクションの求人はありません。",
        "remote": "リモート可",
        "undisclosed": "企業名非公開",
        "footer": "ContentOpsのプロフィールをお持ちの方に毎週お送りしています。",
        "preferences": "配信設定",
        "unsubscribe": "配信停止",
        "rule_based": "今週の文面はルールベースで作成されています。",
        "text_cta": "{cta}",
    },
}

_inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


@lru_cache(maxsize=8192)
def _phrased(text: str, language: str) -> SafeString:
    """`phrase_breaks` (escapes, then adds <wbr> for Japanese) memoized: words recur across emails."""
    return phrase_breaks(text, language)


@lru_cache(maxsize=20000)
def _card(job: JobInfo, language: str, line: str) -> str:
    labels = LABELS[language]
    context = {
        "job": job,
        "line": line,
        "language": language,
        "labels": labels,
        "remote": job.remote and not is_remote_text(job.location),
        "click": CLICK_TOKEN,
        "cta": CTA_TOKEN,
    }
    return css_inline.inline_fragment(render_to_string(CARD_TEMPLATE, context), CARD_CSS, load_remote_stylesheets=False)


@dataclass(frozen=True)
class Links:
    open_url: str
    unsubscribe_url: str
    preferences_url: str


def job_email_render(
    *,
    email_id: int,
    language: str,
    words: JobEmailOutput,
    sections: list[Section],
    jobs: dict[int, JobInfo],
    lines: dict[tuple[int, str], tuple[str, bool]],
    links: Links,
    is_fallback: bool = False,
) -> tuple[RenderedEmail, list[dict[str, Any]]]:
    """The email (subject, HTML, text) and the stored form of its sections."""
    labels = LABELS[language]
    stored: list[dict[str, Any]] = []
    context_sections = []
    cards_html: list[str] = []
    text = [words.greeting, "", words.introduction, ""]
    for index, (section, copy) in enumerate(zip(sections, words.sections, strict=True)):
        cta_html = _phrased(copy.cta, language)
        chunks = []
        jobs_stored = []
        text += [f"■ {copy.title}", copy.intro]
        if not section.picks:
            text.append(labels["empty"])
        for pick in section.picks:
            job = jobs[pick.job_id]
            line, line_fallback = lines.get((job.id, language), ("", True))
            click = tracking.click_url(email_id=email_id, job_id=job.id)
            card = _card(job, language, line)
            chunks.append(card.replace(CLICK_TOKEN, escape(click)).replace(CTA_TOKEN, str(cta_html)))
            meta = " · ".join(x for x in (job.company or labels["undisclosed"], job.location, job.salary) if x)
            text += [f"- {job.title} ({meta})"] + ([f"  {line}"] if line else []) + [f"  {copy.cta}: {click}"]
            jobs_stored.append(
                {
                    "job_id": job.id,
                    "title": job.title,
                    "company": job.company,
                    "location": job.location,
                    "remote": job.remote,
                    "salary": job.salary,
                    "line": line,
                    "line_is_fallback": line_fallback,
                    "source": pick.source,
                    "fit": pick.fit,
                }
            )
        text.append("")
        cards_html.append("".join(chunks))
        context_sections.append(
            {
                "title": _phrased(copy.title, language),
                "intro": _phrased(copy.intro, language),
                "count": len(section.picks),
                "placeholder": f"{SECTION_TOKEN}{index}-->",
            }
        )
        stored.append(
            {
                "key": section.key,
                "title": copy.title,
                "intro": copy.intro,
                "cta": copy.cta,
                "wanted": section.wanted,
                "note": section.note,
                "jobs": jobs_stored,
            }
        )
    text += [words.closing, "", f"{labels['preferences']}: {links.preferences_url}"]
    text.append(f"{labels['unsubscribe']}: {links.unsubscribe_url}")
    subject = " ".join(words.subject.split())[:200]
    context = {
        "language": language,
        "subject": subject,
        "preheader": words.introduction,
        "greeting": _phrased(words.greeting, language),
        "introduction": _phrased(words.introduction, language),
        "closing": _phrased(words.closing, language),
        "sections": context_sections,
        "labels": labels,
        "is_fallback": is_fallback,
        "open_url": links.open_url,
        "unsubscribe_url": links.unsubscribe_url,
        "preferences_url": links.preferences_url,
    }
    html = _inliner.inline(render_to_string(EMAIL_TEMPLATE, context))
    for index, cards in enumerate(cards_html):
        html = html.replace(f"{SECTION_TOKEN}{index}-->", cards, 1)
    return RenderedEmail(subject=subject, html=html, text="\n".join(text).strip() + "\n"), stored

