"""Keyset pages: `{"items": [...], "next_cursor": "..." | null}`.

A cursor is the sort key of the last item of a page, base64url-encoded JSON,
with a keyed tag (HMAC-SHA256 under a key derived from the secret). It stays
right when rows are inserted between two requests (unlike an offset), and each
page is one index range scan however deep the caller reads. The tag is checked
before anything in the cursor is parsed: a cursor we did not make, or one
edited by hand, is a 422 `invalid_cursor` and never reaches SQL.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

import orjson
from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, TextClause, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import RowT, fetch_all
from shared.errors import invalid
from shared.pii import derive_key
from shared.settings import get_settings

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class PageParams(BaseModel):
    limit: int
    cursor: str | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`next_cursor` of the previous page.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageDep = Annotated[PageParams, Depends(page_params)]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


_TAG_BYTES = 16


@lru_cache(maxsize=1)
def _cursor_key() -> bytes:
    return derive_key(get_settings().secret_bytes(), "cursor-tag")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _tag(raw: bytes) -> bytes:
    return hmac.new(_cursor_key(), raw, hashlib.sha256).digest()[:_TAG_BYTES]


def encode_cursor(key: Sequence[Any]) -> str:
    raw = orjson.dumps([_plain(v) for v in key])
    return f"{_b64(raw)}.{_b64(_tag(raw))}"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_PARSERS: dict[type, Callable[[Any], Any]] = {
    date: date.fromisoformat,
    datetime: datetime.fromisoformat,
    UUID: UUID,
    int: int,
    str: str,
}


def decode_cursor(cursor: str, types: Sequence[type]) -> tuple[Any, ...]:
    """The key a cursor holds, typed as `types`; 422 for a cursor we did not make."""
    try:
        body, _, tag = cursor.partition(".")
        raw = _unb64(body)
        if not hmac.compare_digest(_unb64(tag), _tag(raw)):
            raise ValueError
        values = orjson.loads(raw)
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError
        return tuple(
            None if v is None else _PARSERS[t](v) for v, t in zip(values, types, strict=True)
        )
    except (ValueError, TypeError, KeyError, binascii.Error, orjson.JSONDecodeError):
        raise invalid("cursor", "invalid_cursor", "The cursor is not one this list gave.") from None


def after(
    columns: Sequence[ColumnElement[Any]], cursor: str | None, types: Sequence[type]
) -> ColumnElement[bool] | None:
    """The WHERE clause that starts a page after `cursor` (None: no clause)."""
    if cursor is None:
        return None
    key = decode_cursor(cursor, types)
    return tuple_(*columns) > tuple_(*key)


def page_of(
    rows: Sequence[T], limit: int, key: Callable[[T], Sequence[Any]]
) -> tuple[list[T], str | None]:
    """Split `limit + 1` fetched rows into a page and the cursor of the next one."""
    items = list(rows[:limit])
    next_cursor = encode_cursor(key(items[-1])) if len(rows) > limit and items else None
    return items, next_cursor


def _newest_first_statement(
    *,
    select: str,
    where: Sequence[str],
    params: dict[str, Any],
    order: tuple[tuple[str, str, type], ...],
    cursor: str | None,
    limit: int,
) -> tuple[TextClause, dict[str, Any]]:
    clauses = list(where)
    bound = dict(params, page_limit=limit + 1)
    if cursor is not None:
        values = decode_cursor(cursor, [kind for _, _, kind in order])
        names = [f"after_{i}" for i in range(len(order))]
        columns = ", ".join(column for column, _, _ in order)
        clauses.append(f"({columns}) < ({', '.join(':' + n for n in names)})")
        bound |= dict(zip(names, values, strict=True))
    ordering = ", ".join(f"{column} DESC" for column, _, _ in order)
    statement = f"{select} WHERE {' AND '.join(clauses) or 'true'} ORDER BY {ordering}"
    return text(statement + " LIMIT :page_limit"), bound


async def newest_first_rows(
    session: AsyncSession,
    *,
    into: type[RowT],
    select: str,
    where: Sequence[str],
    params: dict[str, Any],
    order: tuple[tuple[str, str, type], ...],
    cursor: str | None,
    limit: int,
) -> tuple[list[RowT], str | None]:
    """One page of `select` (a `SELECT ... FROM ...` without WHERE) filtered by
    `where`, ordered descending by `order` — (SQL expression, field, type)
    triples that end in a unique column — and started after `cursor`, each row
    read `into` a row type (shared.db.fetch_all) whose fields name the keys."""
    statement, bound = _newest_first_statement(
        select=select, where=where, params=params, order=order, cursor=cursor, limit=limit
    )
    rows = await fetch_all(session, statement, bound, into=into)
    return page_of(rows, limit, lambda row: [getattr(row, key) for _, key, _ in order])
