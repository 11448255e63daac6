"""The three forms of a pushed batch (JSON, NDJSON, CSV), read as a stream of
`(index, record)` with the digest of what was sent.

NDJSON and CSV are read line by line as the body arrives, so a 1M-record push
never sits in memory; the JSON form is parsed whole (send NDJSON for big
pushes). A line or row that cannot be read becomes a `BadRecord` at its index;
a body that cannot be read at all (malformed JSON, a CSV header without the
required columns, a wrong content type) is a problem for the whole request.

Indexes are 0-based in arrival order: the line number less one for NDJSON
(blank lines keep their number but hold no record), the data row less one
for CSV (blank rows are skipped).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import orjson

from services.warning_ingest.records import FIELDS, REQUIRED_FIELDS, BadRecord, parse_date
from shared.errors import (
    FieldError,
    InvalidEncoding,
    MalformedJson,
    Unprocessable,
    UnsupportedContentType,
    invalid,
)
from shared.registry.files import aiter_lines
from shared.uploads import header_errors

Media = Literal["json", "ndjson", "csv"]
MEDIA_TYPES: dict[str, Media] = {
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/x-jsonlines": "ndjson",
    "text/csv": "csv",
    "application/csv": "csv",
}
# Department systems in China often export GB 18030; it is a superset of GBK.
CHARSETS = {"utf-8": "utf-8", "utf8": "utf-8", "gb18030": "gb18030", "gbk": "gb18030"}


class BadCsvHeader(Unprocessable):
    slug, title = "invalid_csv_header", "The CSV header row does not fit the record fields"


# A CSV cell as Python's csv module reads it (excel dialect, not strict): quoted,
# with "" for a quote and any text after the closing quote taken as it is; or
# unquoted, where a quote is an ordinary character.
_QUOTED_TEXT = r'[^"]*(?:""[^"]*)*'
_CELL = rf'(?:"{_QUOTED_TEXT}"(?:[^,"][^,]*)?|[^,"][^,]*|)'
# A line that starts a record and does not end inside quotes.
_COMPLETE = re.compile(rf"{_CELL}(?:,{_CELL})*")
# A line, inside a quoted cell, that closes it and does not end inside quotes.
_CLOSES = re.compile(rf'{_QUOTED_TEXT}"(?:[^,"][^,]*)?(?:,{_CELL})*')
_UNREADABLE_ROW = BadRecord((FieldError("record", "invalid_value", "the row is not valid CSV"),))


@dataclass
class PushBody:
    """What a push sent: its form, options, records, and (once read) its digest."""

    media: Media
    period_end: date | None
    atomic: bool
    records: AsyncIterator[tuple[int, Any]]
    _hash: Any = field(default_factory=hashlib.sha256)

    def digest(self) -> bytes:
        """The digest of the form, the options and every byte of the body
        (complete once `records` is exhausted): what an Idempotency-Key is bound to."""
        return self._hash.digest()


def media_of(content_type: str) -> tuple[Media, str]:
    """The body's form and character set from its Content-Type; 400 if unsupported."""
    media_type, _, params = content_type.partition(";")
    media = MEDIA_TYPES.get(media_type.strip().lower())
    if media is None:
        raise UnsupportedContentType(
            "Send application/json, application/x-ndjson or text/csv (UTF-8 or GB18030)."
        )
    charset = "utf-8"
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = CHARSETS.get(value.strip().strip('"').lower(), "")
            if not charset:
                raise UnsupportedContentType("The charset must be UTF-8 or GB18030.")
    if media != "csv" and charset != "utf-8":
        raise UnsupportedContentType("JSON and NDJSON bodies are UTF-8.")
    return media, charset


def query_options(period_end: str | None, atomic: str | None) -> tuple[date | None, bool]:
    """`period_end` and `atomic` from the query string of an NDJSON or CSV push."""
    day = None
    if period_end is not None:
        day = parse_date(period_end)
        if day is None:
            raise invalid("period_end", "invalid_date", "period_end must be YYYY-MM-DD")
    flag = False
    if atomic is not None:
        if atomic.lower() not in {"true", "false", "1", "0"}:
            raise invalid("atomic", "invalid_value", "atomic must be true or false")
        flag = atomic.lower() in {"true", "1"}
    return day, flag


async def read_push(
    content_type: str,
    chunks: AsyncIterable[bytes],
    *,
    period_end: str | None = None,
    atomic: str | None = None,
) -> PushBody:
    """The push in `chunks`, whichever form `content_type` names."""
    media, charset = media_of(content_type)
    if media == "json":
        return await _json_push(chunks)
    day, flag = query_options(period_end, atomic)
    push = PushBody(media, day, flag, _empty())
    push._hash.update(f"{media}|{day}|{flag}|".encode())
    hashed = _hashing(chunks, push)
    if media == "ndjson":
        push.records = _ndjson(hashed)
    else:
        push.records = await _csv(hashed, charset)
    return push


async def _empty() -> AsyncIterator[tuple[int, Any]]:
    return
    yield  # pragma: no cover (makes this an async generator)


async def _hashing(chunks: AsyncIterable[bytes], push: PushBody) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        push._hash.update(chunk)
        yield chunk


