import uuid

from catalog.datasets.llm import FieldInput
from llm.limits import RateGovernor


def field_input(i: int = 0, **overrides) -> FieldInput:
    values = {
        "field_path": f"customer.contact.email_{i}",
        "field_name": f"email_{i}",
        "data_type": "string",
        "semantic_type": "email_address",
        "sample_values": [f"user{i}@example.com"],
    }
    values.update(overrides)
    return FieldInput(**values)


def unlimited_governor(*, max_concurrency: int) -> RateGovernor:
    """A governor with no RPM/TPM limit (shared through Redis when there is one), under a name no
    other test uses."""
    return RateGovernor(f"test-{uuid.uuid4().hex[:8]}", rpm=None, tpm=None, max_concurrency=max_concurrency)
