"""Rendering emails: a Django template (autoescaped) → CSS inlined (css-inline) → a text part
(html2text). Templates put model text through `phrase_breaks`, which escapes it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import css_inline
import html2text
from django.template.loader import render_to_string


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
