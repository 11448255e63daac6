"""The database half of a registry load: COPY into temporary staging tables
(shared.bulk_load), then a few `INSERT ... SELECT` / `DELETE ... USING`
statements per chunk (STYLE.md rule 5).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import bulk_load
from shared.errors import FieldError
from shared.registry.records import RegionRow, duplicate_household, duplicate_member

# Temporary tables live until the end of the caller's transaction at most;
# codes compare byte-wise ("C") like the columns they are joined with.
_HOUSEHOLD_TABLES = {
    "registry_households_stage": (
        'idx int NOT NULL, county_code text COLLATE "C" NOT NULL, '
        'household_id text COLLATE "C" NOT NULL, region_code text COLLATE "C" NOT NULL, '
        "category text NOT NULL, head_name text NOT NULL"
    ),
    "registry_members_stage": (
        'idx int NOT NULL, pos int NOT NULL, county_code text COLLATE "C" NOT NULL, '
        'household_id text COLLATE "C" NOT NULL, id_hash bytea NOT NULL, '
        "id_sealed bytea NOT NULL, id_masked text NOT NULL, name text NOT NULL, "
        "relation text NOT NULL, labour_capacity text NOT NULL, disability_grade smallint, "
        "in_school boolean NOT NULL, birth_date date NOT NULL, sex text NOT NULL"
    ),
    # What earlier chunks of the same load stored, to find duplicates across
    # chunks. No index: a hash join with the chunk scans them faster than an
    # index on random keys fills in the session's small temp buffers.
    "registry_households_seen": 'county_code text COLLATE "C", household_id text COLLATE "C"',
    "registry_members_seen": "id_hash bytea",
}
_REGION_TABLES = {
    "registry_regions_stage": (
        'code text COLLATE "C" NOT NULL, name text NOT NULL, level text NOT NULL, '
        'parent_code text COLLATE "C", attributes text[] NOT NULL'
    ),
}
_HOUSEHOLD_COLUMNS = ("idx", "county_code", "household_id", "region_code", "category", "head_name")
_MEMBER_COLUMNS = ("idx", "pos", "county_code", "household_id", "id_hash", "id_sealed",
                   "id_masked", "name", "relation", "labour_capacity", "disability_grade",
                   "in_school", "birth_date", "sex")  # fmt: skip

_REMEMBER_CHUNK = """
INSERT INTO registry_households_seen
SELECT county_code, household_id FROM registry_households_stage;
INSERT INTO registry_members_seen SELECT id_hash FROM registry_members_stage;
TRUNCATE registry_households_stage, registry_members_stage;
"""
_UNKNOWN_VILLAGES = """
SELECT s.idx, NULL::int FROM registry_households_stage s
WHERE NOT EXISTS (SELECT 1 FROM regions r WHERE r.code = s.region_code AND r.level = 'village')
"""
_EARLIER_HOUSEHOLDS = """
SELECT s.idx, -1 FROM registry_households_stage s
JOIN registry_households_seen USING (county_code, household_id)
"""
_EARLIER_MEMBERS = """
SELECT s.idx, s.pos FROM registry_members_stage s JOIN registry_members_seen USING (id_hash)
"""
# A loaded household's members become exactly the listed ones; a listed ID
# number leaves any other household (same county: the upsert moves it) or
# county (the second DELETE). Unchanged rows are not rewritten, so a reload
# of the same file leaves no dead tuples; a member's seal is kept when
# nothing else changed (the same number, sealed with a fresh nonce).
_APPLY_HOUSEHOLDS = """
INSERT INTO households AS h (county_code, household_id, region_code, category, head_name)
SELECT county_code, household_id, region_code, category, head_name
FROM registry_households_stage ORDER BY county_code, household_id
ON CONFLICT (county_code, household_id) DO UPDATE
SET region_code = EXCLUDED.region_code, category = EXCLUDED.category,
    head_name = EXCLUDED.head_name, updated_at = now()
WHERE (h.region_code, h.category, h.head_name)
    IS DISTINCT FROM (EXCLUDED.region_code, EXCLUDED.category, EXCLUDED.head_name);
DELETE FROM members m USING registry_households_stage h
WHERE m.county_code = h.county_code AND m.household_id = h.household_id
  AND NOT EXISTS (SELECT 1 FROM registry_members_stage s
                  WHERE s.county_code = m.county_code AND s.id_hash = m.id_hash);
DELETE FROM members m USING registry_members_stage s
WHERE m.id_hash = s.id_hash AND m.county_code <> s.county_code;
INSERT INTO members AS m (county_code, id_hash, household_id, id_sealed, id_masked, name,
    relation, labour_capacity, disability_grade, in_school, birth_date, sex)
SELECT county_code, id_hash, household_id, id_sealed, id_masked, name,
    relation, labour_capacity, disability_grade, in_school, birth_date, sex
