"""Reading a dataset's fields from its source: this project's models, an uploaded CSV / JSON /
JSON Lines file (each column's data type and semantic type inferred from its values), or a list of
fields in seed 001's shape. Reads only: nothing here writes.

Files are bounded: at most DATA_DICTIONARY_MAX_BYTES are accepted and DATA_DICTIONARY_MAX_ROWS
records read; nested JSON objects become dotted paths (`customer.address.city`, `items[].sku`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models

from catalog.datasets.inference import infer_types, value_text
from config.errors import DomainError
from config.text import text_clean

SAMPLE_CHARS = 80
SAMPLE_ROWS_FROM_MODELS = 3
MAX_DEPTH = 6
LIST_ITEMS_READ = 50  # items of one nested list looked at per record
FIELD_KEYS = ("field_path", "field_name", "data_type", "semantic_type", "sample_values")


class DatasetSourceError(DomainError):
    """The source could not be read; `detail` lists the problems (with lines where known)."""

    code = "dataset_invalid"


class DatasetTooLargeError(DomainError):
    status_code = 413
    code = "file_too_large"


@dataclass
class FieldProfile:
    """One field as the LLM task takes it (seed 001's five inputs)."""

    field_path: str
    field_name: str
    data_type: str
    semantic_type: str | None = None
    sample_values: list[str] = field(default_factory=list)


# --- this project's models ------------------------------------------------------------------------


def _model_data_type(model_field: models.Field) -> str:
    return model_field.get_internal_type().removesuffix("Field").lower() or "unknown"


def _model_semantic_type(model_field: models.Field) -> str | None:
    if isinstance(model_field, models.EmailField):
        return "email_address"
    if isinstance(model_field, models.URLField):
        return "url"
    if isinstance(model_field, models.DateTimeField):
        return "datetime"
    if isinstance(model_field, models.DateField):
        return "date"
    if model_field.primary_key or isinstance(model_field, models.ForeignKey):
        return "identifier"
    if isinstance(model_field, models.DecimalField) and "price" in model_field.name:
        return "currency"
    return None


def fields_from_models(*, model_labels: list[str]) -> list[FieldProfile]:
    """One field per concrete model field, with a few real sample values."""
    profiles: list[FieldProfile] = []
    for label in model_labels:
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError) as exc:
            raise DatasetSourceError(f"Unknown model {label!r} (use app_label.Model).") from exc
        concrete = list(model._meta.concrete_fields)
        rows = model._default_manager.order_by("pk").values_list(*[f.attname for f in concrete])
        samples = list(rows[:SAMPLE_ROWS_FROM_MODELS])
        for index, model_field in enumerate(concrete):
            values = [str(row[index])[:SAMPLE_CHARS] for row in samples if row[index] not in (None, "")]
            profiles.append(
                FieldProfile(
                    field_path=f"{model._meta.label_lower}.{model_field.name}",
                    field_name=model_field.name,
                    data_type=_model_data_type(model_field),
                    semantic_type=_model_semantic_type(model_field),
                    sample_values=values,
                )
            )
    return profiles


# --- a list of fields in the seed's shape -----------------------------------------------------------


def fields_from_list(*, items: Any) -> list[FieldProfile]:
    """Seed 001's field list: [{field_path, field_name, data_type, semantic_type, sample_values}]."""
    if not isinstance(items, list) or not items:
        raise DatasetSourceError("Expected a non-empty list of fields.")
    problems: list[str] = []
    profiles: list[FieldProfile] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        where = f"fields[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: expected an object")
            continue
        unknown = sorted(set(item) - set(FIELD_KEYS))
        if unknown:
            problems.append(f"{where}: unknown key(s) {unknown}; allowed: {list(FIELD_KEYS)}")
        path = item.get("field_path")
        if not isinstance(path, str) or not path.strip() or len(path) > 300:
            problems.append(f"{where}.field_path: required text, at most 300 characters")
            continue
        path = path.strip()
        if path in seen:
            problems.append(f"{where}.field_path: {path!r} appears twice")
            continue
        seen.add(path)
        name = item.get("field_name") or re.split(r"[.\[\]]+", path.rstrip("[]"))[-1] or path
        data_type = item.get("data_type") or "string"
        semantic = item.get("semantic_type")
        samples = item.get("sample_values") or []
        if not isinstance(name, str) or len(name) > 120:
            problems.append(f"{where}.field_name: text, at most 120 characters")
        if not isinstance(data_type, str) or len(data_type) > 40:
            problems.append(f"{where}.data_type: text, at most 40 characters")
        if semantic is not None and (not isinstance(semantic, str) or len(semantic) > 40):
            problems.append(f"{where}.semantic_type: text (at most 40 characters) or null")
        if not isinstance(samples, list):
            problems.append(f"{where}.sample_values: a list of values")
            samples = []
        profiles.append(
            FieldProfile(
                field_path=path,
                field_name=str(name)[:120],
                data_type=str(data_type)[:40],
                semantic_type=semantic or None,
                sample_values=[value_text(v)[:SAMPLE_CHARS] for v in samples if v not in (None, "")][: _sample_count()],
            )
        )
    if problems:
        raise DatasetSourceError(f"{len(problems)} problem(s) in the field list.", detail=problems[:1000])
    _check_field_count(len(profiles))
    return profiles


