"""What every tabular upload (a department's CSV, a village's form) checks in
its header row."""

from __future__ import annotations

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
