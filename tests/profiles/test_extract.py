"""Resume text extraction: real PDF/DOCX/TXT files in English and Japanese, and every kind of bad
file refused with the right 4xx error before anything is written."""

import subprocess

import pytest

from profiles import extract
from profiles.extract import (
    CorruptResumeError,
    EncryptedResumeError,
    ExtractionLimitError,
    MislabeledResumeError,
    NoTextFoundError,
    ResumeTooLargeError,
    SuspiciousArchiveError,
    UnsupportedResumeTypeError,
    extract_text,
    japanese_ratio,
    text_language,
)
from tests.profiles.resume_files import (
    make_docx,
    make_encrypted_pdf,
    make_inflating_pdf,
    make_many_entries_zip,
    make_pdf,
    make_zip_bomb,
)

JA_LINES = ["履歴書", "氏名　山田 太郎", "メール taro@example.jp", "Python と Django の開発経験 3年"]
JA_TEXT = "\n".join(JA_LINES)


# -- good files ------------------------------------------------------------------------------------


def test_pdf_text_is_extracted_in_a_child_process():
    # given a real single-page PDF with a text layer
    data = make_pdf(["Jane Doe", "Senior Python Engineer (Django, AWS)"])

    # when
    result = extract_text(data=data, filename="jane.pdf")

    # then
    assert result.kind == "pdf"
    assert result.text == "Jane Doe\nSenior Python Engineer (Django, AWS)"
    assert result.language == "en"
    assert result.pages == 1


def test_japanese_pdf_text_comes_out_exactly():
    result = extract_text(data=make_pdf(JA_LINES, japanese=True), filename="rirekisho.pdf")

    # NFKC turns the ideographic space into a plain one; the words are intact.
    assert result.text == "履歴書\n氏名 山田 太郎\nメール taro@example.jp\nPython と Django の開発経験 3年"
    assert result.language == "ja"


def test_docx_paragraphs_and_table_rows_keep_their_order():
    # given a 履歴書-style DOCX: a heading, a paragraph, then a field/value grid
    data = make_docx(
        ["職務経歴書", "バックエンドエンジニア"], table=[("氏名", "佐藤 花子"), ("連絡先", "080-9876-5432")]
    )

    result = extract_text(data=data, filename="shokumu.docx")

    assert result.kind == "docx"
    assert result.text.splitlines() == [
        "職務経歴書",
        "バックエンドエンジニア",
        "氏名\t佐藤 花子",
        "連絡先\t080-9876-5432",
    ]
    assert result.language == "ja"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp932", "euc_jp"])
def test_japanese_text_files_decode_from_every_common_encoding(encoding):
    result = extract_text(data=JA_TEXT.encode(encoding), filename="resume.txt")

    assert result.kind == "text"
    assert result.text.startswith("履歴書\n氏名 山田 太郎")
    assert result.language == "ja"


def test_a_latin1_text_file_is_not_mistaken_for_shift_jis():
    result = extract_text(data="Zoë Müller – café résumé".encode("cp1252"), filename="cv.txt")

    assert result.text == "Zoë Müller – café résumé"


def test_full_width_letters_are_normalized():
    result = extract_text(data="ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＪＰ　ｶﾀｶﾅ".encode(), filename="a.txt")

    assert result.text == "TARO@EXAMPLE.JP カタカナ"


def test_a_file_without_extension_is_read_by_its_content():
    assert extract_text(data=make_pdf(["Hi there"]), filename="resume").kind == "pdf"


def test_a_pdf_locked_only_for_editing_is_read():
    # Owner password only: opens with the empty user password, like every PDF viewer does.
    data = make_encrypted_pdf(["Jane Doe", "Python"], password="")

    assert extract_text(data=data, filename="cv.pdf").text == "Jane Doe\nPython"


def test_long_text_is_cut_at_the_setting(settings):
    settings.RESUME_MAX_TEXT_CHARS = 100

    result = extract_text(data=("word " * 100).encode(), filename="a.txt")

    assert len(result.text) == 100
    assert result.truncated


def test_the_child_runs_isolated_without_our_environment(monkeypatch, settings):
    # given an API key in the web worker's environment
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    settings.RESUME_EXTRACT_TIMEOUT_SECONDS = 7
    seen = {}
    real_run = subprocess.run

    def spy(command, **kwargs):
        seen.update(command=command, env=kwargs["env"], timeout=kwargs["timeout"])
        return real_run(command, **kwargs)

    monkeypatch.setattr(extract.subprocess, "run", spy)

    # when
    extract_text(data=make_pdf(["Jane"]), filename="a.pdf")

    # then: isolated interpreter (-I), a minimal environment, the wall-time limit
    assert seen["command"][1] == "-I"
    assert set(seen["env"]) == {"PATH", "LANG"}
    assert seen["timeout"] == 7


# -- bad files -----------------------------------------------------------------------------------------


def test_a_file_over_the_size_cap_is_413(settings):
    settings.RESUME_MAX_BYTES = 1000

    with pytest.raises(ResumeTooLargeError) as caught:
        extract_text(data=b"x" * 1001, filename="a.txt")

    assert caught.value.status_code == 413
    assert caught.value.detail == {"size_bytes": 1001, "max_bytes": 1000}


