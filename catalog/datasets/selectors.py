"""Data dictionary reads: lists with their counts, one dictionary with its entries, and exports."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet

from catalog.datasets.models import DataDictionary, DataDictionaryEntry
from config.errors import NotFoundError

EXPORT_FORMATS = ("md", "csv", "json")
EXPORT_CONTENT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
EXPORT_COLUMNS = (
    "field_path",
    "field_name",
    "data_type",
    "semantic_type",
    "sample_values",
    "business_name",
    "description",
    "is_fallback",
    "model",
    "prompt_version",
    "edited_by",
    "edited_at",
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def data_dictionaries_list() -> QuerySet[DataDictionary]:
    """Dictionaries, newest first, with entry and edit counts (one query)."""
    return (
        DataDictionary.objects.select_related("created_by")
        .annotate(
            entry_count=Count("entries"),
            edited_count=Count("entries", filter=Q(entries__edited_at__isnull=False)),
            fallback_count=Count("entries", filter=Q(entries__is_fallback=True)),
        )
        .order_by("-created_at", "-id")
    )


def data_dictionary_get(*, dictionary_id: int) -> DataDictionary:
    """A dictionary with its entries in source order (as `entry_list`) and who edited them."""
    entries = DataDictionaryEntry.objects.select_related("edited_by").order_by("position", "id")
    queryset = data_dictionaries_list().prefetch_related(Prefetch("entries", queryset=entries, to_attr="entry_list"))
    try:
        return queryset.get(pk=dictionary_id)
    except DataDictionary.DoesNotExist:
        raise NotFoundError(f"No data dictionary {dictionary_id}.", code="data_dictionary_not_found") from None


def data_dictionary_entry_get(*, dictionary_id: int, entry_id: int) -> DataDictionaryEntry:
    try:
        return DataDictionaryEntry.objects.select_related("edited_by").get(pk=entry_id, dictionary_id=dictionary_id)
    except DataDictionaryEntry.DoesNotExist:
        raise NotFoundError(
            f"No entry {entry_id} in data dictionary {dictionary_id}.", code="data_dictionary_entry_not_found"
        ) from None


# --- export -----------------------------------------------------------------------------------------


def entry_row(entry: DataDictionaryEntry) -> dict[str, Any]:
    return {
        "field_path": entry.field_path,
        "field_name": entry.field_name,
        "data_type": entry.data_type,
        "semantic_type": entry.semantic_type or None,
        "sample_values": list(entry.sample_values),
        "business_name": entry.business_name,
        "description": entry.description,
        "is_fallback": entry.is_fallback,
        "model": entry.model,
        "prompt_version": entry.prompt_version,
        "edited_by": entry.edited_by.get_username() if entry.edited_by else None,
        "edited_at": entry.edited_at.isoformat() if entry.edited_at else None,
    }


def _spreadsheet_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _markdown_cell(value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else ("" if value is None else str(value))
    return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|")


def data_dictionary_export(*, dictionary: DataDictionary, export_format: str) -> tuple[str, str, str]:
    """(text, content type, file name) of the dictionary as Markdown, CSV or JSON."""
    entries = getattr(dictionary, "entry_list", None)
    if entries is None:
        entries = list(dictionary.entries.select_related("edited_by").order_by("position", "id"))
    rows = [entry_row(entry) for entry in entries]
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in dictionary.name).strip("-")[:80] or "dictionary"
    filename = f"{stem}.{export_format}"
    if export_format == "json":
        body = {
            "name": dictionary.name,
            "source_kind": dictionary.source_kind,
            "source_name": dictionary.source_name,
            "entries": rows,
        }
        return json.dumps(body, ensure_ascii=False, indent=2), EXPORT_CONTENT_TYPES["json"], filename
    if export_format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            row = {**row, "sample_values": "; ".join(row["sample_values"])}
            writer.writerow({key: _spreadsheet_safe(value) for key, value in row.items()})
        return buffer.getvalue(), EXPORT_CONTENT_TYPES["csv"], filename
    if export_format == "md":
        lines = [
            f"# {_markdown_cell(dictionary.name)}",
            "",
            f"Source: {dictionary.get_source_kind_display()}"
            + (f" ({_markdown_cell(dictionary.source_name)})" if dictionary.source_name else ""),
            "",
            "| Field | Business name | Type | Semantic type | Description | Samples | Written by |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in rows:
            author = f"edited by {row['edited_by'] or 'a person'}" if row["edited_at"] else row["model"]
            if row["is_fallback"] and not row["edited_at"]:
                author = "rule-based fallback"
            cells = [
                f"`{_markdown_cell(row['field_path'])}`",
                row["business_name"],
                row["data_type"],
                row["semantic_type"],
                row["description"],
                row["sample_values"][:3],
                author,
            ]
            lines.append("| " + " | ".join(_markdown_cell(cell) for cell in cells) + " |")
        return "\n".join(lines) + "\n", EXPORT_CONTENT_TYPES["md"], filename
    raise ValueError(f"unknown export format {export_format!r}")
