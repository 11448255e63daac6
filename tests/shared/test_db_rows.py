"""fetch_one / fetch_all: a statement's rows as a frozen dataclass, by column name,
with nothing dropped or defaulted silently."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import MultipleResultsFound

from shared.db import RowMismatch, fetch_all, fetch_one, row_into


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    day: date
    n: int | None = None


_TWO_ROWS = text(
    "SELECT * FROM (VALUES ('610102000000', DATE '2026-01-02', 1),"
    " ('610103000000', DATE '2026-01-03', NULL::int)) AS t(code, day, n)"
    " WHERE t.code LIKE :pattern ORDER BY t.code"
)


async def test_fetch_all_builds_each_row_by_column_name(session):
    rows = await fetch_all(session, _TWO_ROWS, {"pattern": "61%"}, into=Region)
    assert rows == [
        Region("610102000000", date(2026, 1, 2), 1),
        Region("610103000000", date(2026, 1, 3), None),
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rows[0].n = 2  # type: ignore[misc]


async def test_columns_in_another_order_than_the_fields_still_land_on_their_fields(session):
    row = await fetch_one(
        session, text("SELECT 3 AS n, DATE '2026-05-01' AS day, 'x' AS code"), into=Region
    )
    assert row == Region("x", date(2026, 5, 1), 3)


async def test_fetch_one_is_none_without_a_row_and_refuses_two(session):
    assert await fetch_one(session, _TWO_ROWS, {"pattern": "52%"}, into=Region) is None
    assert await fetch_all(session, _TWO_ROWS, {"pattern": "52%"}, into=Region) == []
    with pytest.raises(MultipleResultsFound):
        await fetch_one(session, _TWO_ROWS, {"pattern": "61%"}, into=Region)


async def test_a_missing_column_fails_even_for_a_field_with_a_default(session):
    with pytest.raises(RowMismatch, match=r"missing columns \['n'\]"):
        await fetch_one(session, text("SELECT 'x' AS code, CURRENT_DATE AS day"), into=Region)


async def test_an_unexpected_column_fails_even_when_no_row_comes_back(session):
    statement = text("SELECT 'x' AS code, CURRENT_DATE AS day, 1 AS n, 2 AS extra WHERE false")
    with pytest.raises(RowMismatch, match=r"unexpected columns \['extra'\]"):
        await fetch_all(session, statement, into=Region)


async def test_a_column_named_twice_fails(session):
    statement = text("SELECT 'x' AS code, CURRENT_DATE AS day, 1 AS n, 2 AS n")
    with pytest.raises(RowMismatch, match=r"repeated columns \['n'\]"):
        await fetch_one(session, statement, into=Region)


@dataclass
class Mutable:
    code: str


@dataclass(frozen=True)
class WithoutSlots:
    code: str


@pytest.mark.parametrize("into", [Mutable, WithoutSlots, dict])
async def test_only_frozen_dataclasses_with_slots_are_row_types(session, into):
    with pytest.raises(TypeError, match="dataclass"):
        await fetch_one(session, text("SELECT 'x' AS code"), into=into)


def test_row_into_applies_the_same_rule_to_one_mapping():
    assert row_into(Region, {"code": "x", "day": date(2026, 1, 1), "n": 1}).n == 1
    with pytest.raises(RowMismatch):
        row_into(Region, {"code": "x", "day": date(2026, 1, 1)})
