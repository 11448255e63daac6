"""Readers that turn registry files and request bodies into records, streaming.

Every reader yields one record (a dict) per household or region, or a
`BadRecord` where a line or cell cannot be parsed, so that a load reports it
at its index instead of stopping. Nothing is held beyond the current line
(or, for the member-per-row CSV layout, the current household).

Formats:
- NDJSON: one JSON object per line; blank lines are skipped and do not
  count as records.
- Households CSV, either layout, chosen by the header row:
  `household_id,region_code,category,head_name,members` with `members` a
  JSON list, or one row per member,
  `household_id,region_code,category,head_name,id_number,name,relation,
  labour_capacity,disability_grade,in_school`, consecutive rows with the same
  household_id forming one household (its first row gives the household's
  fields; a load's `index` then counts households, not rows). `in_school` is
  true/false (or 1/0, yes/no), empty for unknown.
- Regions CSV: `code,name`, and an optional `attributes` column listing a
  region's key-area attributes separated by `;` (`key_village;abandoned_mine`).
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal

import orjson

from shared.errors import FieldError
from shared.registry.records import BadRecord

Kind = Literal["households", "regions"]
Record = dict[str, Any] | BadRecord

HOUSEHOLD_FIELDS = ("household_id", "region_code", "category", "head_name")
MEMBER_FIELDS = (
    "id_number",
    "name",
    "relation",
    "labour_capacity",
    "disability_grade",
    "in_school",
)
_TRUE = frozenset({"true", "1", "yes", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "f", "n"})
_READ_BYTES = 1 << 20


class UnsupportedFile(ValueError):
    """A file whose format or header row cannot be read; the message says why."""


def _bad(field: str, message: str) -> BadRecord:
    return BadRecord((FieldError(field, "invalid_json", message),))


def parse_ndjson_line(line: bytes | str) -> Record | None:
    """One NDJSON line as a record; None for a blank line."""
    if not line.strip():
        return None
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return _bad("body", "the line is not valid JSON")


def ndjson_records(lines: Iterable[bytes]) -> Iterator[Record]:
    """Records from NDJSON lines (a binary file iterates as lines)."""
    for line in lines:
        record = parse_ndjson_line(line)
        if record is not None:
            yield record


async def aiter_lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Split a stream of byte chunks (a request body) into lines."""
    # The start of the current line is kept in parts and joined once, when its
    # end arrives: a long line in many chunks costs linear time, not quadratic.
    parts: list[bytes] = []
    async for chunk in chunks:
        if b"\n" not in chunk:
            parts.append(chunk)
            continue
        lines = chunk.split(b"\n")
        parts.append(lines[0])
        yield b"".join(parts)
        for line in lines[1:-1]:
            yield line
        parts = [lines[-1]]
    rest = b"".join(parts)
    if rest:
        yield rest


async def ndjson_records_async(chunks: AsyncIterable[bytes]) -> AsyncIterator[Record]:
    """Records from an NDJSON byte stream, one line at a time."""
    async for line in aiter_lines(chunks):
        record = parse_ndjson_line(line)
        if record is not None:
            yield record


def _text_lines(lines: Iterable[bytes]) -> Iterator[str]:
    # utf-8-sig on the first line only: a spreadsheet's byte-order mark.
    first = True
    for line in lines:
        yield line.decode("utf-8-sig" if first else "utf-8", errors="replace")
        first = False


def _rows(lines: Iterable[bytes]) -> tuple[list[str], Iterator[list[str]]]:
    reader = csv.reader(_text_lines(lines))
    header = [h.strip() for h in next(reader, [])]
    if not header:
        raise UnsupportedFile("the CSV file is empty")
    return header, (row for row in reader if any(cell.strip() for cell in row))


def _require(header: list[str], names: Iterable[str]) -> None:
    missing = [n for n in names if n not in header]
    if missing:
        raise UnsupportedFile("the CSV header lacks the column(s) " + ", ".join(missing))


