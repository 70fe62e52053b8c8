"""Generating, storing and sending the weekly 6-section job emails (seed 000's service, in Django).

- `email_generate` — one person now (the API; a person waiting gets the flagged fallback when the
  provider is down), under EMAIL_GENERATION_RATE_LIMIT generations a minute across processes.
- `emails_generate_batch` — many people: in chunks of EMAIL_GENERATION_BATCH_SIZE, sections chosen
  from our data, the chunk's job lines fetched or generated together (shared), the per-person words
  through JOB_EMAIL in bulk (`run_many`; each email is rendered and stored as its answer arrives,
  while the other calls are in flight), or through the provider's Batch API when not urgent.
- `job_matches_validate`, `email_metrics`, `email_cache_clear` — the seed's other services.

One job email per person per local ISO week (a unique constraint): a run skips people who have one;
an on-demand generation rewrites this week's email until it is sent, never after.
"""

from __future__ import annotations

import hashlib
import json
import logging
import smtplib
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from batches.services import ItemSpec, batch_create, batch_run_pipeline, batch_submit
from config.errors import DomainError, NotFoundError, RateLimitedError
from emails import tracking
from emails.jobmail import metrics
from emails.jobmail.lines import LineStats, job_lines_get, lines_cache_clear
from emails.jobmail.llm import (
    JOB_EMAIL,
    SECTION_KEYS,
    JobEmailInput,
    JobEmailOutput,
    PickRef,
    SectionBrief,
    job_email_fallback,
    job_email_messages,
)
from emails.jobmail.rendering import Links, job_email_render
from emails.jobmail.sections import Pick, Section, Selection, section_sizes, sections_select
from emails.jobmail.selectors import (
    JobUniverse,
    PeopleData,
    Person,
    job_emails_of_week,
    job_universe,
    jobs_info,
    people_data,
)
from emails.models import Email, EmailRun
from emails.services import email_send
from emails.suppressions import preferences_url, suppressed_among, unsubscribe_url
from llm.providers import provider_config
from llm.runtime import run, run_many
from llm.task import Provenance
from profiles.matching.services.digests import zone
from profiles.models import UserProfile

logger = logging.getLogger("contentops.emails")
MOCK_PREFIX = "[MOCK] "
REGENERABLE = (Email.Status.DRAFT, Email.Status.QUEUED, Email.Status.FAILED, Email.Status.SUPPRESSED)
_WORDS_GENERATION = "emails:words:generation"


class EmailAlreadySent(DomainError):
    status_code = 409
    code = "email_already_sent"


# --- weeks, prepared emails ----------------------------------------------------------------------


def iso_week(*, moment: datetime, time_zone: str) -> str:
    """The ISO week ("2026-W49") of `moment` in the person's time zone."""
    year, week, _ = moment.astimezone(zone(time_zone)).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Prepared:
    """One person's email before its words: who, which week, the chosen jobs and their lines."""

    person: Person
    week: str
    selection: Selection
    lines: dict[tuple[int, str], tuple[str, bool]]
    send: bool
    mock: bool
    template_variables: dict[str, str]
    run_id: int | None = None
    line_tokens: int = 0
    email_id: int | None = None
    words_key: str = ""


_local = threading.local()


def _prepared_registry() -> dict[tuple[int, str], Prepared]:
    registry = getattr(_local, "prepared", None)
    if registry is None:
        registry = _local.prepared = {}
    return registry


def _email_input(prepared: Prepared) -> JobEmailInput:
    person, selection = prepared.person, prepared.selection
    top = next((s for s in selection.sections if s.key == "top_recommendations"), None)
    titles = [selection.jobs[p.job_id].title for p in (top.picks[:2] if top else [])]
    return JobEmailInput(
        user_id=person.owner_id,
        profile_id=person.profile_id,
        language=person.language,  # type: ignore[arg-type]
        week=prepared.week,
        name=person.name.split()[0] if person.name and person.language == "en" else person.name,
        role=person.role,
        top_titles=titles,
        sections=[SectionBrief(key=s.key, count=len(s.picks), basis=s.basis) for s in selection.sections],
        campaign=prepared.template_variables.get("campaign_name", ""),
        picks=[
            PickRef(key=s.key, job_id=p.job_id, source=p.source, fit=p.fit) for s in selection.sections for p in s.picks
        ],
        section_notes=selection.notes(),
        template_variables=prepared.template_variables,
        send=prepared.send,
        run_id=prepared.run_id,
    )