def looks_like_field_list(value: Any) -> bool:
    """A JSON array whose objects all carry seed 001's field keys (and nothing else)."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(item, dict) and {"field_path", "data_type"} <= set(item) and set(item) <= set(FIELD_KEYS)
            for item in value
        )
    )


# --- files ------------------------------------------------------------------------------------------


def file_format_for(name: str, data: bytes) -> str:
    """csv, json or jsonl: from the file name, else from the first bytes."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix in ("csv", "tsv", "txt"):
        return "csv"
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix == "json":
        return "json"
    head = data.lstrip()[:1]
    if head == b"[":
        return "json"
    if head == b"{":
        first_line = data.lstrip().split(b"\n", 1)[0].strip()
        try:
            json.loads(first_line)
        except ValueError:
            return "json"
        return "jsonl"
    return "csv"


def fields_from_file(*, name: str, data: bytes, file_format: str | None = None) -> tuple[str, list[FieldProfile]]:
    """(the format read, its fields): the file's records profiled column by column."""
    if len(data) > settings.DATA_DICTIONARY_MAX_BYTES:
        raise DatasetTooLargeError(
            f"{name} is larger than {settings.DATA_DICTIONARY_MAX_BYTES} bytes.",
            detail={"max_bytes": settings.DATA_DICTIONARY_MAX_BYTES},
        )
    file_format = file_format or file_format_for(name, data)
    try:
        text = text_clean(data.decode("utf-8-sig"))  # (JSON escapes like \\u0000 are cleaned per field later)
    except UnicodeDecodeError as exc:
        raise DatasetSourceError(f"{name} is not UTF-8 ({exc.reason}).") from exc
    if file_format == "csv":
        records = _csv_records(text)
    elif file_format == "jsonl":
        records = _jsonl_records(text)
    elif file_format == "json":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DatasetSourceError(f"line {exc.lineno}: invalid JSON ({exc.msg})") from exc
        if isinstance(value, dict) and isinstance(value.get("fields"), list) and set(value) <= {"name", "fields"}:
            return "fields", fields_from_list(items=value["fields"])
        if looks_like_field_list(value):
            return "fields", fields_from_list(items=value)
        records = _json_records(value)
    else:
        raise DatasetSourceError(f"Unknown file format {file_format!r}; use csv, json or jsonl.")
    return file_format, profile_records(records)


def _csv_records(text: str) -> Iterator[dict[str, Any]]:
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = [column.strip() for column in next(reader)]
    except StopIteration:
        raise DatasetSourceError("The file is empty.") from None
    except csv.Error as exc:
        raise DatasetSourceError(f"line 1: unreadable CSV header ({exc})") from exc
    if not any(header):
        raise DatasetSourceError("line 1: the header row has no column names.")
    duplicates = sorted({column for column in header if header.count(column) > 1})
    if duplicates:
        raise DatasetSourceError(f"line 1: column name(s) {duplicates} appear twice.")
    return _csv_rows(reader, header)


def _csv_rows(reader: Any, header: list[str]) -> Iterator[dict[str, Any]]:
    try:
        for record in reader:
            if not record or all(not cell.strip() for cell in record):
                continue
            yield {column: cell for column, cell in zip(header, record, strict=False) if column}
    except csv.Error as exc:
        raise DatasetSourceError(f"line {reader.line_num}: unreadable CSV ({exc})") from exc


def _jsonl_records(text: str) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetSourceError(f"line {number}: invalid JSON ({exc.msg})") from exc
        if not isinstance(value, dict):
            raise DatasetSourceError(f"line {number}: expected a JSON object per line")
        yield value


