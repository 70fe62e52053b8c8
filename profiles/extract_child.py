"""The child side of resume text extraction: runs as its own interpreter (`python -I this_file`).

It imports nothing from the project (no Django, no settings, no secrets in its environment),
caps its own address space and CPU time before touching the file, reads the bytes from stdin and
writes one JSON object to stdout: {"ok": true, "text", "pages"} or {"ok": false, "code", "message"}.
A parser that hangs is killed by the parent's wall-time limit; one that bloats hits RLIMIT_AS.
"""

from __future__ import annotations

import io
import json
import resource
import sys


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
    except limit_reached as exc:
        raise _Refused("too_big", "The PDF expands far beyond any resume (a possible decompression bomb).") from exc
    return "\n".join(texts), len(pages)


def _docx_text(data: bytes) -> tuple[str, int | None]:
    from docx import Document
    from docx.oxml.ns import qn

    document = Document(io.BytesIO(data))
    lines: list[str] = []
    # Body order matters: a 履歴書 is mostly tables (氏名 | 山田 太郎), interleaved with paragraphs.
    for block in document.element.body.iterchildren():
        if block.tag == qn("w:p"):
            lines.append("".join(node.text or "" for node in block.iter(qn("w:t"))))
        elif block.tag == qn("w:tbl"):
            for row in block.iter(qn("w:tr")):
                cells: list[str] = []
                for cell in row.iter(qn("w:tc")):
                    text = "\n".join(
                        "".join(node.text or "" for node in paragraph.iter(qn("w:t")))
                        for paragraph in cell.iter(qn("w:p"))
                    ).strip()
                    if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                        cells.append(text)
                lines.append("\t".join(cells))
        else:  # content controls (w:sdt) and the like wrap ordinary paragraphs
            for paragraph in block.iter(qn("w:p")):
                lines.append("".join(node.text or "" for node in paragraph.iter(qn("w:t"))))
    return "\n".join(lines), None


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


def main(argv: list[str]) -> int:
    kind, memory_bytes, cpu_seconds, max_pages = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    _preload(kind)
    _limit(memory_bytes=memory_bytes, cpu_seconds=cpu_seconds)
    data = sys.stdin.buffer.read()
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
    # errors, lxml errors, their own exception trees); whatever it is, the answer is "corrupt".
    except Exception as exc:  # noqa: BLE001
        answer = {"ok": False, "code": "corrupt", "message": f"{type(exc).__name__}: {str(exc)[:200]}"}
    sys.stdout.write(json.dumps(answer, ensure_ascii=True))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
