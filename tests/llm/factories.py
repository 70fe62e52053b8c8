from llm.fields import FieldInput


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