# --- the words cache (per person; email_cache_clear(user=...) forgets one person's) ---------------


def _counter(key: str) -> int:
    value = cache.get(key)
    if value is None:
        cache.add(key, 1, None)
        value = cache.get(key) or 1
    return int(value)


def _bump(key: str) -> None:
    cache.add(key, 1, None)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 2, None)


def _words_key(task_input: JobEmailInput) -> str:
    blob = json.dumps(job_email_messages(task_input), sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(blob.encode()).hexdigest()[:24]
    everyone = _counter(_WORDS_GENERATION)
    mine = _counter(f"{_WORDS_GENERATION}:{task_input.user_id}")
    return f"emails:words:{everyone}.{mine}:v{JOB_EMAIL.version}:{task_input.user_id}:{digest}"


# --- storing one email ---------------------------------------------------------------------------


def _links(*, email_id: int, person: Person) -> Links:
    return Links(
        open_url=tracking.open_url(email_id=email_id),
        unsubscribe_url=unsubscribe_url(
            address=person.address or f"user-{person.owner_id}", scope=Email.Kind.JOB_RECOMMENDATION
        ),
        preferences_url=preferences_url(user_id=person.owner_id, address=person.address),
    )


def _claim_row(prepared: Prepared) -> Email | None:
    """This week's job email row for the person, locked; created (draft) when missing. None when
    it was sent already (it is never rewritten)."""
    person = prepared.person
    lookup = {"kind": Email.Kind.JOB_RECOMMENDATION, "recipient_id": person.owner_id, "week": prepared.week}
    email = Email.objects.select_for_update().filter(**lookup).first()
    if email is None:
        try:
            with transaction.atomic():
                email = Email.objects.create(
                    **lookup, to_address=person.address, language=person.language, status=Email.Status.DRAFT
                )
        except IntegrityError:  # a racing generation created it: wait for its lock, then rewrite it
            email = Email.objects.select_for_update().get(**lookup)
    if email.status not in REGENERABLE:
        return None
    return email


def _store(prepared: Prepared, output: JobEmailOutput, *, generation: dict[str, Any]) -> Email | None:
    """Render and save the person's email for the week (queued when it is to be sent)."""
    person = prepared.person
    if prepared.mock and not output.subject.startswith(MOCK_PREFIX):
        output = output.model_copy(update={"subject": MOCK_PREFIX + output.subject})
    with transaction.atomic():
        email = _claim_row(prepared)
        if email is None:
            return None
        rendered, stored = job_email_render(
            email_id=email.pk,
            language=person.language,
            words=output,
            sections=prepared.selection.sections,
            jobs=prepared.selection.jobs,
            lines=prepared.lines,
            links=_links(email_id=email.pk, person=person),
            is_fallback=bool(generation.get("is_fallback")),
        )
        if not person.address:
            status, error = Email.Status.SUPPRESSED, "The person has no email address."
        else:
            status, error = (Email.Status.QUEUED if prepared.send else Email.Status.DRAFT), ""
        fields = {
            "subject": rendered.subject,
            "html": rendered.html,
            "text": rendered.text,
            "language": person.language,
            "to_address": person.address,
            "sections": stored,
            "generation": {
                **generation,
                "mock": prepared.mock,
                "line_tokens": prepared.line_tokens,
                "line_fallbacks": sum(1 for value in prepared.lines.values() if value[1]),
                "template_variables": prepared.template_variables,
                "notes": prepared.selection.notes(),
            },
            "status": status,
            "error": error,
        }
        Email.objects.filter(pk=email.pk).update(**fields)
        for name, value in fields.items():
            setattr(email, name, value)
    prepared.email_id = email.pk
    if prepared.run_id is not None:
        EmailRun.objects.filter(pk=prepared.run_id).update(
            done=F("done") + 1, fallbacks=F("fallbacks") + int(bool(generation.get("is_fallback")))
        )
    return email


def _generation_meta(provenance: Provenance | None, *, cached: bool = False) -> dict[str, Any]:
    if provenance is None:
        return {"is_fallback": True, "provider": "mock", "model": "rule-based", "cached": False}
    return {
        "is_fallback": provenance.is_fallback,
        "fallback_reason": provenance.fallback_reason,
        "provider": provenance.provider,
        "model": provenance.model,
        "call_id": provenance.call_id,
        "prompt_version": provenance.task_version,
        "cached": cached,
        "generated_at": provenance.generated_at.isoformat(),
    }


def _prepare_from_input(task_input: JobEmailInput) -> Prepared:
    """Rebuild what a stored email needs from a task input alone (the Batch API's ingest)."""
    profile = UserProfile.objects.filter(pk=task_input.profile_id).first()
    if profile is None:
        raise NotFoundError(f"No profile {task_input.profile_id}.")
    jobs = jobs_info(job_ids={p.job_id for p in task_input.picks}, active_only=False)
    universe = JobUniverse(
        now=timezone.now(), jobs={}, index=None, editorial=[], popular_7d={}, engaged_users={}, engaged_jobs={}
    )  # type: ignore[arg-type]
    data = people_data(profile_ids=[profile.pk], universe=universe, language=task_input.language)
    person = data.people[0]
    sizes = section_sizes()
    notes = task_input.section_notes
    sections = {key: Section(key=key, wanted=sizes[key], note=notes.get(key, "")) for key in SECTION_KEYS}
    for ref in task_input.picks:
        if ref.job_id in jobs and ref.key in sections:
            sections[ref.key].picks.append(Pick(job_id=ref.job_id, source=ref.source, fit=ref.fit))
    selection = Selection(person=person, sections=[sections[k] for k in SECTION_KEYS], jobs=jobs)
    lines, _ = job_lines_get(wanted=[(job, person.language) for job in jobs.values()])
    return Prepared(
        person=person,
        week=task_input.week,
        selection=selection,
        lines=lines,
        send=task_input.send,
        mock=False,
        template_variables=task_input.template_variables,
        run_id=task_input.run_id,
    )


def job_email_store(*, task_input: JobEmailInput, output: JobEmailOutput, provenance: Provenance) -> Email | None:
    """JOB_EMAIL's apply: store the person's email with these words (bulk, now and batch ingest)."""
    prepared = _prepared_registry().get((task_input.profile_id, task_input.week))
    if prepared is None:
        prepared = _prepare_from_input(task_input)
    email = _store(prepared, output, generation=_generation_meta(provenance))
    if email is not None and not provenance.is_fallback and prepared.words_key:
        cache.set(prepared.words_key, output.model_dump(), settings.EMAIL_GENERATION_CACHE_TTL)
    queued = email is not None and email.status == Email.Status.QUEUED
    if queued and task_input.send and not _registry_active():  # batch ingest: send now; bulk sends per chunk
        _send(email.pk)
    return email


def _registry_active() -> bool:
    return bool(getattr(_local, "prepared", None))


def _send(email_id: int) -> bool:
    try:
        return email_send(email_id=email_id)
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("job email %s failed to send (%s); the schedule tries again", email_id, exc)
        return False


# --- runs ----------------------------------------------------------------------------------------


@dataclass
class GenerationSummary:
    """What a generation run did; commands print it and the API returns it."""

    total: int = 0
    generated: int = 0
    already: int = 0
    suppressed: int = 0
    deferred: int = 0
    failed: int = 0
    sent: int = 0
    fallbacks: int = 0
    cached: int = 0
    mock: int = 0
    llm_calls: int = 0
    email_tokens: list[int] = field(default_factory=list)
    line_lookups: int = 0
    line_hits: int = 0
    line_calls: int = 0
    line_tokens: int = 0
    line_fallbacks: int = 0
    wall_s: float = 0.0
    email_ids: list[int] = field(default_factory=list)
    batch_id: str = ""

    @property
    def tokens_per_email_median(self) -> float:
        return float(statistics.median(self.email_tokens)) if self.email_tokens else 0.0

    @property
    def total_tokens(self) -> int:
        return sum(self.email_tokens) + self.line_tokens

    @property
    def cache_hit_rate(self) -> float:
        lookups = self.line_lookups + self.generated
        return round((self.line_hits + self.cached) / lookups, 3) if lookups else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in vars(self).items() if k not in ("email_tokens", "email_ids")}
        data.update(
            tokens_per_email_median=self.tokens_per_email_median,
            total_tokens=self.total_tokens,
            cache_hit_rate=self.cache_hit_rate,
            email_ids=self.email_ids[:100],
        )
        return data


