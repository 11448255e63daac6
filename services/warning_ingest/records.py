"""Validating one pushed warning record (API.md record fields and error codes).

Pure Python, no database: this runs once per record of a million-record
push. Checks that need the database (a region code unknown to the loaded
registry, duplicates against earlier batches) run set-based afterwards.
Messages name the field and the rule, never the value, which may be an ID
number or a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson

from shared.catalog import WARNING_TYPES
from shared.errors import FieldError
from shared.idcard import InvalidIdNumber, parse_id_number
from shared.regions import is_well_formed
from shared.text import CONTROL_CHARACTERS, required_text

SOURCE_RECORD_ID_MAX = 64
NAME_MAX = 50
DETAILS_MAX_BYTES = 8 * 1024
AMOUNT_LIMIT = 10**12
FIELDS = (
    "source_record_id",
    "warning_type",
    "id_number",
    "name",
    "region_code",
    "event_date",
    "amount_yuan",
    "details",
)
_FIELD_SET = frozenset(FIELDS)
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
REQUIRED_FIELDS = ("source_record_id", "warning_type", "id_number", "name")
# Twelve digits before the point (numeric(14, 2)), at most two after it. A float
# is checked by its shortest repr, so 0.1 + 0.2 (0.30000000000000004) is refused.
_PLAIN_AMOUNT = re.compile(r"\d{1,12}(?:\.\d{1,2})?", re.ASCII)  # not full-width digits
_AMOUNT_RULE = "amount_yuan must be a number of yuan >= 0 with at most two decimals"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# NUL as orjson escapes it, not an escaped backslash followed by the text "u0000".
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record that could not even be read (a broken NDJSON line or CSV row)."""

    errors: tuple[FieldError, ...]
    source_record_id: str | None = None


@dataclass(frozen=True, slots=True)
class CheckedRecord:
    """A record that passed every check that needs no database."""

    source_record_id: str
    warning_type: str
    id_number: str  # normalised (upper-case X); hashed and sealed before staging
    name: str
    region_code: str | None
    event_date: date | None
    amount_yuan: Decimal | None
    details: bytes | None  # JSON text


def _missing(field: str) -> FieldError:
    return FieldError(field, "missing_field", f"{field} is required")


def _warning_type(raw: dict[str, Any], department: str, errors: list[FieldError]) -> str | None:
    value = raw.get("warning_type")
    if value is None or value == "":
        errors.append(_missing("warning_type"))
        return None
    kind = WARNING_TYPES.get(value) if isinstance(value, str) else None
    if kind is None:
        errors.append(
            FieldError("warning_type", "unknown_warning_type", "not a warning type of the catalog")
        )
        return None
    if kind.department != department:
        errors.append(
            FieldError(
                "warning_type",
                "warning_type_not_allowed",
                f"{value} is pushed by {kind.department}, not by {department}",
            )
        )
        return None
    return kind.code


def _id_number(raw: dict[str, Any], today: date, errors: list[FieldError]) -> str | None:
    value = raw.get("id_number")
    if value is None or value == "":
        errors.append(_missing("id_number"))
        return None
    if not isinstance(value, str):
        errors.append(FieldError("id_number", "invalid_id_number", "id_number must be a string"))
        return None
    try:
        return parse_id_number(value, today=today).number
    except InvalidIdNumber as exc:
        errors.append(FieldError("id_number", "invalid_id_number", str(exc)))
        return None


def _region(raw: dict[str, Any], errors: list[FieldError]) -> str | None:
    value = raw.get("region_code")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _well_formed_region(value):
        errors.append(
            FieldError("region_code", "invalid_region_code", "region_code must be a 12-digit code")
        )
        return None
    return value


# A push names a few hundred villages many times over.
_well_formed_region = lru_cache(maxsize=4096)(is_well_formed)


def parse_date(value: Any) -> date | None:
    """A strict YYYY-MM-DD date (no week dates, no compact form); None if not one."""
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _event_date(
    raw: dict[str, Any], warning_type: str | None, today: date, errors: list[FieldError]
) -> date | None:
    value = raw.get("event_date")
    if value is None or value == "":
        kind = WARNING_TYPES.get(warning_type) if warning_type else None
        if kind is not None and "event_date" in kind.requires:
            errors.append(
                FieldError("event_date", "missing_field", f"event_date is required for {kind.code}")
            )
        return None
    day = parse_date(value)
    if day is None:
        errors.append(FieldError("event_date", "invalid_date", "event_date must be YYYY-MM-DD"))
        return None
    if day > today:
        errors.append(FieldError("event_date", "event_date_in_future", "event_date is after today"))
        return None
    return day


