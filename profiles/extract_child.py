"""The child side of resume text extraction: runs as its own interpreter (`python -I this_file`).

It imports nothing from the project (no Django, no settings, no secrets in its environment),
caps its own address space and CPU time before touching the file, reads the bytes from stdin and
writes one JSON object to stdout: {"ok": true, "text", "pages"} or {"ok": false, "code", "message"}.
A parser that hangs is killed by the parent's wall-time limit; one that bloats hits RLIMIT_AS.
"""

from __future__ import annotations

import io
import json
import re
import resource
import sys
from typing import Any


def _limit(*, memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _pdf_text(data: bytes, *, max_pages: int) -> tuple[str, int]:
    from pypdf import PdfReader, errors
    from pypdf.errors import DependencyError, FileNotDecryptedError

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        # Many PDFs are "encrypted" with an owner password only and open with an empty user
        # password; anything else needs a password we do not have.
        opened: int
        try:
            opened = reader.decrypt("")
        except (DependencyError, NotImplementedError):
            opened = 0
        if not opened:
            raise _Refused("encrypted", "The PDF is password-protected; upload an unprotected copy.")
    # pypdf ≥ 6 stops decompression bombs itself; older versions rely on our memory cap.
    limit_reached = getattr(errors, "LimitReachedError", FileNotDecryptedError)
    try:
        pages = reader.pages
        texts = [page.extract_text() or "" for page in list(pages)[:max_pages]]
    except FileNotDecryptedError as exc:
        raise _Refused("encrypted", "The PDF is password-protected; upload an unprotected copy.") from exc
    except DependencyError as exc:
        # AES needs `cryptography` (a dependency); without it the file is unreadable here, not corrupt.
        raise _Refused("encrypted", "The PDF's encryption cannot be opened here; upload an unprotected copy.") from exc
    except limit_reached as exc:
        raise _Refused("too_big", "The PDF expands far beyond any resume (a possible decompression bomb).") from exc
    return "\n".join(texts), len(pages)


def _paragraph_text(paragraph: Any, qn: Any) -> str:
    """A paragraph's text with its line breaks and tabs (a 履歴書 cell often holds two lines in one
    paragraph: 株式会社ABC<w:br/>営業部 — dropping the break glues them into one garbled word)."""
    parts: list[str] = []
    text_tag, break_tags, tab_tag = qn("w:t"), {qn("w:br"), qn("w:cr")}, qn("w:tab")
    for node in paragraph.iter(text_tag, *break_tags, tab_tag):
        if node.tag == text_tag:
            parts.append(node.text or "")
        elif node.tag == tab_tag:
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)


def _cells(row: Any, qn: Any) -> list[Any]:
    """The row's own cells (content controls may wrap them), not the cells of tables nested in them."""
    cells = []
    for child in row.iterchildren():
        if child.tag == qn("w:tc"):
            cells.append(child)
        elif child.tag == qn("w:sdt"):
            cells += [node for node in child.iter(qn("w:tc")) if node.getparent().getparent() is child]
    return cells


def _block_lines(container: Any, qn: Any) -> list[str]:
    """Lines of a body, header, footer or cell, in document order: paragraphs as lines, each table
    row as its cells joined by tabs, each cell read cell by cell (its paragraphs and nested tables)."""
    lines: list[str] = []
    for block in container.iterchildren():
        if block.tag == qn("w:p"):
            lines.append(_paragraph_text(block, qn))
        elif block.tag == qn("w:tbl"):
            for row in block.iterchildren(qn("w:tr")):
                cells: list[str] = []
                for cell in _cells(row, qn):
                    text = "\n".join(_block_lines(cell, qn)).strip()
                    if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                        cells.append(text)
                lines.append("\t".join(cells))
        elif block.tag in (qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml")):
            # Content controls and custom XML wrap ordinary paragraphs and tables.
            inner = block.find(qn("w:sdtContent"))
            lines += _block_lines(inner if inner is not None else block, qn)
    return lines


def _docx_text(data: bytes) -> tuple[str, int | None]:
    from docx import Document
    from docx.oxml.ns import qn

    document = Document(io.BytesIO(data))
    # Headers and footers carry the contact details in many templates: the header's lines come
    # first, the footer's last, each distinct one once (every section may repeat them).
    headers: list[str] = []
    footers: list[str] = []
    for section in document.sections:
        for part, into in (
            (section.first_page_header, headers),
            (section.header, headers),
            (section.even_page_header, headers),
            (section.first_page_footer, footers),
            (section.footer, footers),
            (section.even_page_footer, footers),
        ):
            if part.is_linked_to_previous:
                continue
            text = "\n".join(_block_lines(part._element, qn)).strip()
            if text and text not in into:
                into.append(text)
    body = _block_lines(document.element.body, qn)
    return "\n".join([*headers, *body, *footers]), None


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _preload(kind: str) -> None:
    """Import the parser before the memory cap, so the cap measures parsing, not the interpreter."""
    if kind == "pdf":
        import pypdf  # noqa: F401
        import pypdf.filters  # noqa: F401
    elif kind == "docx":
        import docx  # noqa: F401
        import docx.oxml.ns  # noqa: F401


_MEMORY_WORDS = re.compile(r"memory|alloc|MemoryError|std::bad_alloc", re.IGNORECASE)


def _peak_address_space() -> int:
    """Bytes of address space this process used at its peak (VmPeak), 0 where /proc is missing."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def _ran_out_of_memory(exc: BaseException, memory_bytes: int) -> bool:
    """Parsers turn a failed allocation into their own errors (lxml: "XMLSyntaxError: unknown error",
    zlib: "insufficient memory", pypdf wraps what it catches): look through the chain, the
    message, and how close the process came to its address-space cap."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MemoryError) or _MEMORY_WORDS.search(f"{type(seen).__name__}: {seen}"):
            return True
        seen = seen.__cause__ or seen.__context__
    return _peak_address_space() >= memory_bytes * 0.85


def main(argv: list[str]) -> int:
    kind, memory_bytes, cpu_seconds, max_pages = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    _preload(kind)
    _limit(memory_bytes=memory_bytes, cpu_seconds=cpu_seconds)
    data = sys.stdin.buffer.read()
    pages: int | None
    try:
        if kind == "pdf":
            text, pages = _pdf_text(data, max_pages=max_pages)
        elif kind == "docx":
            text, pages = _docx_text(data)
        else:
            raise _Refused("unsupported", f"The extractor does not read {kind!r} files.")
        answer = {"ok": True, "text": text, "pages": pages}
    except _Refused as exc:
        answer = {"ok": False, "code": exc.code, "message": exc.message}
    except MemoryError:
        answer = {"ok": False, "code": "memory_limit", "message": "The file needs more memory than allowed to read."}
    except RecursionError:
        answer = {"ok": False, "code": "corrupt", "message": "The file's structure is nested too deeply to read."}
    # Hostile input makes third-party parsers raise almost anything (KeyError, ValueError, struct
    # errors, lxml errors, their own exception trees); whatever it is, the answer is "corrupt" —
    # unless it was the memory cap in disguise. The parser's own words go to `internal` (the
    # parent logs them); people get a plain message.
    except Exception as exc:  # noqa: BLE001
        code = "memory_limit" if _ran_out_of_memory(exc, memory_bytes) else "corrupt"
        message = "The file needs more memory than allowed to read." if code == "memory_limit" else ""
        answer = {"ok": False, "code": code, "message": message, "internal": f"{type(exc).__name__}: {exc}"[:300]}
    sys.stdout.write(json.dumps(answer, ensure_ascii=True))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
