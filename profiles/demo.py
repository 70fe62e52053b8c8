"""Demo step: five people (three English, two Japanese) with bundled resumes, uploaded through the
same services as the API (offline, the rule-based parser answers, flagged). Idempotent: a person
whose resume is already recorded is left alone. Scoring and digests follow (profiles.matching.demo).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from config.demo import DemoReport
from profiles.selectors import resume_by_content
from profiles.services import content_sha256, profile_get_or_create, profile_update, resume_upload

DEMO_DATA_DIR = Path(__file__).with_name("demo_data")


@dataclass(frozen=True)
class DemoPerson:
    username: str
    email: str
    resume: str  # file in demo_data/
    time_zone: str
    language: str


DEMO_PEOPLE = (
    DemoPerson("demo-jane", "jane.doe@example.com", "jane_doe_resume.pdf", "UTC", "en"),
    DemoPerson("demo-sam", "sam.taylor@example.co.uk", "sam_taylor_cv.docx", "Europe/London", "en"),
    DemoPerson("demo-priya", "priya.shah@example.com", "priya_shah_resume.txt", "UTC", "en"),
    DemoPerson("demo-yamada", "taro.yamada@example.jp", "yamada_taro_rirekisho.pdf", "Asia/Tokyo", "ja"),
    DemoPerson("demo-sato", "hanako.sato@example.jp", "sato_hanako_shokumukeirekisho.docx", "Asia/Tokyo", "ja"),
)


def run(*, report: DemoReport) -> None:
    from profiles.matching import demo as matching_demo  # it reads DEMO_PEOPLE from this module

    people_load(report=report)
    matching_demo.run(report=report)


def people_load(*, report: DemoReport) -> None:
    """The demo people and their parsed resumes (idempotent)."""
    user_model = get_user_model()
    parsed, kept, fallback = [], 0, 0
    placeholders: list[str] = []
    for person in DEMO_PEOPLE:
        user, created = user_model.objects.get_or_create(username=person.username, defaults={"email": person.email})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        profile = profile_get_or_create(user=user)
        wanted = {"time_zone": person.time_zone, "language": person.language}
        if any(getattr(profile, name) != value for name, value in wanted.items()):
            # Only when it differs: an edit makes the next matching run score the person again.
            profile_update(profile=profile, data=wanted)
        data = (DEMO_DATA_DIR / person.resume).read_bytes()
        if resume_by_content(profile=profile, sha256=content_sha256(data)) is not None:
            kept += 1
            continue
        resume = resume_upload(profile=profile, uploaded_file=SimpleUploadedFile(person.resume, data))
        parsed.append(f"{person.username} ({resume.kind}, {resume.language})")
        fallback += resume.parsed_is_fallback
        if not resume.parsed_is_fallback and _skills_from_text_if_unrecognized(profile_id=profile.pk, text=resume.text):
            placeholders.append(person.username)

    english = sum(person.language == "en" for person in DEMO_PEOPLE)
    line = f"profiles: {len(DEMO_PEOPLE)} demo people ({english} English, {len(DEMO_PEOPLE) - english} Japanese)"
    if parsed:
        how = f"{fallback} by the rule-based parser (no LLM configured)" if fallback else "by the LLM"
        line += f"; parsed {len(parsed)} resume(s), {how}: {', '.join(parsed)}"
    if kept:
        line += f"; {kept} already had their resume"
    report.done.append(line)
    if placeholders:
        report.done.append(
            f"profiles: the model's parse named no skill we know for {', '.join(placeholders)} (a simulator answers "
            "with placeholders): their skills were taken from the resume text by the skill extractor, so matching "
            "has something to match"
        )
    report.look += [
        "profiles: http://127.0.0.1:8000/admin/profiles/userprofile/ (resumes inline)",
        "API as staff: GET /api/v1/profiles/users, GET /api/v1/profiles/profile/demo-yamada",
    ]


def _skills_from_text_if_unrecognized(*, profile_id: int, text: str) -> bool:
    """Demo only: when none of the parsed skills is one we know (a simulator's placeholder text), use the
    skills the extractor finds in the resume itself. Returns whether it did."""
    from catalog.jobs.skills import canonical_skill, extract_skills
    from profiles.models import UserProfile

    profile = UserProfile.objects.get(pk=profile_id)
    parsed = [*profile.programming_languages, *profile.frameworks_libraries, *profile.tools_platforms]
    if any(canonical_skill(str(name)) for name in parsed):
        return False
    found = extract_skills(text)
    if not found:
        return False
    # A server-side correction of model output, not a person's edit: update() keeps it out of
    # manually_edited_fields and leaves updated_at (and so the matching watermark) alone.
    UserProfile.objects.filter(pk=profile_id).update(
        programming_languages=found, frameworks_libraries=[], tools_platforms=[]
    )
    return True
