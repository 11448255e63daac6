"""Checking one screening record (the village form, SPEC §11; API.md "Screening
campaigns"), from a JSON object or a CSV or XLSX row, without the database.

CSV cells arrive as text and XLSX cells as numbers, booleans or dates, so
booleans accept `true`/`false`, integers accept their decimal text, and dates
accept a date or `YYYY-MM-DD` text. Whether the household exists and lies in
the caller's scope is checked afterwards, set-based. Messages name the field
and the rule, never the value.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from shared.catalog import SCREENING_FIELDS
from shared.errors import FieldError
from shared.text import checked_text

FIELDS = (
    "household_id",
    "screened_on",
    "screener",
    "residence",
    "housing",
    "schooling",
    "drinking_water",
    "insured",
    "uninsured_members",
    "income_band",
    "rigid_expenditure",
    "rigid_expenditure_reason",
    "civil_affairs_support",
    "needs_inclusion",
    "notes",
)
OPTIONAL_FIELDS = frozenset({"rigid_expenditure_reason", "notes"})
# The fields a checker's record is compared on (who screened and when are not findings).
FINDING_FIELDS = tuple(
    f for f in FIELDS if f not in {"household_id", "screened_on", "screener", "notes"}
)
SCREENER_MAX = 50
TEXT_MAX = 500
MAX_MEMBERS = 99
_HOUSEHOLD_ID = re.compile(r"[A-Za-z0-9-]{1,40}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TRUE, _FALSE = frozenset({"true", "1", "yes", "是"}), frozenset({"false", "0", "no", "否"})


@dataclass(frozen=True, slots=True)
class ScreeningRecord:
    """A record that passed every check that needs no database."""

    household_id: str
    screened_on: date
    screener: str
    residence: str
    housing: str
    schooling: str
    drinking_water: str
    insured: str
    uninsured_members: int
    income_band: str
    rigid_expenditure: bool
    rigid_expenditure_reason: str | None
    civil_affairs_support: str
    needs_inclusion: str
    notes: str | None

    def findings(self) -> dict[str, Any]:
        """The fields a cross-check compares, by name."""
        record = asdict(self)
        return {field: record[field] for field in FINDING_FIELDS}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any, field: str, limit: int, errors: list[FieldError]) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # an XLSX cell of digits
    if not isinstance(value, str):
        errors.append(FieldError(field, "invalid_value", f"{field} must be text"))
        return None
    return checked_text(value, field, limit, errors)


def _date(value: Any, field: str, errors: list[FieldError]) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    errors.append(FieldError(field, "invalid_date", f"{field} must be a date YYYY-MM-DD"))
    return None


def _bool(value: Any, field: str, errors: list[FieldError]) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    errors.append(FieldError(field, "invalid_value", f"{field} must be true or false"))
    return None


def _count(value: Any, field: str, errors: list[FieldError]) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_MEMBERS:
        return value
    errors.append(
        FieldError(field, "invalid_value", f"{field} must be a whole number, 0 to {MAX_MEMBERS}")
    )
    return None


def _code(value: Any, field: str, errors: list[FieldError]) -> str | None:
    codes = SCREENING_FIELDS[field]
    if isinstance(value, str) and value.strip() in codes:
        return value.strip()
    errors.append(FieldError(field, "invalid_code", f"{field} must be a code of the catalog"))
    return None


def check_screening(raw: Any, *, year: int, today: date) -> ScreeningRecord | list[FieldError]:
    """The record, or every rule it breaks: a missing or unknown field, a code
    outside its list, `screened_on` outside the campaign's `year` or after
    `today`, a rigid expenditure without its reason."""
    if not isinstance(raw, dict):
        return [FieldError("record", "invalid_value", "a record must be an object")]
    errors: list[FieldError] = [
        FieldError(str(field)[:40], "unknown_field", "not a field of a screening record")
        for field in raw
        if field not in FIELDS
    ]
    values: dict[str, Any] = {}
    for field in FIELDS:
        value = raw.get(field)
        if _blank(value):
            if field not in OPTIONAL_FIELDS:
                errors.append(FieldError(field, "missing_field", f"{field} is required"))
            values[field] = None
            continue
        if field == "household_id":
            text = _text(value, field, 40, errors)
            if text is not None and not _HOUSEHOLD_ID.fullmatch(text):
                errors.append(
                    FieldError(field, "invalid_household_id", "1-40 letters, digits and -")
                )
                text = None
            values[field] = text
        elif field == "screened_on":
            values[field] = _date(value, field, errors)
        elif field == "screener":
            values[field] = _text(value, field, SCREENER_MAX, errors)
        elif field in ("rigid_expenditure_reason", "notes"):
            values[field] = _text(value, field, TEXT_MAX, errors)
        elif field == "rigid_expenditure":
            values[field] = _bool(value, field, errors)
        elif field == "uninsured_members":
            values[field] = _count(value, field, errors)
        else:
            values[field] = _code(value, field, errors)
    screened_on = values["screened_on"]
    if screened_on is not None:
        if screened_on.year != year:
            errors.append(
                FieldError("screened_on", "outside_campaign", f"screened_on must lie in {year}")
            )
        elif screened_on > today:
            errors.append(
                FieldError("screened_on", "date_in_future", "screened_on must not be after today")
            )
    if values["rigid_expenditure"] and values["rigid_expenditure_reason"] is None:
        errors.append(
            FieldError(
                "rigid_expenditure_reason",
                "missing_field",
                "a large rigid expenditure needs its reason",
            )
        )
    if values["insured"] == "all" and values["uninsured_members"]:
        errors.append(
            FieldError(
                "uninsured_members", "invalid_value", "all members insured leaves none uninsured"
            )
        )
    if errors:
        return errors
    return ScreeningRecord(**values)
