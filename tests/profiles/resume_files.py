"""Small, real resume files for tests and the demo data: text PDFs (English and Japanese) written
by hand, DOCX through python-docx, and the hostile ones (encrypted, corrupt, zip bombs).

`python -m tests.profiles.resume_files` regenerates the binary demo resumes in profiles/demo_data/.
"""

from __future__ import annotations

import io
import zipfile

# Japanese text uses a predefined Adobe-Japan1 CMap (codes are UTF-16BE), so viewers substitute a
# Japanese font; the ToUnicode CMap makes text extraction exact without embedding a font.
_JA_FONT = (
    b"<< /Type /Font /Subtype /Type0 /BaseFont /HeiseiKakuGo-W5 /Encoding /UniJIS-UCS2-H "
    b"/DescendantFonts [<< /Type /Font /Subtype /CIDFontType0 /BaseFont /HeiseiKakuGo-W5 "
    b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 2 >> "
    b"/FontDescriptor << /Type /FontDescriptor /FontName /HeiseiKakuGo-W5 /Flags 4 "
    b"/FontBBox [-92 -250 1010 922] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 737 /StemV 69 >> "
    b"/DW 1000 >>] /ToUnicode 6 0 R >>"
)


def _pdf_string_latin(line: str) -> bytes:
    escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("cp1252", errors="replace") + b")"


def _pdf_string_utf16(line: str) -> bytes:
    return b"<" + line.encode("utf-16-be").hex().upper().encode() + b">"


def _to_unicode_cmap(chars: set[str]) -> bytes:
    codes = sorted({ord(ch) for ch in chars if ord(ch) <= 0xFFFF})
    lines = [
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        b"/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    for start in range(0, len(codes), 100):
        chunk = codes[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar".encode())
        lines += [f"<{code:04X}> <{code:04X}>".encode() for code in chunk]
        lines.append(b"endbfchar")
    lines.append(b"endcmap CMapName currentdict /CMap defineresource pop end end")
    return b"\n".join(lines)


def make_pdf(lines: list[str], *, japanese: bool = False, pages: int = 1) -> bytes:
    """A small valid PDF whose text layer is `lines` (repeated on each page)."""
    encode = _pdf_string_utf16 if japanese else _pdf_string_latin
    ops = [b"BT", b"/F1 11 Tf", b"14 TL", b"50 800 Td"]
    for line in lines:
        ops += [encode(line) + b" Tj", b"T*"]
    ops.append(b"ET")
    content = b"\n".join(ops)
    font = (
        _JA_FONT if japanese else b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    cmap = _to_unicode_cmap(set("".join(lines))) if japanese else b""

    page_ids = list(range(7, 7 + pages))
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % i for i in page_ids) + b"] /Count %d >>" % pages,
        3: b"<< /Font << /F1 4 0 R >> >>",
        4: font,
        5: b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        6: b"<< /Length %d >>\nstream\n" % len(cmap) + cmap + b"\nendstream",
    }
    for page_id in page_ids:
        objects[page_id] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources 3 0 R /Contents 5 0 R >>"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n")
    xref = out.tell()
    size = max(objects) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for number in range(1, size):
        out.write(b"%010d 00000 n \n" % offsets[number])
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
    return out.getvalue()


def make_inflating_pdf(*, inflated_mb: int) -> bytes:
    """A valid PDF whose page content is a small Flate stream that inflates to `inflated_mb` MB."""
    import zlib

    body = b"BT /F1 11 Tf 50 800 Td (Jane Doe) Tj ET\n" + b" " * (inflated_mb * 1024 * 1024)
    packed = zlib.compress(body, 9)
    plain = make_pdf(["placeholder"])
    # Swap the page's content stream for the compressed one (the xref is rebuilt by pypdf on load).
    start = plain.index(b"5 0 obj")
    end = plain.index(b"endobj", start) + len(b"endobj")
    stream = b"5 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream\nendobj"
    return plain[:start] + stream + plain[end:]