def _cells(header: list[str], row: list[str]) -> dict[str, str]:
    return {name: value.strip() for name, value in zip(header, row, strict=False)}


def _grade(value: str) -> Any:
    if not value:
        return None
    return int(value) if value.isascii() and value.isdigit() else value


def _flag(value: str) -> Any:
    lowered = value.lower()
    if not lowered:
        return None
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return value  # reported by the load as invalid_value


def _member(cells: dict[str, str]) -> dict[str, Any]:
    return {
        "id_number": cells.get("id_number", ""),
        "name": cells.get("name", ""),
        "relation": cells.get("relation", ""),
        "labour_capacity": cells.get("labour_capacity", ""),
        "disability_grade": _grade(cells.get("disability_grade", "")),
        "in_school": _flag(cells.get("in_school", "")),
    }


def csv_households(lines: Iterable[bytes]) -> Iterator[Record]:
    """Household records from a households CSV of either layout (see the module).

    Reads the header row at once: raises UnsupportedFile if it lacks a column.
    """
    header, rows = _rows(lines)
    _require(header, HOUSEHOLD_FIELDS)
    if "members" in header:
        return _households_with_members_column(header, rows)
    _require(header, ("id_number", "name", "relation", "labour_capacity"))
    return _households_by_member_rows(header, rows)


def _households_with_members_column(
    header: list[str], rows: Iterator[list[str]]
) -> Iterator[Record]:
    for row in rows:
        cells = _cells(header, row)
        household: dict[str, Any] = {f: cells.get(f, "") for f in HOUSEHOLD_FIELDS}
        try:
            household["members"] = orjson.loads(cells.get("members") or "null")
        except orjson.JSONDecodeError:
            yield _bad("members", "the members column is not valid JSON")
            continue
        yield household


def _households_by_member_rows(header: list[str], rows: Iterator[list[str]]) -> Iterator[Record]:
    current: dict[str, Any] | None = None
    for row in rows:
        cells = _cells(header, row)
        if current is None or cells.get("household_id", "") != current["household_id"]:
            if current is not None:
                yield current
            current = {f: cells.get(f, "") for f in HOUSEHOLD_FIELDS}
            current["members"] = []
        current["members"].append(_member(cells))
    if current is not None:
        yield current


def csv_regions(lines: Iterable[bytes]) -> Iterator[Record]:
    """Region records from a `code,name[,attributes]` CSV (raises
    UnsupportedFile at once for a header without code and name)."""
    header, rows = _rows(lines)
    _require(header, ("code", "name"))
    return (_region(_cells(header, row)) for row in rows)


def _region(cells: dict[str, str]) -> Record:
    region: dict[str, Any] = {"code": cells.get("code", ""), "name": cells.get("name", "")}
    attributes = [a.strip() for a in cells.get("attributes", "").split(";") if a.strip()]
    if attributes:
        region["attributes"] = attributes
    return region


def file_format(path: Path) -> Literal["csv", "ndjson"]:
    """The format a file's extension names: .csv, or .ndjson / .jsonl."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in {".ndjson", ".jsonl"}:
        return "ndjson"
    raise UnsupportedFile("the file must end in .csv, .ndjson or .jsonl")


def counted_lines(handle: BinaryIO, on_bytes: Callable[[int], None] | None) -> Iterator[bytes]:
    """The lines of a binary file, reporting the bytes read every megabyte or so."""
    pending = 0
    for line in handle:
        pending += len(line)
        if on_bytes is not None and pending >= _READ_BYTES:
            on_bytes(pending)
            pending = 0
        yield line
    if on_bytes is not None and pending:
        on_bytes(pending)


def file_records(
    handle: BinaryIO,
    *,
    kind: Kind,
    fmt: Literal["csv", "ndjson"],
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[Record]:
    """Records of `kind` from an open binary file, streaming."""
    lines = counted_lines(handle, on_bytes)
    if fmt == "ndjson":
        return ndjson_records(lines)
    return csv_households(lines) if kind == "households" else csv_regions(lines)