async def _json_push(chunks: AsyncIterable[bytes]) -> PushBody:
    body = b"".join([chunk async for chunk in chunks])
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedJson("The body is not valid JSON.") from None
    if not isinstance(document, dict) or "records" not in document:
        raise invalid("records", "missing_field", "the body must be an object with `records`")
    records = document["records"]
    if not isinstance(records, list):
        raise invalid("records", "invalid_value", "`records` must be a list")
    raw_end, raw_atomic = document.get("period_end"), document.get("atomic", False)
    day = None
    if raw_end is not None:
        day = parse_date(raw_end)
        if day is None:
            raise invalid("period_end", "invalid_date", "period_end must be YYYY-MM-DD")
    if not isinstance(raw_atomic, bool):
        raise invalid("atomic", "invalid_value", "atomic must be true or false")
    push = PushBody("json", day, raw_atomic, _enumerate(records))
    push._hash.update(b"json|")
    push._hash.update(body)
    return push


async def _enumerate(records: list[Any]) -> AsyncIterator[tuple[int, Any]]:
    for index, record in enumerate(records):
        yield index, record


async def _ndjson(chunks: AsyncIterable[bytes]) -> AsyncIterator[tuple[int, Any]]:
    index = -1
    async for line in aiter_lines(chunks):
        index += 1
        if not line.strip():
            continue
        try:
            yield index, orjson.loads(line)
        except orjson.JSONDecodeError:
            yield index, BadRecord((FieldError("record", "invalid_json", "the line is not JSON"),))


async def _text_records(chunks: AsyncIterable[bytes], charset: str) -> AsyncIterator[list[str]]:
    """Complete CSV records as text, a chunk's worth at a time: a record ends at
    a line break outside quotes (a quoted cell may hold line breaks)."""
    decoder = codecs.getincrementaldecoder(charset)(errors="strict")
    pending: list[str] = []
    parts: list[str] = []  # the current line so far, joined once its end arrives
    rest = ""
    first = True
    try:
        async for chunk in chunks:
            decoded = decoder.decode(chunk)
            if first and decoded:
                decoded, first = decoded.removeprefix("\ufeff"), False
            if "\n" not in decoded:
                parts.append(decoded)
                continue
            lines = ("".join(parts) + decoded).split("\n")
            parts = [lines.pop()]
            done: list[str] = []
            for line in lines:
                if pending:
                    pending.append(line)
                    if _CLOSES.fullmatch(line):
                        done.append("\n".join(pending))
                        pending = []
                elif '"' not in line or _COMPLETE.fullmatch(line):
                    done.append(line)
                else:
                    pending.append(line)
            if done:
                yield done
        rest = "".join(parts) + decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InvalidEncoding(f"The CSV is not valid {charset.upper()} text.") from None
    if first:
        rest = rest.removeprefix("\ufeff")
    tail = "\n".join([*pending, rest]) if pending or rest else ""
    if tail.strip():
        yield [tail]


def _check_header(header: list[str]) -> list[str]:
    names = [name.strip() for name in header]
    errors = header_errors(names, fields=FIELDS, required=REQUIRED_FIELDS)
    if errors:
        raise BadCsvHeader(
            "The header row must name the record fields: "
            + ", ".join(FIELDS)
            + f" (required: {', '.join(REQUIRED_FIELDS)}).",
            errors=errors,
        )
    return names


def _rows(block: list[str]) -> list[list[str] | BadRecord]:
    """The rows of complete records; one that csv cannot read (a bare carriage
    return inside an unquoted cell, a cell over csv's field size limit) is a
    BadRecord in its place. Blank rows are dropped."""
    try:
        return [row for row in csv.reader(block) if row]
    except csv.Error:
        rows: list[list[str] | BadRecord] = []
        for text in block:
            try:
                rows.extend(row for row in csv.reader([text]) if row)
            except csv.Error:
                rows.append(_UNREADABLE_ROW)
        return rows


async def _csv(chunks: AsyncIterable[bytes], charset: str) -> AsyncIterator[tuple[int, Any]]:
    """Reads the header row now (a bad header is a 422 before anything is
    stored); the data rows follow as the stream is consumed."""
    texts = _text_records(chunks, charset)
    header: list[str] | None = None
    first_batch: list[list[str] | BadRecord] = []
    async for block in texts:
        rows = _rows(block)
        if not rows:
            continue
        if isinstance(rows[0], BadRecord):
            raise BadCsvHeader(
                "The header row is not valid CSV.",
                errors=[FieldError("header", "invalid_value", "the header row is not valid CSV")],
            )
        header, first_batch = _check_header(rows[0]), rows[1:]
        break
    if header is None:
        raise invalid("body", "missing_field", "the CSV has no header row")
    return _csv_rows(header, first_batch, texts)


async def _csv_rows(
    header: list[str],
    first_batch: list[list[str] | BadRecord],
    texts: AsyncIterator[list[str]],
) -> AsyncIterator[tuple[int, Any]]:
    index = -1
    width = len(header)
    pending = first_batch
    while True:
        for row in pending:
            index += 1
            if isinstance(row, BadRecord):
                yield index, row
                continue
            if len(row) != width:
                yield (
                    index,
                    BadRecord(
                        (
                            FieldError(
                                "record",
                                "invalid_value",
                                f"the row has {len(row)} cells, not {width}",
                            ),
                        )
                    ),
                )
                continue
            yield index, {name: cell for name, cell in zip(header, row, strict=True) if cell != ""}
        block = await anext(texts, None)
        if block is None:
            return
        pending = _rows(block)
