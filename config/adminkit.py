"""Small pieces every app's admin uses: readable JSON, human error messages, links to related objects.

Everything here escapes what it shows (model output, provider errors and uploaded text are
untrusted): values go through `format_html`, never `mark_safe` on their own.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

JSON_SUMMARY_CHARS = 90
JSON_TEXTAREA_MAX_ROWS = 14


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False, default=str)


def _summary(value: Any) -> str:
    if isinstance(value, dict):
        keys = ", ".join(str(k) for k in list(value)[:6])
        return f"{{{len(value)} keys: {keys}{', …' if len(value) > 6 else ''}}}"
    if isinstance(value, list):
        if all(isinstance(item, str | int | float) for item in value):
            return Truncator(", ".join(str(item) for item in value)).chars(JSON_SUMMARY_CHARS) or "[]"
        return f"[{len(value)} items]"
    return Truncator(json.dumps(value, ensure_ascii=False, default=str)).chars(JSON_SUMMARY_CHARS)


def json_block(value: Any, *, open_: bool = False) -> SafeString:
    """A JSON value as a collapsible, pretty-printed block (its one-line summary stays visible)."""
    if value in (None, "", [], {}):
        return format_html('<span class="co-muted">{}</span>', "empty")
    pretty = str(format_html("{}", _pretty(value)))
    # Newlines as character references: the admin runs readonly values through linebreaksbr.
    pre = mark_safe(pretty.replace("\n", "&#10;"))  # noqa: S308 - built by format_html above: escaped
    return format_html(
        '<details class="co-json"{}><summary>{}</summary><pre>{}</pre></details>',
        " open" if open_ else "",
        _summary(value),
        pre,
    )


# --- errors ---------------------------------------------------------------------------------------

_PYDANTIC = re.compile(r"^(\d+) validation errors? for (\w+)\s*\n(?P<loc>[^\n]+)\n\s+(?P<msg>[^\[\n]+)", re.S)
_HTTP = re.compile(r"Error code: (?P<code>\d{3})")
_HTTP_WORDS = {
    "400": "the provider refused the request as invalid",
    "401": "the provider refused our credentials (check the API key)",
    "403": "the provider refused access for this key or model",
    "404": "the provider does not know this model, deployment or file",
    "408": "the provider timed out",
    "409": "the provider reported a conflict",
    "429": "the provider is rate limiting us (or the quota is used up)",
    "500": "the provider had an internal error",
    "502": "the provider's gateway failed",
    "503": "the provider is overloaded or down",
    "504": "the provider's gateway timed out",
}


def human_error(text: str) -> str:
    """One sentence a person can act on, from a raw error (pydantic, an HTTP error, a traceback line)."""
    text = (text or "").strip()
    if not text:
        return ""
    match = _PYDANTIC.match(text)
    if match:
        count = int(match.group(1))
        where = match.group("loc").strip()
        problem = match.group("msg").strip().rstrip(".")
        more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
        return f"The answer did not have the expected shape: {where}: {problem}{more}."
    match = _HTTP.search(text)
    if match and match.group("code") in _HTTP_WORDS:
        return f"{_HTTP_WORDS[match.group('code')].capitalize()} (HTTP {match.group('code')})."
    first = text.splitlines()[0]
    return Truncator(first).chars(160)


def error_html(text: str) -> SafeString | str:
    """The human sentence, with the raw text folded away under it when they differ."""
    text = (text or "").strip()
    if not text:
        return "-"
    human = human_error(text)
    if human == text:
        return format_html('<span class="co-error">{}</span>', human)
    raw = str(format_html("{}", text)).replace("\n", "&#10;")
    return format_html(
        '<span class="co-error">{}</span><details class="co-raw"><summary>raw detail</summary><pre>{}</pre></details>',
        human,
        mark_safe(raw),  # noqa: S308 - escaped by format_html above
    )


# --- links ----------------------------------------------------------------------------------------


def admin_url(model_or_obj: Any, view: str = "changelist", *args: Any) -> str:
    meta = model_or_obj._meta
    try:
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)
    except NoReverseMatch:
        return ""


def changelist_link(model: type[models.Model] | str, label: str, **filters: Any) -> SafeString | str:
    """A link to a model's admin list, filtered (`profile__id__exact=3`); the model or its "app.model"
    label (so a lower layer can link to a higher one's list without importing it)."""
    if isinstance(model, str):
        app_label, model_name = model.lower().split(".")
        try:
            url = reverse(f"admin:{app_label}_{model_name}_changelist")
        except NoReverseMatch:
            url = ""
    else:
        url = admin_url(model)
    if not url:
        return label
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), label)


def object_link(obj: Any, label: str | None = None) -> SafeString | str:
    if obj is None:
        return "-"
    url = admin_url(obj, "change", obj.pk)
    return format_html('<a href="{}">{}</a>', url, label or str(obj)) if url else (label or str(obj))


def links(items: list[SafeString | str], sep: str = " · ") -> SafeString:
    return format_html_join(sep, "{}", ((item,) for item in items))


def progress_bar(done: int, total: int, *, failed: int = 0) -> SafeString:
    """A small bar: applied in green, failed in red, of the total."""
    total = max(total, 0)
    ok = int(100 * done / total) if total else 0
    bad = int(100 * failed / total) if total else 0
    return format_html(
        '<span class="co-bar" title="{} applied, {} failed of {}"><span class="co-bar-ok" style="width:{}%"></span>'
        '<span class="co-bar-bad" style="width:{}%"></span></span>',
        done,
        failed,
        total,
        ok,
        bad,
    )


# --- forms ----------------------------------------------------------------------------------------


class PrettyJSONField(forms.JSONField):
    """JSON edited as indented text in a textarea sized to its content (not 10 rows of one long line)."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {**super().widget_attrs(widget), "class": "co-json-input"}


class JSONTextarea(forms.Textarea):
    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        lines = str(value or "").count("\n") + 1
        context["widget"]["attrs"]["rows"] = max(2, min(lines, JSON_TEXTAREA_MAX_ROWS))
        return context


JSON_FORMFIELD = {"form_class": PrettyJSONField, "widget": JSONTextarea}
