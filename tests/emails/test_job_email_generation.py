"""Generating the weekly job email: the model writes words only (≤ 600 tokens a call), job lines are
shared across people through the cache, mock mode calls no provider, the rule-based fallback is a
good email in both languages, model text is escaped and every link is ours, one email per person
per week."""

import re

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.errors import RateLimitedError
from emails.jobmail.llm import (
    SECTION_KEYS,
    JobEmailInput,
    JobEmailOutput,
    SectionBrief,
    SectionCopy,
    check_job_email,
    job_email_fallback,
)
from emails.jobmail.rendering import Links, job_email_render
from emails.jobmail.sections import sections_select
from emails.jobmail.selectors import job_universe, people_data
from emails.jobmail.services import (
    EmailAlreadySent,
    email_cache_clear,
    email_generate,
    email_metrics,
    emails_generate_batch,
    iso_week,
)
from emails.models import Email
from llm.models import LLMCall
from profiles.matching.text import mostly_japanese
from tests.factories import JobScoreFactory, ProfileFactory

pytestmark = pytest.mark.django_db
SCRIPT = "<script>alert('x')</script>"


def calls(task: str) -> int:
    return LLMCall.objects.filter(task=task).exclude(status=LLMCall.Status.CACHED).count()


def test_mock_mode_calls_no_provider_and_marks_the_subject(person, job_pool, settings, sim):
    settings.EMAIL_GENERATION_MOCK_MODE = True

    email = email_generate(profile=person)

    assert email.subject.startswith("[MOCK] ")
    assert sim.stats == {} or sum(sum(c.values()) for c in sim.stats.values()) == 0
    assert LLMCall.objects.count() == 0
    assert [s["key"] for s in email.sections] == list(SECTION_KEYS)
    assert email.generation["mock"] is True
    assert job_pool["scored"][0].title in email.html  # everything else is real: sections, rendering


def test_the_model_writes_the_words_in_one_call_under_600_tokens(person, job_pool, sim):
    email = email_generate(profile=person)

    assert email.generation["is_fallback"] is False
    assert email.generation["provider"] == "openai"
    call = LLMCall.objects.get(task="job_email")
    assert email.generation["call_id"] == call.pk
    assert 0 < call.tokens_in + call.tokens_out <= 600
    assert call.attempts == 1
    assert email.status == Email.Status.DRAFT
    assert email.week == iso_week(moment=timezone.now(), time_zone=person.time_zone)


def test_job_lines_are_generated_once_and_shared_across_people(job_pool, sim):
    first, second = ProfileFactory(language="en"), ProfileFactory(language="en")
    for profile in (first, second):
        for job in job_pool["scored"][:5]:
            JobScoreFactory(profile=profile, job=job, compatibility_score=90)

    a = emails_generate_batch(profile_ids=[first.pk])
    line_calls = calls("job_line")
    b = emails_generate_batch(profile_ids=[second.pk])

    assert a.line_calls > 0
    assert a.line_hits == 0
    assert calls("job_line") == line_calls  # the second person's lines all came from the cache
    assert b.line_calls == 0
    assert b.line_hits == b.line_lookups > 0
    shared = {j["job_id"]: j["line"] for s in Email.objects.get(recipient=first.owner).sections for j in s["jobs"]}
    other = {j["job_id"]: j["line"] for s in Email.objects.get(recipient=second.owner).sections for j in s["jobs"]}
    common = set(shared) & set(other)
    assert common
    assert all(shared[j] == other[j] for j in common)


def test_a_person_s_words_are_cached_until_their_cache_is_cleared(person, job_pool, sim):
    email_generate(profile=person)
    again = email_generate(profile=person)

    assert calls("job_email") == 1
    assert again.generation["cached"] is True
    assert email_metrics()["cache_hits"] == 1

    email_cache_clear(user=person.owner)
    fresh = email_generate(profile=person)

    assert calls("job_email") == 2
    assert fresh.generation["cached"] is False


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_rule_based_email_is_complete_and_passes_the_checks(language, job_pool):
    profile = ProfileFactory(language=language, full_name="山田 太郎" if language == "ja" else "Pat Example")
    for job in job_pool["scored"][:3]:
        JobScoreFactory(profile=profile, job=job)

    email = email_generate(profile=profile)  # offline: no provider configured

    assert email.generation["is_fallback"] is True
    assert email.generation["fallback_reason"] == "offline"
    assert [s["key"] for s in email.sections] == list(SECTION_KEYS)
    assert all(s["title"] and s["intro"] and s["cta"] for s in email.sections)
    assert email.language == language
    assert f'lang="{language}"' in email.html
    words = job_email_fallback(
        JobEmailInput(
            user_id=1, profile_id=1, language=language, week="2026-W01", name="X",
            sections=[SectionBrief(key=k, count=1) for k in SECTION_KEYS],
        )
    )  # fmt: skip
    assert check_job_email(JobEmailInput(user_id=1, profile_id=1, language=language, week="2026-W01",
                                         sections=[]), words) == []  # fmt: skip
    if language == "ja":
        assert mostly_japanese(email.subject)
        assert "です" in email.text or "ます" in email.text
        assert "<wbr>" in email.html  # BudouX phrase breaks
        assert "山田 太郎様" in email.text
    else:
        assert email.subject.startswith("Your weekly job picks")
        assert email.text.startswith("Hi Pat,")


