"""Writes for profiles and resumes: first-use creation, user edits, resume upload and parsing.

A resume goes: size cap → type sniffing and text extraction in a limited child process
(profiles.extract) → the RESUME_PARSE task (model or rule-based fallback) → one transaction that
writes the profile and records the Resume row. Any refusal before that transaction leaves the
profile exactly as it was.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.jobs.skills import SKILL_CATEGORIES, canonical_skill
from config.errors import DomainError, NotFoundError
from llm.runtime import run
from profiles import extract
from profiles.llm import RESUME_PARSE, ParsedResume, ResumeParseInput, ResumeSource
from profiles.models import Resume, UserProfile
from profiles.resume_heuristics import find_email, find_phone
from profiles.resume_heuristics.likeness import resume_likeness
from profiles.selectors import profile_for_request

if TYPE_CHECKING:
    from llm.task import Provenance

SKILL_FIELDS = ("programming_languages", "frameworks_libraries", "tools_platforms", "soft_skills")
EXPERIENCE_FIELDS = ("job_titles", "companies", "industries", "experience_descriptions")
EDUCATION_LIST_FIELDS = ("degrees", "institutions", "relevant_coursework")
PREFERENCE_LIST_FIELDS = ("desired_roles", "preferred_locations", "job_types", "company_size_preference")
# What a person may change through the API. Everything else (AI insights, timestamps, owner,
# user_id, scoring state) is written only by the server.
EDITABLE_FIELDS = (
    "full_name", "email", "phone", "location", "work_authorization", "time_zone", "language",
    "years_of_experience", "career_level", "professional_summary",
    *SKILL_FIELDS, *EXPERIENCE_FIELDS, *EDUCATION_LIST_FIELDS, "graduation_years",
    *PREFERENCE_LIST_FIELDS, "salary_range_min", "salary_range_max",
)  # fmt: skip
# What a resume parse writes; all of it is replaced by the next upload unless typed by hand.
PARSED_FIELDS = (
    "full_name", "email", "phone", "location", "work_authorization",
    "years_of_experience", "career_level", "professional_summary",
    *SKILL_FIELDS, *EXPERIENCE_FIELDS, *EDUCATION_LIST_FIELDS, "graduation_years",
    *PREFERENCE_LIST_FIELDS, "salary_range_min", "salary_range_max",
)  # fmt: skip
SALARY_MAX = 2_147_483_647  # PositiveIntegerField's ceiling on every backend
PASTED_FILENAME = "pasted-text.txt"


def profile_get_or_create(*, user: User) -> UserProfile:
    """The user's profile, created on first use with user_id = username (race-safe on the unique owner)."""
    username = user.get_username()[:100]
    profile: UserProfile | None
    try:
        profile, _ = UserProfile.objects.get_or_create(owner=user, defaults={"user_id": username})
    except IntegrityError:
        # Either a concurrent request created it (found below), or staff gave another profile this
        # user_id: then this person's id gets their primary key as a suffix.
        profile = UserProfile.objects.filter(owner=user).first()
        if profile is None:
            profile, _ = UserProfile.objects.get_or_create(
                owner=user, defaults={"user_id": f"{username[:90]}-{user.pk}"}
            )
    return profile


def profile_get_or_create_for_request(
    *, user: User | AnonymousUser, user_id: str, only_ids: bool = False
) -> UserProfile:
    """`selectors.profile_for_request`, except that a person's own profile is created on first use
    when `user_id` is their username (anything else they can't see stays a 404). `only_ids`: as there."""
    try:
        return profile_for_request(user=user, user_id=user_id, only_ids=only_ids)
    except NotFoundError:
        if isinstance(user, AnonymousUser) or not user.is_authenticated or user.get_username() != user_id:
            raise
        if UserProfile.objects.filter(owner=user).exists():
            raise
        own = profile_get_or_create(user=user)
    if own.user_id != user_id:  # their username was taken: the profile got another user_id
        raise NotFoundError(f"No profile {user_id!r}.", detail={"user_id": user_id})
    return own


