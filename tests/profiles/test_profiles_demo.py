"""The profiles demo step: five people with parsed resumes, idempotent on re-run."""

import pytest

from config.demo import DemoReport
from profiles import demo
from profiles.models import Resume, UserProfile

pytestmark = pytest.mark.django_db


def test_demo_people_get_their_resumes_parsed_once(settings):
    settings.LLM_PROVIDER = "offline"

    first = DemoReport()
    demo.people_load(report=first)
    second = DemoReport()
    demo.people_load(report=second)

    profiles = {p.user_id: p for p in UserProfile.objects.all()}
    assert set(profiles) == {person.username for person in demo.DEMO_PEOPLE}
    assert Resume.objects.count() == 5
    assert {r.kind for r in Resume.objects.all()} == {"pdf", "docx", "text"}
    yamada, sato = profiles["demo-yamada"], profiles["demo-sato"]
    assert (yamada.full_name, yamada.time_zone, yamada.language) == ("山田 太郎", "Asia/Tokyo", "ja")
    assert sato.full_name == "佐藤 花子"
    assert "Java" in sato.programming_languages
    assert profiles["demo-sam"].time_zone == "Europe/London"
    assert all(p.ai_is_fallback for p in profiles.values())
    assert all(p.last_resume_upload for p in profiles.values())
    assert "parsed 5 resume(s), 5 by the rule-based parser" in first.done[0]
    assert "5 already had their resume" in second.done[0]