def test_a_model_answer_that_fails_the_checks_is_asked_again_once_then_falls_back(job_pool, sim):
    # An English email whose prompt carries Japanese: the simulator answers in Japanese.
    profile = ProfileFactory(language="en", full_name="山田 太郎")
    JobScoreFactory(profile=profile, job=job_pool["scored"][0])

    email = email_generate(profile=profile)

    call = LLMCall.objects.get(task="job_email")
    assert call.attempts == 2  # one re-ask
    assert call.status == LLMCall.Status.FALLBACK
    assert call.error_class == "quality"
    assert email.generation["is_fallback"] is True
    assert email.subject.startswith("Your weekly job picks")


def test_model_text_is_escaped_and_every_link_is_ours(person, job_pool, settings):
    hostile = job_pool["scored"][0]
    hostile.title = f"Engineer {SCRIPT}"
    hostile.company = '<img src=x onerror="steal()">'
    hostile.save()
    universe = job_universe(now=timezone.now())
    data = people_data(profile_ids=[person.pk], universe=universe)
    selection = sections_select(person=data.people[0], data=data, universe=universe)
    words = JobEmailOutput(
        subject=f"Hi {SCRIPT}",
        greeting='<a href="https://evil.example/">click</a>',
        introduction=SCRIPT,
        sections=[SectionCopy(title=f"T {SCRIPT}", intro="<b>x</b>", cta="<i>go</i>") for _ in SECTION_KEYS],
        closing="https://evil.example/phish",
    )
    links = Links(open_url="http://localhost:8000/e/o/t.gif", unsubscribe_url="http://localhost:8000/e/u/t",
                  preferences_url="http://localhost:8000/e/p/t")  # fmt: skip
    lines = {(job_id, "en"): (f"line {SCRIPT}", False) for job_id in selection.jobs}

    rendered, stored = job_email_render(
        email_id=1, language="en", words=words, sections=selection.sections, jobs=selection.jobs,
        lines=lines, links=links,
    )  # fmt: skip

    html = rendered.html
    assert SCRIPT not in html
    assert "<img src=x" not in html
    assert "<b>x</b>" not in html
    assert "&lt;script&gt;" in html
    hrefs = re.findall(r'(?:href|src)="([^"]+)"', html)
    assert len(hrefs) > 10
    assert all(h.startswith(settings.SITE_URL) for h in hrefs)
    assert 'href="https://evil.example/' not in html
    assert all(j["job_id"] in selection.jobs for s in stored for j in s["jobs"])


def test_one_job_email_per_person_per_week(person, job_pool):
    first = email_generate(profile=person)
    again = email_generate(profile=person)  # this week's email, rewritten while unsent

    assert again.pk == first.pk
    assert Email.objects.filter(kind=Email.Kind.JOB_RECOMMENDATION).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        Email.objects.create(kind=Email.Kind.JOB_RECOMMENDATION, recipient=person.owner, week=first.week)
    with pytest.raises(IntegrityError), transaction.atomic():
        Email.objects.create(kind=Email.Kind.JOB_RECOMMENDATION, recipient=person.owner, week="")  # a week is required

    Email.objects.filter(pk=first.pk).update(status=Email.Status.SENT, sent_at=timezone.now())
    with pytest.raises(EmailAlreadySent):
        email_generate(profile=person)
    summary = emails_generate_batch(profile_ids=[person.pk], regenerate=True)
    assert (summary.generated, summary.already) == (0, 1)


def test_a_bulk_run_skips_people_who_have_this_weeks_email(person, job_pool):
    email_generate(profile=person)
    other = ProfileFactory()

    summary = emails_generate_batch(profile_ids=[person.pk, other.pk])

    assert (summary.generated, summary.already) == (1, 1)
    assert Email.objects.filter(kind=Email.Kind.JOB_RECOMMENDATION).count() == 2


