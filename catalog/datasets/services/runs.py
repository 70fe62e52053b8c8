"""Data dictionary runs: a source's fields become entries, then the field-description task
describes every entry a person has not edited (bulk mode, cached, with progress on the row)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction

from catalog.datasets.llm import FIELD_DESCRIPTION, FieldInput
from catalog.datasets.models import DataDictionary, DataDictionaryEntry
from catalog.datasets.sources import FieldProfile
from config.errors import NotFoundError
from llm.runtime import run_many

Status = DataDictionary.Status
ENTRY_INPUT_FIELDS = ["position", "field_name", "data_type", "semantic_type", "sample_values"]
PROGRESS_EVERY_S = 1.0  # the dictionary row's progress is written at most this often (and at the end)
ERROR_MESSAGE_MAX = 2000


@dataclass
class DescribeSummary:
    fields: int = 0  # entries in the dictionary
    described: int = 0  # by the model
    fallbacks: int = 0  # by the rule-based fallback (a rerun replaces them)
    kept: int = 0  # a person's edit, left alone
    deferred: int = 0  # background run, provider unavailable: left for a rerun
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def data_dictionary_create(
    *,
    name: str,
    source_kind: str,
    source_name: str = "",
    fields: list[FieldProfile],
    created_by: User | AnonymousUser | None = None,
) -> DataDictionary:
    """Create the dictionary named `name`, or refresh the one that has it (a rerun): entries are
    upserted on field path; unedited entries whose field left the source are removed."""
    user = created_by if created_by is not None and created_by.is_authenticated else None
    with transaction.atomic():
        dictionary, created = DataDictionary.objects.select_for_update().get_or_create(
            name=name[:200],
            defaults={"source_kind": source_kind, "source_name": source_name[:255], "created_by": user},
        )
        DataDictionaryEntry.objects.bulk_create(
            [
                DataDictionaryEntry(
                    dictionary=dictionary,
                    position=position,
                    field_path=profile.field_path,
                    field_name=profile.field_name,
                    data_type=profile.data_type,
                    semantic_type=profile.semantic_type or "",
                    sample_values=profile.sample_values,
                )
                for position, profile in enumerate(fields)
            ],
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["dictionary", "field_path"],
            update_fields=ENTRY_INPUT_FIELDS,
        )
        if not created:
            paths = {profile.field_path for profile in fields}
            stale = dictionary.entries.filter(edited_at__isnull=True).exclude(field_path__in=paths)
            stale.delete()
            dictionary.source_kind, dictionary.source_name = source_kind, source_name[:255]
        dictionary.status = Status.PENDING
        dictionary.fields_total = dictionary.entries.count()
        dictionary.fields_done = 0
        dictionary.run_id = ""
        dictionary.error_message = ""
        dictionary.save()
    return dictionary


def _field_input(entry: DataDictionaryEntry) -> FieldInput:
    return FieldInput(
        field_path=entry.field_path,
        field_name=entry.field_name,
        data_type=entry.data_type,
        semantic_type=entry.semantic_type or None,
        sample_values=[str(v) for v in entry.sample_values][:10],
        entry_id=entry.pk,
    )


def data_dictionary_describe(
    *,
    dictionary_id: int,
    background: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> DescribeSummary:
    """Describe every entry a person has not edited; the apply never touches an edited one.

    With a person waiting (`background=False`) an unavailable provider gives the flagged fallback;
    a background run leaves those entries as they are (deferred) for a later rerun.
    """
    dictionary = DataDictionary.objects.filter(pk=dictionary_id).first()
    if dictionary is None:
        raise NotFoundError(f"No data dictionary {dictionary_id}.", code="data_dictionary_not_found")
    entries = list(dictionary.entries.order_by("position", "id"))
    todo = [entry for entry in entries if not entry.is_edited]
    summary = DescribeSummary(fields=len(entries), kept=len(entries) - len(todo))
    rows = DataDictionary.objects.filter(pk=dictionary_id)
    rows.update(status=Status.RUNNING, fields_total=len(entries), fields_done=summary.kept, error_message="")
    last_write = [time.monotonic()]

    def progress(done: int, total: int) -> None:
        if on_progress is not None:
            on_progress(done, total)
        if done == total or time.monotonic() - last_write[0] >= PROGRESS_EVERY_S:
            last_write[0] = time.monotonic()
            rows.update(fields_done=summary.kept + done)

    outcomes = run_many(
        FIELD_DESCRIPTION,
        [_field_input(entry) for entry in todo],
        on_progress=progress,
        defer_when_unavailable=background,
    )
    for outcome in outcomes:
        if outcome.deferred:
            summary.deferred += 1
        elif outcome.result is None:
            summary.failed += 1
        elif outcome.result.is_fallback:
            summary.fallbacks += 1
        else:
            summary.described += 1
    problems = []
    if summary.deferred:
        problems.append(f"{summary.deferred} field(s) deferred: the provider is unavailable; run it again later.")
    if summary.failed:
        problems.append(f"{summary.failed} field(s) failed: " + "; ".join(o.error for o in outcomes if o.error)[:500])
    failed_all = bool(todo) and summary.failed == len(todo)
    rows.update(
        status=Status.FAILED if failed_all else Status.COMPLETED,
        fields_done=len(entries),
        error_message=" ".join(problems)[:ERROR_MESSAGE_MAX],
    )
    return summary