def profile_update(*, profile: UserProfile, data: dict[str, Any]) -> UserProfile:
    """Change user-editable fields only (anything else is a DomainError); salary stays min ≤ max."""
    not_editable = sorted(set(data) - set(EDITABLE_FIELDS))
    if not_editable:
        raise DomainError(
            f"These fields cannot be changed: {', '.join(not_editable)}.",
            code="read_only_field",
            detail={"fields": not_editable},
        )
    low = data.get("salary_range_min", profile.salary_range_min)
    high = data.get("salary_range_max", profile.salary_range_max)
    if low is not None and high is not None and low > high:
        raise DomainError(
            "salary_range_min must not exceed salary_range_max.",
            code="invalid_salary_range",
            detail={"salary_range_min": low, "salary_range_max": high},
        )
    if not data:
        return profile
    changed = [field for field, value in data.items() if getattr(profile, field) != value]
    for field, value in data.items():
        setattr(profile, field, value)
    # Typed by hand: a later resume upload must not overwrite it. (A value sent back unchanged, as a
    # client does with a GET body, is not an edit.)
    manual = [name for name in (*profile.manually_edited_fields, *changed) if name in PARSED_FIELDS]
    profile.manually_edited_fields = list(dict.fromkeys(manual))
    profile.save(update_fields=[*data, "manually_edited_fields", "updated_at"])
    return profile


# -- resumes ------------------------------------------------------------------------------------------


def resume_upload(*, profile: UserProfile, uploaded_file: UploadedFile) -> Resume:
    """Extract, parse and apply an uploaded resume (PDF, DOCX, TXT); ResumeFileError (4xx) when refused."""
    max_bytes = settings.RESUME_MAX_BYTES
    if uploaded_file.size is not None and uploaded_file.size > max_bytes:
        raise extract.ResumeTooLargeError(
            f"The file is larger than {extract.human_size(max_bytes)}.",
            detail={"size_bytes": uploaded_file.size, "max_bytes": max_bytes},
        )
    data = uploaded_file.read(max_bytes + 1)  # never more than the cap, whatever the size claimed
    filename = PurePath(uploaded_file.name or "resume").name[:255]
    extracted = extract.extract_text(data=data, filename=filename)
    return _resume_parse(
        profile=profile,
        text=extracted.text,
        language=extracted.language,
        source={"filename": filename, "kind": extracted.kind, "size_bytes": len(data), "sha256": content_sha256(data)},
    )


def resume_parse_text(*, profile: UserProfile, text: str) -> Resume:
    """Parse pasted resume text and apply it, like an uploaded TXT file."""
    normalized = extract.normalize_text(text or "")
    if not normalized:
        raise extract.NoTextFoundError("The resume text is empty.")
    max_chars = settings.RESUME_MAX_TEXT_CHARS
    if len(normalized) > max_chars:
        raise extract.ResumeTooLargeError(
            f"The resume text is longer than {max_chars} characters.",
            detail={"characters": len(normalized), "max_characters": max_chars},
        )
    data = normalized.encode("utf-8")
    return _resume_parse(
        profile=profile,
        text=normalized,
        language=extract.text_language(normalized),
        source={
            "filename": PASTED_FILENAME,
            "kind": Resume.Kind.TEXT,
            "size_bytes": len(data),
            "sha256": content_sha256(data),
        },
    )


def content_sha256(data: bytes) -> str:
    """The Resume row's key: one row per distinct content per person."""
    return hashlib.sha256(data).hexdigest()


def resume_check_likeness(*, text: str, language: str) -> float:
    """The text's resume-likeness; NotAResumeError (422) below RESUME_MIN_CONFIDENCE, with the reason."""
    likeness = resume_likeness(text)
    if likeness.score < settings.RESUME_MIN_CONFIDENCE:
        japanese = language == "ja"
        lead = "この文書は履歴書ではないようです: " if japanese else "This does not look like a resume: "
        raise extract.NotAResumeError(
            lead + likeness.reason(japanese=japanese) + ("" if japanese else "."),
            detail={
                "confidence": likeness.score,
                "min_confidence": settings.RESUME_MIN_CONFIDENCE,
                "reads_like": likeness.reads_like or None,
                "found": likeness.found,
            },
        )
    return likeness.score


def _resume_parse(*, profile: UserProfile, text: str, language: Literal["en", "ja"], source: dict[str, Any]) -> Resume:
    # Before the model: an invoice or a manual would come back as a confident garbage profile.
    resume_check_likeness(text=text, language=language)
    task_input = ResumeParseInput(
        profile_id=profile.pk,
        text=text,
        language=language,
        as_of=timezone.localdate(),
        source=ResumeSource(**source),
    )
    run(RESUME_PARSE, task_input, user_id=profile.owner_id)
    profile.refresh_from_db()  # the caller's object shows what the parse wrote
    resume = Resume.objects.get(profile=profile, sha256=source["sha256"])
    resume.profile = profile
    return resume


# -- applying a parse -------------------------------------------------------------------------------


def _clean_list(values: list[str], *, limit: int = 40, length: int = 300) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        value = " ".join(str(value).split())[:length]
        if value and value.casefold() not in seen:
            seen[value.casefold()] = value
    return list(seen.values())[:limit]


