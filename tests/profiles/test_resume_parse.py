"""The resume parser: the rule-based fallback on English and Japanese resumes, the RESUME_PARSE task
through the simulator, and applying a parse to a profile (all or nothing, idempotent, untrusted)."""

from datetime import date
from pathlib import Path

import pytest
from django.db import DatabaseError
from django.forms.models import model_to_dict
from django.utils import timezone

from llm.models import LLMCall
from llm.runtime import run
from llm.task import Provenance
from profiles.extract import japanese_ratio, normalize_text
from profiles.llm import RESUME_PARSE, ParsedResume, ResumeParseInput, ResumeSource, check_japanese
from profiles.models import Resume, UserProfile
from profiles.resume_heuristics import NOT_AVAILABLE, find_phone, parse_resume, western_years
from profiles.services import (
    content_sha256,
    profile_get_or_create,
    profile_update,
    resume_parse_apply,
    resume_parse_text,
)

DEMO = Path(__file__).resolve().parents[2] / "profiles" / "demo_data"
AS_OF = date(2025, 6, 1)
pytestmark = pytest.mark.django_db


def demo_text(name: str) -> str:
    return normalize_text((DEMO / name).read_text(encoding="utf-8"))


@pytest.fixture
def offline(settings):
    settings.LLM_PROVIDER = "offline"


@pytest.fixture
def profile(user):
    return profile_get_or_create(user=user)


def task_input(profile: UserProfile, text: str, language: str = "en") -> ResumeParseInput:
    data = text.encode()
    return ResumeParseInput(
        profile_id=profile.pk,
        text=text,
        language=language,
        as_of=AS_OF,
        source=ResumeSource(filename="cv.txt", kind="text", size_bytes=len(data), sha256=content_sha256(data)),
    )


# -- the rule-based parser -----------------------------------------------------------------------------


def test_heuristics_read_an_english_resume():
    parsed = parse_resume(demo_text("jane_doe_resume.txt"), language="en", as_of=AS_OF)

    assert parsed["personal_info"] == {
        "full_name": "Jane Doe",
        "email": "jane.doe@example.com",
        "phone": "+1 (415) 555-0142",
        "location": "San Francisco, CA",
        "work_authorization": "U.S. Citizen",
    }
    assert parsed["years_of_experience"] == 6.0  # "6 years of experience"
    assert parsed["career_level"] == "senior"
    assert {"Python", "Go", "SQL"} <= set(parsed["skills"]["programming_languages"])
    assert {"Django", "React"} <= set(parsed["skills"]["frameworks_libraries"])
    assert {"AWS", "Kubernetes", "PostgreSQL"} <= set(parsed["skills"]["tools_platforms"])
    assert "Mentoring" in parsed["skills"]["soft_skills"]
    assert parsed["education"]["degrees"] == ["B.S. in Computer Science"]
    assert parsed["education"]["graduation_years"] == [2018]
    assert parsed["experience"]["companies"] == ["Acme Payments Inc", "Globex Corporation"]
    assert parsed["preferences"]["salary_range_min"] == 180_000
    assert parsed["preferences"]["salary_range_max"] == 220_000


def test_heuristics_count_years_from_the_experience_sections_dates():
    text = (
        "Alex Kim\nalex@example.com\n\nEXPERIENCE\n"
        "Developer, Foo Corp (Jan 2019 - Dec 2020)\n"
        "Engineer, Bar Inc (2021/01 - Present)\n\n"
        "EDUCATION\nBSc Physics, University of Leeds (2015 - 2018)\n"
    )

    parsed = parse_resume(text, language="en", as_of=AS_OF)

    # 24 months + Jan 2021..Jun 2025 (54 months); the university years don't count.
    assert parsed["years_of_experience"] == 6.5
    assert parsed["education"]["institutions"] == ["University of Leeds"]


def test_heuristics_read_a_japanese_rirekisho():
    parsed = parse_resume(demo_text("yamada_taro_rirekisho.txt"), language="ja", as_of=AS_OF)

    info = parsed["personal_info"]
    assert info["full_name"] == "山田 太郎"  # from the 氏名 field, not the ふりがな line
    assert info["phone"] == "090-1234-5678"
    assert info["email"] == "taro.yamada@example.jp"
    assert info["location"] == "東京都目黒区"  # prefecture and city, not the street address
    assert {"Python", "JavaScript"} <= set(parsed["skills"]["programming_languages"])
    assert {"React", "Django"} <= set(parsed["skills"]["frameworks_libraries"])
    # 入社 2023年8月 ... 現在に至る, up to June 2025
    assert parsed["years_of_experience"] == 1.9
    assert parsed["career_level"] == "student"  # 卒業見込み outweighs the internship
    assert "東京工業大学" in parsed["education"]["institutions"]
    assert parsed["education"]["degrees"] == ["学士"]
    assert 2025 in parsed["education"]["graduation_years"]
    assert parsed["experience"]["companies"] == ["株式会社サンプルテック"]
    assert parsed["preferences"]["desired_roles"] == ["Webエンジニア", "バックエンドエンジニア"]
    assert japanese_ratio(parsed["professional_summary"]) > 0.5