def make_encrypted_pdf(lines: list[str], *, password: str = "s3cret") -> bytes:  # noqa: S107 - a test file's
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(lines))))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx(paragraphs: list[str], *, table: list[tuple[str, str]] | None = None) -> bytes:
    """A DOCX with paragraphs and, optionally, a two-column table (a 履歴書's field/value grid)."""
    from docx import Document

    document = Document()
    for index, text in enumerate(paragraphs):
        if index == 0:
            document.add_heading(text, level=1)
        else:
            document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=0, cols=2)
        for label, value in table:
            cells = grid.add_row().cells
            cells[0].text, cells[1].text = label, value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_aes_pdf_openable(lines: list[str]) -> bytes:
    """AES-256 encrypted with an owner password only: any viewer opens it with the empty user password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(lines))))
    writer.encrypt(user_password="", owner_password="owner-only", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_docx_with_parts(
    *, header: list[str], body: list[str], footer: list[str], table: list[list[list[str]]] | None = None
) -> bytes:
    """A DOCX whose contact details sit in the header and footer, and whose table cells hold line
    breaks inside one paragraph (`table`: rows of cells, each cell a list of lines joined by <w:br/>)."""
    from docx import Document

    document = Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = header[0]
    for line in header[1:]:
        section.header.add_paragraph(line)
    section.footer.paragraphs[0].text = footer[0]
    for line in footer[1:]:
        section.footer.add_paragraph(line)
    for line in body:
        document.add_paragraph(line)
    for row_cells in table or []:
        row = document.add_table(rows=1, cols=len(row_cells)).rows[0]
        for cell, lines in zip(row.cells, row_cells, strict=True):
            run = cell.paragraphs[0].add_run(lines[0])
            for line in lines[1:]:
                run.add_break()
                run = cell.paragraphs[0].add_run(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_memory_hungry_docx(*, paragraphs: int = 200_000) -> bytes:
    """A DOCX of incompressible text (no zip-bomb ratio) that needs far more memory to parse than its size."""
    import random

    rng = random.Random(17)
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(make_docx(["Jane Doe"]))) as source, zipfile.ZipFile(
        buffer, "w", zipfile.ZIP_DEFLATED
    ) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                letters = "abcdefghijklmnop"
                filler = "".join(
                    "<w:p><w:r><w:t>" + "".join(rng.choice(letters) for _ in range(80)) + "</w:t></w:r></w:p>"
                    for _ in range(paragraphs)
                )
                data = data.replace(b"<w:body>", b"<w:body>" + filler.encode(), 1)
            target.writestr(info.filename, data)
    return buffer.getvalue()


def make_zip_bomb(*, uncompressed_mb: int = 200, entries: int = 1) -> bytes:
    """A DOCX-shaped zip whose entries inflate far beyond any resume (a highly compressible payload)."""
    out = io.BytesIO()
    chunk = b"\0" * (1024 * 1024)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for index in range(entries):
            with archive.open(f"word/media/blob{index}.bin", "w", force_zip64=True) as entry:
                for _ in range(uncompressed_mb):
                    entry.write(chunk)
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def make_many_entries_zip(*, entries: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        for index in range(entries):
            archive.writestr(f"word/x{index}.xml", "")
    return out.getvalue()


def _regenerate_demo_files() -> None:
    """Write each demo person's PDF/DOCX resume from the .txt beside it."""
    from profiles.demo import DEMO_DATA_DIR, DEMO_PEOPLE

    for person in DEMO_PEOPLE:
        target = DEMO_DATA_DIR / person.resume
        if target.suffix == ".txt":
            continue
        text = target.with_suffix(".txt").read_text(encoding="utf-8")
        lines = text.splitlines()
        if target.suffix == ".pdf":
            target.write_bytes(make_pdf(lines, japanese=person.language == "ja"))
        else:
            target.write_bytes(make_docx([line for line in lines if line.strip()]))
        print(f"wrote {target}")


if __name__ == "__main__":
    import django

    django.setup()
    _regenerate_demo_files()