def _amount(
    raw: dict[str, Any], warning_type: str | None, errors: list[FieldError]
) -> Decimal | None:
    value = raw.get("amount_yuan")
    if value is None or value == "":
        kind = WARNING_TYPES.get(warning_type) if warning_type else None
        if kind is not None and "amount_yuan" in kind.requires:
            errors.append(
                FieldError(
                    "amount_yuan", "amount_required", "amount_yuan is required for this type"
                )
            )
        return None
    # bool is an int in Python; True is not an amount.
    if type(value) is int and 0 <= value < AMOUNT_LIMIT:
        return Decimal(value)
    if type(value) is float or type(value) is str:
        plain = repr(value) if isinstance(value, float) else value.strip()
        if _PLAIN_AMOUNT.fullmatch(plain):
            return Decimal(plain)
    errors.append(FieldError("amount_yuan", "invalid_amount", _AMOUNT_RULE))
    return None


def _details(raw: dict[str, Any], errors: list[FieldError]) -> bytes | None:
    value = raw.get("details")
    if value is None:
        return None
    if isinstance(value, str):  # the CSV form: a JSON string column
        if not value.strip():
            return None
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            errors.append(FieldError("details", "invalid_value", "details must be a JSON object"))
            return None
    if not isinstance(value, dict):
        errors.append(FieldError("details", "invalid_value", "details must be a JSON object"))
        return None
    try:
        encoded = orjson.dumps(value)
    except orjson.JSONEncodeError:  # nested deeper than orjson writes (254 levels)
        errors.append(FieldError("details", "invalid_value", "details are nested too deeply"))
        return None
    if len(encoded) > DETAILS_MAX_BYTES:
        errors.append(FieldError("details", "too_long", "details must be at most 8 KiB of JSON"))
        return None
    if _NUL_ESCAPE.search(encoded):
        errors.append(FieldError("details", "invalid_value", "details holds a NUL character"))
        return None
    return encoded


def source_record_id_of(raw: Any) -> str | None:
    """The record's source_record_id if it has a usable one (for the receipt)."""
    if isinstance(raw, BadRecord):
        return raw.source_record_id
    if isinstance(raw, dict):
        value = raw.get("source_record_id")
        # Never one with control characters: NUL cannot be stored in a text column.
        if (
            isinstance(value, str)
            and 0 < len(value.strip()) <= SOURCE_RECORD_ID_MAX
            and not CONTROL_CHARACTERS.search(value)
        ):
            return value.strip()
    return None


def check_record(
    raw: Any, *, department: str, today: date
) -> tuple[CheckedRecord | None, list[FieldError]]:
    """Validate one record; return it checked, or None with every error found."""
    if isinstance(raw, BadRecord):
        return None, list(raw.errors)
    if not isinstance(raw, dict):
        return None, [FieldError("record", "invalid_value", "a record must be a JSON object")]
    errors: list[FieldError] = []
    source_record_id = required_text(
        raw, "source_record_id", "source_record_id", SOURCE_RECORD_ID_MAX, errors
    )
    warning_type = _warning_type(raw, department, errors)
    id_number = _id_number(raw, today, errors)
    name = required_text(raw, "name", "name", NAME_MAX, errors)
    region_code = _region(raw, errors)
    event_date = _event_date(raw, warning_type, today, errors)
    amount = _amount(raw, warning_type, errors)
    details = _details(raw, errors)
    for key in raw:
        if key not in _FIELD_SET:
            # Echo a key only when it looks like a field name: a stray key could be a value.
            field = key if isinstance(key, str) and _FIELD_NAME.fullmatch(key) else "record"
            errors.append(FieldError(field, "unknown_field", "not a record field"))
    if errors:
        return None, errors
    assert source_record_id and warning_type and id_number and name
    return (
        CheckedRecord(
            source_record_id,
            warning_type,
            id_number,
            name,
            region_code,
            event_date,
            amount,
            details,
        ),
        [],
    )
