"""Reading a screenings upload (the village forms, SPEC §11) in any of its three
forms: JSON `{"records": [...]}`, CSV (`text/csv`, UTF-8 with or without a
byte-order mark, or `charset=gb18030`) and XLSX (the first sheet). CSV and
XLSX have a header row naming the record fields.

The body is read whole (the bulk body limit, 64 MiB by default, bounds it;
a county's forms are a few MB). An upload holds at most MAX_RECORDS records
(a township's forms; a county sends its townships apart): reading stops at
the first record past it, or after MAX_ROWS_READ rows blank or not, so a
small file of a hundred thousand rows costs no more than a full one. An XLSX
may expand to no more than the bulk body limit.

`read_upload` answers one entry per record in arrival order: the raw record (a
dict of the cells that hold a value) or a `BadRow` for a row that cannot be a
record. A body that cannot be read at all is 400 (wrong content type,
malformed JSON, CSV or XLSX, bad text encoding); a readable body that does not
fit the form is 422 (a header naming unknown or missing fields, no records).
Indexes are 0-based: the data row less one, blank rows skipped. Messages never
echo cell values.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from openpyxl import load_workbook

from services.identification.campaigns.schemas import XLSX_MEDIA_TYPE
from services.identification.screenings.record import FIELDS, OPTIONAL_FIELDS
from shared.errors import (
    BadRequest,
    DomainError,
    FieldError,
    Unprocessable,
    UnsupportedContentType,
    invalid,
)
from shared.settings import get_settings
from shared.uploads import header_errors

MEDIA_TYPES = {
    "application/json": "json",
    "text/csv": "csv",
    "application/csv": "csv",
    XLSX_MEDIA_TYPE: "xlsx",
}
CHARSETS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "gb18030": "gb18030", "gbk": "gb18030"}
REQUIRED_FIELDS = tuple(f for f in FIELDS if f not in OPTIONAL_FIELDS)
MAX_RECORDS = 10_000
# Blank rows count too: a sheet of a million empty styled rows is no form.
MAX_ROWS_READ = 4 * MAX_RECORDS


class MalformedBody(BadRequest):
    slug, title = "malformed_body", "The body cannot be read"


class BadHeader(Unprocessable):
    slug, title = "invalid_header", "The header row does not fit the record fields"


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that cannot be a record, with why."""

    errors: tuple[FieldError, ...]


def media_of(content_type: str) -> tuple[str, str]:
    """The upload's form and text encoding from its Content-Type; 400 if unsupported."""
    media_type, _, params = content_type.partition(";")
    media = MEDIA_TYPES.get(media_type.strip().lower())
    if media is None:
        raise UnsupportedContentType(f"Send application/json, text/csv or {XLSX_MEDIA_TYPE}.")
    charset = "utf-8-sig"
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = CHARSETS.get(value.strip().strip('"').lower(), "")
            if not charset or (media != "csv" and charset != "utf-8-sig"):
                raise UnsupportedContentType("CSV is UTF-8 or GB18030; JSON is UTF-8.")
    return media, charset


def read_upload(content_type: str, body: bytes) -> list[dict[str, Any] | BadRow]:
    """The records of an upload in arrival order (see the module docstring)."""
    media, charset = media_of(content_type)
    if media == "json":
        records: list[Any] = _json_records(body)
    elif media == "csv":
        records = _table_records(_csv_rows(body, charset))
    else:
        records = _xlsx_records(body)
    if len(records) > MAX_RECORDS:
        raise _too_many()
    if not records:
        raise invalid("records", "missing_field", "the upload holds no records")
    return records


def _json_records(body: bytes) -> list[Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedBody("The body is not valid JSON.") from None
    if not isinstance(document, dict) or not isinstance(document.get("records"), list):
        raise invalid(
            "records", "missing_field", "the body must be an object with a `records` list"
        )
    records: list[Any] = document["records"]
    return records


def _csv_rows(body: bytes, charset: str) -> Iterator[list[Any]]:
    try:
        content = body.decode(charset)
    except UnicodeDecodeError:
        encoding = charset.removesuffix("-sig").upper()
        raise MalformedBody(f"The CSV is not valid {encoding} text.") from None
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        yield from reader
    except csv.Error:
        raise MalformedBody(f"The CSV cannot be read at line {reader.line_num}.") from None


def _too_many() -> Unprocessable:
    return invalid(
        "records",
        "too_many_records",
        f"an upload holds at most {MAX_RECORDS} records; send the townships apart",
    )


def _xlsx_records(body: bytes) -> list[dict[str, Any] | BadRow]:
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            # An XLSX is a zip of XML: refuse one that would expand past the
            # body limit (a zip bomb).
            if sum(i.file_size for i in archive.infolist()) > get_settings().bulk_body_limit_bytes:
                raise MalformedBody("The XLSX expands beyond what a form can hold.")
        workbook = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
        try:
            if not workbook.worksheets:
                raise MalformedBody("The XLSX has no sheet.")
            return _table_records(workbook.worksheets[0].iter_rows(values_only=True))
        finally:
            workbook.close()
    except DomainError:
        raise
    except Exception:
        # openpyxl raises many kinds of error on a broken file; none says more
        # than that it cannot be read.
        raise MalformedBody("The body is not a readable XLSX workbook.") from None


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _check_header(cells: Sequence[Any]) -> list[str]:
    names = [str(cell).strip() if cell is not None else "" for cell in cells]
    while names and not names[-1]:
        names.pop()
    errors = header_errors(names, fields=FIELDS, required=REQUIRED_FIELDS)
    if errors:
        raise BadHeader(
            "The header row must name the record fields: " + ", ".join(FIELDS) + ".",
            errors=errors,
        )
    return names


def _table_records(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any] | BadRow]:
    header: list[str] | None = None
    records: list[dict[str, Any] | BadRow] = []
    for read, row in enumerate(rows, start=1):
        if read > MAX_ROWS_READ or len(records) > MAX_RECORDS:
            raise _too_many()
        if all(_blank(cell) for cell in row):
            continue
        if header is None:
            header = _check_header(row)
            continue
        width = len(header)
        if any(not _blank(cell) for cell in row[width:]):
            message = f"the row has cells beyond the {width} columns of the header"
            records.append(BadRow((FieldError("record", "invalid_value", message),)))
            continue
        records.append(
            {name: cell for name, cell in zip(header, row, strict=False) if not _blank(cell)}
        )
    if header is None:
        raise invalid("body", "missing_field", "the upload has no header row")
    return records
