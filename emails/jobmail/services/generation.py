"""Generating and storing job emails: chunks of people → sections → shared job lines → the words
(JOB_EMAIL: now, in bulk, or through the Batch API) → rendered and stored, one row per person and
local ISO week.

A chunk creates its people's rows first (one INSERT ... ON CONFLICT DO NOTHING, the unique
(recipient, week) index deciding), so each answer is stored with one conditional UPDATE as it
arrives — in the calling thread, while the chunk's other calls are still in flight (run_many
applies in its own thread). A row already sent is never rewritten.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import smtplib
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from batches.services import ItemSpec, batch_create, batch_run_pipeline, batch_submit
from config.errors import DomainError, NotFoundError, RateLimitedError
from emails import tracking
from emails.jobmail.lines import job_lines_get
from emails.jobmail.llm import (
    JOB_EMAIL,
    SECTION_KEYS,
    JobEmailInput,
    JobEmailOutput,
    job_email_fallback,
    job_email_messages,
)
from emails.jobmail.metrics import MetricsBatch
from emails.jobmail.rendering import Links, job_email_render
from emails.jobmail.sections import Pick, Section, Selection, section_sizes, sections_select
from emails.jobmail.selectors import JobUniverse, PeopleData, Person, job_universe, jobs_info, people_data
from emails.models import Email, EmailRun
from emails.services import email_send
from emails.suppressions import preferences_url, suppressed_among, unsubscribe_url
from llm.providers import provider_config
from llm.runtime import LLMResult, run, run_many
from llm.task import Provenance
from profiles.matching.services.digests import zone
from profiles.models import UserProfile

logger = logging.getLogger("contentops.emails")
MOCK_PREFIX = "[MOCK] "
REGENERABLE = (Email.Status.DRAFT, Email.Status.QUEUED, Email.Status.FAILED, Email.Status.SUPPRESSED)
WORDS_GENERATION = "emails:words:generation"


class EmailAlreadySent(DomainError):
    status_code = 409
    code = "email_already_sent"


class EmailNotRendered(DomainError):
    """The words came, but the email could not be rendered from them (logged with its cause)."""

    status_code = 500
    code = "email_not_rendered"


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
    send: bool
    mock: bool
    template_variables: dict[str, str]
    run_id: int | None = None
    lines: dict[tuple[int, str], tuple[str, bool]] = field(default_factory=dict)
    line_tokens: int = 0
    email_id: int | None = None
    words_key: str = ""
    words: JobEmailOutput | None = None  # the model's words, to cache once the chunk is written
    stored: bool = False
    error: str = ""  # why its email could not be rendered (the row stays an empty draft)


# Prepared emails of the bulk run going on in this thread, by (profile id, week): JOB_EMAIL's apply
# finds its email here; without an entry (a provider batch ingested later) it rebuilds it.
_local = threading.local()


def _registry() -> dict[tuple[int, str], Prepared]:
    registry = getattr(_local, "prepared", None)
    if registry is None:
        registry = _local.prepared = {}
    return registry


def _email_input(prepared: Prepared) -> JobEmailInput:
    person, selection = prepared.person, prepared.selection
    top = next((s for s in selection.sections if s.key == "top_recommendations"), None)
    titles = [selection.jobs[p.job_id].title for p in (top.picks[:2] if top else [])]
    first_name = person.name.split()[0] if person.name and person.language == "en" else person.name
    # One dict validated by pydantic's core: faster than building tens of thousands of models in Python.
    return JobEmailInput.model_validate(
        {
            "user_id": person.owner_id,
            "profile_id": person.profile_id,
            "language": person.language,
            "week": prepared.week,
            "name": first_name,
            "role": person.role,
            "top_titles": titles,
            "sections": [{"key": s.key, "count": len(s.picks), "basis": s.basis} for s in selection.sections],
            "campaign": prepared.template_variables.get("campaign_name", ""),
            "picks": [
                {"key": s.key, "job_id": p.job_id, "source": p.source, "fit": p.fit}
                for s in selection.sections
                for p in s.picks
            ],
            "section_notes": selection.notes(),
            "template_variables": prepared.template_variables,
            "send": prepared.send,
            "run_id": prepared.run_id,
        }
    )


# --- the words cache (per person; email_cache_clear(user=...) forgets one person's) ---------------


def generation_bump(key: str) -> None:
    """Move a cache generation counter on: every key built with the old value is forgotten."""
    cache.add(key, 0, None)
    try:
        cache.incr(key)
    except ValueError:  # evicted between the two calls
        cache.set(key, 1, None)


def _words_keys(inputs: list[JobEmailInput]) -> list[str]:
    user_keys = [f"{WORDS_GENERATION}:{i.user_id}" for i in inputs]
    found = cache.get_many([WORDS_GENERATION, *user_keys])
    everyone = int(found.get(WORDS_GENERATION) or 0)
    keys = []
    for task_input, user_key in zip(inputs, user_keys, strict=True):
        blob = json.dumps(job_email_messages(task_input), sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(blob.encode()).hexdigest()[:24]
        mine = int(found.get(user_key) or 0)
        keys.append(f"emails:words:{everyone}.{mine}:v{JOB_EMAIL.version}:{task_input.user_id}:{digest}")
    return keys


# --- rows and storing ----------------------------------------------------------------------------


def _rows_ensure(todo: list[Prepared]) -> None:
    """This week's row for each prepared person (created as drafts in one statement); people whose
    row was sent meanwhile drop out (email_id stays None)."""
    if not todo:
        return
    Email.objects.bulk_create(
        [
            Email(
                kind=Email.Kind.JOB_RECOMMENDATION,
                recipient_id=p.person.owner_id,
                week=p.week,
                to_address=p.person.address,
                language=p.person.language,
                status=Email.Status.DRAFT,
            )
            for p in todo
        ],
        ignore_conflicts=True,
    )
    rows = Email.objects.filter(
        kind=Email.Kind.JOB_RECOMMENDATION,
        recipient_id__in=[p.person.owner_id for p in todo],
        week__in={p.week for p in todo},
    ).values_list("recipient_id", "week", "pk", "status")
    ids = {(owner, week): (pk, status) for owner, week, pk, status in rows}
    for prepared in todo:
        pk, status = ids.get((prepared.person.owner_id, prepared.week), (None, None))
        prepared.email_id = pk if status in REGENERABLE else None


def _links(*, email_id: int, person: Person) -> Links:
    address = person.address or f"user-{person.owner_id}@invalid"
    return Links(
        open_url=tracking.open_url(email_id=email_id),
        unsubscribe_url=unsubscribe_url(address=address, scope=Email.Kind.JOB_RECOMMENDATION),
        preferences_url=preferences_url(user_id=person.owner_id, address=address),
    )


STORE_FIELDS = ("subject", "html", "text", "language", "to_address", "sections", "generation", "status", "error")
# Answers are rendered and written this many at a time (one transaction each group, every UPDATE
# still conditional on the row not being sent): one commit per email costs more than the rendering.
STORE_BATCH = 50


@dataclass
class _Answer:
    """A person's words, waiting to be rendered and written with the next group."""

    prepared: Prepared
    output: JobEmailOutput
    generation: dict[str, Any]


