"""Inferring a column's data type and semantic type from its values (and, as a hint, its name).

Data types: string, integer, number, boolean, date, datetime, object, array, unknown. Semantic
types: email_address, url, phone_number, date, datetime, currency, identifier, postal_code,
category, free_text (None when nothing fits). A pattern must match SHARE of the values, so a few
bad cells do not hide what a column is.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

CATEGORY_MAX_DISTINCT = 20
SHARE = 0.9  # of a column's values that must match a pattern for its semantic type

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
URL_RE = re.compile(r"^(https?://|www\.)\S+$", re.IGNORECASE)
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
INT_RE = re.compile(r"^[+-]?\d+$")
DECIMAL_RE = re.compile(r"^[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
# "$1,299.00", "€ 12", "USD 12.50", "12,50 €", "1299.00 EUR" (a code needs its space: "ABC1234" is no price).
CURRENCY_RE = re.compile(
    r"^(?:[$€£¥₹]\s?|[A-Z]{3}\s)-?\d{1,3}(?:[,.\s]?\d{3})*(?:[.,]\d{1,2})?$"
    r"|^-?\d{1,3}(?:[,.\s]?\d{3})*(?:[.,]\d{1,2})?(?:\s?[$€£¥₹]|\s[A-Z]{3})$"
)
PHONE_RE = re.compile(r"^\+?[\d\s().\-/]{7,22}$")
TOKEN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-:.]{3,63}$")
BOOLEAN_WORDS = {"true", "false", "yes", "no"}
CURRENCY_NAMES = ("price", "amount", "cost", "total", "salary", "fee", "revenue", "balance", "msrp", "subtotal", "tax")
PHONE_NAMES = ("phone", "tel", "mobile", "fax", "cell")
POSTAL_NAMES = ("zip", "zipcode", "postal", "postcode")
POSTAL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{2,9}$")
ID_NAMES = ("id", "uuid", "guid", "sku", "key", "code", "number", "no", "ref", "reference")


def value_text(value: Any) -> str:
    """A value as the text a person would read (JSON for objects and lists)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _is_date(text: str) -> bool:
    if not DATE_RE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_datetime(text: str) -> bool:
    if not DATETIME_RE.match(text):
        return False
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _kind(value: Any) -> str:
    """The data type one value says it has (strings are read for what they spell)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    text = str(value).strip()
    if text.lower() in BOOLEAN_WORDS:
        return "boolean"
    if INT_RE.match(text):
        # Leading zeros (postal codes, account numbers) are text that happens to be digits.
        return "string" if len(text.lstrip("+-")) > 1 and text.lstrip("+-").startswith("0") else "integer"
    if DECIMAL_RE.match(text):
        return "number"
    if _is_date(text):
        return "date"
    if _is_datetime(text):
        return "datetime"
    return "string"


def _data_type(kinds: set[str]) -> str:
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds <= {"integer", "number"}:
        return "number"
    if kinds <= {"date", "datetime"}:
        return "datetime"
    return "string"


def _share(texts: list[str], test: Any) -> float:
    return sum(1 for text in texts if test(text)) / len(texts)


def _name_has(name: str, hints: tuple[str, ...]) -> bool:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower().replace("-", "_").split("_")
    return any(word in hints for word in words if word)


def _is_phone(text: str) -> bool:
    digits = sum(1 for char in text if char.isdigit())
    return bool(PHONE_RE.match(text)) and 7 <= digits <= 15


def infer_types(*, name: str, values: list[Any]) -> tuple[str, str | None]:
    """(data type, semantic type or None) of a column from its values and, as a hint, its name."""
    present = [v for v in values if v is not None and not (isinstance(v, str) and not v.strip())]
    if not present:
        return "unknown", None
    data_type = _data_type({_kind(v) for v in present})
    if data_type in ("object", "array", "boolean"):
        return data_type, None
    texts = [value_text(v).strip() for v in present]
    distinct = len(set(texts))
    unique = distinct >= 0.95 * len(texts)
    if data_type == "string":
        if _share(texts, EMAIL_RE.match) >= SHARE:
            return data_type, "email_address"
        if _share(texts, URL_RE.match) >= SHARE:
            return data_type, "url"
        if _share(texts, CURRENCY_RE.match) >= SHARE:
            return "number", "currency"
        if _share(texts, UUID_RE.match) >= SHARE:
            return data_type, "identifier"
        separated = any(not text.isdigit() for text in texts)
        if _share(texts, _is_phone) >= SHARE and (separated or _name_has(name, PHONE_NAMES)):
            return data_type, "phone_number"
    if data_type in ("date", "datetime"):
        return data_type, data_type
    if data_type in ("integer", "number") and _name_has(name, CURRENCY_NAMES):
        return data_type, "currency"
    if data_type == "integer" and _name_has(name, PHONE_NAMES) and _share(texts, _is_phone) >= SHARE:
        return data_type, "phone_number"
    if _name_has(name, POSTAL_NAMES) and data_type in ("integer", "string") and _share(texts, POSTAL_RE.match) >= SHARE:
        return data_type, "postal_code"
    if _name_has(name, ID_NAMES) and unique and data_type in ("integer", "string"):
        return data_type, "identifier"
    if data_type != "string":
        return data_type, None
    if len(texts) >= 5 and distinct <= CATEGORY_MAX_DISTINCT and distinct <= len(texts) / 2:
        return data_type, "category"
    average_length = sum(len(text) for text in texts) / len(texts)
    average_words = sum(len(text.split()) for text in texts) / len(texts)
    if average_length >= 40 or average_words >= 6:
        return data_type, "free_text"
    if len(texts) >= 5 and unique and _share(texts, TOKEN_ID_RE.match) >= SHARE and any(c.isdigit() for c in texts[0]):
        return data_type, "identifier"
    return data_type, None
