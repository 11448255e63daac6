"""Keyset cursors: stable under inserts, refused when forged."""

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

import pytest
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, insert, select

from shared.errors import Unprocessable
from shared.pagination import after, decode_cursor, encode_cursor, newest_first_rows, page_of


def test_cursor_round_trips_typed_values():
    key = (date(2026, 11, 23), UUID("12345678-1234-5678-1234-567812345678"), 7)
    assert decode_cursor(encode_cursor(key), (date, UUID, int)) == key


@pytest.mark.parametrize("cursor", ["not-base64!", "e30", encode_cursor(["2026-13-01", 1])])
def test_forged_or_foreign_cursor_is_422_naming_the_cursor(cursor):
    with pytest.raises(Unprocessable) as caught:
        decode_cursor(cursor, (date, int))
    assert caught.value.errors[0].field == "cursor"
    assert caught.value.errors[0].code == "invalid_cursor"


def test_page_of_gives_a_cursor_only_when_more_rows_exist():
    assert page_of([1, 2, 3], 3, lambda r: (r,)) == ([1, 2, 3], None)
    items, cursor = page_of([1, 2, 3, 4], 3, lambda r: (r,))
    assert items == [1, 2, 3]
    assert decode_cursor(cursor, (int,)) == (3,)


async def test_keyset_pages_walk_every_row_once_even_when_rows_arrive_between_pages(session):
    table = Table(
        "tmp_page_test",
        MetaData(),
        Column("due", Date),
        Column("id", String),
        Column("n", Integer),
        prefixes=["TEMPORARY"],
    )
    conn = await session.connection()
    await conn.run_sync(lambda c: table.create(c))
    rows = [{"due": date(2026, 1, 1 + i % 5), "id": str(uuid4()), "n": i} for i in range(23)]
    await session.execute(insert(table), rows)

    seen: list[int] = []
    cursor = None
    while True:
        query = select(table).order_by(table.c.due, table.c.id).limit(6)
        clause = after([table.c.due, table.c.id], cursor, (date, str))
        if clause is not None:
            query = query.where(clause)
        fetched = (await session.execute(query)).all()
        items, cursor = page_of(fetched, 5, lambda r: (r.due, r.id))
        seen.extend(r.n for r in items)
        if len(seen) == 5:
            # A row sorting before the cursor arrives mid-walk: it must not shift later pages.
            await session.execute(insert(table), [{"due": date(2025, 1, 1), "id": "x", "n": 99}])
        if cursor is None:
            break
    assert sorted(seen) == list(range(23))


@dataclass(frozen=True, slots=True)
class _Numbered:
    day: date
    n: int


async def test_newest_first_rows_pages_typed_rows_newest_first(session):
    select_ = "SELECT t.day, t.n FROM generate_series(1, 7) AS g(i)"
    select_ += " CROSS JOIN LATERAL (SELECT DATE '2026-01-01' + g.i / 2 AS day, g.i AS n) t"
    pages, cursor = [], None
    while True:
        items, cursor = await newest_first_rows(
            session,
            into=_Numbered,
            select=select_,
            where=["t.n > :above"],
            params={"above": 1},
            order=(("t.day", "day", date), ("t.n", "n", int)),
            cursor=cursor,
            limit=4,
        )
        pages.append([item.n for item in items])
        if cursor is None:
            break
    assert pages == [[7, 6, 5, 4], [3, 2]]
    assert all(isinstance(item, _Numbered) for item in items)