def test_on_demand_generation_is_rate_limited(person, job_pool, settings):
    settings.EMAIL_GENERATION_RATE_LIMIT = 1

    email_generate(profile=person)
    with pytest.raises(RateLimitedError) as caught:
        email_generate(profile=person)

    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 0


def test_the_batch_api_path_stores_the_emails_when_the_batch_is_ingested(person, job_pool):
    summary = emails_generate_batch(profile_ids=[person.pk], mode="batch")

    assert summary.batch_id
    email = Email.objects.get(kind=Email.Kind.JOB_RECOMMENDATION, recipient=person.owner)
    assert [s["key"] for s in email.sections] == list(SECTION_KEYS)
    assert email.html
    assert email.text
    assert email.generation["is_fallback"] is True  # offline: the batch answered with the fallback


def test_metrics_count_requests_tokens_and_languages(job_pool, sim):
    en, ja = ProfileFactory(language="en"), ProfileFactory(language="ja", full_name="佐藤 花子")
    for profile in (en, ja):
        JobScoreFactory(profile=profile, job=job_pool["scored"][0])

    emails_generate_batch(profile_ids=[en.pk, ja.pk])
    metrics = email_metrics()

    assert metrics["total_requests"] == metrics["successful_requests"] == 2
    assert metrics["failed_requests"] == 0
    assert metrics["total_tokens_used"] > 0
    assert metrics["avg_response_time"] > 0
    assert metrics["by_language"]["en"]["total_requests"] == metrics["by_language"]["ja"]["total_requests"] == 1
    assert metrics["line_lookups"] > 0


def test_a_run_in_several_chunks_writes_everyone_once_and_counts_its_progress(job_pool, settings, sim):
    from emails.jobmail.services import email_run_create, email_run_execute

    settings.EMAIL_GENERATION_BATCH_SIZE = 2  # the next chunk is selected while this one's calls run
    people = [ProfileFactory(language=("en", "ja")[n % 2]) for n in range(5)]
    email_generate(profile=people[3])  # already has this week's email

    run = email_run_execute(run_id=email_run_create(profile_ids=[p.pk for p in people]).pk)

    assert (run.status, run.total, run.done, run.failed) == ("done", 5, 5, 0)
    emails = Email.objects.filter(kind=Email.Kind.JOB_RECOMMENDATION)
    assert sorted(emails.values_list("recipient", flat=True)) == sorted(p.owner_id for p in people)
    assert calls("job_email") == 5  # one per person: the draft rewritten by the run reused its cached words
    assert all(e.html and e.sections for e in emails)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_bulk_run_renders_and_writes_on_a_thread_of_its_own(job_pool, monkeypatch, settings):
    import threading

    from emails.jobmail.services import generation

    settings.EMAIL_GENERATION_BATCH_SIZE = 3
    writers, renderers = [], []
    real_write, real_render = generation._write, generation._row_values

    def spy(batch):
        writers.append(threading.current_thread().name)
        real_write(batch)

    def render_spy(answer):
        renderers.append(threading.current_thread().name)
        return real_render(answer)

    monkeypatch.setattr(generation, "_write", spy)
    monkeypatch.setattr(generation, "_row_values", render_spy)
    people = [ProfileFactory() for _ in range(5)]

    summary = emails_generate_batch(profile_ids=[p.pk for p in people])

    assert summary.generated == 5
    assert Email.objects.filter(kind=Email.Kind.JOB_RECOMMENDATION).exclude(html="").count() == 5
    from django.db import connection

    expected = "MainThread" if connection.vendor == "sqlite" else "job-email-writer"
    assert writers
    assert len(renderers) == 5
    assert {name.split("_")[0] for name in writers + renderers} == {expected}


def test_an_email_that_cannot_be_rendered_fails_alone(job_pool, monkeypatch):
    from emails.jobmail.services import generation

    people = [ProfileFactory(language=("en", "ja")[n % 2]) for n in range(3)]
    broken = people[1].owner_id
    real_render = generation.job_email_render

    def render(*, email_id, **kwargs):
        if Email.objects.get(pk=email_id).recipient_id == broken:
            raise LookupError("a job vanished")
        return real_render(email_id=email_id, **kwargs)

    monkeypatch.setattr(generation, "job_email_render", render)

    summary = emails_generate_batch(profile_ids=[p.pk for p in people], mock=True)

    assert (summary.generated, summary.failed) == (2, 1)
    written = Email.objects.filter(kind=Email.Kind.JOB_RECOMMENDATION).exclude(html="")
    assert sorted(written.values_list("recipient_id", flat=True)) == sorted(
        p.owner_id for p in people if p.owner_id != broken
    )
