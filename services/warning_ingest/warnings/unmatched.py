"""The unmatched queue: warnings whose person the registry did not know.

They are never dropped. A later registry load matches what it can (the
`ingest.rematch` consumer of `registry.households_loaded`); county staff
match the rest to a household or dismiss them with a reason. Settling one
applies the same policy as a push (services.warning_ingest.matching) and
announces it with the same warning events.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.warning_ingest import matching
from services.warning_ingest.warnings.lookup import WarningRow
from shared import audit, clock
from shared.errors import Conflict, invalid
from shared.event_types import HOUSEHOLDS_LOADED
from shared.events import EventConsumer, EventRecord, notify
from shared.policy import Policy, get_policy
from shared.regions import scope_like_pattern

REMATCH_ACTOR = "system:rematch"


class NotUnmatched(Conflict):
    slug, title = "warning_not_unmatched", "Only an unmatched warning can be resolved"


# Moves each settled warning to its household's county and village, keeps
# the department's record id pointing at it, and announces the new status.
_APPLY = """
, updated AS (
    UPDATE warnings x SET county_code = s.new_county, household_id = s.household_id,
        region_code = s.new_region, status = s.status, name_mismatch = s.name_mismatch
    FROM settled s WHERE x.county_code = s.county_code AND x.warning_id = s.warning_id
        -- Checked again on the latest version of a row whose lock we waited for:
        -- a warning settled meanwhile by another transaction is left alone.
        AND x.status = 'unmatched'
    RETURNING x.county_code, x.warning_id, x.department, x.source_record_id, x.warning_type,
        x.status, x.household_id, x.region_code, x.event_date, x.received_on, x.late,
        s.county_code AS previous_county_code, s.old_region AS previous_region_code
), sources AS (
    UPDATE warning_sources ws SET county_code = u.county_code FROM updated u
    WHERE ws.department = u.department AND ws.source_record_id = u.source_record_id
), evented AS (
    {events}
)
SELECT count(*) FROM updated
""".format(events=matching.INSERT_SETTLED_EVENTS.format(source="updated"))

# Every unmatched warning whose person the registry now knows, settled as a push would.
_REMATCH = text(
    f"""
WITH settled AS (
    SELECT w.county_code, w.warning_id, w.region_code AS old_region,
        h.county_code AS new_county, h.household_id,
        h.region_code AS new_region, (m.name <> w.name) AS name_mismatch,
        {matching.STATUS} AS status
    FROM warnings w
    JOIN members m ON m.id_hash = w.id_hash
    JOIN households h ON h.county_code = m.county_code AND h.household_id = m.household_id
    {matching.THRESHOLDS_JOIN}
    WHERE w.status = 'unmatched'
)
{_APPLY}
"""
)

# One unmatched warning matched by county staff to a household inside their scope.
_MATCH_ONE = text(
    f"""
WITH settled AS (
    SELECT w.county_code, w.warning_id, w.region_code AS old_region,
        h.county_code AS new_county, h.household_id,
        h.region_code AS new_region, false AS name_mismatch, {matching.STATUS} AS status
    FROM warnings w
    JOIN households h ON h.household_id = :household_id AND h.region_code LIKE :scope
    {matching.THRESHOLDS_JOIN}
    WHERE w.county_code = :county_code AND w.warning_id = :warning_id
)
{_APPLY}
"""
)

# One unmatched warning dismissed with its reason, evented like a settled push.
_DISMISS = text(
    f"""
WITH updated AS (
    UPDATE warnings SET status = 'dismissed', resolution_reason = :reason
    WHERE county_code = :county_code AND warning_id = :warning_id AND status = 'unmatched'
    RETURNING county_code, warning_id, department, warning_type, status, household_id,
        region_code, event_date, received_on, late, county_code AS previous_county_code,
        region_code AS previous_region_code
), evented AS (
    INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)
    SELECT county_code, 'warning.dismissed', 'warning', warning_id::text, :actor,
        {matching.SETTLED_PAYLOAD}
    FROM updated
)
SELECT count(*) FROM updated
"""
)

# The warning's status read again under its row lock (see resolve()).
_LOCK = text(
    """
SELECT status FROM warnings WHERE county_code = :county_code AND warning_id = :warning_id
FOR UPDATE
"""
)

# Who settled it and when, kept on the warning besides the audit row.
_MARK_RESOLVED = text(
    "UPDATE warnings SET resolved_by = :actor, resolved_at = :now WHERE warning_id = :warning_id"
)


async def rematch(session: AsyncSession, *, policy: Policy, today: date, actor: str) -> int:
    """Match every unmatched warning whose person the registry now knows; return how many."""
    matched = await session.scalar(
        _REMATCH, {"actor": actor, **matching.threshold_params(policy, today)}
    )
    if matched:
        await notify(session)
    return int(matched or 0)


async def resolve(
    session: AsyncSession,
    *,
    warning: WarningRow,
    action: str,
    reason: str | None,
    household_id: str | None,
    scope: str,
    actor: str,
    policy: Policy,
    today: date,
    now: datetime,
) -> None:
    """Dismiss an unmatched warning with a reason, or match it to a household
    inside `scope`; audited. 409 if the warning is not unmatched."""
    key = {"county_code": warning.county_code, "warning_id": warning.warning_id}
    # Locked and read again: `warning` was read without a lock, and a
    # concurrent resolve or re-match may have settled (or moved) it since.
    status = await session.scalar(_LOCK, key)
    if status != "unmatched":
        raise NotUnmatched(f"The warning is {status or 'no longer unmatched'}.")
    if action == "dismiss":
        if not reason or not reason.strip():
            raise invalid("reason", "missing_field", "a dismissal needs a reason")
        await session.execute(_DISMISS, {**key, "reason": reason.strip(), "actor": actor})
        details: dict[str, Any] = {"action": "dismiss"}
    else:
        if not household_id:
            raise invalid("household_id", "missing_field", "a match needs a household_id")
        settled = await session.scalar(
            _MATCH_ONE,
            {
                **key,
                "household_id": household_id,
                "scope": scope_like_pattern(scope),
                "actor": actor,
                **matching.threshold_params(policy, today),
            },
        )
        if not settled:
            raise invalid(
                "household_id", "invalid_household_id", "no such household in your region"
            )
        details = {"action": "match", "household_id": household_id}
    await session.execute(
        _MARK_RESOLVED,
        {"actor": actor, "now": now, "warning_id": warning.warning_id},
    )
    await audit.record(
        session,
        actor=actor,
        action="warning.resolved",
        target_type="warning",
        target_id=str(warning.warning_id),
        county_code=warning.county_code,
        details=details,
    )
    await notify(session)


async def _on_registry_loaded(session: AsyncSession, events: list[EventRecord]) -> None:
    # One pass over the whole queue, however many counties the loads touched.
    await rematch(session, policy=get_policy(), today=clock.today(), actor=REMATCH_ACTOR)


REMATCH = EventConsumer("ingest.rematch", _on_registry_loaded, types=frozenset({HOUSEHOLDS_LOADED}))
