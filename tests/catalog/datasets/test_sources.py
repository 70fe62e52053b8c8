"""Reading a dataset's fields from a file: types and semantic types inferred from the values, nested
JSON flattened, bounded reads, and seed 001's field list recognised."""

import json

import pytest

from catalog.datasets.inference import infer_types
from catalog.datasets.sources import (
    DatasetSourceError,
    DatasetTooLargeError,
    dataset_source_read,
    fields_from_file,
    fields_from_list,
)

CUSTOMERS_CSV = (
    "customer_id,email,website,phone,signup_date,last_seen,balance,plan,notes,zip,age,active\n"
    "C-1001,ann@example.com,https://ann.example.com,+1 415-555-0101,2024-01-02,2024-03-01T10:00:00Z,"
    '"$1,200.00",pro,Prefers email and asked about annual billing discounts last spring.,02134,34,true\n'
    "C-1002,bo@example.org,https://bo.example.org,+44 20 5555 0188,2024-01-05,2024-03-02T11:30:00Z,$35.50,basic,"
    "Signed up through the partner webinar and has opened no tickets.,10001,41,false\n"
    "C-1003,cy@example.net,https://cy.example.net,+33 1 55 55 01 77,2024-02-11,2024-03-05T08:15:00Z,$0.00,basic,"
    "Portuguese-speaking team; invoices must show the VAT number.,94105,29,true\n"
    "C-1004,di@example.com,https://di.example.com,+81 3-5555-0144,2024-02-20,2024-03-06T09:45:00Z,$99.99,free,"
    "Trial converted after the onboarding call with the sales team.,60601,52,false\n"
    "C-1005,ed@example.com,https://ed.example.com,+49 30 5555 0166,2024-03-01,2024-03-07T16:20:00Z,$12.00,basic,"
    "Uses the mobile app mostly and reported a sync bug in March.,73301,38,true\n"
    "C-1006,fa@example.com,https://fa.example.com,+39 06 5555 0111,2024-03-03,2024-03-08T12:00:00Z,$450.25,pro,"
    "Asked twice about data residency in the EU before the renewal.,30301,45,true\n"
)


def by_path(fields):
    return {f.field_path: f for f in fields}


def test_a_csv_gets_data_types_semantic_types_and_samples_from_its_values():
    kind, fields = fields_from_file(name="customers.csv", data=CUSTOMERS_CSV.encode())

    got = {f.field_path: (f.data_type, f.semantic_type) for f in fields}
    assert kind == "csv"
    assert got == {
        "customer_id": ("string", "identifier"),
        "email": ("string", "email_address"),
        "website": ("string", "url"),
        "phone": ("string", "phone_number"),
        "signup_date": ("date", "date"),
        "last_seen": ("datetime", "datetime"),
        "balance": ("number", "currency"),
        "plan": ("string", "category"),
        "notes": ("string", "free_text"),
        "zip": ("string", "postal_code"),  # leading zeros: text, not a number
        "age": ("integer", None),
        "active": ("boolean", None),
    }
    assert [f.field_path for f in fields][:3] == ["customer_id", "email", "website"]  # the file's order
    plan = by_path(fields)["plan"]
    assert plan.sample_values == ["pro", "basic", "free"]  # distinct, in order of appearance
    assert len(by_path(fields)["email"].sample_values) == 5  # DATA_DICTIONARY_SAMPLE_VALUES


def test_nested_json_and_json_lines_become_dotted_paths():
    records = [
        {"id": 1, "customer": {"email": "a@example.com", "address": {"city": "Lisbon"}}, "items": [{"sku": "X-1"}]},
        {"id": 2, "customer": {"email": "b@example.com", "address": {"city": "Porto"}}, "items": [{"sku": "X-2"}]},
    ]
    _, from_json = fields_from_file(name="orders.json", data=json.dumps(records).encode())
    kind, from_lines = fields_from_file(name="orders.jsonl", data="\n".join(map(json.dumps, records)).encode())

    assert kind == "jsonl"
    assert [f.field_path for f in from_json] == ["id", "customer.email", "customer.address.city", "items[].sku"]
    assert [(f.field_path, f.field_name) for f in from_json] == [(f.field_path, f.field_name) for f in from_lines]
    fields = by_path(from_json)
    assert (fields["customer.address.city"].field_name, fields["customer.address.city"].sample_values) == (
        "city",
        ["Lisbon", "Porto"],
    )
    assert (fields["id"].data_type, fields["id"].semantic_type) == ("integer", "identifier")
    assert fields["customer.email"].semantic_type == "email_address"


