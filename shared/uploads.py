"""What every tabular upload (a department's CSV, a village's form) checks in
its header row."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from shared.errors import FieldError


def header_errors(
    names: Iterable[str], *, fields: Collection[str], required: Iterable[str]
) -> list[FieldError]:
    """Every required field without a column, every column that is no field, and
    every field named twice; empty when the header is good."""
    names = list(names)
    errors = [
        FieldError(name, "missing_field", f"the header has no {name} column")
        for name in required
        if name not in names
    ]
    seen: set[str] = set()
    for name in names:
        if name not in fields:
            errors.append(FieldError("header", "unknown_field", "a column that is not a field"))
        elif name in seen:
            errors.append(FieldError(name, "duplicate_column", f"{name} appears twice"))
        seen.add(name)
    return errors


# NUL cannot be stored in PostgreSQL text; the other C0 controls have no place
# in a name or a note.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def checked_text(value: str, field: str, limit: int, errors: list[FieldError]) -> str | None:
    """`value` stripped, or None with the error added: longer than `limit`, or
    holding control characters. Messages never repeat the value."""
    value = value.strip()
    if len(value) > limit:
        errors.append(FieldError(field, "too_long", f"{field} must be at most {limit} characters"))
        return None
    if CONTROL_CHARACTERS.search(value):
        errors.append(FieldError(field, "invalid_value", f"{field} holds control characters"))
        return None
    return value
