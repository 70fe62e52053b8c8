"""Writes of dictionary entries: a run's text (never over a person's edit) and a person's edit."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q
from django.utils import timezone

from catalog.datasets.models import DataDictionaryEntry
from llm.task import Provenance

BUSINESS_NAME_MAX = 120


def data_dictionary_entry_apply(*, entry_id: int, business_name: str, description: str, provenance: Provenance) -> bool:
    """Write a run's text to an entry; False when it was kept as it is.

    One conditional UPDATE, no read first: an entry a person edited (also between our read of the
    source and this write) is never overwritten, and a rule-based fallback replaces only empty or
    fallback text, never a model's.
    """
    entries = DataDictionaryEntry.objects.filter(pk=entry_id, edited_at__isnull=True)
    if provenance.is_fallback:
        entries = entries.filter(Q(is_fallback=True) | Q(description=""))
    updated = entries.update(
        business_name=business_name[:BUSINESS_NAME_MAX],
        description=description,
        model=provenance.model[:100],
        prompt_version=provenance.task_version,
        is_fallback=provenance.is_fallback,
        generated_at=provenance.generated_at,
        llm_call_id=provenance.call_id,
    )
    return updated == 1


def data_dictionary_entry_edit(
    *,
    entry: DataDictionaryEntry,
    user: User | AnonymousUser | None,
    business_name: str | None = None,
    description: str | None = None,
) -> DataDictionaryEntry:
    """A person's edit: the text is theirs from now on, and later runs leave it alone."""
    if business_name is not None:
        entry.business_name = business_name[:BUSINESS_NAME_MAX]
    if description is not None:
        entry.description = description
    entry.edited_by = user if user is not None and user.is_authenticated else None
    entry.edited_at = timezone.now()
    entry.save(update_fields=["business_name", "description", "edited_by", "edited_at"])
    return entry
