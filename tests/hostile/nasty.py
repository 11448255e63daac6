"""Nasty values: a table of hostile inputs for any text field of any input format.

Each `Nasty` is a value a careless or malicious sender might put in a field,
with why it is nasty. Tests push each one through every field of a format and
demand one of two outcomes: a clear rejection (a per-record error naming the
field, or a 4xx problem+json) or a faithful round trip (what is read back is
what was sent, less the surrounding whitespace the formats trim). Never a
500, and never the value echoed in an error message: a field may hold an ID
number or a name.

`value` is what a JSON sender sends: usually a string, sometimes a number, a
boolean or a list (a string where a number belongs, and the other way round).
`raw` is set for the values that are bytes on the wire rather than text
(invalid UTF-8): forms read as bytes (NDJSON, CSV) send them as they are,
while JSON sends `value`, its closest text (a lone surrogate as the escape
`\\ud800`). Helpers below write records as JSON, NDJSON and CSV with these
rules, so later tests (screening uploads, feeds) can reuse them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Nasty:
    name: str
    value: Any
    why: str
    raw: bytes | None = None  # the bytes NDJSON and CSV send instead of value's UTF-8

    @property
    def text(self) -> str | None:
        """The value as text, if it is text."""
        return self.value if isinstance(self.value, str) else None


def _fullwidth(digits: str) -> str:
    return digits.translate({ord(c): ord(c) - ord("0") + 0xFF10 for c in "0123456789"})


# A valid ID number written in full-width digits (６１０３２６…): looks right, is not ASCII.
FULLWIDTH_ID = _fullwidth("61032619800101001") + "X"

NASTY: tuple[Nasty, ...] = (
    # -- injection ---------------------------------------------------------------
    Nasty("sql_drop", "'; DROP TABLE warnings; --", "SQL fragment closing a string literal"),
    Nasty("sql_or", "' OR '1'='1", "SQL tautology"),
    Nasty("sql_comment", "张三/*", "an unterminated SQL comment after a name"),
    Nasty("csv_injection", "=cmd|' /C calc'!A0", "spreadsheet formula (CSV injection)"),
    Nasty("csv_injection_plus", "+SUM(1,2)", "spreadsheet formula starting with +"),
    Nasty("csv_injection_at", "@SUM(A1)", "spreadsheet formula starting with @"),
    Nasty("html", "<script>alert(1)</script>", "markup for whoever renders the value"),
    Nasty("format_string", "%s%n{0}{}${x}", "printf, str.format and shell placeholders"),
    Nasty("path", "../../etc/passwd", "a path climbing out of a directory"),
    # -- control characters and invisible text -------------------------------------
    Nasty("nul", "张\u0000三", "NUL, which PostgreSQL text cannot hold"),
    Nasty("nul_only", "\u0000", "nothing but NUL"),
    Nasty("bell", "张\u0007三", "a C0 control character"),
    Nasty("newline", "张\n三", "a line break inside the value"),
    Nasty("crlf", "张\r\n三", "a CR LF inside the value"),
    Nasty("rtl_override", "\u202e三张", "right-to-left override (U+202E) that reverses display"),
    Nasty("zwj", "张\u200d三", "zero-width joiner inside the value"),
    Nasty("zero_width_only", "\u200b", "a zero-width space and nothing else"),
    Nasty("bom_inside", "张\ufeff三", "a byte-order mark in the middle of the value"),
    Nasty("whitespace_only", " \t ", "only whitespace: as good as missing"),
    Nasty("combining", "e\u0301", "a combining accent (unnormalised Unicode)"),
    # -- broken Unicode ------------------------------------------------------------
    Nasty(
        "lone_surrogate",
        "张\ud800三",
        "a lone high surrogate: an escape in JSON text, invalid UTF-8 bytes elsewhere",
        raw="张".encode() + b"\xed\xa0\x80" + "三".encode(),
    ),
    Nasty(
        "lone_low_surrogate",
        "\udfff",
        "a lone low surrogate",
        raw=b"\xed\xbf\xbf",
    ),
    Nasty(
        "invalid_utf8", "张\ufffd", "bytes that are not UTF-8 at all", raw="张".encode() + b"\xff"
    ),
    Nasty("overlong_utf8", "\ufffd/", "an overlong encoding of '/'", raw=b"\xc0\xaf/"),
    # -- size ----------------------------------------------------------------------
    Nasty("long_10k", "x" * 10_000, "10,000 characters"),
    Nasty("long_10k_cjk", "张" * 10_000, "10,000 CJK characters (30,000 UTF-8 bytes)"),
    Nasty("empty", "", "the empty string"),
    # -- emoji and odd digits --------------------------------------------------------
    Nasty("emoji", "张三😀", "an emoji outside the BMP"),
    Nasty("emoji_zwj", "👩🏽‍🌾", "an emoji sequence with a skin tone and a ZWJ"),
    Nasty("fullwidth_id", FULLWIDTH_ID, "an ID number in full-width digits"),
    Nasty("arabic_digits", "٦١٠٣٢٦", "Arabic-Indic digits"),
    # -- types -----------------------------------------------------------------------
    Nasty("digits_string", "12345", "a number sent as a string"),
    Nasty("integer", 12345, "a number where a string belongs"),
    Nasty("huge_integer", 10**30, "an integer past 64 bits"),
    Nasty("negative", -1, "a negative number"),
    Nasty("float", 1.5, "a float"),
    Nasty("boolean", True, "a boolean"),
    Nasty("list", ["张三"], "a list"),
    Nasty("object", {"a": 1}, "an object"),
    # -- dates and amounts -----------------------------------------------------------
    Nasty("feb_30", "2023-02-30", "a date that does not exist"),
    Nasty("month_13", "2023-13-01", "a month that does not exist"),
    Nasty("compact_date", "20230101", "a date without separators"),
    Nasty("datetime", "2023-01-01T00:00:00", "a timestamp where a date belongs"),
    Nasty("amount_20_decimals", Decimal("0.12345678901234567890"), "a number with 20 decimals"),
    Nasty("amount_20_decimals_text", "0.12345678901234567890", "20 decimals as a string"),
    Nasty("amount_exponent", "1e3", "a number in exponent notation"),
    Nasty("amount_nan", "NaN", "not a number"),
)

BY_NAME: dict[str, Nasty] = {n.name: n for n in NASTY}


# -- writing records ----------------------------------------------------------------


def to_json(document: Any) -> bytes:
    """JSON text of `document`: UTF-8, a lone surrogate as its `\\uXXXX` escape,
    a Decimal as the number literal it spells (20 decimals stay 20 decimals)."""
    literals: dict[str, str] = {}

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            marker = f"@@decimal{len(literals)}@@"
            literals[f'"{marker}"'] = str(value)
            return marker
        raise TypeError(type(value).__name__)

    text = json.dumps(document, ensure_ascii=False, default=default)
    for marker, literal in literals.items():
        text = text.replace(marker, literal)
    # ensure_ascii=False leaves lone surrogates as characters, which UTF-8
    # cannot encode; write those (and only those) as escapes.
    return "".join(f"\\u{ord(c):04x}" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text).encode()


def _placeholder(index: int) -> str:
    return f"@@raw{index}@@"


def _with_raw(records: Sequence[Mapping[str, Any]]) -> tuple[list[Any], dict[str, bytes]]:
    """`records` with each raw (bytes) value, however deep, swapped for a placeholder."""
    raws: dict[str, bytes] = {}

    def swap(node: Any) -> Any:
        if isinstance(node, bytes):
            marker = _placeholder(len(raws))
            raws[marker] = node
            return marker
        if isinstance(node, Mapping):
            return {key: swap(value) for key, value in node.items()}
        if isinstance(node, list):
            return [swap(value) for value in node]
        return node

    return [swap(record) for record in records], raws


def _swap(body: bytes, raws: dict[str, bytes]) -> bytes:
    for marker, raw in raws.items():
        body = body.replace(marker.encode(), raw)
    return body


def ndjson_body(records: Sequence[Mapping[str, Any]]) -> bytes:
    """One JSON record per line; a `bytes` value is put in its string as those raw bytes."""
    plain, raws = _with_raw(records)
    return _swap(b"\n".join(to_json(r) for r in plain) + b"\n", raws)


def csv_cell(value: Any) -> str:
    """What a CSV writer puts in a cell for `value` (every cell is text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def csv_body(fields: Sequence[str], records: Iterable[Mapping[str, Any]]) -> bytes:
    """A header row and one row per record (RFC 4180 quoting, UTF-8); a `bytes`
    value goes in as those raw bytes, a lone surrogate as its raw UTF-8 bytes."""
    plain, raws = _with_raw(list(records))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fields)
    for record in plain:
        writer.writerow(["" if record.get(f) is None else csv_cell(record[f]) for f in fields])
    return _swap(out.getvalue().encode("utf-8", "surrogatepass"), raws)