def _pending() -> list[_Answer]:
    pending = getattr(_local, "pending", None)
    if pending is None:
        pending = _local.pending = []
    return pending


def _row_values(answer: _Answer) -> tuple[int, dict[str, Any]]:
    """The row id and stored email (STORE_FIELDS) for an answer: rendered, and queued when it is
    to be sent."""
    prepared, output, generation = answer.prepared, answer.output, answer.generation
    person, email_id = prepared.person, prepared.email_id
    assert email_id is not None  # noqa: S101 - _store only queues answers whose row exists
    if prepared.mock and not output.subject.startswith(MOCK_PREFIX):
        output = output.model_copy(update={"subject": MOCK_PREFIX + output.subject})
    rendered, stored = job_email_render(
        email_id=email_id,
        language=person.language,
        words=output,
        sections=prepared.selection.sections,
        jobs=prepared.selection.jobs,
        lines=prepared.lines,
        links=_links(email_id=email_id, person=person),
        is_fallback=bool(generation.get("is_fallback")),
    )
    if not person.address:
        status, error = Email.Status.SUPPRESSED, "The person has no email address."
    else:
        status, error = (Email.Status.QUEUED if prepared.send else Email.Status.DRAFT), ""
    return email_id, {
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
            "line_fallbacks": sum(1 for _, fallback in prepared.lines.values() if fallback),
            "template_variables": prepared.template_variables,
            "notes": prepared.selection.notes(),
        },
        "status": status,
        "error": error,
    }