@pytest.mark.parametrize(
    ("filename", "make", "declared", "actual"),
    [
        ("resume.pdf", lambda: make_docx(["Jane"]), "pdf", "docx"),
        ("resume.docx", lambda: b"Jane Doe\nPython developer\n", "docx", "text"),
        ("resume.txt", lambda: make_pdf(["Jane"]), "text", "pdf"),
        (
            "resume.docx",
            lambda: make_many_entries_zip(entries=0).replace(b"document.xml", b"documenX.xml"),
            "docx",
            "zip",
        ),
    ],
)
def test_a_mislabeled_file_is_415_and_says_what_it_really_is(filename, make, declared, actual):
    with pytest.raises(MislabeledResumeError) as caught:
        extract_text(data=make(), filename=filename)

    assert caught.value.status_code == 415
    assert caught.value.detail == {"declared": declared, "actual": actual}
    assert "but its content is" in caught.value.message


@pytest.mark.parametrize("filename", ["resume.doc", "resume.exe", "resume.rtf"])
def test_other_extensions_are_415(filename):
    with pytest.raises(UnsupportedResumeTypeError) as caught:
        extract_text(data=b"whatever", filename=filename)

    assert caught.value.status_code == 415


def test_binary_data_without_a_name_is_415():
    with pytest.raises(UnsupportedResumeTypeError):
        extract_text(data=b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64, filename="upload")


def test_a_password_protected_pdf_is_refused_clearly():
    with pytest.raises(EncryptedResumeError) as caught:
        extract_text(data=make_encrypted_pdf(["secret"], password="s3cret"), filename="cv.pdf")

    assert caught.value.status_code == 400
    assert "password-protected" in caught.value.message


def test_a_password_protected_docx_is_refused_clearly():
    # Office encrypts OOXML into a compound file holding an "EncryptionInfo" stream.
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 64

    with pytest.raises(EncryptedResumeError):
        extract_text(data=data, filename="cv.docx")


@pytest.mark.parametrize(
    ("filename", "make"),
    [
        ("cv.pdf", lambda: b"%PDF-1.7\n" + b"garbage \x00\x01\x02 " * 50),
        ("cv.pdf", lambda: make_pdf(["Jane Doe"])[:300]),  # truncated mid-file
        ("cv.docx", lambda: b"PK\x03\x04" + b"not really a zip" * 20),
    ],
)
def test_a_corrupt_file_is_400(filename, make):
    with pytest.raises(CorruptResumeError) as caught:
        extract_text(data=make(), filename=filename)

    assert caught.value.status_code == 400
    assert caught.value.code == "corrupt_file"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: make_zip_bomb(uncompressed_mb=60), "expand far beyond"),  # total declared size over 50 MB
        (lambda: make_zip_bomb(uncompressed_mb=20), "compressed"),  # under the total, but a 1000:1 part
        (lambda: make_many_entries_zip(entries=1000), "parts"),
    ],
)
def test_zip_bombs_are_refused_before_python_docx_opens_them(make, reason, monkeypatch):
    # The child process must never start for these.
    monkeypatch.setattr(extract, "_run_child", lambda *args: pytest.fail("the parser ran"))

    with pytest.raises(SuspiciousArchiveError) as caught:
        extract_text(data=make(), filename="cv.docx")

    assert caught.value.status_code == 400
    assert reason in caught.value.message


@pytest.mark.parametrize(
    ("filename", "make"),
    [
        ("cv.txt", lambda: b""),
        ("cv.txt", lambda: b"  \n\t \r\n"),
        ("cv.txt", lambda: "\u3000\u3000\n".encode()),  # ideographic spaces only
        ("cv.pdf", lambda: make_pdf([""])),  # a PDF without a text layer (e.g. a scan)
        ("cv.docx", lambda: make_docx([" "])),
    ],
)
def test_no_text_found_is_422(filename, make):
    with pytest.raises(NoTextFoundError) as caught:
        extract_text(data=make(), filename=filename)

    assert caught.value.status_code == 422


def test_a_parser_that_runs_too_long_is_killed_at_the_wall_time_limit(settings):
    # given a 9 KB PDF whose content stream inflates to 8 MB (slow to parse) and a short limit
    settings.RESUME_EXTRACT_TIMEOUT_SECONDS = 0.5

    with pytest.raises(ExtractionLimitError) as caught:
        extract_text(data=make_inflating_pdf(inflated_mb=8), filename="cv.pdf")

    assert caught.value.status_code == 422
    assert caught.value.detail["limit"] == "time"


def test_a_parser_that_bloats_hits_the_memory_limit(settings):
    # given the same PDF and an address-space cap a few MB above the interpreter's own needs
    settings.RESUME_EXTRACT_MEMORY_MB = 48

    with pytest.raises(ExtractionLimitError) as caught:
        extract_text(data=make_inflating_pdf(inflated_mb=8), filename="cv.pdf")

    assert "memory" in caught.value.message


# -- language helpers ----------------------------------------------------------------------------------


def test_japanese_ratio_counts_script_among_letters():
    assert japanese_ratio("履歴書です") == 1.0
    assert japanese_ratio("Python developer") == 0.0
    assert japanese_ratio("12345 !!") == 0.0
    assert text_language("Pythonとエンジニアリングの経験があります") == "ja"
    assert text_language("I studied 日本語 for two years at university") == "en"