FROM registry_members_stage ORDER BY county_code, id_hash
ON CONFLICT (county_code, id_hash) DO UPDATE
SET household_id = EXCLUDED.household_id, id_masked = EXCLUDED.id_masked,
    name = EXCLUDED.name, relation = EXCLUDED.relation,
    labour_capacity = EXCLUDED.labour_capacity, disability_grade = EXCLUDED.disability_grade,
    in_school = EXCLUDED.in_school, birth_date = EXCLUDED.birth_date, sex = EXCLUDED.sex
WHERE (m.household_id, m.name, m.relation, m.labour_capacity, m.disability_grade,
       m.in_school, m.birth_date, m.sex)
    IS DISTINCT FROM (EXCLUDED.household_id, EXCLUDED.name, EXCLUDED.relation,
       EXCLUDED.labour_capacity, EXCLUDED.disability_grade, EXCLUDED.in_school,
       EXCLUDED.birth_date, EXCLUDED.sex);
"""
_APPLY_REGIONS = """
INSERT INTO regions AS r (code, name, level, parent_code, attributes)
SELECT code, name, level, parent_code, attributes FROM registry_regions_stage
ON CONFLICT (code) DO UPDATE
SET name = EXCLUDED.name, level = EXCLUDED.level, parent_code = EXCLUDED.parent_code,
    attributes = EXCLUDED.attributes, updated_at = now()
WHERE (r.name, r.level, r.parent_code, r.attributes)
    IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.level, EXCLUDED.parent_code, EXCLUDED.attributes);
"""

# The registry tables grow inside this very transaction, so their statistics
# understate them: left alone, the planner sorts the whole members table for
# a merge join on every chunk, where an index lookup per staged row (or a
# hash of the chunk) costs in proportion to the chunk. Restored at close().
_SETTINGS = {"enable_mergejoin": "off"}


class Stage:
    """The temporary tables of one load, on the session's own connection and
    inside its transaction (so COPY goes through asyncpg directly)."""

    def __init__(self, stage: bulk_load.Stage, *, regions_loaded: bool) -> None:
        self.stage = stage
        self.driver = stage.driver
        self.regions_loaded = regions_loaded
        self.rounds = 0

    @classmethod
    async def open_households(cls, session: AsyncSession) -> Stage:
        return await cls._open(session, _HOUSEHOLD_TABLES)

    @classmethod
    async def open_regions(cls, session: AsyncSession) -> Stage:
        return await cls._open(session, _REGION_TABLES)

    @classmethod
    async def _open(cls, session: AsyncSession, tables: dict[str, str]) -> Stage:
        await session.flush()
        regions_loaded = bool(await session.scalar(text("SELECT EXISTS (SELECT 1 FROM regions)")))
        stage = await bulk_load.Stage.open(
            session, tables, settings=_SETTINGS, purpose="a registry load"
        )
        return cls(stage, regions_loaded=regions_loaded)

    async def close(self) -> None:
        await self.stage.close()

    async def households(
        self, households: list[tuple[Any, ...]], members: list[tuple[Any, ...]]
    ) -> dict[int, list[FieldError]]:
        """Stage and apply one chunk; return the households rejected by the
        database checks (unknown village, duplicate of an earlier chunk)."""
        driver = self.driver
        if self.rounds:
            await driver.execute(_REMEMBER_CHUNK)
        await self.stage.copy("registry_households_stage", households, _HOUSEHOLD_COLUMNS)
        await self.stage.copy("registry_members_stage", members, _MEMBER_COLUMNS)
        checks = [_UNKNOWN_VILLAGES] if self.regions_loaded else []
        if self.rounds:
            checks += [_EARLIER_HOUSEHOLDS, _EARLIER_MEMBERS]
        self.rounds += 1
        rejected: dict[int, list[FieldError]] = {}
        if checks:
            for index, pos in await driver.fetch(" UNION ALL ".join(checks)):
                rejected.setdefault(index, []).append(_db_rejection(pos))
        if rejected:
            indexes = list(rejected)
            await driver.execute(
                "DELETE FROM registry_households_stage WHERE idx = ANY($1::int[])", indexes
            )
            await driver.execute(
                "DELETE FROM registry_members_stage WHERE idx = ANY($1::int[])", indexes
            )
        await driver.execute(_APPLY_HOUSEHOLDS)
        return rejected

    async def regions(self, rows: list[RegionRow]) -> None:
        await self.driver.execute("TRUNCATE registry_regions_stage")
        await self.stage.copy(
            "registry_regions_stage", rows, ("code", "name", "level", "parent_code", "attributes")
        )
        await self.driver.execute(_APPLY_REGIONS)


def _db_rejection(pos: int | None) -> FieldError:
    if pos is None:
        return FieldError(
            "region_code", "invalid_region_code", "the village is not in the registry"
        )
    if pos < 0:
        return duplicate_household()
    return duplicate_member(pos)