def _write(batch: list[_Answer]) -> None:
    """Render a group of answers, then write them in one transaction; each UPDATE is conditional,
    so a row sent meanwhile keeps what was sent (its `stored` turns False)."""
    rows = []
    for answer in batch:
        try:
            rows.append((answer.prepared, *_row_values(answer)))
        except (ValueError, LookupError) as exc:  # one bad email must not spoil its group
            logger.exception("job email for profile %s could not be rendered", answer.prepared.person.profile_id)
            answer.prepared.stored, answer.prepared.error = False, f"{type(exc).__name__}: {exc}"[:500]
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # No fsync wait for these writes: a crash may lose the last ones, leaving empty drafts
            # that the next run makes again; a later synchronous commit (a send) makes them durable.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        for prepared, email_id, values in rows:
            updated = Email.objects.filter(pk=email_id, status__in=REGENERABLE).update(**values)
            prepared.stored = bool(updated)


class _Writer:
    """Renders and writes a bulk run's answers on a thread (and database connection) of its own, so
    the thread that applies the answers only hands them over and keeps pace with the provider.

    Inside a transaction (a caller's atomic block, a test case) and on SQLite (one writer at a
    time) it writes in place: another connection couldn't see the rows, or would wait for the lock.
    """

    def __init__(self, *, inline: bool = False) -> None:
        self.inline = inline or connection.in_atomic_block or connection.vendor == "sqlite"
        self.pool: ThreadPoolExecutor | None = None
        self.futures: list[Future[None]] = []

    def submit(self, batch: list[_Answer]) -> None:
        if self.inline:
            _write(batch)
            return
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job-email-writer")
        self.futures.append(self.pool.submit(_write, batch))

    def wait(self) -> None:
        """Every submitted group written; the first error (a database error, say) raised here, in
        the caller's thread (the rows of a failed group stay empty drafts)."""
        futures, self.futures = self.futures, []
        for future in futures:
            future.result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.submit(connections.close_all)  # the writer thread's own connection
            self.pool.shutdown(wait=True)
            self.pool = None


def _flush(*, wait: bool = True) -> None:
    """Hand the answers waiting in this thread to the writer (see _Writer); `wait` until they are
    written."""
    pending = _pending()
    writer = getattr(_local, "writer", None)
    if pending:
        batch = list(pending)
        pending.clear()
        if writer is None:
            _write(batch)
        else:
            writer.submit(batch)
    if wait and writer is not None:
        writer.wait()


def _store(prepared: Prepared, output: JobEmailOutput, *, generation: dict[str, Any], batched: bool = False) -> None:
    """Store the person's email for the week with these words: rendered and written at once, or
    with the next group when `batched` (then `_flush()` ends the chunk). The write is conditional:
    a row sent meanwhile keeps what was sent (`prepared.stored` turns False)."""
    if prepared.email_id is None:
        _rows_ensure([prepared])
        if prepared.email_id is None:
            return
    prepared.stored = True
    pending = _pending()
    pending.append(_Answer(prepared, output, generation))
    if not batched:
        _flush()
    elif len(pending) >= STORE_BATCH:
        _flush(wait=False)


