"""Which encoding a feed's bytes are really in, when the declaration is missing or wrong.

feedparser trusts the HTTP charset and the XML declaration, and without either falls back to
UTF-8, then windows-1252 / iso-8859-2: a Shift_JIS or EUC-JP feed without a declaration becomes
mojibake ("ƒoƒbƒN", "¥Ð¥Ã") whose stray "¥" signs then read as salaries. So before feedparser:
- a byte-order mark decides (feedparser reads those itself);
- a declared multi-byte encoding (UTF-8, Shift_JIS, EUC-JP, ...) that decodes cleanly is kept;
- a declared single-byte one (Latin-1, windows-125x) decodes anything, so it is kept only when
  the bytes are not valid UTF-8 and charset-normalizer does not find a CJK encoding instead;
- nothing declared, or a declaration the bytes contradict: UTF-8 if valid, else charset-normalizer.
When the answer differs from what feedparser would assume, the bytes are re-encoded as UTF-8 and
the declaration rewritten to match; the caller gets a note for the feed's report.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

_XML_DECLARATION = re.compile(rb"^(\s*<\?xml[^>]*?\sencoding\s*=\s*)([\"'])([A-Za-z0-9._:-]+)\2", re.IGNORECASE)
_CHARSET_PARAM = re.compile(r";\s*charset\s*=\s*\"?([A-Za-z0-9._:-]+)\"?", re.IGNORECASE)
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_CJK = frozenset(
    {"shift_jis", "cp932", "euc_jp", "euc_jis_2004", "euc_jisx0213", "iso2022_jp", "shift_jis_2004", "shift_jisx0213"}
    | {"gb2312", "gbk", "gb18030", "big5", "big5hkscs", "euc_kr", "cp949", "iso2022_kr", "hz"}
)
DETECT_SAMPLE = 256 * 1024  # charset-normalizer reads this much; enough for any feed's verdict


@dataclass(frozen=True)
class Decoded:
    body: bytes  # what feedparser should parse
    content_type: str  # the Content-Type to hand it (charset corrected when re-encoded)
    note: str = ""  # "" when nothing needed correcting


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _single_byte(encoding: str) -> bool:
    return encoding in {"ascii", "latin-1", "iso8859-1"} or encoding.startswith(("cp125", "iso8859", "mac-"))


def _detect(body: bytes) -> str | None:
    if b"\x1b$B" in body or b"\x1b$@" in body or b"\x1b(J" in body:
        return "iso2022_jp"  # 7-bit JIS: valid ASCII, so only its escape sequences give it away
    best = from_bytes(body[:DETECT_SAMPLE]).best()
    return _codec(best.encoding) if best is not None else None


def _declared(body: bytes, content_type: str) -> tuple[str | None, str | None]:
    """(HTTP charset, XML declaration encoding), normalised codec names or None."""
    http = _CHARSET_PARAM.search(content_type or "")
    xml = _XML_DECLARATION.match(body[:512])
    return _codec(http.group(1) if http else None), _codec(xml.group(3).decode("ascii") if xml else None)


def _choose(body: bytes, declared: str | None) -> str:
    if declared and _decodes(body, declared):
        if not _single_byte(declared):
            return declared
        if _decodes(body, "utf-8"):
            return "utf-8"
        detected = _detect(body)
        return detected if detected in _CJK and _decodes(body, detected) else declared
    if _decodes(body, "utf-8"):
        return "utf-8"
    detected = _detect(body)
    if detected and _decodes(body, detected):
        return detected
    return "cp1252"  # decodes nearly anything; what feedparser would have done


def feed_bytes_decoded(body: bytes, *, content_type: str = "") -> Decoded:
    """The feed's bytes in an encoding feedparser will read right (see the module docstring)."""
    if body.startswith(_BOMS) or body.isascii() and b"\x1b" not in body:
        return Decoded(body=body, content_type=content_type)
    http, xml = _declared(body, content_type)
    declared = http or xml
    chosen = _choose(body, declared)
    if chosen == declared or (chosen == "utf-8" and declared is None):
        return Decoded(body=body, content_type=content_type)
    text = body.decode(chosen, errors="replace")
    utf8 = _XML_DECLARATION.sub(rb"\1\2utf-8\2", text.encode("utf-8"), count=1)
    mime = (content_type or "application/xml").split(";")[0].strip() or "application/xml"
    said = f"declared {declared}" if declared else "no encoding declared"
    return Decoded(body=utf8, content_type=f"{mime}; charset=utf-8", note=f"{said}; read as {chosen}")