def _skills(output: ParsedResume) -> dict[str, list[str]]:
    """Known skills get their dictionary name and list (so matching compares like with like)."""
    grouped: dict[str, list[str]] = {field: [] for field in SKILL_FIELDS}
    for field in SKILL_FIELDS:
        for raw in getattr(output.skills, field):
            name = canonical_skill(raw) or raw
            grouped[SKILL_CATEGORIES.get(name, field)].append(name)
    return {field: _clean_list(values, length=100) for field, values in grouped.items()}


def _grounded_email(value: str | None, text: str) -> str:
    """An email the resume really contains: the model's if valid and present, else the one in the text."""
    if value and value.strip().lower() in text.lower():
        try:
            validate_email(value.strip())
            return value.strip()[:254]
        except DjangoValidationError:
            pass
    return find_email(text) or ""


def _grounded_phone(value: str | None, text: str) -> str:
    """The model's phone number if its digits appear on one line of the text, else the one found there."""
    digits = re.sub(r"\D", "", value or "")
    if value and len(digits) >= 7 and any(digits in re.sub(r"\D", "", line) for line in text.splitlines()):
        return value.strip()[:50]
    return find_phone(text) or ""


def parsed_profile_fields(*, output: ParsedResume, text: str) -> dict[str, Any]:
    """Every field a parse writes (PARSED_FIELDS), replacing what an earlier resume left: what this
    resume is silent on becomes empty. Model output is untrusted: lengths capped, contact details
    only as found in the text, salary ordered. The caller keeps what the person typed by hand.
    """
    personal = output.personal_info
    fields: dict[str, Any] = {
        "full_name": " ".join((personal.full_name or "").split())[:255],
        "email": _grounded_email(personal.email, text),
        "phone": _grounded_phone(personal.phone, text),
        "location": " ".join((personal.location or "").split())[:255],
        "work_authorization": " ".join((personal.work_authorization or "").split())[:100],
        "professional_summary": output.professional_summary.strip()[:5000],
        "career_level": output.career_level or "",
    }
    years = output.years_of_experience
    fields["years_of_experience"] = round(min(max(years, 0.0), 60.0), 1) if years is not None else 0.0
    fields.update(_skills(output))
    for name in EXPERIENCE_FIELDS:
        fields[name] = _clean_list(getattr(output.experience, name), limit=20)
    for name in EDUCATION_LIST_FIELDS:
        fields[name] = _clean_list(getattr(output.education, name), limit=20)
    fields["graduation_years"] = sorted(set(output.education.graduation_years))[:10]
    for name in PREFERENCE_LIST_FIELDS:
        fields[name] = _clean_list(getattr(output.preferences, name), limit=20, length=100)
    salary = [
        min(value, SALARY_MAX)
        for value in (output.preferences.salary_range_min, output.preferences.salary_range_max)
        if value is not None
    ]
    fields["salary_range_min"] = min(salary) if salary else None
    fields["salary_range_max"] = max(salary) if len(salary) == 2 else None
    insights = output.insights
    fields.update(
        ai_profile_summary=insights.profile_summary.strip()[:5000],
        ai_strengths=_clean_list(insights.strengths, limit=6),
        ai_improvement_areas=_clean_list(insights.improvement_areas, limit=6),
        ai_career_advice=insights.career_advice.strip()[:5000],
    )
    return fields


def resume_parse_apply(*, task_input: ResumeParseInput, output: ParsedResume, provenance: Provenance) -> Resume:
    """Write a parse into the profile and record its Resume row, all or nothing.

    Idempotent: the Resume row is upserted on (profile, sha256), the profile fields are overwritten.
    """
    parsed = parsed_profile_fields(output=output, text=task_input.text)
    source = task_input.source
    with transaction.atomic():
        profile = UserProfile.objects.select_for_update().get(pk=task_input.profile_id)
        manual = set(profile.manually_edited_fields)
        fields = {name: value for name, value in parsed.items() if name not in manual}
        low = fields.get("salary_range_min", profile.salary_range_min)
        high = fields.get("salary_range_max", profile.salary_range_max)
        if low is not None and high is not None and low > high:
            # One bound typed by hand, the other from the resume, and they cross: the hand wins.
            fields["salary_range_min" if "salary_range_min" in fields else "salary_range_max"] = None
        for name, value in fields.items():
            setattr(profile, name, value)
        profile.ai_is_fallback = provenance.is_fallback
        profile.last_resume_upload = timezone.now()
        profile.save()
        resume, _ = Resume.objects.update_or_create(
            profile=profile,
            sha256=source.sha256,
            defaults={
                "filename": source.filename,
                "kind": source.kind,
                "size_bytes": source.size_bytes,
                "text": task_input.text,
                "language": task_input.language,
                "parsed_is_fallback": provenance.is_fallback,
            },
        )
    return resume