def _generation_meta(provenance: Provenance | None, *, provider: str = "mock") -> dict[str, Any]:
    if provenance is None:
        cached = provider == "cache"
        model = "cached" if cached else "rule-based"
        return {"is_fallback": not cached, "provider": provider, "model": model, "cached": cached}
    return {
        "is_fallback": provenance.is_fallback,
        "fallback_reason": provenance.fallback_reason,
        "provider": provenance.provider,
        "model": provenance.model,
        "call_id": provenance.call_id,
        "prompt_version": provenance.task_version,
        "cached": False,
        "generated_at": provenance.generated_at.isoformat(),
    }


def _prepare_from_input(task_input: JobEmailInput) -> Prepared:
    """Rebuild what a stored email needs from a task input alone (a provider batch's ingest)."""
    profile = UserProfile.objects.filter(pk=task_input.profile_id).first()
    if profile is None:
        raise NotFoundError(f"No profile {task_input.profile_id}.")
    jobs = jobs_info(job_ids={p.job_id for p in task_input.picks}, active_only=False)
    universe = JobUniverse(
        now=timezone.now(),
        jobs={},
        index=None,  # type: ignore[arg-type]  # nothing is selected again: the picks are in the input
        editorial=[],
        popular_7d={},
        engaged_users={},
        engaged_jobs={},
    )
    person = people_data(profile_ids=[profile.pk], universe=universe, language=task_input.language).people[0]
    sizes, notes = section_sizes(), task_input.section_notes
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
        send=task_input.send,
        mock=False,
        template_variables=task_input.template_variables,
        run_id=task_input.run_id,
        lines=lines,
    )


def job_email_store(*, task_input: JobEmailInput, output: JobEmailOutput, provenance: Provenance) -> None:
    """JOB_EMAIL's apply: store the person's email with these words (now, bulk and batch ingest)."""
    prepared = _registry().get((task_input.profile_id, task_input.week))
    if prepared is not None:  # a bulk run in this thread: written with the next group, counted by the run
        _store(prepared, output, generation=_generation_meta(provenance), batched=True)
        if not provenance.is_fallback:
            prepared.words = output
        return
    prepared = _prepare_from_input(task_input)  # a provider batch's ingest
    _store(prepared, output, generation=_generation_meta(provenance))
    if not prepared.stored:
        return
    if not provenance.is_fallback:
        cache.set(_words_keys([task_input])[0], output.model_dump(), settings.EMAIL_GENERATION_CACHE_TTL)
    if prepared.run_id is not None:
        EmailRun.objects.filter(pk=prepared.run_id).update(
            done=F("done") + 1, fallbacks=F("fallbacks") + int(provenance.is_fallback)
        )
    if task_input.send and prepared.email_id is not None:
        email_send_safely(email_id=prepared.email_id)


def email_send_safely(*, email_id: int) -> bool:
    """email_send, with a transport failure logged (the email stays failed; the schedule retries)."""
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
    line_lookups: int = 0  # one per job per email
    line_hits: int = 0  # of those, served by a line generated before (this run or earlier)
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
        """Served from cache among everything looked up: job lines per email, and email words."""
        lookups = self.line_lookups + self.generated - self.mock
        return round((self.line_hits + self.cached) / lookups, 3) if lookups > 0 else 0.0

    def add(self, other: GenerationSummary) -> None:
        for name, value in vars(other).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                setattr(self, name, getattr(self, name) + value)
        self.email_tokens += other.email_tokens
        self.email_ids += other.email_ids
        self.batch_id = self.batch_id or other.batch_id

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


