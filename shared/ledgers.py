"""Ledgers (台账): a list a county office files and enters into the national
system, streamed as CSV or XLSX (SPEC §12, LEDGERS.md, API.md "ledgers").

One mechanism for every ledger; a service supplies what its ledger is (a
`Ledger`: Chinese headers and a row-to-cells function) and which rows (a
`LedgerQuery`: its list's filters, joins and order):

- Who: staff in scope (the route's `Staff` and `scope_region`); `reveal=true`
  by anyone but county staff is 403 (`ExportOptions`, checked before the scope).
- Audit: one row per export (`ledger.exported`), revealed or not, holding the
  ledger, format, region, filters and row count, never a name or an ID number.
  It is written in the request's transaction, which commits before the first
  byte is sent; the count is taken in the snapshot the rows are read from.
- Rows: read through a server-side cursor (`AsyncSession.stream`, batches of
  `BATCH`) in a read-only REPEATABLE READ transaction of their own
  (`get_snapshot_session`, open until the response is sent), so memory stays
  flat however many rows there are.
- CSV: UTF-8 with a byte order mark, the header row, then one line per row,
  sent batch by batch. XLSX: a write-only openpyxl workbook (its sheet lives in
  a temporary file), built in a worker thread, saved to a spooled temporary
  file and sent from there; a sheet holds at most 1,048,575 rows, then the
  ledger continues on a second sheet with the headers again.
- Every cell goes through shared/spreadsheets.py (formula neutralisation).
- Named `<code>_<region>_<date>.<ext>` with the Chinese `filename*` (RFC 5987).

An error after the first byte cannot change the status any more: the file
is cut short, and the server logs the error.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import quote

import anyio
from fastapi import Depends, Query
from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.auth import COUNTY_STAFF, Principal, Staff
from shared.db import RowMismatch, get_database
from shared.errors import Forbidden, check_code
from shared.pii import PiiProtector
from shared.settings import get_settings
from shared.spreadsheets import csv_cells, xlsx_cells

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
EXPORTED = "ledger.exported"

BATCH = 1000  # rows per cursor fetch and per CSV chunk
SHEET_ROWS = 1_048_575  # Excel's 1,048,576 rows less the header
SPOOL_BYTES = 8 * 1024 * 1024  # an XLSX this big stays in memory, a bigger one on disk
CHUNK_BYTES = 256 * 1024
_BOM = "\ufeff"

YES, NO = "是", "否"


def yes_no(value: bool | None) -> str | None:
    return None if value is None else (YES if value else NO)


def year_month(day: date | None) -> str | None:
    """YYYYMM, as the national form writes months."""
    return None if day is None else f"{day.year:04d}{day.month:02d}"


# -- SQL fragments the ledgers share -------------------------------------------------


def head_join(alias: str, *, reveal: bool) -> str:
    """Columns `head_name`, `head_id_masked`, `head_id_sealed` (null unless
    `reveal`) of the household of `alias`'s row: the registry's head of household."""
    sealed = "hm.id_sealed" if reveal else "NULL::bytea"
    return f"""
LEFT JOIN households h ON h.county_code = {alias}.county_code
    AND h.household_id = {alias}.household_id
