"""The field-description LLM task (seed 001's data dictionary): a business name and a one-sentence
description for a data field, from its path, type, semantic type and sample values.

One call per field, run in bulk (`llm.run_many`) and cached like every task. The input may name
the dictionary entry it is for (`entry_id`, never part of the prompt, so equal fields of two
dictionaries share a cached answer); the apply then writes that entry unless a person edited it.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from catalog.datasets.services.entries import data_dictionary_entry_apply
from llm.task import LLMTask, Message, Provenance, register

# Known semantic types and how the fallback describes them.
SEMANTIC_PHRASES = {
    "email_address": "Email address",
    "phone_number": "Phone number",
    "url": "Web address (URL)",
    "currency": "Monetary amount",
    "date": "Calendar date",
    "datetime": "Date and time",
    "identifier": "Unique identifier",
    "postal_code": "Postal code",
    "country": "Country",
    "person_name": "Person's name",
}
# Semantic types that say what kind of values a field holds, not what it is: said after its name.
SEMANTIC_KINDS = {"category": "one of a small set of categories", "free_text": "free text"}
ACRONYMS = {"id": "ID", "url": "URL", "api": "API", "sku": "SKU", "ip": "IP", "utc": "UTC", "msrp": "MSRP"}


class FieldInput(BaseModel):
    field_path: str = Field(max_length=300)
    field_name: str = Field(max_length=120)
    data_type: str = Field(max_length=40)
    semantic_type: str | None = None
    sample_values: list[str] = Field(default_factory=list, max_length=10)
    # The DataDictionaryEntry this input describes (None: a bare call, nothing is written).
    entry_id: int | None = None


class FieldDescription(BaseModel):
    business_name: str = Field(description="A short human name for the field, Title Case, at most 60 characters.")
    description: str = Field(description="One sentence saying what the field holds, at most 300 characters.")


def business_name_for(field_name: str) -> str:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", field_name).replace("_", " ").replace("-", " ").split()
    return " ".join(ACRONYMS.get(word.lower(), word.capitalize()) for word in words)[:60] or field_name[:60]


def fallback(field: FieldInput) -> FieldDescription:
    """Rule-based: humanize the name, say the type, mention where the field lives."""
    name = business_name_for(field.field_name)
    semantic = field.semantic_type or ""
    what = name if semantic in SEMANTIC_KINDS else SEMANTIC_PHRASES.get(semantic, name)
    parent = field.field_path.rsplit(".", 1)[0] if "." in field.field_path else ""
    where = f" of the {business_name_for(parent.split('.')[-1]).lower()} record" if parent else ""
    kind = f", {SEMANTIC_KINDS[semantic]}" if semantic in SEMANTIC_KINDS else ""
    sentence = f"{what}{where}{kind}, stored as {field.data_type}."
    return FieldDescription(business_name=name, description=sentence[:300])


def build_messages(field: FieldInput) -> list[Message]:
    samples = ", ".join(repr(v[:80]) for v in field.sample_values[:5]) or "none"
    return [
        {
            "role": "system",
            "content": "You write data dictionary entries. Be factual and concise; never invent business rules.",
        },
        {
            "role": "user",
            "content": (
                f"Field path: {field.field_path}\nField name: {field.field_name}\nData type: {field.data_type}\n"
                f"Semantic type: {field.semantic_type or 'unknown'}\nSample values: {samples}\n"
                "Give a business name and a one-sentence description."
            ),
        },
    ]


def check_lengths(field: FieldInput, output: FieldDescription) -> list[str]:
    problems = []
    if not output.business_name.strip() or len(output.business_name) > 60:
        problems.append("business_name must be 1 to 60 characters")
    if not output.description.strip() or len(output.description) > 300:
        problems.append("description must be 1 to 300 characters")
    return problems


def apply(field: FieldInput, output: FieldDescription, provenance: Provenance) -> None:
    if field.entry_id is not None:
        data_dictionary_entry_apply(
            entry_id=field.entry_id,
            business_name=output.business_name,
            description=output.description,
            provenance=provenance,
        )


def subject(field: FieldInput) -> tuple[str, int] | None:
    return ("catalog.datadictionaryentry", field.entry_id) if field.entry_id is not None else None


FIELD_DESCRIPTION = register(
    LLMTask(
        name="field_description",
        version=1,
        input_model=FieldInput,
        output_model=FieldDescription,
        build_messages=build_messages,
        fallback=fallback,
        checks=(check_lengths,),
        apply=apply,
        subject=subject,
        max_output_tokens=200,
        description="Business name and description of a data field.",
    )
)
