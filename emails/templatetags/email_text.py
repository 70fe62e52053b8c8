"""Template filters for email text. Model output passes through here escaped, never `|safe`."""

from functools import lru_cache

import budoux
from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@lru_cache(maxsize=1)
def _japanese_parser() -> budoux.Parser:
    return budoux.load_default_japanese_parser()


@register.filter
def phrase_breaks(value: object, language: str = "") -> SafeString:
    """The value HTML-escaped; for Japanese, with <wbr> between BudouX phrases so mail clients
    wrap lines between words instead of mid-word. Only our own <wbr> tags are added."""
    text = "" if value is None else str(value)
    if language != "ja" or not text:
        return conditional_escape(text)
    chunks = _japanese_parser().parse(text)
    return mark_safe("<wbr>".join(str(conditional_escape(chunk)) for chunk in chunks))  # noqa: S308 - chunks escaped above
