"""Resumes read like a careful person would, and hostile files give clean errors.

Hostile fixtures: a zip bomb, an encrypted PDF (AES, openable with the empty password, and locked),
a mislabeled file, a NUL byte, an overflowing salary, a file of 5 MB + 1 byte, a DOCX that needs more
memory than allowed, an invoice and a manual uploaded as resumes. Careful reading: skills in skill
context only, DOCX cells and headers/footers, graduation years from education entries, a new
upload replacing what the last one parsed but never what the person typed.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.jobs.skills import extract_skills
from profiles.extract import CorruptResumeError, ExtractionLimitError, extract_text
from profiles.models import Resume
from profiles.resume_heuristics import parse_resume
from profiles.resume_heuristics.history import education
from profiles.resume_heuristics.likeness import resume_likeness
from profiles.services import profile_get_or_create
from tests.profiles.resume_files import (
    make_aes_pdf_openable,
    make_docx_with_parts,
    make_encrypted_pdf,
    make_memory_hungry_docx,
    make_pdf,
    make_zip_bomb,
)

UPLOAD = "/api/v1/profiles/upload-resume/alice"
PROFILE = "/api/v1/profiles/profile/alice"
RESUME = "\n".join(
    [
        "Alice Example",
        "alice@example.com | 090-1111-2222 | Tokyo",
        "SKILLS",
        "Python, Django, PostgreSQL, Docker",
        "EXPERIENCE",
        "Backend Developer Intern, Kumo Systems K.K. (Jun 2024 - Sep 2024)",
        "EDUCATION",
        "B.S. in Computer Science, University of Tokyo, 2025",
    ]
)
INVOICE = "\n".join(
    [
        "INVOICE #2026-114",
        "Bill to: Acme Corp, billing@acme.example, +1 415 555 0100",
        "Description  Qty  Unit price",
        "Consulting services (Python, AWS)  10  $150",
        "Subtotal $1,500   VAT $300   Total due $1,800",
        "Payment terms: 30 days. Due date: 2026-12-31",
    ]
)
MANUAL = "\n".join(
    [
        "User Guide — Model X100 Router",
        "Table of Contents",
        "Chapter 1 Installation",
        "Warning: unplug the device before cleaning.",
        "Chapter 2 Troubleshooting",
        "Specifications: runs Linux; press the reset button for 10 seconds.",
    ]
)


@pytest.fixture(autouse=True)
def _offline(settings):
    settings.LLM_PROVIDER = "offline"


@pytest.fixture
def own(user):
    return profile_get_or_create(user=user)


def _upload(client, name: str, data: bytes):
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, data)}, format="multipart")


# -- hostile files give clean errors, and leave the profile as it was ----------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "make", "status", "code"),
    [
        ("cv.docx", lambda: make_zip_bomb(uncompressed_mb=60), 400, "suspicious_archive"),
        ("cv.pdf", lambda: make_encrypted_pdf(["Alice"], password="s3cret"), 400, "encrypted_file"),
        ("cv.pdf", lambda: make_pdf(RESUME.splitlines())[:400], 400, "corrupt_file"),
        ("cv.docx", lambda: make_pdf(RESUME.splitlines()), 415, "mislabeled_file"),
        ("cv.txt", lambda: b"x" * (5 * 1024 * 1024 + 1), 413, "file_too_large"),
        ("invoice.txt", lambda: INVOICE.encode(), 422, "not_a_resume"),
        ("manual.pdf", lambda: make_pdf(MANUAL.splitlines()), 422, "not_a_resume"),
    ],
)
def test_hostile_uploads_are_refused_with_a_stable_code_and_change_nothing(user_client, own, name, make, status, code):
    before = (own.full_name, own.programming_languages, own.updated_at)

    response = _upload(user_client, name, make())

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    own.refresh_from_db()
    assert (own.full_name, own.programming_languages, own.updated_at) == before
    assert not Resume.objects.filter(profile=own).exists()


@pytest.mark.django_db
def test_not_a_resume_says_what_it_reads_like(user_client, own):
    response = _upload(user_client, "invoice.txt", INVOICE.encode())

    error = response.json()["error"]
    assert error["message"].startswith("This does not look like a resume: it reads like an invoice")
    assert error["detail"]["reads_like"] == "an invoice"
    assert error["detail"]["confidence"] < error["detail"]["min_confidence"]


def test_resume_likeness_passes_short_real_resumes_and_fails_other_documents():
    assert resume_likeness(RESUME).score >= 0.9
    assert resume_likeness("Jane Doe\njane@example.com\nPython developer. Django, AWS.").score >= 0.3
    assert resume_likeness(INVOICE).score == 0.0
    assert resume_likeness(MANUAL).reads_like == "a manual"
    japanese_invoice = "請求書\n品名 数量 単価\n小計 500,000\n消費税 50,000\n振込先：銀行"
    assert resume_likeness(japanese_invoice).reads_like == "an invoice"


def test_an_aes_pdf_that_opens_with_the_empty_password_is_read():
    result = extract_text(data=make_aes_pdf_openable(["Alice Example", "Python"]), filename="cv.pdf")

    assert result.text == "Alice Example\nPython"


def test_a_corrupt_file_message_never_quotes_the_parser():
    # A real ZIP whose document.xml is not XML: lxml fails inside the child with its own words.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document><<<not xml")

    with pytest.raises(CorruptResumeError) as caught:
        extract_text(data=buffer.getvalue(), filename="cv.docx")

    assert caught.value.message == "The file is damaged and could not be read as a Word (DOCX) document."
    assert caught.value.detail == {"kind": "docx"}


def test_a_docx_killed_for_memory_is_an_extraction_limit_not_corrupt(settings):
    # lxml reports its failed allocation as "XMLSyntaxError: unknown error": the child must see
    # through that. Whichever way the parser fails at these caps, it is a limit, never "corrupt".
    settings.RESUME_MAX_BYTES = 20 * 1024 * 1024
    data = make_memory_hungry_docx()
    for megabytes in (100, 140):
        settings.RESUME_EXTRACT_MEMORY_MB = megabytes
        with pytest.raises(ExtractionLimitError) as caught:
            extract_text(data=data, filename="cv.docx")
        assert caught.value.code == "extraction_limit"
        assert caught.value.detail["limit"] == "memory"
        assert "memory" in caught.value.message


def test_a_stray_nul_byte_in_a_text_file_is_dropped_not_refused():
    result = extract_text(data=RESUME.replace("Alice", "Al\x00ice", 1).encode(), filename="cv.txt")

    assert result.text.startswith("Alice Example")


@pytest.mark.django_db
def test_an_overflowing_salary_and_years_are_bounded_to_their_columns(user_client, own):
    text = RESUME + "\nPREFERENCES\nDesired salary: $1000000000000000000000000000000\n99999 years of experience"

    response = user_client.post("/api/v1/profiles/parse-text/alice", {"text": text}, format="json")

    assert response.status_code == 200
    own.refresh_from_db()
    assert own.salary_range_min is None or own.salary_range_min <= 2_147_483_647
    assert 0 <= own.years_of_experience <= 60


# -- careful reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("TOEIC L&R 850点", "R"),
        ("John R. Smith\nSoftware Engineer", "R"),
        ("Taro C Yamada", "C"),
        ("Plan C: move to Osaka", "C"),
        ("Let's Go!", "Go"),
        ("Vitamin C and zinc", "C"),
    ],
)
def test_one_letter_skills_need_skill_context(text, absent):
    assert absent not in extract_skills(text)


@pytest.mark.parametrize(
    ("text", "present"),
    [
        ("Skills: Python, R, SQL", "R"),
        ("Languages: C, Go", "Go"),
        ("C++ Developer <Remote>", "C++"),
        ("Python または R によるデータ分析経験", "R"),
        ("I wrote a compiler in C.", "C"),
        ("Go 経験3年", "Go"),
    ],
)
def test_one_letter_skills_in_skill_context_are_found(text, present):
    assert present in extract_skills(text)


def test_docx_headers_footers_and_line_breaks_inside_cells_are_read():
    data = make_docx_with_parts(
        header=["山田 太郎", "taro.yamada@example.jp"],
        body=["職務経歴書", "職務経歴"],
        footer=["090-1234-5678"],
        table=[[["2023年4月〜現在"], ["株式会社サンプルテック", "バックエンドエンジニア"]]],
    )

    text = extract_text(data=data, filename="cv.docx").text
    lines = text.splitlines()

    assert lines[0] == "山田 太郎"
    assert "taro.yamada@example.jp" in lines
    assert lines[-1] == "090-1234-5678"
    assert "2023年4月〜現在\t株式会社サンプルテック" in lines
    assert "バックエンドエンジニア" in lines  # its own line, not glued to the company
    parsed = parse_resume(text, language="ja", as_of=date(2026, 11, 1))
    assert parsed["personal_info"]["email"] == "taro.yamada@example.jp"
    assert parsed["personal_info"]["phone"] == "090-1234-5678"
    assert "バックエンドエンジニア" in parsed["experience"]["job_titles"]


@pytest.mark.parametrize(
    ("lines", "years"),
    [
        (["EDUCATION", "University of Tokyo", "Sep 2019 – Jun 2023", "GPA 3.8 (2022)", "Dean's List 2021"], [2023]),
        (["B.S. Computer Science, MIT, 2018", "Scrum Master certified 2022"], [2018]),
        (
            [
                "2018年4月　東京都立日比谷高等学校　入学",
                "2021年3月　東京都立日比谷高等学校　卒業",
                "2021年4月　東京工業大学　入学",
                "2025年3月　東京工業大学　卒業見込み",
                "2023年8月　株式会社サンプルテック　入社",
            ],
            [2021, 2025],
        ),
        (["Master of Science, Northwestern University, 2019 - 2021"], [2021]),
    ],
)
def test_graduation_years_come_from_education_entries_only(lines, years):
    assert education(lines, section=True)["graduation_years"] == years


@pytest.mark.django_db
def test_a_new_upload_replaces_parsed_fields_but_keeps_what_was_typed_by_hand(user_client, own):
    # Given a first resume, then a hand-typed desired role and location
    first = RESUME + "\nPREFERENCES\nDesired roles: Data Engineer"
    assert user_client.post("/api/v1/profiles/parse-text/alice", {"text": first}, format="json").status_code == 200
    typed = {"desired_roles": ["Backend Engineer"], "location": "Osaka"}
    assert user_client.put(PROFILE, typed, format="json").status_code == 200

    # When a second, different resume is uploaded
    second = "\n".join(
        [
            "Alice Example",
            "alice@example.com",
            "SKILLS",
            "Java, Spring, MySQL",
            "EDUCATION",
            "B.S. in Computer Science, University of Tokyo, 2025",
        ]
    )
    response = _upload(user_client, "cv2.txt", second.encode())

    # Then the parsed fields are the new resume's only; the typed ones stay
    assert response.status_code == 200
    own.refresh_from_db()
    assert own.programming_languages == ["Java"]
    assert "Django" not in own.frameworks_libraries
    assert own.phone == ""  # the new resume has none: the old one's is gone
    assert own.desired_roles == ["Backend Engineer"]
    assert own.location == "Osaka"
    assert set(own.manually_edited_fields) == {"desired_roles", "location"}


@pytest.mark.django_db
def test_sending_a_profile_back_unchanged_marks_nothing_as_typed(user_client, own):
    body = user_client.get(PROFILE).json()
    editable = {key: body[key] for key in ("full_name", "location", "desired_roles")}

    user_client.put(PROFILE, editable, format="json")

    own.refresh_from_db()
    assert own.manually_edited_fields == []