def _json_records(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        return
    if not isinstance(value, list):
        raise DatasetSourceError("Expected a JSON array of objects, one object, or a list of fields.")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise DatasetSourceError(f"item {index}: expected an object")
        yield item


# --- profiling records --------------------------------------------------------------------------------


def _flatten(value: Any, path: str, out: dict[str, list[Any]], depth: int) -> None:
    if isinstance(value, dict) and depth < MAX_DEPTH and value:
        for key, child in value.items():
            _flatten(child, f"{path}.{key}" if path else str(key), out, depth + 1)
        return
    if isinstance(value, list) and value and depth < MAX_DEPTH and all(isinstance(v, dict) for v in value):
        for item in value[:LIST_ITEMS_READ]:
            _flatten(item, f"{path}[]", out, depth + 1)
        return
    if path:
        out.setdefault(path, []).append(value)


def profile_records(records: Iterable[dict[str, Any]]) -> list[FieldProfile]:
    """Columns in first-seen order, each with its inferred types and a handful of sample values."""
    columns: dict[str, list[Any]] = {}
    rows = 0
    for record in records:
        if rows >= settings.DATA_DICTIONARY_MAX_ROWS:
            break
        rows += 1
        flat: dict[str, list[Any]] = {}
        _flatten(record, "", flat, 0)
        for path, values in flat.items():
            columns.setdefault(path, []).extend(values)
        _check_field_count(len(columns))
    if not rows:
        raise DatasetSourceError("The file has no records.")
    profiles = []
    for path, values in columns.items():
        name = re.split(r"[.\[\]]+", path.rstrip("[]"))[-1] or path
        data_type, semantic = infer_types(name=name, values=values)
        profiles.append(
            FieldProfile(
                field_path=path[:300],
                field_name=name[:120],
                data_type=data_type,
                semantic_type=semantic,
                sample_values=sample_values(values),
            )
        )
    return profiles


def _check_field_count(count: int) -> None:
    if count > settings.DATA_DICTIONARY_MAX_FIELDS:
        raise DatasetSourceError(
            f"More than {settings.DATA_DICTIONARY_MAX_FIELDS} fields; split the dataset.",
            detail={"max_fields": settings.DATA_DICTIONARY_MAX_FIELDS},
        )


def _sample_count() -> int:
    return max(1, min(10, settings.DATA_DICTIONARY_SAMPLE_VALUES))


def sample_values(values: list[Any]) -> list[str]:
    """The first distinct non-empty values, as text, each cut to a short length."""
    samples: list[str] = []
    for value in values:
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        text = value_text(value).strip()[:SAMPLE_CHARS]
        if text not in samples:
            samples.append(text)
        if len(samples) >= _sample_count():
            break
    return samples


# --- one entry point for the API and the command ---------------------------------------------------


@dataclass
class SourceRead:
    source_kind: str  # DataDictionary.SourceKind value
    source_name: str
    default_name: str
    fields: list[FieldProfile]


def dataset_source_read(
    *,
    upload_name: str | None = None,
    upload_data: bytes | None = None,
    file_format: str | None = None,
    field_list: Any = None,
    model_labels: list[str] | None = None,
) -> SourceRead:
    """Read exactly one source: an uploaded file, a field list, or model labels; the fields' text
    is cleaned (no NUL, lone surrogates or control characters reach the database or the model)."""
    source = _read(
        upload_name=upload_name,
        upload_data=upload_data,
        file_format=file_format,
        field_list=field_list,
        model_labels=model_labels,
    )
    cleaned: dict[str, FieldProfile] = {}
    for f in source.fields:
        path = text_clean(f.field_path)
        if path and path not in cleaned:  # two paths that differed only by such characters are one field
            cleaned[path] = FieldProfile(
                field_path=path,
                field_name=text_clean(f.field_name) or path,
                data_type=text_clean(f.data_type),
                semantic_type=text_clean(f.semantic_type) if f.semantic_type else None,
                sample_values=[text_clean(v) for v in f.sample_values],
            )
    source.fields = list(cleaned.values())
    return source


def _read(
    *,
    upload_name: str | None,
    upload_data: bytes | None,
    file_format: str | None,
    field_list: Any,
    model_labels: list[str] | None,
) -> SourceRead:
    given = [upload_data is not None, field_list is not None, bool(model_labels)]
    if sum(given) != 1:
        raise DatasetSourceError("Give exactly one source: a file, a field list or model labels.")
    if upload_data is not None:
        name = upload_name or "upload"
        kind, fields = fields_from_file(name=name, data=upload_data, file_format=file_format)
        return SourceRead(source_kind=kind, source_name=name[:255], default_name=name, fields=fields)
    if field_list is not None:
        fields = fields_from_list(items=field_list)
        return SourceRead(source_kind="fields", source_name="", default_name="", fields=fields)
    labels = list(model_labels or [])
    joined = ", ".join(labels)
    fields = fields_from_models(model_labels=labels)
    return SourceRead(source_kind="models", source_name=joined[:255], default_name=joined, fields=fields)