LEFT JOIN LATERAL (
    SELECT hm.id_masked AS head_id_masked, {sealed} AS head_id_sealed FROM members hm
    WHERE hm.county_code = {alias}.county_code AND hm.household_id = {alias}.household_id
        AND hm.relation = 'head'
    ORDER BY hm.id_hash LIMIT 1
) head ON true"""


HEAD_COLUMNS = "h.head_name, head.head_id_masked, head.head_id_sealed"


def region_names_join(alias: str) -> str:
    """Columns `region_name` (of `alias`'s region) and `parent_name` (one level up)."""
    return f"""
LEFT JOIN regions rr ON rr.code = {alias}.region_code
LEFT JOIN regions rp ON rp.code = rr.parent_code"""


REGION_NAME_COLUMNS = "rr.name AS region_name, rp.name AS parent_name"


# -- what a ledger is ----------------------------------------------------------------


class IdNumbers:
    """The ID number a ledger shows: the mask, or the number itself when revealed."""

    def __init__(self, protector: PiiProtector | None) -> None:
        self._protector = protector

    @property
    def revealed(self) -> bool:
        return self._protector is not None

    def __call__(self, masked: str | None, sealed: bytes | None) -> str | None:
        if self._protector is None or sealed is None:
            return masked
        return self._protector.open(sealed)


# A ledger's row type: a NamedTuple, not shared.db's frozen dataclass, because
# an export builds one per row of up to millions: a tuple is made from the
# driver's row in one C call, where a frozen dataclass sets each field through
# object.__setattr__ (measured: twice the export time of a 100k-row ledger).
LedgerRowT = TypeVar("LedgerRowT", bound=tuple[Any, ...])


@dataclass(frozen=True)
class Ledger(Generic[LedgerRowT]):
    """A ledger's identity and columns: `code` names the file and the audit
    row; `title` the sheet and the Chinese file name; `row` is the NamedTuple
    one row of the query is read into (its fields are the query's columns, in
    their order); `cells` turns one into the cells under `headers`."""

    code: str
    title: str
    headers: Sequence[str]
    row: type[LedgerRowT]
    cells: Callable[[LedgerRowT, IdNumbers], Sequence[Any]]


@dataclass(frozen=True)
class LedgerQuery:
    """The rows: `FROM <table> <alias>` filtered by `where` (the list's filters,
    which the count uses alone), with `joins` adding the `columns`, in `order`."""

    table: str
    columns: str
    where: Sequence[str]
    order: str
    joins: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    def _where(self) -> str:
        return " AND ".join(self.where) or "true"

    def count_sql(self) -> str:
        return f"SELECT count(*) FROM {self.table} WHERE {self._where()}"

    def rows_sql(self) -> str:
        return (
            f"SELECT {self.columns} FROM {self.table} {self.joins}"
            f" WHERE {self._where()} ORDER BY {self.order}"
        )


# -- the request: options, snapshot, audit -----------------------------------------


@dataclass(frozen=True)
class ExportOptions:
    output: str
    reveal: bool
    principal: Principal


async def export_options(
    principal: Staff,
    output: Annotated[str, Query(alias="format", description="csv | xlsx")] = "csv",
    reveal: Annotated[bool, Query(description="Full ID numbers (county staff; audited)")] = False,
) -> ExportOptions:
    """The format (422 outside csv, xlsx) and the reveal (403 but for county staff)."""
    if reveal and principal.role != COUNTY_STAFF:
        raise Forbidden("Only county staff may reveal ID numbers.")
    check_code("format", output, FORMATS)
    return ExportOptions(output=output, reveal=reveal, principal=principal)


Export = Annotated[ExportOptions, Depends(export_options)]


async def get_snapshot_session() -> AsyncIterator[AsyncSession]:
    """A read-only session on one snapshot (REPEATABLE READ), for a long read
    such as a streamed ledger; request-scoped, so it stays open until the
    response has been sent, and rolls back (it wrote nothing) at the end."""
    async with get_database().sessionmaker() as session:
        await session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
        try:
            yield session
        finally:
            await session.rollback()


SnapshotSession = Annotated[AsyncSession, Depends(get_snapshot_session)]


def content_disposition(ascii_name: str, chinese_name: str) -> str:
    """`attachment` with an ASCII filename and its Chinese form (RFC 5987)."""
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(chinese_name)}"