def _select_people(
    *, data: PeopleData, universe: JobUniverse, now: datetime, options: dict[str, Any], summary: GenerationSummary
) -> Iterator[Prepared]:
    """Each person of the chunk who needs this week's email, with their sections (one at a time:
    the next chunk is selected between the answers of this one)."""
    weeks = {p.profile_id: iso_week(moment=now, time_zone=p.time_zone) for p in data.people}
    blocked = (
        suppressed_among(addresses=[p.address for p in data.people], kind=Email.Kind.JOB_RECOMMENDATION)
        if options["skip_suppressed"]
        else set()
    )
    # A row without content is a generation that never finished (deferred, failed): not "done".
    rows = (
        Email.objects.filter(
            kind=Email.Kind.JOB_RECOMMENDATION,
            recipient_id__in=[p.owner_id for p in data.people],
            week__in=set(weeks.values()),
        )
        .exclude(status=Email.Status.DRAFT, html="")
        .values_list("recipient_id", "week", "status")
    )
    existing = {(owner, week): status for owner, week, status in rows}
    for person in data.people:
        status = existing.get((person.owner_id, weeks[person.profile_id]))
        if status is not None and (not options["regenerate"] or status not in REGENERABLE):
            summary.already += 1
            continue
        if person.address.lower() in blocked:
            summary.suppressed += 1
            continue
        yield Prepared(
            person=person,
            week=weeks[person.profile_id],
            selection=sections_select(person=person, data=data, universe=universe),
            send=options["send"],
            mock=options["mock"],
            template_variables=options["template_variables"],
            run_id=options["run_id"],
        )


class _Lookahead:
    """A chunk made ready ahead while the previous chunk's LLM calls are in flight: its people
    selected a few at a time, then its rows created and its job lines fetched (the few lines not
    cached yet are generated then, between the answers, not in a pause of the provider's)."""

    def __init__(self, profile_ids: Sequence[int], *, language: str | None, **select: Any) -> None:
        self.profile_ids, self.language, self.select = profile_ids, language, select
        self.selected: list[Prepared] = []
        self.pending: Iterator[Prepared] | None = None
        self.metrics = MetricsBatch()
        self.todo: list[Prepared] | None = None

    def step(self, count: int = 2) -> None:
        if self.todo is not None:
            return
        if self.pending is None:
            universe = self.select["universe"]
            data = people_data(profile_ids=self.profile_ids, universe=universe, language=self.language)
            self.pending = _select_people(data=data, **self.select)
        taken = len(self.selected)
        self.selected.extend(itertools.islice(self.pending, count))
        if count and len(self.selected) - taken < count:  # everyone selected
            self._finish()

    def ready(self) -> list[Prepared]:
        """The chunk's people with their rows and job lines (what is not ready yet is done now)."""
        if self.todo is None:
            self.step(0)
            assert self.pending is not None  # noqa: S101 - step() set it
            self.selected.extend(self.pending)
            self._finish()
        assert self.todo is not None  # noqa: S101 - _finish() set it
        return self.todo

    def _finish(self) -> None:
        options, summary = self.select["options"], self.select["summary"]
        self.todo = _finish_chunk(todo=self.selected, options=options, summary=summary, metrics=self.metrics)


def _finish_chunk(
    *, todo: list[Prepared], options: dict[str, Any], summary: GenerationSummary, metrics: MetricsBatch
) -> list[Prepared]:
    """The chunk's rows (created as drafts) and its job lines (fetched or generated, shared)."""
    _rows_ensure(todo)
    missed = [p for p in todo if p.email_id is None]
    summary.already += len(missed)
    todo = [p for p in todo if p.email_id is not None]
    wanted = [(job, p.person.language) for p in todo for job in p.selection.jobs.values()]
    lines, stats = job_lines_get(wanted=wanted, mock=options["mock"], concurrency=options["concurrency"])
    uses = Counter(wanted_pair for p in todo for wanted_pair in ((j, p.person.language) for j in p.selection.jobs))
    for prepared in todo:
        language = prepared.person.language
        prepared.lines = {(j, language): lines[(j, language)] for j in prepared.selection.jobs}
        # Shared lines' tokens, spread over the emails of this run that use them.
        prepared.line_tokens = round(
            sum(stats.tokens_by_job.get((j, language), 0) / uses[(j, language)] for j in prepared.selection.jobs)
        )
    lookups = sum(uses.values())
    summary.line_lookups += lookups
    summary.line_hits += lookups - stats.generated
    summary.line_calls += stats.llm_calls
    summary.line_tokens += stats.tokens
    summary.line_fallbacks += stats.fallbacks
    metrics.lines(lookups=lookups, hits=lookups - stats.generated, tokens=stats.tokens)
    return todo


