"""A ledger reads its query's rows into the row type it declares (shared.db's
rule: the columns are exactly the fields), so a ledger whose SQL and type
drift apart fails on its first export instead of writing shifted cells."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from shared.db import RowMismatch
from shared.ledgers import IdNumbers, Ledger, LedgerQuery, _csv_body


@dataclass(frozen=True, slots=True)
class Day:
    code: str
    day: date


def _ledger(into: type) -> Ledger:
    return Ledger(
        code="days",
        title="日",
        headers=("代码", "日期"),
        row=into,
        cells=lambda row, ids: [row.code, row.day],
    )


def _query(where: str = "true") -> LedgerQuery:
    return LedgerQuery(
        table="(VALUES ('b', DATE '2026-01-02'), ('a', DATE '2026-01-01')) AS t(code, day)",
        columns="t.code, t.day",
        where=[where],
        order="t.code",
    )


async def _export(session, ledger: Ledger, query: LedgerQuery) -> str:
    parts = [part async for part in _csv_body(session, ledger, query, IdNumbers(None))]
    return b"".join(parts).decode("utf-8-sig")


async def test_each_row_is_read_into_the_ledger_row_type_then_into_cells(session):
    lines = (await _export(session, _ledger(Day), _query())).splitlines()
    assert lines == ["代码,日期", "a,2026-01-01", "b,2026-01-02"]


@dataclass(frozen=True, slots=True)
class DayAndCount:
    code: str
    day: date
    count: int


async def test_a_row_type_the_query_does_not_fill_fails_before_any_row(session):
    with pytest.raises(RowMismatch, match=r"missing columns \['count'\]"):
        await _export(session, _ledger(DayAndCount), _query())
    # Even when no row matches: the columns are checked, not the rows.
    with pytest.raises(RowMismatch):
        await _export(session, _ledger(DayAndCount), _query("false"))
