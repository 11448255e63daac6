"""The statements an event consumer runs in each batch (shared/events.py
EventConsumer): its lock, its position, and the read of the events past it
below the visibility bound. What makes a position safe to advance is said
beside READ_EVENTS."""

from __future__ import annotations

from sqlalchemy import text

# With the lock, the batch's statements are planned for the batch in hand
# (custom plans) for the rest of its transaction: a consumer binds arrays of
# a few to 20,000 elements, and a plan cached for the small batches of a quiet
# spell (a generic plan guesses ten) turns a big one's joins into nested loops
# whose cost grows with the square of the batch (bench/soak.py: 20,000
# households took the red-flag summary 12 s instead of 0.16 s).
TRY_LOCK = text(
    "SELECT pg_try_advisory_xact_lock(:key),"
    " set_config('plan_cache_mode', 'force_custom_plan', true)"
)
# DO NOTHING on an existing row assigns no transaction id, so an idle poll
# writes nothing and holds back nobody's xmin.
ENSURE_POSITION = text(
    "INSERT INTO consumer_positions (name) VALUES (:name) ON CONFLICT (name) DO NOTHING"
)
READ_POSITION = text("SELECT xid, event_id FROM consumer_positions WHERE name = :name")
# Why `xid < xmin` makes the position safe: an event's xid is its writing
# transaction's id, assigned in start order, not commit order, so a transaction
# with a lower xid may commit after one with a higher xid (and event ids, taken
# from a sequence, are no better). pg_snapshot_xmin(pg_current_snapshot()) is the
# oldest transaction still running when this statement's snapshot was taken
# (cluster-wide, including this consumer's own transaction); every transaction
# below it has committed or aborted, and the committed ones are visible to this
# very snapshot. So no row can ever appear below the bound after we have read
# past it, and advancing the position to the last (xid, id) read skips nothing.
# The price: a long-running writing transaction anywhere on the server holds
# back every consumer until it ends.
#
# A batch keeps the events up to the one before the (batch_size + 1)-th wanted
# event, `scan_size` at most; every kept event moves the position, but only the
# wanted ones and the last kept (the new position) are sent. So a consumer of
# case events passes a push's warnings in the database, thousands a
# transaction, instead of decoding them in Python or taking a transaction per
# `batch_size` of them. The running count is a window function with a run
# condition: the index scan stops at the (batch_size + 1)-th wanted event, so
# a consumer that wants nearly every event reads no more than before. Every
# row carries the number kept.
READ_EVENTS = text(
    "WITH kept AS MATERIALIZED (SELECT * FROM ("
    " SELECT id, xid, county_code, type, aggregate_type, aggregate_id, actor, occurred_at,"
    " payload, (CAST(:every_type AS boolean) OR type = ANY(CAST(:types AS text[]))) AS wanted,"
    " count(*) FILTER (WHERE CAST(:every_type AS boolean) OR type = ANY(CAST(:types AS text[])))"
    " OVER (ORDER BY xid, id) AS nth"
    " FROM events"
    " WHERE (xid, id) > (:xid, :event_id)"
    " AND xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    " ) n WHERE nth <= :batch ORDER BY xid, id LIMIT :scan),"
    " tail AS (SELECT xid, id FROM kept ORDER BY xid DESC, id DESC LIMIT 1)"
    " SELECT k.id, k.xid, k.county_code, k.type, k.aggregate_type, k.aggregate_id, k.actor,"
    " k.occurred_at, k.payload, (SELECT count(*) FROM kept) AS scanned"
    " FROM kept k WHERE k.wanted OR (k.xid, k.id) = (SELECT xid, id FROM tail)"
    " ORDER BY k.xid, k.id"
)
WRITE_POSITION = text(
    "UPDATE consumer_positions SET xid = :xid, event_id = :event_id, updated_at = now()"
    " WHERE name = :name"
)