def _count(summary: GenerationSummary, prepared: Prepared, *, tokens: int, fallback: bool) -> None:
    if prepared.error:
        summary.failed += 1
        return
    if not prepared.stored:
        summary.already += 1  # sent meanwhile: left as it was
        return
    summary.generated += 1
    summary.fallbacks += int(fallback)
    summary.email_tokens.append(tokens)
    summary.email_ids.append(prepared.email_id)  # type: ignore[arg-type]


def _generate_chunk(
    *,
    todo: list[Prepared],
    options: dict[str, Any],
    summary: GenerationSummary,
    metrics: MetricsBatch,
    on_item: Callable[[], None] | None = None,
) -> list[JobEmailInput]:
    """The words for the chunk's emails, each rendered as it comes and written in groups; returns
    the inputs left for the provider's Batch API (batch mode)."""
    _local.writer = _Writer(inline=options["mode"] != EmailRun.Mode.BULK)  # one email now: no thread
    try:
        return _generate_and_store(todo=todo, options=options, summary=summary, metrics=metrics, on_item=on_item)
    finally:
        _local.writer.close()
        _local.writer = None


def _generate_and_store(
    *,
    todo: list[Prepared],
    options: dict[str, Any],
    summary: GenerationSummary,
    metrics: MetricsBatch,
    on_item: Callable[[], None] | None,
) -> list[JobEmailInput]:
    started = time.perf_counter()
    inputs = [_email_input(p) for p in todo]
    live: list[tuple[Prepared, JobEmailInput]] = []
    done: list[tuple[Prepared, str]] = []  # (prepared, how: mock / cache)
    for prepared, task_input in zip(todo, inputs, strict=True):
        if prepared.mock:
            _store(prepared, job_email_fallback(task_input), generation=_generation_meta(None), batched=True)
            done.append((prepared, "mock"))
        else:
            live.append((prepared, task_input))
    keys = _words_keys([i for _, i in live]) if live else []
    found = cache.get_many(keys) if keys else {}
    rest: list[tuple[Prepared, JobEmailInput]] = []
    for (prepared, task_input), key in zip(live, keys, strict=True):
        prepared.words_key = key
        output = _cached_words(found.get(key))
        if output is None:
            rest.append((prepared, task_input))
            continue
        _store(prepared, output, generation=_generation_meta(None, provider="cache"), batched=True)
        done.append((prepared, "cache"))
    _flush()
    for prepared, how in done:
        _count(summary, prepared, tokens=0, fallback=False)
        summary.mock += int(how == "mock" and prepared.stored)
        summary.cached += int(how == "cache" and prepared.stored)
        metrics.request(language=prepared.person.language, ok=True, mock=how == "mock", cached=how == "cache")
    if not rest:
        return []
    if options["mode"] == EmailRun.Mode.BATCH:
        return [task_input for _, task_input in rest]
    registry = _registry()
    registry.update({(p.person.profile_id, p.week): p for p, _ in rest})
    try:
        if options["mode"] == "now":
            prepared, task_input = rest[0]
            single = run(JOB_EMAIL, task_input, user_id=prepared.person.owner_id, use_cache=False)
            outcomes: list[tuple[Prepared, LLMResult[Any] | None, str, bool]] = [(prepared, single, "", False)]
        else:
            items = run_many(
                JOB_EMAIL,
                [task_input for _, task_input in rest],
                concurrency=options["concurrency"],
                use_cache=False,
                defer_when_unavailable=options["defer_when_unavailable"],
                on_progress=(lambda done, total: on_item()) if on_item is not None else None,
            )
            outcomes = [(p, o.result, o.error, o.deferred) for (p, _), o in zip(rest, items, strict=True)]
        _flush()
    finally:
        _pending().clear()
        for prepared, _ in rest:
            registry.pop((prepared.person.profile_id, prepared.week), None)
    share_ms = (time.perf_counter() - started) * 1000 / max(1, len(outcomes))
    fresh_words: dict[str, dict] = {}
    for prepared, result, error, deferred in outcomes:
        if deferred:
            summary.deferred += 1
            continue
        if result is None:
            summary.failed += 1
            metrics.request(language=prepared.person.language, ok=False)
            logger.warning("job email for profile %s failed: %s", prepared.person.profile_id, error)
            continue
        tokens = result.tokens_in + result.tokens_out
        summary.llm_calls += int(result.attempts > 0)
        _count(summary, prepared, tokens=tokens, fallback=result.is_fallback)
        metrics.request(
            language=prepared.person.language, ok=True, ms=share_ms, tokens=tokens, fallback=result.is_fallback
        )
        if prepared.stored and prepared.words is not None:
            fresh_words[prepared.words_key] = prepared.words.model_dump()
    # Rows of people whose words never came (deferred, failed) go again: the next run makes them.
    unfinished = [p.email_id for p, *_ in outcomes if not p.stored and p.email_id is not None]
    if unfinished:
        Email.objects.filter(pk__in=unfinished, status=Email.Status.DRAFT, html="").delete()
    if fresh_words:
        cache.set_many(fresh_words, settings.EMAIL_GENERATION_CACHE_TTL)
    return []


