"""The database half of storing a batch: chunks of validated records are
copied into temporary tables (shared.bulk_load) and stored set-based, chunk
by chunk, while the next chunk is being validated.

Temporary tables (dropped at commit), on the request's own connection and
inside its transaction:
- `ingest_stage`: the current chunk's valid records (emptied per chunk);
- `ingest_rejects`: every rejected record with its errors (never a raw ID);
- `ingest_receipt`: receipt entries of stored and duplicate records, kept
  only while the batch is small enough for a full receipt.

Per chunk: duplicates in the batch, region codes unknown to the registry,
then one statement that claims each department record id, matches the
person, applies the policy, stores the warnings and appends their events.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.warning_ingest import matching
from services.warning_ingest.records import CheckedRecord
from shared import bulk_load
from shared.errors import FieldError
from shared.feeds import ALL, IN_MONITORED_OR_ALLEVIATED, per_population_types
from shared.idcard import mask_id_number
from shared.pii import PiiProtector
from shared.policy import FEED_POPULATIONS

_TABLES = {
    "ingest_stage": (
        'idx int, warning_id uuid, source_record_id text COLLATE "C",'
        ' warning_type text COLLATE "C", id_hash bytea, id_sealed bytea, id_masked text,'
        ' name text, region_code text COLLATE "C", event_date date,'
        " amount_yuan numeric(14, 2), details jsonb"
    ),
    "ingest_rejects": 'idx int, source_record_id text COLLATE "C", errors jsonb',
    "ingest_receipt": "idx int, entry jsonb",
}
_STAGE_COLUMNS = (
    "idx",
    "warning_id",
    "source_record_id",
    "warning_type",
    "id_hash",
    "id_sealed",
    "id_masked",
    "name",
    "region_code",
    "event_date",
    "amount_yuan",
    "details",
)
_REJECT_COLUMNS = ("idx", "source_record_id", "errors")


def errors_json(errors: list[FieldError] | tuple[FieldError, ...]) -> str:
    return orjson.dumps([e.as_dict() for e in errors]).decode()


def time_ordered_ids(count: int) -> list[uuid.UUID]:
    """`count` UUIDs in the version 7 layout: 48 bits of Unix milliseconds, then
    random bits. Ids that grow with time land at the right edge of the btree
    indexes, so a big batch appends to them instead of writing all over them."""
    prefix = (time.time_ns() // 1_000_000) << 80 | 0x7 << 76
    noise = os.urandom(10 * count)
    ids = []
    for i in range(count):
        bits = int.from_bytes(noise[10 * i : 10 * i + 10], "big")
        # 12 bits of rand_a, the variant 0b10, 62 bits of rand_b.
        ids.append(uuid.UUID(int=prefix | (bits >> 68) << 64 | 0b10 << 62 | bits & (1 << 62) - 1))
    return ids


@dataclass
class Chunk:
    """Records validated in Python, waiting to be staged."""

    first_index: int
    indexes: list[int] = field(default_factory=list)
    checked: list[CheckedRecord] = field(default_factory=list)
    rejects: list[tuple[int, str | None, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.indexes) + len(self.rejects)

    def stage_rows(self, protector: PiiProtector) -> list[tuple[Any, ...]]:
        """The rows for `ingest_stage`: ID numbers hashed, sealed and masked."""
        numbers = [r.id_number for r in self.checked]
        keys = protector.match_keys(numbers)
        sealed = protector.seal_many(numbers)
        ids = time_ordered_ids(len(numbers))
        return [
            (idx, warning_id, r.source_record_id, r.warning_type, key, seal,
             mask_id_number(r.id_number), r.name, r.region_code, r.event_date, r.amount_yuan,
             None if r.details is None else r.details.decode())
            for idx, warning_id, r, key, seal in zip(
                self.indexes, ids, self.checked, keys, sealed, strict=True
            )
        ]  # fmt: skip


_DUPLICATE_IN_BATCH = errors_json(
    [
        FieldError(
            "source_record_id",
            "duplicate_in_batch",
            "an earlier record of this batch has the same source_record_id",
        )
    ]
)
# Of records sharing a source_record_id, the first is processed and every
# later one rejected, whether or not the first was valid. Two statements per
# chunk: before storing, against the chunk itself and the batch's rejected
# records (few); after storing, against the records earlier chunks stored,
# which hold the department's claim on the id (`warning_sources.batch_id`).
# $1 is the chunk's first index: records before it were settled with their chunk.
_MARK_DUPLICATES = """
WITH chunk AS (
    SELECT idx, source_record_id FROM ingest_stage
    UNION ALL
    SELECT idx, source_record_id FROM ingest_rejects WHERE source_record_id IS NOT NULL
), firsts AS (
    SELECT source_record_id, min(idx) AS first FROM chunk
    GROUP BY source_record_id HAVING count(*) > 1
), moved AS (
    DELETE FROM ingest_stage s USING firsts f
    WHERE s.source_record_id = f.source_record_id AND s.idx > f.first
    RETURNING s.idx, s.source_record_id
), marked AS (
    UPDATE ingest_rejects r SET errors = r.errors || $2::jsonb FROM firsts f
    WHERE r.source_record_id = f.source_record_id AND r.idx > f.first AND r.idx >= $1
)
INSERT INTO ingest_rejects (idx, source_record_id, errors)
SELECT idx, source_record_id, $2::jsonb FROM moved
"""
# $3 the department, $4 the batch: a staged record whose id this batch claimed
# with another record (an earlier chunk's) is a duplicate in the batch.
_MARK_EARLIER_DUPLICATES = """
WITH moved AS (
    DELETE FROM ingest_stage s USING warning_sources ws
    WHERE ws.department = $3 AND ws.source_record_id = s.source_record_id
      AND ws.batch_id = $4 AND ws.warning_id <> s.warning_id
    RETURNING s.idx, s.source_record_id
), marked AS (
    UPDATE ingest_rejects r SET errors = r.errors || $2::jsonb FROM warning_sources ws
    WHERE r.idx >= $1 AND ws.department = $3 AND ws.source_record_id = r.source_record_id
      AND ws.batch_id = $4 AND NOT r.errors @> $2::jsonb
)
INSERT INTO ingest_rejects (idx, source_record_id, errors)
SELECT idx, source_record_id, $2::jsonb FROM moved
"""
_UNKNOWN_REGION = errors_json(
    [
        FieldError(
            "region_code", "invalid_region_code", "region_code is not a region of the registry"
        )
    ]
)
_REJECT_UNKNOWN_REGIONS = """
WITH unknown AS (
    DELETE FROM ingest_stage s
    WHERE s.region_code IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM regions r WHERE r.code = s.region_code)
    RETURNING idx, source_record_id
)
INSERT INTO ingest_rejects (idx, source_record_id, errors)
SELECT idx, source_record_id, $1::jsonb FROM unknown
"""

# The county a warning belongs to: its household's; else the region the
# department gave; else the pushing client's county; else the county of the
# ID number's division code when the registry knows it; else the registry's
# only county; else the division code as it stands.
_COUNTY = (
    "coalesce(h.county_code, left(w.region_code, 6), CAST(:client_county AS text),"
    " CASE WHEN d.code IS NOT NULL THEN left(w.id_masked, 6) END,"
    " {home_county}, left(w.id_masked, 6))"
)


def store_ctes(*, home_county: str = "CAST(:home_county AS text)") -> str:
    """The CTEs `candidates`, `fresh`, `stored` and `evented` that store the
    rows of `ingest_stage` (a table, or a CTE of the same columns placed
    before them) and append their events; `home_county` is the SQL for the
    registry's only county (NULL when it has none or several)."""
    return _STORE_CTES.replace("{home_county}", home_county)


