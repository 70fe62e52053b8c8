"""Text from feed fields: HTML stripped to text, plain text kept as written, language, remote, labels.

A field is HTML only when the feed says so (feedparser's `type`, from Atom's type="html" or its
guess for RSS when every tag is a known HTML element). Plain text keeps its angle brackets
("C++ Developer <Remote>"); only real HTML elements in it are removed, scripts and styles with
their content. Every value is cleaned for storage (NUL, lone surrogates, control characters).
"""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser

from config.text import text_clean

_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section", "article"}
)
_SKIP_TAGS = frozenset({"script", "style", "head", "title", "noscript", "template", "iframe", "object"})


class _TextExtractor(HTMLParser):
    """Collects visible text; drops scripts and styles; block tags become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _tidy(text: str) -> str:
    lines = [re.sub(r"[ \t\u00a0\u3000]+", " ", line).strip() for line in text_clean(text).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(value: str) -> str:
    """Plain text from (untrusted) HTML: no tags, entities decoded, whitespace tidied."""
    if not value:
        return ""
    if "<" not in value:
        text = html.unescape(value)
    else:
        extractor = _TextExtractor()
        extractor.feed(value)
        extractor.close()
        text = "".join(extractor.parts)
    return _tidy(text)


# Elements a plain-text field may still carry by mistake (a feed that pasted HTML into a text
# field). Anything else in angle brackets is the author's text: "<Remote>", "<未経験OK>".
_HTML_ELEMENTS = frozenset(
    str.split(
        "a abbr b big blockquote body br center code dd del div dl dt em font h1 h2 h3 h4 h5 h6 head hr html i "
        "iframe img input ins kbd label li link main mark meta nav noscript object ol p pre q s script section "
        "small span strike strong style sub sup table tbody td template tfoot th thead title tr tt u ul"
    )
)
_SCRIPTS = re.compile(r"<(script|style|template|noscript)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)(\s[^<>]*)?(/?)>")


def _strip_markup(match: re.Match[str]) -> str:
    name = match.group(2)
    # <b>, <B>, <br/>, <span class=x> are markup; <Remote> (capitalised, no attributes) is a word.
    looks_like_tag = name.islower() or name.isupper() or match.group(3) or match.group(4)
    if name.lower() in _HTML_ELEMENTS and looks_like_tag:
        return "\n" if name.lower() in _BLOCK_TAGS else ""
    return match.group(0)


def plain_text(value: str) -> str:
    """A field the feed gives as plain text, kept as written: angle brackets stay, only real HTML
    elements are removed (scripts and styles with their content), entities decoded."""
    if not value:
        return ""
    text = _SCRIPTS.sub(" ", value)
    text = _TAG.sub(_strip_markup, text)
    if "&" in text:
        text = html.unescape(text)
    return _tidy(text)


def field_text(value: object, *, content_type: str = "") -> str:
    """A feed field as text: HTML stripped when the feed says the field is HTML, else plain text."""
    if not isinstance(value, str):
        return ""
    if content_type in ("text/html", "application/xhtml+xml", "html", "xhtml"):
        text = html_to_text(value)
        # Escaped twice ("&amp;lt;b&amp;gt;"): what came out is still markup; strip it as well.
        return plain_text(text) if _SCRIPTS.search(text) or _TAG.search(text) else text
    return plain_text(value)


_JAPANESE_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def detect_language(text: str) -> str:
    """ "ja" when Japanese script is a real share of the letters, else "en" (or "" for no text)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return ""
    japanese = sum(1 for ch in letters if _JAPANESE_CHAR.match(ch))
    return "ja" if japanese / len(letters) >= 0.2 else "en"


_REMOTE_NEGATIVE = re.compile(
    r"\b(?:no|not|non)[\s-]+remote\b|\bon[\s-]?site\s+only\b|\bremote\s+(?:work\s+)?(?:is\s+)?not\s+(?:possible|available)\b"
    r"|\bin[\s-]office\s+only\b|(?:リモート|在宅|テレワーク)(?:勤務|ワーク)?(?:不可|なし|無し|NG)|出社必須|フル出社|完全出社",
    re.IGNORECASE,
)
_REMOTE_POSITIVE = re.compile(
    r"\bremote\b|\bwork(?:ing)?\s+from\s+home\b|\bwfh\b|\btelecommut\w*|\bdistributed\s+team\b"
    r"|\bhybrid\s+(?:work\w*|role|remote|schedule|model|position|office)\b|\(hybrid\)"
    r"|リモート|在宅|テレワーク|ハイブリッド勤務",
    re.IGNORECASE,
)
_TRUE_WORDS = frozenset(
    {"true", "yes", "1", "remote", "fully remote", "hybrid", "可", "あり", "フルリモート", "リモート可"}
)


def detect_remote(*, explicit: str, texts: list[str]) -> bool:
    """Remote when the posting allows any remote work (fully remote, hybrid, リモート可, 在宅勤務)
    and does not say it is excluded ("no remote", リモート不可, 出社必須)."""
    if explicit:
        value = unicodedata.normalize("NFKC", explicit).strip().lower()
        if value in _TRUE_WORDS:
            return True
        if value in {"false", "no", "0", "onsite", "on-site", "不可", "なし"}:
            return False
    joined = "\n".join(t for t in texts if t)
    if _REMOTE_NEGATIVE.search(joined):
        return False
    return bool(_REMOTE_POSITIVE.search(joined))


def labelled(text: str, labels: tuple[str, ...]) -> str:
    """The value of a "Label: value" line (English or Japanese colon), or ""."""
    pattern = r"^\s*(?:" + "|".join(re.escape(label) for label in labels) + r")\s*[:：]\s*(.+?)\s*$"
    match = re.search(pattern, text, re.IGNORECASE | re.MULTILINE)
    return match.group(1) if match else ""
