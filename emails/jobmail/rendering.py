"""Rendering a job email: responsive table layout, CSS inlined (css-inline), a plain-text part,
UTF-8, BudouX phrase breaks for Japanese. Model text is escaped (Django autoescape through
`phrase_breaks`); every link is ours: signed click redirects (emails.tracking) to each job, the
open pixel, the person's preference page and the one-click unsubscribe.

A run renders thousands of emails that share jobs and layout, so the page is rendered and inlined
once per language (a shell with placeholders), each job's card once per (job, language, line), and
each email only fills in its escaped words and signed links. The text part is built from the same
data (not converted from HTML).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import css_inline
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

from emails import tracking
from emails.jobmail.llm import SECTION_KEYS, JobEmailOutput
from emails.jobmail.sections import Section
from emails.jobmail.selectors import JobInfo
from emails.rendering import RenderedEmail
from emails.templatetags.email_text import phrase_breaks
from profiles.matching.prefilter import is_remote_text

EMAIL_TEMPLATE = "emails/jobmail/email.html"
FONTS = '-apple-system, "Segoe UI", "Hiragino Sans", "Noto Sans JP", Meiryo, Arial, sans-serif'
PAGE_CSS = f"""
body {{ margin: 0; padding: 0; width: 100%; background-color: #f4f5f7; -webkit-text-size-adjust: 100%;
  -ms-text-size-adjust: 100%; }}