def _cached_words(value: object) -> JobEmailOutput | None:
    if not isinstance(value, dict):
        return None
    try:
        return JobEmailOutput.model_validate(value)
    except ValueError:  # pydantic's ValidationError: an entry from an older schema
        return None


def _send_queued(todo: list[Prepared], summary: GenerationSummary) -> None:
    ids = [p.email_id for p in todo if p.stored and p.email_id is not None]
    queued = Email.objects.filter(pk__in=ids, status=Email.Status.QUEUED).values_list("pk", flat=True)
    for email_id in queued:
        summary.sent += int(email_send_safely(email_id=email_id))


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
    """This week's job email for each person (skipping who has one, or unsubscribed).

    `mode="bulk"`: now, concurrently (run_many), in chunks of EMAIL_GENERATION_BATCH_SIZE people;
    `mode="batch"`: sections and lines now, the words through the provider's Batch API (about half
    the price; stored, and sent when `send`, as the batch is ingested). Mock mode (the setting, or
    `mock=True`) calls no provider. `regenerate` rewrites this week's unsent emails.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    options = {
        "send": send,
        "mock": bool(settings.EMAIL_GENERATION_MOCK_MODE) if mock is None else mock,
        "template_variables": dict(template_variables or {}),
        "regenerate": regenerate,
        "skip_suppressed": skip_suppressed,
        "run_id": run_id,
        "concurrency": concurrency,
        "mode": mode,
        "defer_when_unavailable": defer_when_unavailable,
    }
    ids = list(dict.fromkeys(profile_ids))
    summary = GenerationSummary(total=len(ids))
    if not ids:
        return summary
    universe = job_universe(now=now)
    batch_inputs: list[JobEmailInput] = []
    size = max(1, settings.EMAIL_GENERATION_BATCH_SIZE)
    chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
    select = {"universe": universe, "now": now, "options": options, "summary": summary}
    current = _Lookahead(chunks[0], language=language, **select)
    finished = 0
    for index, chunk in enumerate(chunks):
        before = summary.generated + summary.already + summary.suppressed
        todo, metrics = current.ready(), current.metrics
        upcoming = _Lookahead(chunks[index + 1], language=language, **select) if index + 1 < len(chunks) else None
        batch_inputs += _generate_chunk(
            todo=todo, options=options, summary=summary, metrics=metrics, on_item=upcoming.step if upcoming else None
        )
        if upcoming is not None:
            current = upcoming
        metrics.flush()
        if send:
            _send_queued(todo, summary)
        if run_id is not None:
            # Whom the next chunk's look-ahead already skipped (or found sent) is counted with this chunk.
            done = summary.generated + summary.already + summary.suppressed - before
            EmailRun.objects.filter(pk=run_id).update(
                done=F("done") + done,
                failed=summary.failed + summary.deferred,
                sent=summary.sent,
                fallbacks=summary.fallbacks,
            )
        finished += len(chunk)
        if on_progress is not None:
            on_progress(finished, len(ids))
    if batch_inputs:
        summary.batch_id = _batch_submit(inputs=batch_inputs, run_id=run_id, created_by=created_by)
    summary.wall_s = round(time.perf_counter() - started, 3)
    return summary


def _batch_submit(*, inputs: list[JobEmailInput], run_id: int | None, created_by: Any) -> str:
    items = [ItemSpec(f"job-email-{i.profile_id}-{i.week}", i, ("profiles.userprofile", i.profile_id)) for i in inputs]
    batch = batch_create(task=JOB_EMAIL, items=items, name=f"job emails ({len(items)})", created_by=created_by)
    if run_id is not None:
        EmailRun.objects.filter(pk=run_id).update(batch_pk=batch.pk, status=EmailRun.Status.WAITING_FOR_BATCH)
    if settings.CELERY_BROKER_URL:
        batch_submit(batch=batch)  # the batches schedule polls and ingests it
    else:
        # Embedded defaults: no worker will poll it, so this call carries it to the end.
        batch_run_pipeline(batch=batch, poll_interval=0.0 if provider_config().is_offline else 5.0)
    return batch.batch_id


@lru_cache(maxsize=4)
def _limiter(url: str) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(url) if url else MemoryStorage())


def email_generation_admit() -> None:
    """One on-demand generation against EMAIL_GENERATION_RATE_LIMIT a minute, shared by every
    process through Redis when it is configured; RateLimitedError (429, Retry-After) beyond it."""
    limit = settings.EMAIL_GENERATION_RATE_LIMIT
    if limit <= 0:
        return
    limiter, item = _limiter(settings.REDIS_URL), RateLimitItemPerMinute(limit)
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
    (409) once it was sent. At most EMAIL_GENERATION_RATE_LIMIT a minute (RateLimitedError)."""
    email_generation_admit()
    now = now or timezone.now()
    options = {
        "send": send,
        "mock": bool(settings.EMAIL_GENERATION_MOCK_MODE) if mock is None else mock,
        "template_variables": dict(template_variables or {}),
        "regenerate": True,
        "skip_suppressed": False,
        "run_id": None,
        "concurrency": None,
        "mode": "now",
        "defer_when_unavailable": False,
    }
    metrics = MetricsBatch()
    universe = job_universe(now=now)
    data = people_data(profile_ids=[profile.pk], universe=universe, language=language)
    summary = GenerationSummary(total=1)
    selected = list(_select_people(data=data, universe=universe, now=now, options=options, summary=summary))
    todo = _finish_chunk(todo=selected, options=options, summary=summary, metrics=metrics)
    if todo:
        _generate_chunk(todo=todo, options=options, summary=summary, metrics=metrics)
    metrics.flush()
    week = iso_week(moment=now, time_zone=profile.time_zone)
    if todo and todo[0].error:
        raise EmailNotRendered("This week's job email could not be rendered.", detail={"week": week})
    if not todo or not todo[0].stored or todo[0].email_id is None:
        raise EmailAlreadySent(f"This week's ({week}) job email was sent already.", detail={"week": week})
    if send:
        email_send_safely(email_id=todo[0].email_id)
    return Email.objects.get(pk=todo[0].email_id)
