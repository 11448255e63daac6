"""Issue 21, finding 5: a cursor is ours or it is refused. Every list signs its
cursors; a forged one (well-formed JSON of the right shape, values a list
would never hand out) or an edited one is a 422 `invalid_cursor` before
anything in it is parsed, never a 500 and never a dropped connection."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import orjson
import pytest

from shared import clock
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    department_headers,
    record,
    register,
    staff_headers,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
UUID0 = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


def _unsigned(values: list) -> str:
    # json, not orjson: a forger's integers need not fit in 64 bits.
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


# Per list: its path, who reads it, and forged keys of the list's own shape.
FORGED = {
    "/ingest/v1/warnings": [
        ["2026-11-23T10:00:00", UUID0],  # no zone
        ["2026-11-23T10:00:00+00:00", 2**70],
    ],
    "/ingest/v1/feedback": [[2**70, 2**70, UUID0], [-1, "x", None]],
    "/assistance/v1/measures": [["0001-01-01", UUID0], [2**70, UUID0]],
    "/identification/v1/cases": [["9999-12-31", UUID0], [None, None]],
}


async def _headers(session, path: str) -> dict[str, str]:
    if path == "/ingest/v1/feedback":
        return await department_headers(session, "civil_affairs")
    return await staff_headers(session)


@pytest.mark.parametrize("path", sorted(FORGED))
async def test_forged_cursors_are_422_invalid_cursor(client, session, path):
    headers = await _headers(session, path)
    for values in FORGED[path]:
        answer = await client.get(path, params={"cursor": _unsigned(values)}, headers=headers)
        assert answer.status_code == 422, (values, answer.text)
        [error] = answer.json()["errors"]
        assert (error["field"], error["code"]) == ("cursor", "invalid_cursor")


async def test_a_cursor_edited_by_hand_is_refused_and_the_one_given_works(client, session):
    await register(session, "H-1", [1, 2, 3])
    pushed = await client.post(
        BATCHES,
        json={"records": [record(seq) for seq in (1, 2, 3)]},
        headers=await department_headers(session, "civil_affairs"),
    )
    assert pushed.status_code == 201, pushed.text
    headers = await staff_headers(session)
    first = (await client.get("/ingest/v1/warnings", params={"limit": 2}, headers=headers)).json()
    given = first["next_cursor"]
    body, _, tag = given.partition(".")
    assert tag, "cursors carry their tag"
    second = await client.get("/ingest/v1/warnings", params={"cursor": given}, headers=headers)
    assert second.status_code == 200 and len(second.json()["items"]) == 1

    key = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    key[0] = "2030-01-01T00:00:00+00:00"  # skip ahead: the tag no longer fits
    edited = f"{_unsigned(key)}.{tag}"
    for cursor in (edited, body, given + "A", given[:-1]):
        answer = await client.get("/ingest/v1/warnings", params={"cursor": cursor}, headers=headers)
        assert answer.status_code == 422, cursor