ProgressCallback = Callable[[int, int], None]


def _chunks(items: Sequence[int], size: int) -> list[Sequence[int]]:
    size = max(1, size)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _mock_default() -> bool:
    return bool(settings.EMAIL_GENERATION_MOCK_MODE)


def _prepare_chunk(
    *,
    data: PeopleData,
    universe: JobUniverse,
    now: datetime,
    send: bool,
    mock: bool,
    template_variables: dict[str, str],
    regenerate: bool,
    skip_suppressed: bool,
    run_id: int | None,
    summary: GenerationSummary,
    concurrency: int | None,
) -> list[Prepared]:
    weeks = {p.profile_id: iso_week(moment=now, time_zone=p.time_zone) for p in data.people}
    existing = job_emails_of_week(owner_ids=[p.owner_id for p in data.people], weeks=weeks.values())
    blocked = (
        suppressed_among(addresses=[p.address for p in data.people], kind=Email.Kind.JOB_RECOMMENDATION)
        if skip_suppressed
        else set()
    )
    todo: list[Prepared] = []
    for person in data.people:
        week = weeks[person.profile_id]
        found = existing.get((person.owner_id, week))
        if found is not None and (not regenerate or found.status not in REGENERABLE):
            summary.already += 1
            continue
        if person.address.lower() in blocked:
            summary.suppressed += 1
            continue
        selection = sections_select(person=person, data=data, universe=universe)
        todo.append(
            Prepared(
                person=person,
                week=week,
                selection=selection,
                lines={},
                send=send,
                mock=mock,
                template_variables=template_variables,
                run_id=run_id,
            )
        )
    wanted = [(job, p.person.language) for p in todo for job in p.selection.jobs.values()]
    lines, stats = job_lines_get(wanted=wanted, mock=mock, concurrency=concurrency)
    _count_lines(summary, stats)
    for prepared in todo:
        language = prepared.person.language
        prepared.lines = {(j, language): lines[(j, language)] for j in prepared.selection.jobs}
        prepared.line_tokens = sum(stats.tokens_by_job.get((j, language), 0) for j in prepared.selection.jobs)
    return todo


