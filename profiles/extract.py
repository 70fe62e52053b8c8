"""Resume text extraction: size cap, the real file type from its bytes, then parsing in a separate
process under wall-time and memory limits (profiles/extract_child.py), so a hostile file can't
hang or bloat the web worker. Every refusal is a DomainError subclass with a 4xx status.

Settings (all optional): RESUME_MAX_BYTES (5 MB), RESUME_EXTRACT_TIMEOUT_SECONDS (15),
RESUME_EXTRACT_MEMORY_MB (512), RESUME_MAX_PAGES (30), RESUME_MAX_TEXT_CHARS (30 000),
RESUME_ZIP_MAX_ENTRIES (500), RESUME_ZIP_MAX_UNCOMPRESSED_BYTES (50 MB), RESUME_ZIP_MAX_RATIO (200).
"""

from __future__ import annotations

import io
import json
import logging
import math
import os
import re
import subprocess
import sys
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from django.conf import settings

from config.errors import DomainError

PDF, DOCX, TEXT = "pdf", "docx", "text"
KIND_LABELS = {PDF: "a PDF", DOCX: "a Word (DOCX) document", TEXT: "plain text"}
EXTENSIONS = {".pdf": PDF, ".docx": DOCX, ".txt": TEXT, ".text": TEXT, ".md": TEXT}
CHILD = Path(__file__).with_name("extract_child.py")
logger = logging.getLogger("contentops.profiles")

def human_size(size: int) -> str:
    """5242880 → "5 MB", 2048 → "2 KB" (for messages)."""
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


# -- errors (each leaves the profile unchanged: nothing is written before extraction succeeds) --


class ResumeFileError(DomainError):
    status_code = 400
    code = "invalid_resume_file"


class ResumeTooLargeError(ResumeFileError):
    status_code = 413
    code = "file_too_large"


class UnsupportedResumeTypeError(ResumeFileError):
    status_code = 415
    code = "unsupported_file_type"


class MislabeledResumeError(ResumeFileError):
    status_code = 415
    code = "mislabeled_file"


class CorruptResumeError(ResumeFileError):
    code = "corrupt_file"


class EncryptedResumeError(ResumeFileError):
    code = "encrypted_file"


class SuspiciousArchiveError(ResumeFileError):
    code = "suspicious_archive"


class NoTextFoundError(ResumeFileError):
    status_code = 422
    code = "no_text_found"


class ExtractionLimitError(ResumeFileError):
    status_code = 422
    code = "extraction_limit"


class NotAResumeError(ResumeFileError):
    """The text was read, but it is an invoice, a manual or anything else than a resume."""

    status_code = 422
    code = "not_a_resume"


# -- text helpers --------------------------------------------------------------------------------