def test_a_json_file_in_the_seeds_field_list_shape_is_read_as_fields():
    seed_fields = [
        {
            "field_path": "user.email",
            "field_name": "email",
            "data_type": "string",
            "semantic_type": "email_address",
            "sample_values": ["user@example.com", "test@test.com"],
        }
    ]

    kind, fields = fields_from_file(name="fields.json", data=json.dumps(seed_fields).encode())

    assert kind == "fields"
    assert by_path(fields)["user.email"].sample_values == ["user@example.com", "test@test.com"]


def test_a_field_list_reports_every_problem():
    items = [
        {"field_path": "a", "data_type": "string"},
        {"field_path": "a", "data_type": "string"},
        {"field_name": "no path", "data_type": "string"},
        {"field_path": "b", "data_type": "string", "colour": "red"},
    ]

    with pytest.raises(DatasetSourceError) as caught:
        fields_from_list(items=items)

    assert caught.value.detail == [
        "fields[1].field_path: 'a' appears twice",
        "fields[2].field_path: required text, at most 300 characters",
        "fields[3]: unknown key(s) ['colour']; allowed: ['field_path', 'field_name', 'data_type', 'semantic_type', "
        "'sample_values']",
    ]


def test_reads_are_bounded_by_size_rows_and_fields(settings):
    settings.DATA_DICTIONARY_MAX_BYTES = 100
    with pytest.raises(DatasetTooLargeError):
        fields_from_file(name="big.csv", data=b"a\n" + b"x\n" * 100)

    settings.DATA_DICTIONARY_MAX_BYTES = 10_000
    settings.DATA_DICTIONARY_MAX_ROWS = 3
    _, fields = fields_from_file(name="rows.csv", data=b"n\n1\n2\n3\n4\n5\nnot a number\n")
    assert by_path(fields)["n"].data_type == "integer"  # rows past the cap are never read

    settings.DATA_DICTIONARY_MAX_FIELDS = 2
    with pytest.raises(DatasetSourceError, match="More than 2 fields"):
        fields_from_file(name="wide.csv", data=b"a,b,c\n1,2,3\n")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"a,a\n1,2\n", "appear twice"),
        (b'[{"a": 1},\n  {"a": }]', "line 2: invalid JSON"),
        (b'{"a": 1}\n[1]\n', "line 2: expected a JSON object"),
        ("name\ncafé\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(data, message):
    name = "x.jsonl" if data.startswith(b'{"a": 1}\n') else "x.json" if data.startswith(b"[") else "x.csv"

    with pytest.raises(DatasetSourceError, match=message):
        fields_from_file(name=name, data=data)


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("price", [10, 12.5, 99], ("number", "currency")),
        ("amount", ["€ 12,50", "€ 1.200,00", "€ 3"], ("number", "currency")),
        ("code", ["ABC1234", "XYZ9876"], ("string", "identifier")),  # a code, not a price
        ("mobile", ["4155550101", "4155550102"], ("integer", "phone_number")),
        ("count", ["4155550101", "4155550102"], ("integer", None)),  # digits alone are no phone number
        ("ref", ["3f2b1c9e-8d7a-4e6f-9a0b-1c2d3e4f5a6b"], ("string", "identifier")),
        ("status", [None, "", "  "], ("unknown", None)),
        ("tags", [["a", "b"], ["c"]], ("array", None)),
        ("when", ["2024-01-01", "2024-01-01T10:00:00"], ("datetime", "datetime")),
    ],
)
def test_inference_cases(name, values, expected):
    assert infer_types(name=name, values=values) == expected


def test_text_the_database_would_refuse_is_cleaned_at_the_boundary():
    data = b'na\x00me,"no\x07te"\nAnn\x00,"a\x1b b"\n'

    source = dataset_source_read(upload_name="dirty.csv", upload_data=data)

    assert [(f.field_path, f.sample_values) for f in source.fields] == [("name", ["Ann"]), ("note", ["a b"])]