def _count_lines(summary: GenerationSummary, stats: LineStats) -> None:
    summary.line_lookups += stats.lookups
    summary.line_hits += stats.hits
    summary.line_calls += stats.llm_calls
    summary.line_tokens += stats.tokens
    summary.line_fallbacks += stats.fallbacks
    metrics.metrics_record_lines(lookups=stats.lookups, hits=stats.hits, tokens=stats.tokens)


def _words_from_cache(todo: list[Prepared], inputs: list[JobEmailInput]) -> dict[int, JobEmailOutput]:
    keys = []
    for prepared, task_input in zip(todo, inputs, strict=True):
        prepared.words_key = _words_key(task_input)
        keys.append(prepared.words_key)
    found = cache.get_many(keys)
    hits: dict[int, JobEmailOutput] = {}
    for index, key in enumerate(keys):
        value = found.get(key)
        if isinstance(value, dict):
            try:
                hits[index] = JobEmailOutput.model_validate(value)
            except ValueError:
                continue
    return hits


def _generate_chunk(
    *,
    todo: list[Prepared],
    summary: GenerationSummary,
    mode: str,
    concurrency: int | None,
    defer_when_unavailable: bool,
    chunk_started: float,
) -> list[JobEmailInput]:
    """Words for the chunk's emails and their storage; returns the inputs left for the Batch API."""
    inputs = [_email_input(p) for p in todo]
    for prepared, task_input in zip(todo, inputs, strict=True):
        if prepared.mock:
            email = _store(prepared, job_email_fallback(task_input), generation=_generation_meta(None))
            summary.mock += 1
            _count_stored(summary, prepared, email, tokens=0, cached=False, fallback=False)
    live = [(p, i) for p, i in zip(todo, inputs, strict=True) if not p.mock]
    if not live:
        return []
    hits = _words_from_cache([p for p, _ in live], [i for _, i in live])
    for index, output in hits.items():
        prepared, _ = live[index]
        generation = {**_generation_meta(None), "is_fallback": False, "cached": True, "provider": "cache"}
        email = _store(prepared, output, generation=generation)
        summary.cached += 1
        _count_stored(summary, prepared, email, tokens=0, cached=True, fallback=False)
    live = [item for index, item in enumerate(live) if index not in hits]
    if not live:
        return []
    if mode == EmailRun.Mode.BATCH:
        return [task_input for _, task_input in live]
    registry = _prepared_registry()
    registry.update({(p.person.profile_id, p.week): p for p, _ in live})
    try:
        if mode == "now":
            prepared, task_input = live[0]
            result = run(JOB_EMAIL, task_input, user_id=prepared.person.owner_id, use_cache=False)
            outcomes = [(prepared, result, "", False)]
        else:
            items = run_many(
                JOB_EMAIL,
                [task_input for _, task_input in live],
                concurrency=concurrency,
                use_cache=False,
                defer_when_unavailable=defer_when_unavailable,
            )
            outcomes = [(p, o.result, o.error, o.deferred) for (p, _), o in zip(live, items, strict=True)]
    finally:
        for prepared, _ in live:
            registry.pop((prepared.person.profile_id, prepared.week), None)
    tokens_by_email: dict[int, int] = {}
    for prepared, result, error, deferred in outcomes:
        if deferred:
            summary.deferred += 1
            continue
        if result is None:
            summary.failed += 1
            metrics.metrics_record(language=prepared.person.language, ok=False)
            logger.warning("job email for profile %s failed: %s", prepared.person.profile_id, error)
            continue
        tokens = result.tokens_in + result.tokens_out
        summary.llm_calls += int(result.attempts > 0)
        email = Email(pk=prepared.email_id) if prepared.email_id else None
        _count_stored(summary, prepared, email, tokens=tokens, cached=result.cached, fallback=result.is_fallback)
        if prepared.email_id:
            tokens_by_email[prepared.email_id] = tokens
    _record_tokens(tokens_by_email)
    elapsed_ms = (time.perf_counter() - chunk_started) * 1000
    share = elapsed_ms / max(1, len(outcomes))
    for prepared, result, _, _ in outcomes:
        if result is not None:
            metrics.metrics_record(
                language=prepared.person.language,
                ok=True,
                cached=result.cached,
                ms=share,
                tokens=result.tokens_in + result.tokens_out,
                fallback=result.is_fallback,
            )
    return []