async def export_ledger(
    session: AsyncSession,
    snapshot: AsyncSession,
    *,
    ledger: Ledger[Any],
    query: LedgerQuery,
    options: ExportOptions,
    region_code: str,
    filters: Mapping[str, Any],
    today: date,
) -> StreamingResponse:
    """Audit the export in `session` (the request's transaction) and answer the
    ledger streamed from `snapshot`. `filters` are the list's filter codes as
    given (no personal data), kept in the audit row."""
    rows = int(await snapshot.scalar(text(query.count_sql()), query.params) or 0)
    await audit.record(
        session,
        actor=options.principal.actor,
        action=EXPORTED,
        target_type="ledger",
        target_id=ledger.code,
        county_code=region_code[:6],
        details={
            "ledger": ledger.code,
            "format": options.output,
            "revealed": options.reveal,
            "region": region_code,
            "filters": {k: str(v) for k, v in filters.items() if v is not None},
            "rows": rows,
        },
    )
    region_name = await snapshot.scalar(
        text("SELECT name FROM regions WHERE code = :code"), {"code": region_code}
    )
    protector = PiiProtector.from_secret(get_settings().secret_bytes()) if options.reveal else None
    ids = IdNumbers(protector)
    ext = options.output
    disposition = content_disposition(
        f"{ledger.code}_{region_code}_{today.isoformat()}.{ext}",
        f"{ledger.title}_{region_name or region_code}_{today.isoformat()}.{ext}",
    )
    body = (_csv_body if ext == "csv" else _xlsx_body)(snapshot, ledger, query, ids)
    return StreamingResponse(
        body,
        media_type=CSV_MEDIA_TYPE if ext == "csv" else XLSX_MEDIA_TYPE,
        # Personal data: never kept by a browser or a proxy.
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


# -- the files ---------------------------------------------------------------------


def check_ledger_columns(into: type[tuple[Any, ...]], columns: Sequence[str]) -> None:
    """RowMismatch unless `columns` are the fields of the NamedTuple `into`, in
    their order: nothing dropped, defaulted or shifted into another field."""
    fields = list(getattr(into, "_fields", ()))
    if list(columns) != fields:
        missing = [name for name in fields if name not in columns]
        unexpected = [name for name in columns if name not in fields]
        raise RowMismatch(
            f"{into.__name__}: missing columns {missing}, unexpected columns {unexpected};"
            f" the columns must be its fields in order: {fields}"
        )


async def _batches(
    snapshot: AsyncSession, ledger: Ledger[LedgerRowT], query: LedgerQuery
) -> AsyncIterator[list[LedgerRowT]]:
    """The query's rows read into `ledger.row`, a batch at a time (RowMismatch
    before the first row unless the columns are its fields, in order)."""
    result = await snapshot.stream(
        text(query.rows_sql()), query.params, execution_options={"yield_per": BATCH}
    )
    check_ledger_columns(ledger.row, list(result.keys()))
    into = ledger.row
    async for batch in result.partitions(BATCH):
        yield [tuple.__new__(into, row) for row in batch]


def csv_line(values: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(csv_cells(values))
    return buffer.getvalue()


async def _csv_body(
    snapshot: AsyncSession, ledger: Ledger[Any], query: LedgerQuery, ids: IdNumbers
) -> AsyncIterator[bytes]:
    yield (_BOM + csv_line(ledger.headers)).encode("utf-8")
    async for batch in _batches(snapshot, ledger, query):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerows(csv_cells(ledger.cells(row, ids)) for row in batch)
        yield buffer.getvalue().encode("utf-8")


class _Sheets:
    """A write-only workbook that continues on a new sheet when one is full."""

    def __init__(self, ledger: Ledger[Any]) -> None:
        self.ledger = ledger
        self.workbook = Workbook(write_only=True)
        self.sheets: list[WriteOnlyWorksheet] = []
        self.sheet = self._new_sheet()
        self.rows = 0

    def _new_sheet(self) -> WriteOnlyWorksheet:
        number = len(self.sheets) + 1
        title = self.ledger.title if number == 1 else f"{self.ledger.title}({number})"
        sheet = self.workbook.create_sheet(title)
        sheet.freeze_panes = "A2"
        sheet.append(xlsx_cells(sheet, self.ledger.headers))
        self.sheets.append(sheet)
        return sheet

    def append(self, rows: list[Sequence[Any]]) -> None:
        for values in rows:
            if self.rows == SHEET_ROWS:
                self.sheet, self.rows = self._new_sheet(), 0
            self.sheet.append(xlsx_cells(self.sheet, values))
            self.rows += 1

    def discard(self) -> None:
        # openpyxl keeps each sheet in a temporary file until save() removes it;
        # an export cut short removes them here instead of at the process's exit.
        for sheet in self.sheets:
            writer = sheet._writer
            if writer is not None:
                writer.close()
                writer.cleanup()


async def _xlsx_body(
    snapshot: AsyncSession, ledger: Ledger[Any], query: LedgerQuery, ids: IdNumbers
) -> AsyncIterator[bytes]:
    sheets = _Sheets(ledger)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        try:
            async for batch in _batches(snapshot, ledger, query):
                values = [ledger.cells(row, ids) for row in batch]
                # openpyxl is pure Python: keep the event loop free while it works.
                await anyio.to_thread.run_sync(sheets.append, values)
            await anyio.to_thread.run_sync(sheets.workbook.save, spool)
        except BaseException:
            sheets.discard()
            raise
        spool.seek(0)
        while chunk := await anyio.to_thread.run_sync(spool.read, CHUNK_BYTES):
            yield chunk


def compulsory_pupil_column(alias: str) -> str:
    """Column `compulsory_pupil`: the household of `alias`'s row has a member in
    school aged 6 to 15 on :today (the stage that makes education aid 义务教育保障)."""
    return f"""EXISTS (
    SELECT 1 FROM members sm
    WHERE sm.county_code = {alias}.county_code AND sm.household_id = {alias}.household_id
        AND sm.in_school
        AND sm.birth_date > CAST(:today AS date) - interval '16 years'
        AND sm.birth_date <= CAST(:today AS date) - interval '6 years'
) AS compulsory_pupil"""


LEDGER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}}},
    403: {"description": "`reveal=true` by anyone but county staff"},
}
