"""What the nasty-value tests of pushes and registry loads share: the fields
each form carries, one app for the module, and what a refusal must look like."""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import override_sessions
from tests.hostile.nasty import NASTY, Nasty

HOUSEHOLDS = "/ingest/v1/registry/households"
PROBLEM_JSON = "application/problem+json"
# medical_insurance pushes high_medical_expense, the one type that takes an amount.
DEPARTMENT = "medical_insurance"
RECORD_FIELDS = (
    "source_record_id",
    "warning_type",
    "id_number",
    "name",
    "region_code",
    "event_date",
    "amount_yuan",
    "details",
)
MEMBER_FIELDS = (
    "id_number",
    "name",
    "relation",
    "labour_capacity",
    "disability_grade",
    "in_school",
)
HOUSEHOLD_FIELDS = (
    "household_id",
    "region_code",
    "category",
    "head_name",
    *(f"members[0].{f}" for f in MEMBER_FIELDS),
)
MEDIA = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "ndjson_raw": "application/x-ndjson",
    "csv": "text/csv",
}


@functools.cache
def one_app() -> Any:
    from services.app import create_app

    return create_app()


@asynccontextmanager
async def app_client(session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """conftest's `client`, on one app for the module (hundreds of tests each
    building four apps would cost more than the requests)."""
    app = one_app()
    override_sessions(app, session)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://warnex.test") as c:
        yield c


def wire_value(nasty: Nasty, form: str) -> Any:
    """What `form` sends: the raw bytes where the form is read as bytes and the
    value has any (NDJSON is pushed both ways: `ndjson` escapes, `ndjson_raw` bytes)."""
    if nasty.raw is not None and form in {"ndjson_raw", "csv"}:
        return nasty.raw
    return nasty.value


def whole_body_refusal(nasty: Nasty, form: str) -> str | None:
    """The problem type a push in `form` must be refused with as a whole because
    of `nasty`, or None when the push must be answered record by record.

    JSON is parsed whole, and orjson refuses a lone surrogate escape (not a
    Unicode character) as malformed JSON; CSV is decoded whole, so bytes that
    are not UTF-8 make it unreadable. NDJSON reads line by line: a bad line
    is rejected in its row."""
    if form == "json" and nasty.text is not None and re.search("[\ud800-\udfff]", nasty.text):
        return "urn:warnex:problem:malformed_json"
    if form == "csv" and nasty.raw is not None:
        return "urn:warnex:problem:invalid_encoding"
    return None


def cases(forms: tuple[str, ...]) -> Iterator[Any]:
    for form in forms:
        for nasty in NASTY:
            if form == "ndjson_raw" and nasty.raw is None:
                continue
            yield pytest.param(form, nasty, id=f"{form}-{nasty.name}")


def strings(node: Any, skip_keys: frozenset[str] = frozenset()) -> Iterator[str]:
    """Every string in a parsed JSON answer (keys in `skip_keys` left out)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            if key not in skip_keys:
                yield from strings(value, skip_keys)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value, skip_keys)


def assert_not_echoed(answer: Any, nasty: Nasty, *, skip_keys: frozenset[str]) -> None:
    """The value appears in no string of the answer. Short or digits-only
    values are left out: they may occur in any UUID or code by chance."""
    value = (nasty.text or "").strip()
    if len(value) < 4 or value.isdigit():
        return
    for string in strings(answer, skip_keys):
        assert value not in string, f"the value is echoed in {string[:80]!r}"


def assert_refused_whole(response: Any, problem_type: str, nasty: Nasty) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == problem_type
    assert body["status"] == 400 and body["title"]
    assert_not_echoed(body, nasty, skip_keys=frozenset())


# -- warning pushes ----------------------------------------------------------------