def test_an_expected_graduation_in_the_past_is_no_longer_a_student():
    parsed = parse_resume(demo_text("yamada_taro_rirekisho.txt"), language="ja", as_of=date(2026, 11, 1))

    assert parsed["years_of_experience"] == 3.3
    assert parsed["career_level"] == "mid"


def test_heuristics_read_a_japanese_shokumu_keirekisho():
    parsed = parse_resume(demo_text("sato_hanako_shokumukeirekisho.txt"), language="ja", as_of=AS_OF)

    assert parsed["personal_info"]["full_name"] == "佐藤 花子"
    assert parsed["personal_info"]["phone"] == "+81 80-9876-5432"
    assert parsed["years_of_experience"] == 4.2  # 2021年4月～現在
    assert {"Java", "Go", "SQL"} <= set(parsed["skills"]["programming_languages"])
    assert parsed["education"]["degrees"] == ["学士(工学)"]
    assert parsed["preferences"]["salary_range_min"] == 6_000_000  # 600万円
    assert parsed["preferences"]["salary_range_max"] == 7_500_000


def test_explicit_japanese_years_win():
    parsed = parse_resume("氏名 鈴木 一郎\nWebアプリの実務経験3年。Python、Go。", language="ja", as_of=AS_OF)

    assert parsed["years_of_experience"] == 3.0


def test_japanese_era_years_become_western_years():
    assert western_years("令和5年3月 卒業、平成元年、昭和60年") == "2023年3月 卒業、1989年、1985年"


@pytest.mark.parametrize(
    ("line", "phone"),
    [
        ("電話 090-1234-5678", "090-1234-5678"),
        ("TEL: 03-1234-5678", "03-1234-5678"),
        ("携帯：+81 90-1234-5678", "+81 90-1234-5678"),
        ("Mobile +81-3-1234-5678", "+81-3-1234-5678"),
        ("Phone: (03) 1234-5678", "(03) 1234-5678"),
        ("+1 (415) 555-0142", "+1 (415) 555-0142"),
        ("Worked 2019.04 - 2023.03 at Foo", None),
        ("2019-2023", None),
        ("Employee ID 12345", None),
    ],
)
def test_phone_numbers_in_japanese_and_international_formats(line, phone):
    assert find_phone(line) == phone


def test_the_fallback_is_honest_about_insights(profile):
    output = RESUME_PARSE.fallback_output(task_input(profile, demo_text("priya_shah_resume.txt")))

    assert output.insights.profile_summary == NOT_AVAILABLE["en"]
    assert output.insights.career_advice == NOT_AVAILABLE["en"]
    assert output.insights.strengths == []


# -- the task through the runtime ------------------------------------------------------------------------


@pytest.mark.usefixtures("offline")
def test_offline_parse_applies_the_fallback_flagged(profile):
    resume = resume_parse_text(profile=profile, text=demo_text("jane_doe_resume.txt"))

    profile.refresh_from_db()
    assert profile.full_name == "Jane Doe"
    assert profile.email == "jane.doe@example.com"
    assert profile.years_of_experience == 6.0
    assert "Python" in profile.programming_languages
    assert profile.ai_is_fallback is True
    assert profile.ai_profile_summary == NOT_AVAILABLE["en"]
    assert profile.last_resume_upload is not None
    assert resume.parsed_is_fallback is True
    assert resume.filename == "pasted-text.txt"
    call = LLMCall.objects.get(task="resume_parse")
    assert call.status == LLMCall.Status.FALLBACK
    assert call.subject_id == str(profile.pk)


def test_parse_through_the_simulator_sets_profile_fields(sim, profile):
    text = demo_text("jane_doe_resume.txt")

    resume = resume_parse_text(profile=profile, text=text)

    profile.refresh_from_db()
    assert resume.parsed_is_fallback is False
    assert profile.ai_is_fallback is False
    assert profile.full_name
    assert profile.professional_summary
    assert profile.ai_profile_summary
    assert profile.ai_strengths
    # The simulator invents contact details; only those actually in the resume are kept.
    assert profile.email == "jane.doe@example.com"
    assert profile.phone == "+1 (415) 555-0142"
    chat = [c for c in sim.calls if c.endpoint == "chat.completions"]
    assert len(chat) == 1
    assert LLMCall.objects.get(task="resume_parse").status == LLMCall.Status.SUCCEEDED