_JAPANESE = re.compile(r"[\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_RUNS = re.compile(r"\n{3,}")
_TRAILING = re.compile(r"[ \t]+\n")


def japanese_ratio(text: str) -> float:
    """Share of Japanese-script characters among letters (kana, kanji vs Latin); 0 for no letters."""
    japanese = len(_JAPANESE.findall(text))
    letters = japanese + len(_LATIN.findall(text))
    return japanese / letters if letters else 0.0


def text_language(text: str) -> Literal["en", "ja"]:
    """ "ja" when Japanese script is at least 20% of the letters (Latin skill names dilute it)."""
    return "ja" if japanese_ratio(text) >= 0.2 else "en"


def normalize_text(text: str) -> str:
    """NFKC (full-width ＡＢＣ１２３ → ABC123, half-width ｶﾅ → カナ), no control characters, tidy lines."""
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = _TRAILING.sub("\n", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()


def decode_text(data: bytes) -> str:
    """Decode a text file: BOMs, UTF-8, then Shift_JIS (cp932) or EUC-JP by which reads as Japanese."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode_or_refuse(data[3:], "utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode_or_refuse(data, "utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates: list[tuple[float, str]] = []
    for encoding in ("cp932", "euc_jp"):
        try:
            decoded = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        non_ascii = [ch for ch in decoded if ord(ch) > 0x7F]
        japanese = sum(1 for ch in non_ascii if _JAPANESE.match(ch) and not "\uff66" <= ch <= "\uff9f")
        candidates.append((japanese / len(non_ascii) if non_ascii else 0.0, decoded))
    # Half-width katakana don't count: Latin-1 bytes decode as them in cp932 and would win by accident.
    best = max(candidates, default=None, key=lambda candidate: candidate[0])
    if best is not None and best[0] >= 0.6:
        return best[1]
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise UnsupportedResumeTypeError(
            "The text file's encoding is not recognised; save it as UTF-8.", detail={"encoding": "unknown"}
        ) from None


def _decode_or_refuse(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise CorruptResumeError(f"The text file is not valid {encoding.upper()}.") from None


# -- type sniffing ---------------------------------------------------------------------------------


def sniff_kind(data: bytes) -> str:
    """The file's real type from its bytes: pdf, docx, zip, ole, text or binary."""
    if b"%PDF-" in data[:1024]:
        return PDF
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return "broken_zip"
        return DOCX if "word/document.xml" in names else "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"  # legacy .doc, or an encrypted Office file (OOXML inside a compound file)
    sample = data[:8192]
    # A stray NUL or two (a bad export, a pasted control character) doesn't make a text file binary;
    # UTF-16 without a BOM and real binary formats are full of them.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or sample.count(b"\x00") <= len(sample) // 200:
        return TEXT
    return "binary"


def declared_kind(filename: str) -> str | None:
    suffix = Path(filename or "").suffix.lower()
    if not suffix:
        return None
    if suffix not in EXTENSIONS:
        raise UnsupportedResumeTypeError(
            f"{suffix} files are not supported; upload a PDF, DOCX or TXT file.", detail={"extension": suffix}
        )
    return EXTENSIONS[suffix]


def _describe(kind: str) -> str:
    return KIND_LABELS.get(kind) or {
        "zip": "a ZIP archive",
        "broken_zip": "a damaged ZIP archive",
        "ole": "a legacy or password-protected Office file",
        "binary": "binary data",
    }.get(kind, kind)


def check_archive(data: bytes) -> None:
    """Zip-bomb defence before python-docx opens the file: entry count, declared sizes, ratios."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptResumeError("The DOCX file is damaged (not a readable ZIP archive).") from exc
    max_entries = settings.RESUME_ZIP_MAX_ENTRIES
    if len(infos) > max_entries:
        raise SuspiciousArchiveError(
            f"The DOCX file has {len(infos)} parts (at most {max_entries} allowed).", detail={"entries": len(infos)}
        )
    total = sum(info.file_size for info in infos)
    max_total = settings.RESUME_ZIP_MAX_UNCOMPRESSED_BYTES
    if total > max_total:
        raise SuspiciousArchiveError(
            "The DOCX file would expand far beyond any resume (a possible zip bomb).",
            detail={"uncompressed_bytes": total, "max_uncompressed_bytes": max_total},
        )
    max_ratio = settings.RESUME_ZIP_MAX_RATIO
    for info in infos:
        # Small parts compress by wild ratios harmlessly; only large ones can hurt.
        if info.file_size > 1024 * 1024 and info.file_size > max_ratio * max(info.compress_size, 1):
            raise SuspiciousArchiveError(
                f"A part of the DOCX file is compressed {info.file_size // max(info.compress_size, 1)}:1 "
                "(a possible zip bomb).",
                detail={"entry": info.filename[:200]},
            )


# -- extraction ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Extracted:
    kind: str
    text: str
    language: Literal["en", "ja"]
    pages: int | None = None
    truncated: bool = False


def _run_child(kind: str, data: bytes) -> dict[str, Any]:
    timeout = float(settings.RESUME_EXTRACT_TIMEOUT_SECONDS)
    memory = settings.RESUME_EXTRACT_MEMORY_MB * 1024 * 1024
    command = [
        sys.executable,
        "-I",
        str(CHILD),
        kind,
        str(memory),
        str(max(1, math.ceil(timeout))),
        str(settings.RESUME_MAX_PAGES),
    ]
    # A minimal environment: the child needs no settings and must never see API keys.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv: our interpreter and our own module
            command, input=data, capture_output=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ExtractionLimitError(
            f"Reading the file took longer than {timeout:g} s; it may be damaged or hostile.",
            detail={"limit": "time", "seconds": timeout},
        ) from exc
    try:
        answer = json.loads(done.stdout.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        answer = None
    if not isinstance(answer, dict):
        # No answer at all: the child died (memory limit, CPU limit, a crash in a C extension).
        raise ExtractionLimitError(
            "The file could not be read within the memory and time limits.",
            detail={"limit": "process", "exit_code": done.returncode},
        )
    return answer


_CHILD_ERRORS: dict[str, type[ResumeFileError]] = {
    "encrypted": EncryptedResumeError,
    "memory_limit": ExtractionLimitError,
    "too_big": ExtractionLimitError,
    "corrupt": CorruptResumeError,
    "unsupported": UnsupportedResumeTypeError,
}


def extract_text(*, data: bytes, filename: str) -> Extracted:
    """The text of a resume file, or a ResumeFileError (4xx) saying why not."""
    max_bytes = settings.RESUME_MAX_BYTES
    if len(data) > max_bytes:
        raise ResumeTooLargeError(
            f"The file is larger than {human_size(max_bytes)}.",
            detail={"size_bytes": len(data), "max_bytes": max_bytes},
        )
    if not data.strip():
        raise NoTextFoundError("The file is empty.")
    declared = declared_kind(filename)
    actual = sniff_kind(data)
    if actual == "broken_zip" and declared in (DOCX, None):
        raise CorruptResumeError("The DOCX file is damaged (not a readable ZIP archive).", detail={"kind": DOCX})
    if declared is not None and actual != declared:
        if declared == DOCX and actual == "ole" and b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n" in data:
            raise EncryptedResumeError("The DOCX file is password-protected; upload an unprotected copy.")
        raise MislabeledResumeError(
            f"{Path(filename).name!r} is named as {_describe(declared)} but its content is {_describe(actual)}.",
            detail={"declared": declared, "actual": actual},
        )
    if actual not in (PDF, DOCX, TEXT):
        raise UnsupportedResumeTypeError(
            f"The file is {_describe(actual)}; upload a PDF, DOCX or TXT file.", detail={"actual": actual}
        )

    pages = None
    if actual == TEXT:
        raw_text = decode_text(data)
    else:
        if actual == DOCX:
            check_archive(data)
        answer = _run_child(actual, data)
        if not answer.get("ok"):
            code = str(answer.get("code"))
            error_class = _CHILD_ERRORS.get(code, CorruptResumeError)
            if answer.get("internal"):
                # The parser's own words are for us, not for the person (they quote library internals).
                logger.info("resume extraction refused (%s, %s): %s", actual, code, answer["internal"])
            message = str(answer.get("message") or "")
            if error_class is CorruptResumeError:
                message = f"The file is damaged and could not be read as {_describe(actual)}."
            detail: dict[str, Any] = {"kind": actual}
            if error_class is ExtractionLimitError:
                detail["limit"] = "memory" if code == "memory_limit" else "size"
            raise error_class(message, detail=detail)
        raw_text, pages = str(answer.get("text") or ""), answer.get("pages")

    text = normalize_text(raw_text)
    if not text:
        hint = " (a scanned PDF has only images; we don't run OCR)" if actual == PDF else ""
        raise NoTextFoundError(f"No text was found in the file{hint}.", detail={"kind": actual})
    max_chars = settings.RESUME_MAX_TEXT_CHARS
    truncated = len(text) > max_chars
    text = text[:max_chars]
    return Extracted(kind=actual, text=text, language=text_language(text), pages=pages, truncated=truncated)