def _count_stored(
    summary: GenerationSummary, prepared: Prepared, email: Email | None, *, tokens: int, cached: bool, fallback: bool
) -> None:
    if email is None or prepared.email_id is None:
        summary.already += 1  # sent meanwhile: left as it was
        return
    summary.generated += 1
    summary.fallbacks += int(fallback)
    summary.email_tokens.append(tokens)
    summary.email_ids.append(prepared.email_id)
    if prepared.mock or cached:
        metrics.metrics_record(
            language=prepared.person.language, ok=True, cached=cached, fallback=fallback, mock=prepared.mock
        )


def _record_tokens(tokens_by_email: dict[int, int]) -> None:
    """The words' tokens on each email's generation record (one statement)."""
    if not tokens_by_email:
        return
    emails = list(Email.objects.filter(pk__in=list(tokens_by_email)).only("id", "generation"))
    for email in emails:
        email.generation = {**(email.generation or {}), "tokens": tokens_by_email[email.pk]}
    Email.objects.bulk_update(emails, ["generation"])


def _send_queued(email_ids: Sequence[int], summary: GenerationSummary) -> None:
    queued = Email.objects.filter(pk__in=list(email_ids), status=Email.Status.QUEUED).values_list("pk", flat=True)
    for email_id in queued:
        summary.sent += int(_send(email_id))