def test_a_japanese_resume_gets_japanese_summaries_from_the_simulator(sim, profile):
    text = demo_text("yamada_taro_rirekisho.txt")

    resume_parse_text(profile=profile, text=text)

    profile.refresh_from_db()
    assert profile.ai_is_fallback is False
    assert japanese_ratio(profile.professional_summary) >= 0.5
    assert japanese_ratio(profile.ai_profile_summary) >= 0.5
    prompt = sim.calls[-1].json["messages"][0]["content"]
    assert "日本語で書いてください" in prompt
    assert len([c for c in sim.calls if c.endpoint == "chat.completions"]) == 1  # passed the check first time


def test_the_japanese_check_flags_english_summaries_for_a_japanese_resume(profile):
    output = RESUME_PARSE.fallback_output(task_input(profile, demo_text("yamada_taro_rirekisho.txt"), "ja"))
    english = output.model_copy(update={"professional_summary": "A student who builds web apps with Python."})

    assert check_japanese(task_input(profile, "履歴書", "ja"), output) == []
    assert check_japanese(task_input(profile, "履歴書", "ja"), english) == [
        "professional_summary must be written in Japanese, like the resume"
    ]
    assert check_japanese(task_input(profile, "Resume", "en"), english) == []


def test_model_output_breaking_the_check_is_reasked_then_falls_back(sim, profile, monkeypatch):
    # given a model that always answers a Japanese resume in English
    monkeypatch.setattr("profiles.llm.japanese_ratio", lambda text: 0.0)

    result = run(RESUME_PARSE, task_input(profile, demo_text("yamada_taro_rirekisho.txt"), "ja"))

    assert result.is_fallback
    assert len([c for c in sim.calls if c.endpoint == "chat.completions"]) == 2  # one re-ask


# -- applying a parse ----------------------------------------------------------------------------------


def model_provenance() -> Provenance:
    return Provenance(
        task="resume_parse", task_version=1, provider="openai", model="gpt-4o-mini", is_fallback=False,
        generated_at=timezone.now(),
    )  # fmt: skip


def _parsed(profile: UserProfile, **changes) -> ParsedResume:
    output = RESUME_PARSE.fallback_output(task_input(profile, demo_text("priya_shah_resume.txt")))
    return output.model_copy(update=changes)


@pytest.mark.usefixtures("offline")
def test_applying_the_same_parse_twice_changes_nothing_more(profile):
    given = task_input(profile, demo_text("priya_shah_resume.txt"))

    run(RESUME_PARSE, given)
    first = model_to_dict(UserProfile.objects.get(pk=profile.pk), exclude=["last_resume_upload"])
    run(RESUME_PARSE, given)

    assert Resume.objects.filter(profile=profile).count() == 1
    assert model_to_dict(UserProfile.objects.get(pk=profile.pk), exclude=["last_resume_upload"]) == first


@pytest.mark.usefixtures("offline")
def test_a_failure_while_applying_leaves_the_profile_unchanged(profile, monkeypatch):
    before = model_to_dict(UserProfile.objects.get(pk=profile.pk))

    def broken(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(Resume.objects, "update_or_create", broken)
    with pytest.raises(DatabaseError):
        resume_parse_text(profile=profile, text=demo_text("priya_shah_resume.txt"))

    assert model_to_dict(UserProfile.objects.get(pk=profile.pk)) == before
    assert not Resume.objects.exists()


def test_apply_treats_model_output_as_untrusted(profile):
    # given a model answer with invented contact details, reversed salary, misfiled skills
    given = task_input(profile, "Priya Shah\npriya.shah@example.com\n312-555-0187\nSQL, Docker")
    output = _parsed(profile)
    output.personal_info.email = "someone.else@example.org"
    output.personal_info.phone = "+1 999 999 9999"
    output.preferences.salary_range_min, output.preferences.salary_range_max = 150_000, 90_000
    output.skills.frameworks_libraries = ["docker", "JS", "Obscure Framework"]
    resume_parse_apply(task_input=given, output=output, provenance=model_provenance())

    profile.refresh_from_db()
    assert profile.email == "priya.shah@example.com"
    assert profile.phone == "312-555-0187"
    assert (profile.salary_range_min, profile.salary_range_max) == (90_000, 150_000)
    assert "Docker" in profile.tools_platforms  # dictionary skills go to their own list
    assert "JavaScript" in profile.programming_languages
    assert "Obscure Framework" in profile.frameworks_libraries


def test_what_the_resume_is_silent_on_keeps_its_value(profile):
    # given preferences the person set themselves (typed by hand: the PUT profile service)
    profile_update(profile=profile, data={"desired_roles": ["Product Analyst"], "location": "Osaka"})
    given = task_input(profile, "Kim Lee\nPython")
    output = _parsed(profile)
    output.personal_info.location = None
    output.preferences.desired_roles = []
    resume_parse_apply(task_input=given, output=output, provenance=model_provenance())

    profile.refresh_from_db()
    assert profile.desired_roles == ["Product Analyst"]
    assert profile.location == "Osaka"
