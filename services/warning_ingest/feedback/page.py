"""Feedback to departments (推送-核实-反馈): how their warnings changed, read
from the event log in the order a consumer reads it.

A feedback item is one warning's state as of one event:

- a warning event (`warning.accepted` ... `warning.dismissed`): the status the
  warning was given, no case, outcome `dismissed` for a dismissal;
- `case.opened` / `case.warnings_attached`: each listed warning is `matched`
  into the case;
- `case.decided`: each warning attached to the case by an earlier case event
  gets the case's outcome.

The decided kind finds the case's warnings through the case's own events, not
through `warnings.case_id`: that column is kept by a consumer that may lag, and
a page read again must give the same items.

Like `shared.events`, a page reads only below the visibility horizon
`pg_snapshot_xmin(pg_current_snapshot())`: every transaction below it has
ended, so no event can appear behind a cursor once it has been handed out,
even when writers commit out of xid order.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.event_types import (
    CASE_DECIDED,
    CASE_OPENED,
    CASE_WARNINGS_ATTACHED,
    WARNING_DISMISSED,
    WARNING_EVENTS,
)
from shared.pagination import decode_cursor, encode_cursor

# A cursor is (xid, event id, warning id); a null warning id means "after the
# whole event", the position handed out once every event below the horizon
# has been scanned.
_CURSOR_TYPES = (int, int, uuid.UUID)
_START = (0, 0, None)

_HORIZON = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")

# The feedback items of one event `e`: the warnings it changes, each with its
# new status, case and outcome. GET /feedback and the webhooks' fan-out read
# the events through this one expansion. `{warning_filter}` narrows the
# warning events (a department's page reads only its own).
ITEMS_OF_EVENT = """
    SELECT (e.payload->>'warning_id')::uuid AS warning_id, e.payload->>'status' AS status,
           NULL::uuid AS case_id,
           CASE WHEN e.type = :dismissed THEN 'dismissed' END AS outcome
    WHERE e.type IN :warning_types{warning_filter}
  UNION ALL
    SELECT x.id::uuid, 'matched', (e.payload->>'case_id')::uuid, NULL
    FROM jsonb_array_elements_text(e.payload->'warning_ids') AS x(id)
    WHERE e.type IN (:opened, :attached)
  UNION ALL
    SELECT DISTINCT x.id::uuid, 'matched', (e.payload->>'case_id')::uuid,
           e.payload->>'outcome'
    FROM events c, jsonb_array_elements_text(c.payload->'warning_ids') AS x(id)
    WHERE e.type = :decided
      AND c.county_code = e.county_code
      AND c.aggregate_type = 'case' AND c.aggregate_id = e.aggregate_id
      AND c.type IN (:opened, :attached)
      AND (c.xid, c.id) < (e.xid, e.id)
"""

# Driven by the events index in (xid, id) order, each event expanded to its
# items by the lateral UNION ALL, so that LIMIT stops the scan early (an
# incremental sort orders the items of one event) instead of sorting every
# item of the department.
_ITEMS = text(
    """
SELECT e.xid, e.id AS event_id, i.warning_id, w.source_record_id, i.status,
       i.case_id, i.outcome, e.occurred_at AS changed_at
FROM events e
CROSS JOIN LATERAL ("""
    + ITEMS_OF_EVENT.format(warning_filter=" AND e.payload->>'department' = :department")
    + """) AS i
JOIN warnings w ON w.county_code = e.county_code AND w.warning_id = i.warning_id
WHERE (e.xid, e.id) >= (:xid, :event_id)
  AND ((e.xid, e.id) > (:xid, :event_id) OR i.warning_id > :warning_id)
  AND e.xid < :horizon
  AND e.type IN :feedback_types
  AND w.department = :department
ORDER BY e.xid, e.id, i.warning_id
LIMIT :limit
"""
).bindparams(
    bindparam("warning_types", expanding=True),
    bindparam("feedback_types", expanding=True),
    bindparam("warning_id", type_=Uuid),
)

# The last event below the horizon: where a page that is not full ends, so the
# next poll starts past other departments' events instead of rescanning them.
# `>=`: the cursor's own event, when it is the last, has been read to its end.
_SCAN_END = text(
    "SELECT xid, id FROM events"
    " WHERE (xid, id) >= (:xid, :event_id) AND xid < :horizon"
    " ORDER BY xid DESC, id DESC LIMIT 1"
)

_CASE_TYPES = (CASE_OPENED, CASE_WARNINGS_ATTACHED, CASE_DECIDED)


async def feedback_page(
    session: AsyncSession, *, department: str, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str]:
    """One page of `department`'s feedback after `cursor` (from the start if None).

    Returns the items and the cursor to resume from, never None: after the
    last item of a full page, else after the last event scanned (the same
    cursor when nothing new is visible). Raises 422 `invalid_cursor`.
    """
    xid, event_id, warning_id = _START if cursor is None else decode_cursor(cursor, _CURSOR_TYPES)
    position = {"xid": xid, "event_id": event_id}
    horizon = await session.scalar(_HORIZON)
    rows = await session.execute(
        _ITEMS,
        {
            **position,
            "warning_id": warning_id,
            "horizon": horizon,
            "department": department,
            "limit": limit + 1,
            "dismissed": WARNING_DISMISSED,
            "warning_types": sorted(WARNING_EVENTS),
            "feedback_types": sorted(WARNING_EVENTS | set(_CASE_TYPES)),
            "opened": CASE_OPENED,
            "attached": CASE_WARNINGS_ATTACHED,
            "decided": CASE_DECIDED,
        },
    )
    items = [dict(row._mapping) for row in rows]
    if len(items) > limit:
        last = items[limit - 1]
        next_key = (last["xid"], last["event_id"], last["warning_id"])
        return _public(items[:limit]), encode_cursor(next_key)
    end = (await session.execute(_SCAN_END, {**position, "horizon": horizon})).one_or_none()
    next_key = (xid, event_id, warning_id) if end is None else (end.xid, end.id, None)
    return _public(items), encode_cursor(next_key)


def _public(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k not in ("xid", "event_id")} for item in items]
