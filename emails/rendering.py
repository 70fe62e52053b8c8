"""Rendering emails: a Django template (autoescaped) → CSS inlined (css-inline) → a text part
(html2text). Templates put model text through `phrase_breaks`, which escapes it. The daily
digest's labels (English, Japanese) and context live here too."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import css_inline
import html2text
from django.conf import settings
from django.template.loader import render_to_string

from emails import tracking
from profiles.matching.prefilter import is_remote_text

if TYPE_CHECKING:
    from profiles.models import DailyDigest


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


def html_to_text(html: str) -> str:
    """The plain-text part: links kept as [label](url), no hard wrapping (it breaks Japanese)."""
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.unicode_snob = True
    return converter.handle(html).strip() + "\n"


def email_render(*, template: str, context: dict[str, Any], subject: str) -> RenderedEmail:
    """HTML with its <style> rules inlined (mail clients drop <style>) and the matching text part."""
    html = css_inline.inline(render_to_string(template, context))
    return RenderedEmail(subject=" ".join(subject.split())[:200], html=html, text=html_to_text(html))


# --- the daily digest ------------------------------------------------------------------------

DIGEST_TEMPLATE = "emails/digest.html"
DIGEST_LABELS = {
    "en": {
        "matches": "Your top new matches",
        "trends": "Market trends",
        "skills": "Skills to grow",
        "score": "{score}/100",
        "remote": "remote",
        "rule_based": "rule-based estimate",
        "footer": "You get this email because you have a ContentOps profile.",
        "intro": "{matches} new matches among {jobs} new postings.",
    },
    "ja": {
        "matches": "本日の新着マッチ",
        "trends": "市場動向",
        "skills": "伸ばしたいスキル",
        "score": "{score}点",
        "remote": "リモート可",
        "rule_based": "ルールベースの推定",
        "footer": "ContentOpsのプロフィールをお持ちの方にお送りしています。",
        "intro": "新着求人{jobs}件のうち{matches}件がマッチしました。",
    },
}


def digest_render(*, digest: DailyDigest, email_id: int, language: str) -> RenderedEmail:
    """The digest email: model text autoescaped (and phrase-wrapped for Japanese), our links only
    (job links and the open pixel are signed over `email_id`)."""
    language = language if language in DIGEST_LABELS else "en"
    labels = DIGEST_LABELS[language]
    jobs = [
        {
            **job,
            "click_url": tracking.click_url(email_id=email_id, job_id=job["job_id"]),
            "score_label": labels["score"].format(score=job.get("score", "")),
            # "Remote · remote" says it twice: the label only when the location doesn't.
            "remote_label": labels["remote"]
            if job.get("remote") and not is_remote_text(job.get("location", ""))
            else "",
        }
        for job in digest.top_jobs
        if isinstance(job, dict) and isinstance(job.get("job_id"), int)
    ]
    context = {
        "digest": digest,
        "jobs": jobs,
        "language": language,
        "labels": labels,
        "intro": labels["intro"].format(matches=digest.total_matches, jobs=digest.total_new_jobs),
        "open_url": tracking.open_url(email_id=email_id),
        "site_url": settings.SITE_URL,
    }
    return email_render(template=DIGEST_TEMPLATE, context=context, subject=digest.digest_title or labels["matches"])
