"""A ledger reads its query's rows into the NamedTuple it declares (the
columns are exactly its fields, in order), so a ledger whose SQL and type
drift apart fails on its first export instead of writing shifted cells."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

import pytest

from shared.db import RowMismatch
from shared.ledgers import IdNumbers, Ledger, LedgerQuery, _csv_body


class Day(NamedTuple):
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


def _query(where: str = "true", columns: str = "t.code, t.day") -> LedgerQuery:
    return LedgerQuery(
        table="(VALUES ('b', DATE '2026-01-02'), ('a', DATE '2026-01-01')) AS t(code, day)",
        columns=columns,
        where=[where],
        order="t.code",
    )


async def _export(session, ledger: Ledger, query: LedgerQuery) -> str:
    parts = [part async for part in _csv_body(session, ledger, query, IdNumbers(None))]
    return b"".join(parts).decode("utf-8-sig")


async def test_each_row_is_read_into_the_ledger_row_type_then_into_cells(session):
    lines = (await _export(session, _ledger(Day), _query())).splitlines()
    assert lines == ["代码,日期", "a,2026-01-01", "b,2026-01-02"]


class DayAndCount(NamedTuple):
    code: str
    day: date
    count: int


async def test_a_row_type_the_query_does_not_fill_fails_before_any_row(session):
    with pytest.raises(RowMismatch, match=r"missing columns \['count'\]"):
        await _export(session, _ledger(DayAndCount), _query())
    # Even when no row matches: the columns are checked, not the rows.
    with pytest.raises(RowMismatch):
        await _export(session, _ledger(DayAndCount), _query("false"))


async def test_columns_in_another_order_than_the_fields_fail_rather_than_shift(session):
    with pytest.raises(RowMismatch, match="in order"):
        await _export(session, _ledger(Day), _query(columns="t.day, t.code"))