def emails_generate_batch(
    *,
    profile_ids: Sequence[int],
    language: str | None = None,
    mock: bool | None = None,
    send: bool = False,
    template_variables: dict[str, str] | None = None,
    mode: str = EmailRun.Mode.BULK,
    run_id: int | None = None,
    regenerate: bool = False,
    skip_suppressed: bool = True,
    concurrency: int | None = None,
    defer_when_unavailable: bool = False,
    on_progress: ProgressCallback | None = None,
    now: datetime | None = None,
    created_by: Any = None,
) -> GenerationSummary:
    """This week's job email for each person (skipping who has one, or is unsubscribed).

    `mode="bulk"`: now, concurrently (run_many), in chunks of EMAIL_GENERATION_BATCH_SIZE;
    `mode="batch"`: sections and lines now, the words through the provider's Batch API (about half
    the price; applied, and sent when `send`, as the batch is ingested). Mock mode (setting, or
    `mock=True`) calls no provider. One chunk's failure doesn't stop the others.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    mock = _mock_default() if mock is None else mock
    template_variables = dict(template_variables or {})
    ids = list(dict.fromkeys(profile_ids))
    summary = GenerationSummary(total=len(ids))
    if not ids:
        return summary
    universe = job_universe(now=now)
    batch_inputs: list[JobEmailInput] = []
    done = 0
    for chunk in _chunks(ids, settings.EMAIL_GENERATION_BATCH_SIZE):
        chunk_started = time.perf_counter()
        data = people_data(profile_ids=chunk, universe=universe, language=language)
        todo = _prepare_chunk(
            data=data,
            universe=universe,
            now=now,
            send=send,
            mock=mock,
            template_variables=template_variables,
            regenerate=regenerate,
            skip_suppressed=skip_suppressed,
            run_id=run_id,
            summary=summary,
            concurrency=concurrency,
        )
        batch_inputs += _generate_chunk(
            todo=todo,
            summary=summary,
            mode=mode,
            concurrency=concurrency,
            defer_when_unavailable=defer_when_unavailable,
            chunk_started=chunk_started,
        )
        if send:
            _send_queued([p.email_id for p in todo if p.email_id], summary)
        done += len(chunk)
        if run_id is not None:
            _run_progress(run_id=run_id, summary=summary)
        if on_progress is not None:
            on_progress(done, len(ids))
    if batch_inputs:
        summary.batch_id = _batch_submit(inputs=batch_inputs, run_id=run_id, created_by=created_by)
    summary.wall_s = round(time.perf_counter() - started, 3)
    return summary


def _run_progress(*, run_id: int, summary: GenerationSummary) -> None:
    # `done` counts up in _store (batch ingest too); the rest is this process's tally.
    EmailRun.objects.filter(pk=run_id).update(failed=summary.failed + summary.deferred, sent=summary.sent)


def _batch_submit(*, inputs: list[JobEmailInput], run_id: int | None, created_by: Any) -> str:
    items = [
        ItemSpec(f"job-email-{i.profile_id}-{i.week}", i, ("profiles.userprofile", i.profile_id)) for i in inputs
    ]
    batch = batch_create(task=JOB_EMAIL, items=items, name=f"job emails ({len(items)})", created_by=created_by)
    if run_id is not None:
        EmailRun.objects.filter(pk=run_id).update(batch_pk=batch.pk, status=EmailRun.Status.WAITING_FOR_BATCH)
    if not settings.CELERY_BROKER_URL:
        # Embedded defaults: no worker will poll it, so this call carries it to the end.
        batch_run_pipeline(batch=batch, poll_interval=1.0 if not provider_config().is_offline else 0.0)
    else:
        batch_submit(batch=batch)
    return batch.batch_id


# --- on demand ---------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _limiter(url: str) -> MovingWindowRateLimiter:
    storage = storage_from_string(url) if url else MemoryStorage()
    return MovingWindowRateLimiter(storage)


def email_generation_admit() -> None:
    """One on-demand generation against EMAIL_GENERATION_RATE_LIMIT a minute (shared through
    Redis when configured); RateLimitedError (429 with Retry-After) beyond it."""
    limit = settings.EMAIL_GENERATION_RATE_LIMIT
    if limit <= 0:
        return
    limiter = _limiter(settings.REDIS_URL)
    item = RateLimitItemPerMinute(limit)
    if not limiter.hit(item, "emails", "generate"):
        reset_at, _ = limiter.get_window_stats(item, "emails", "generate")
        raise RateLimitedError(
            f"More than {limit} email generations a minute; try again shortly.",
            retry_after=max(1.0, reset_at - time.time()),
            code="email_generation_rate_limited",
        )


def email_generate(
    *,
    profile: UserProfile,
    language: str | None = None,
    mock: bool | None = None,
    template_variables: dict[str, str] | None = None,
    send: bool = False,
    now: datetime | None = None,
) -> Email:
    """This week's job email for one person, generated now (a waiting person gets the flagged
    fallback when the provider is down). Rewrites this week's unsent email; EmailAlreadySent
    (409) once it was sent."""
    email_generation_admit()
    started = time.perf_counter()
    now = now or timezone.now()
    mock = _mock_default() if mock is None else mock
    universe = job_universe(now=now)
    data = people_data(profile_ids=[profile.pk], universe=universe, language=language)
    summary = GenerationSummary(total=1)
    todo = _prepare_chunk(
        data=data,
        universe=universe,
        now=now,
        send=send,
        mock=mock,
        template_variables=dict(template_variables or {}),
        regenerate=True,
        skip_suppressed=False,
        run_id=None,
        summary=summary,
        concurrency=None,
    )
    week = iso_week(moment=now, time_zone=profile.time_zone)
    if not todo:
        metrics.metrics_record(language=language or profile.language, ok=False)
        raise EmailAlreadySent(f"This week's ({week}) job email was sent already.", detail={"week": week})
    _generate_chunk(
        todo=todo, summary=summary, mode="now", concurrency=None, defer_when_unavailable=False, chunk_started=started
    )
    prepared = todo[0]
    if prepared.email_id is None:
        raise EmailAlreadySent(f"This week's ({week}) job email was sent meanwhile.", detail={"week": week})
    if send:
        _send(prepared.email_id)
    return Email.objects.get(pk=prepared.email_id)


def job_email_send(*, email_id: int) -> bool:
    """Staff sends a generated job email: queue it (from draft or failed) and send it at most once."""
    Email.objects.filter(pk=email_id, status__in=(Email.Status.DRAFT, Email.Status.FAILED)).exclude(
        to_address=""
    ).update(status=Email.Status.QUEUED)
    return _send(email_id)


def job_emails_send_queued(*, limit: int = 1000) -> int:
    """Send job emails left queued (a batch ingested without a sender, a failed send): at most once each."""
    queued = Email.objects.filter(kind=Email.Kind.JOB_RECOMMENDATION, status=Email.Status.QUEUED).order_by("id")
    return sum(int(_send(pk)) for pk in queued.values_list("pk", flat=True)[:limit])


# --- the weekly schedule -----------------------------------------------------------------------


def job_emails_due(*, now: datetime) -> tuple[list[int], list[int]]:
    """(profile ids in their send window, those of them in its last hour) by local time zone: the
    weekday JOB_EMAIL_LOCAL_WEEKDAY, from JOB_EMAIL_LOCAL_HOUR for JOB_EMAIL_WINDOW_HOURS hours."""
    weekday, hour, window = (
        settings.JOB_EMAIL_LOCAL_WEEKDAY,
        settings.JOB_EMAIL_LOCAL_HOUR,
        settings.JOB_EMAIL_WINDOW_HOURS,
    )
    due_zones, last_zones = [], []
    for time_zone in UserProfile.objects.order_by().values_list("time_zone", flat=True).distinct():
        local = now.astimezone(zone(time_zone))
        if local.weekday() == weekday and hour <= local.hour < hour + window:
            due_zones.append(time_zone)
            if local.hour == hour + window - 1:
                last_zones.append(time_zone)
    if not due_zones:
        return [], []
    rows = UserProfile.objects.filter(time_zone__in=due_zones).order_by("id").values_list("id", "time_zone")
    due, last = [], []
    for profile_id, time_zone in rows:
        (last if time_zone in last_zones else due).append(profile_id)
    return due, last


def job_emails_send_due(*, now: datetime | None = None) -> GenerationSummary:
    """The weekly send: people in their local send morning without this week's job email get one,
    sent. A provider outage defers them to the next hour; in the window's last hour they get the
    rule-based email instead (a week without an email would be worse). Unsubscribed people are skipped."""
    now = now or timezone.now()
    due, last = job_emails_due(now=now)
    total = GenerationSummary()
    for profile_ids, defer in ((due, True), (last, False)):
        if not profile_ids:
            continue
        summary = emails_generate_batch(
            profile_ids=profile_ids, send=True, now=now, defer_when_unavailable=defer, skip_suppressed=True
        )
        for name in ("total", "generated", "already", "suppressed", "deferred", "failed", "sent", "fallbacks"):
            setattr(total, name, getattr(total, name) + getattr(summary, name))
        total.email_tokens += summary.email_tokens
        total.email_ids += summary.email_ids
        total.wall_s += summary.wall_s
    return total


# --- runs (API: generate-batch) ----------------------------------------------------------------


def email_run_create(
    *,
    profile_ids: Sequence[int],
    language: str = "",
    mock: bool = False,
    send: bool = False,
    template_variables: dict[str, str] | None = None,
    mode: str = EmailRun.Mode.BULK,
    created_by: Any = None,
) -> EmailRun:
    return EmailRun.objects.create(
        profile_ids=list(profile_ids),
        total=len(profile_ids),
        language=language,
        mock=mock,
        send=send,
        template_variables=dict(template_variables or {}),
        mode=mode,
        created_by=created_by if getattr(created_by, "pk", None) else None,
    )


def email_run_execute(*, run_id: int) -> EmailRun:
    """Carry a run out (a Celery task, or inline without a broker). A run claimed already does nothing."""
    claimed = EmailRun.objects.filter(pk=run_id, status=EmailRun.Status.QUEUED).update(
        status=EmailRun.Status.RUNNING, started_at=timezone.now()
    )
    run_row = EmailRun.objects.get(pk=run_id)
    if not claimed:
        return run_row
    try:
        summary = emails_generate_batch(
            profile_ids=run_row.profile_ids,
            language=run_row.language or None,
            mock=run_row.mock,
            send=run_row.send,
            template_variables=run_row.template_variables,
            mode=run_row.mode,
            run_id=run_row.pk,
            regenerate=True,
            skip_suppressed=True,
            created_by=run_row.created_by,
        )
    except DomainError as exc:
        EmailRun.objects.filter(pk=run_id).update(
            status=EmailRun.Status.FAILED, error=str(exc)[:1000], finished_at=timezone.now()
        )
        raise
    finished = EmailRun.Status.DONE
    run_row.refresh_from_db()
    if run_row.status == EmailRun.Status.WAITING_FOR_BATCH and settings.CELERY_BROKER_URL:
        finished = EmailRun.Status.WAITING_FOR_BATCH  # the batch's ingest finishes it
    EmailRun.objects.filter(pk=run_id).update(
        status=finished,
        # People skipped (this week's email was there, or they unsubscribed) count as done.
        done=F("done") + summary.already + summary.suppressed,
        finished_at=timezone.now() if finished == EmailRun.Status.DONE else None,
    )
    run_row.refresh_from_db()
    return run_row


# --- the seed's other services -----------------------------------------------------------------


def job_matches_validate(*, sections: dict[str, list[int]]) -> dict[str, Any]:
    """Check a section → job ids mapping: the six sections in order, sizes, no job twice, jobs
    that exist and are active. Errors make it invalid; short sections are warnings with counts."""
    sizes = section_sizes()
    errors: list[str] = []
    warnings: list[str] = []
    keys = list(sections)
    unknown = [k for k in keys if k not in SECTION_KEYS]
    if unknown:
        errors.append(f"unknown section(s): {', '.join(unknown)}")
    missing = [k for k in SECTION_KEYS if k not in sections]
    if missing:
        errors.append(f"missing section(s): {', '.join(missing)}")
    known_order = [k for k in keys if k in SECTION_KEYS]
    if known_order != [k for k in SECTION_KEYS if k in sections]:
        errors.append(f"sections out of order: expected {', '.join(SECTION_KEYS)}")
    all_ids = [j for k in keys for j in sections.get(k) or []]
    seen: set[int] = set()
    duplicates = sorted({j for j in all_ids if j in seen or seen.add(j)})  # type: ignore[func-returns-value]
    if duplicates:
        errors.append(f"job(s) in more than one place: {', '.join(map(str, duplicates))}")
    active = set(jobs_info(job_ids=set(all_ids)).keys()) if all_ids else set()
    inactive = sorted(set(all_ids) - active)
    if inactive:
        errors.append(f"unknown or inactive job(s): {', '.join(map(str, inactive))}")
    report = []
    for key in SECTION_KEYS:
        ids = list(sections.get(key) or [])
        wanted = sizes[key]
        if len(ids) > wanted:
            errors.append(f"{key}: {len(ids)} jobs, at most {wanted}")
        elif len(ids) < wanted:
            warnings.append(f"{key}: {len(ids)} of {wanted} jobs")
        report.append({"key": key, "wanted": wanted, "count": len(ids), "job_ids": ids})
    return {
        "is_valid": not errors,
        "errors": errors,
        "warnings": warnings,
        "sections": report,
        "total_jobs": len(all_ids),
        "duplicates": duplicates,
    }


def job_matches_for_person(
    *, profile: UserProfile, language: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The sections the person would get now, validated, with each section's sources and why it is short."""
    now = now or timezone.now()
    universe = job_universe(now=now)
    data = people_data(profile_ids=[profile.pk], universe=universe, language=language)
    selection = sections_select(person=data.people[0], data=data, universe=universe)
    report = job_matches_validate(sections=selection.section_jobs())
    for entry, section in zip(report["sections"], selection.sections, strict=True):
        entry["sources"] = section.sources
        entry["note"] = section.note
    return report


def email_metrics() -> dict[str, Any]:
    """The seed's metrics: total/successful/failed requests, cache hits, avg response time (ms),
    tokens used; the same per language."""
    return metrics.metrics_read()


def email_cache_clear(*, user: Any = None) -> dict[str, Any]:
    """Forget cached email words: one person's (`user`), or everyone's plus the shared job lines."""
    if user is not None:
        _bump(f"{_WORDS_GENERATION}:{user.pk}")
        return {"scope": "user", "user_id": user.pk}
    _bump(_WORDS_GENERATION)
    lines_cache_clear()
    return {"scope": "all", "user_id": None}