_STORE_CTES = f"""candidates AS (
    SELECT w.idx, w.source_record_id, w.warning_id, w.warning_type,
           w.id_hash, w.id_sealed, w.id_masked, w.name, w.region_code AS reported_region_code,
           w.event_date, w.amount_yuan, w.details, h.household_id,
           h.region_code AS household_region, {_COUNTY} AS county_code,
           coalesce(h.name <> w.name, false) AS name_mismatch,
           (w.warning_type = ANY(CAST(:event_dated AS text[]))
            AND w.event_date < w.received_on - CAST(:late_days AS int)) AS late,
           {matching.STATUS} AS status
    FROM (SELECT s.*, CAST(:received_on AS date) AS received_on FROM ingest_stage s) w
    -- An index probe per record, never a scan of the registry: a chunk is
    -- 10,000 records, a province's registry 10 million persons.
    LEFT JOIN LATERAL (
        SELECT m.name, h.county_code, h.household_id, h.region_code, h.category
        FROM members m
        JOIN households h ON h.county_code = m.county_code AND h.household_id = m.household_id
        WHERE m.id_hash = w.id_hash
        LIMIT 1
    ) h ON true
    LEFT JOIN regions d ON d.code = left(w.id_masked, 6) || '000000'
    {matching.THRESHOLDS_JOIN}
), fresh AS (
    INSERT INTO warning_sources (department, source_record_id, county_code, warning_id, batch_id)
    SELECT :department, source_record_id, county_code, warning_id, :batch_id FROM candidates
    ON CONFLICT DO NOTHING
    RETURNING warning_id
), stored AS (
    INSERT INTO warnings (county_code, warning_id, department, warning_type, source_record_id,
        batch_id, batch_index, id_hash, id_sealed, id_masked, name, reported_region_code,
        region_code, household_id, event_date, amount_yuan, details, received_at, received_on,
        status, late, name_mismatch)
    SELECT c.county_code, c.warning_id, :department, c.warning_type, c.source_record_id,
        :batch_id, c.idx, c.id_hash, c.id_sealed, c.id_masked, c.name, c.reported_region_code,
        coalesce(c.household_region, c.reported_region_code, c.county_code || '000000'),
        c.household_id, c.event_date, c.amount_yuan, c.details, :received_at,
        CAST(:received_on AS date), c.status, c.late, c.name_mismatch
    FROM candidates c JOIN fresh f USING (warning_id)
    RETURNING county_code, warning_id, department, warning_type, status, household_id,
        region_code, event_date, received_on, late
), evented AS (
    {matching.INSERT_EVENTS.format(source="stored")}
)"""
_STORE = f"WITH {store_ctes()}\nSELECT count(*) FROM stored"
# Entries for the stored records (`accepted`: the staged id won the claim)
# and for those an earlier batch stored (`duplicate`, with that warning's id).
_RECEIPT_ENTRIES = """
INSERT INTO ingest_receipt (idx, entry)
SELECT s.idx, jsonb_build_object('index', s.idx, 'source_record_id', s.source_record_id,
    'status', CASE WHEN ws.warning_id = s.warning_id THEN 'accepted' ELSE 'duplicate' END,
    'warning_id', ws.warning_id)
FROM ingest_stage s
JOIN warning_sources ws ON ws.department = $1 AND ws.source_record_id = s.source_record_id
"""
_PUSHED_TYPES = "SELECT DISTINCT warning_type FROM ingest_stage"
# Whether the chunk holds a record of type $1 of a monitored or alleviated
# person, and one of anyone else: each stops at its first such record.
_PUSHED_POPULATIONS = (
    "SELECT EXISTS (SELECT 1 FROM ingest_stage s WHERE s.warning_type = $1 AND "
    + IN_MONITORED_OR_ALLEVIATED.format(id_hash="s.id_hash")
    + "), EXISTS (SELECT 1 FROM ingest_stage s WHERE s.warning_type = $1 AND NOT "
    + IN_MONITORED_OR_ALLEVIATED.format(id_hash="s.id_hash")
    + ")"
)
_RECEIPT = """
SELECT coalesce(jsonb_agg(entry ORDER BY idx), '[]'::jsonb)::text FROM (
    SELECT idx, jsonb_build_object('index', idx, 'source_record_id', source_record_id,
        'status', 'rejected', 'errors', errors) AS entry
    FROM ingest_rejects
    UNION ALL
    SELECT idx, entry FROM ingest_receipt WHERE $1
) entries
"""