table {{ border-collapse: collapse; mso-table-lspace: 0pt; mso-table-rspace: 0pt; }}
img {{ border: 0; outline: none; text-decoration: none; -ms-interpolation-mode: bicubic; }}
.outer {{ width: 100%; background-color: #f4f5f7; }}
.container {{ width: 600px; max-width: 600px; }}
.brand {{ padding: 20px 24px 8px 24px; font-family: {FONTS}; font-size: 14px; font-weight: bold; color: #3e4c59;
  letter-spacing: 0.5px; }}
.card {{ background-color: #ffffff; padding: 24px; font-family: {FONTS}; color: #1f2933; }}
.greeting {{ font-size: 17px; line-height: 1.6; margin: 0 0 8px 0; font-weight: bold; }}
.intro {{ font-size: 15px; line-height: 1.7; margin: 0 0 8px 0; }}
.section-title {{ font-size: 18px; line-height: 1.4; margin: 28px 0 4px 0; color: #102a43; }}
.section-intro {{ font-size: 14px; line-height: 1.6; margin: 0 0 8px 0; color: #52606d; }}
.empty {{ font-size: 13px; color: #9aa5b1; margin: 0 0 8px 0; }}
.closing {{ font-size: 15px; line-height: 1.7; margin: 24px 0 0 0; }}
.footer {{ padding: 16px 24px 32px 24px; font-family: Arial, sans-serif; font-size: 12px; line-height: 1.6;
  color: #7b8794; text-align: center; }}
.footer a {{ color: #52606d; text-decoration: underline; }}
.flag {{ color: #8d6e00; font-size: 12px; }}
@media only screen and (max-width: 620px) {{
  .container {{ width: 100% !important; }}
  .card {{ padding: 16px !important; }}
  .section-title {{ font-size: 17px !important; }}
  .cta {{ display: block !important; text-align: center !important; }}
}}
"""
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


@lru_cache(maxsize=4)
def _card_shell(with_line: bool) -> str:
    """A job card with @@title@@, @@meta@@ and @@line@@ placeholders (and the click and CTA ones),
    rendered and CSS-inlined once: a run has hundreds of distinct cards."""
    context = {"title": "@@title@@", "meta": "@@meta@@", "line": "@@line@@" if with_line else "", "click": CLICK_TOKEN}
    html = render_to_string(CARD_TEMPLATE, {**context, "cta": CTA_TOKEN})
    return css_inline.inline_fragment(html, CARD_CSS, load_remote_stylesheets=False)


@lru_cache(maxsize=20000)
def _card(job: JobInfo, language: str, line: str) -> str:
    """One job's card (escaped text, phrase breaks for Japanese), still with the click and CTA placeholders."""
    labels = LABELS[language]
    meta = [escape(job.company or labels["undisclosed"])]
    meta += [escape(job.location)] if job.location else []
    meta += [escape(labels["remote"])] if job.remote and not is_remote_text(job.location) else []
    meta += [escape(job.salary)] if job.salary else []
    values = {
        "title": _phrased(job.title, language),
        "meta": " &middot; ".join(meta),
        "line": _phrased(line, language) if line else "",
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], _card_shell(bool(line)))


@lru_cache(maxsize=4)
def _click_prefix(site_url: str) -> str:
    marker = "token"
    url = site_url.rstrip("/") + reverse("emails:click", kwargs={"token": marker})
    return url[: -len(marker)]


@dataclass(frozen=True)
class Links:
    open_url: str
    unsubscribe_url: str
    preferences_url: str


@lru_cache(maxsize=8)
def _shell(language: str, is_fallback: bool, site_url: str) -> str:
    """The email's HTML with @@name@@ placeholders for everything that varies, CSS inlined once
    (rendering and inlining a whole email per person costs more than everything else)."""
    context = {
        "language": language,
        "css": PAGE_CSS,
        "labels": LABELS[language],
        "is_fallback": is_fallback,
        **{name: f"@@{name}@@" for name in _SHELL_FIELDS},
        "sections": [
            {"title": f"@@s{i}_title@@", "intro": f"@@s{i}_intro@@", "body": f"@@s{i}_body@@"}
            for i in range(len(SECTION_KEYS))
        ],
    }
    return _inliner.inline(render_to_string(EMAIL_TEMPLATE, context))


@lru_cache(maxsize=4)
def _empty(language: str) -> str:
    html = format_html('<p class="empty">{}</p>', LABELS[language]["empty"])
    return css_inline.inline_fragment(html, PAGE_CSS, load_remote_stylesheets=False)


_PLACEHOLDER = re.compile(r"@@(\w+)@@")
_SHELL_FIELDS = (
    "subject",
    "preheader",
    "greeting",
    "introduction",
    "closing",
    "open_url",
    "unsubscribe_url",
    "preferences_url",
)


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
    tokens = tracking.ClickTokens(email_id=email_id)
    click_prefix = _click_prefix(settings.SITE_URL)
    # Tokens are URL-safe base64 and ":" only: the escaped prefix is all the escaping a link needs.
    click_prefix_html = escape(click_prefix)
    subject = " ".join(words.subject.split())[:200]
    values: dict[str, str] = {
        "subject": escape(subject),
        "preheader": escape(words.introduction),
        "greeting": _phrased(words.greeting, language),
        "introduction": _phrased(words.introduction, language),
        "closing": _phrased(words.closing, language),
        "open_url": escape(links.open_url),
        "unsubscribe_url": escape(links.unsubscribe_url),
        "preferences_url": escape(links.preferences_url),
    }
    stored: list[dict[str, Any]] = []
    text = [words.greeting, "", words.introduction, ""]
    for index, (section, copy) in enumerate(zip(sections, words.sections, strict=True)):
        cta_html = str(_phrased(copy.cta, language))
        chunks = []
        jobs_stored = []
        text += [f"■ {copy.title}", copy.intro]
        if not section.picks:
            text.append(labels["empty"])
        for pick in section.picks:
            job = jobs[pick.job_id]
            line, line_fallback = lines.get((job.id, language), ("", True))
            token = tokens.token(job_id=job.id)
            click = click_prefix + token
            card = _card(job, language, line)
            chunks.append(card.replace(CLICK_TOKEN, click_prefix_html + token).replace(CTA_TOKEN, cta_html))
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
        values[f"s{index}_title"] = _phrased(copy.title, language)
        values[f"s{index}_intro"] = _phrased(copy.intro, language)
        values[f"s{index}_body"] = "".join(chunks) if chunks else _empty(language)
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
    # One pass: what goes in is never scanned for placeholders again.
    html = _PLACEHOLDER.sub(lambda m: values[m.group(1)], _shell(language, is_fallback, settings.SITE_URL))
    return RenderedEmail(subject=subject, html=html, text="\n".join(text).strip() + "\n"), stored
