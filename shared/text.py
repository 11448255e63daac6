"""The one check for free text that people type: names, notes, reasons.

NUL cannot be stored in PostgreSQL text (asyncpg refuses it, which would be a
500), and the other C0 controls have no place in a name or a note; tab,
newline and carriage return are allowed. Bulk records (registry loads, ingest
batches, screening forms) collect field errors with `checked_text` or
`required_text`; request schemas use the `FreeText` type, which pydantic turns
into a 422. No message ever repeats the value: it may be a name or an ID number.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from shared.errors import FieldError

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


def required_text(
    raw: dict[str, Any], key: str, where: str, limit: int, errors: list[FieldError]
) -> str | None:
    """`raw[key]` as checked_text, with `missing_field` when it is absent or
    blank and `invalid_value` when it is not a string; errors name `where`."""
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(FieldError(where, "missing_field", f"{key} is required"))
        return None
    if not isinstance(value, str):
        errors.append(FieldError(where, "invalid_value", f"{key} must be a string"))
        return None
    return checked_text(value, where, limit, errors)


def _no_control_characters(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        # The message and the context carry no part of the value.
        raise PydanticCustomError("invalid_value", "the text holds control characters")
    return value


FreeText = Annotated[str, AfterValidator(_no_control_characters)]
"""A request field of free text: refuses NUL and the C0 controls other than
tab, newline and carriage return with a 422 `invalid_value`. Bound its length
with `Field(min_length=..., max_length=...)` as for any str."""