@dataclass
class StoreParams:
    """What the store statement needs besides the staged rows."""

    values: dict[str, Any]
    department: str


class Stage:
    """The staging tables of one batch and the per-chunk statements."""

    def __init__(
        self, session: AsyncSession, stage: bulk_load.Stage, *, regions_loaded: bool
    ) -> None:
        self.session = session
        self.stage = stage
        self.driver = stage.driver
        self.regions_loaded = regions_loaded
        self.accepted = 0
        self.pushed_feeds: set[tuple[str, str]] = set()

    @classmethod
    async def open(cls, session: AsyncSession) -> Stage:
        regions_loaded = bool(await session.scalar(text("SELECT EXISTS (SELECT 1 FROM regions)")))
        # JIT compiling these big statements costs more than it saves (over a
        # second per batch).
        stage = await bulk_load.Stage.open(
            session, _TABLES, settings={"jit": "off"}, purpose="a batch"
        )
        return cls(session, stage, regions_loaded=regions_loaded)

    async def apply(
        self,
        chunk: Chunk,
        rows: list[tuple[Any, ...]],
        params: StoreParams | None,
        *,
        full_receipt: bool,
    ) -> None:
        """Stage one chunk and, unless `params` is None (an atomic batch that
        already failed), store its valid records."""
        driver = self.driver
        await driver.execute("TRUNCATE ingest_stage")
        if rows:
            await self.stage.copy("ingest_stage", rows, _STAGE_COLUMNS)
        if chunk.rejects:
            await self.stage.copy("ingest_rejects", chunk.rejects, _REJECT_COLUMNS)
        await driver.execute(_MARK_DUPLICATES, chunk.first_index, _DUPLICATE_IN_BATCH)
        if self.regions_loaded and rows:
            await driver.execute(_REJECT_UNKNOWN_REGIONS, _UNKNOWN_REGION)
        if params is None or not rows:
            return
        await self._note_pushed_feeds()
        stored = await self.session.scalar(text(_STORE), params.values)
        self.accepted += int(stored or 0)
        if chunk.first_index:
            await driver.execute(
                _MARK_EARLIER_DUPLICATES,
                chunk.first_index,
                _DUPLICATE_IN_BATCH,
                params.department,
                params.values["batch_id"],
            )
        if full_receipt:
            await driver.execute(_RECEIPT_ENTRIES, params.department)

    async def _note_pushed_feeds(self) -> None:
        """Add the feeds (warning_type, population) the chunk's records push: an
        ordinary type's `all`; a per-population type's populations (shared/feeds.py)
        found among its records' persons, asked only while one is still missing."""
        per_population = set(per_population_types())
        for (warning_type,) in await self.driver.fetch(_PUSHED_TYPES):
            if warning_type not in per_population:
                self.pushed_feeds.add((warning_type, ALL))
                continue
            if all((warning_type, p) in self.pushed_feeds for p in FEED_POPULATIONS):
                continue
            [(monitored, general)] = await self.driver.fetch(_PUSHED_POPULATIONS, warning_type)
            for population, found in zip(FEED_POPULATIONS, (monitored, general), strict=True):
                if found:
                    self.pushed_feeds.add((warning_type, population))

    async def rejected(self) -> list[tuple[int, str | None, list[dict[str, str]]]]:
        rows = await self.driver.fetch(
            "SELECT idx, source_record_id, errors::text FROM ingest_rejects ORDER BY idx"
        )
        return [(idx, srid, orjson.loads(errors)) for idx, srid, errors in rows]

    async def rejected_count(self) -> int:
        return int(await self.driver.fetchval("SELECT count(*) FROM ingest_rejects"))

    async def receipt_records(self, *, full: bool) -> str:
        """The receipt's `records` as JSON text, in arrival order."""
        return str(await self.driver.fetchval(_RECEIPT, full))

    async def close(self) -> None:
        await self.stage.close()
