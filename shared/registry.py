"""Registry loads (SPEC §1-§2): regions (行政区划) and households (农户) in bulk.

A load validates every record in Python in one streaming pass, then writes
the valid ones set-based (STYLE.md rule 5): COPY into temporary staging
tables, then a few `INSERT ... SELECT` / `DELETE ... USING` statements per
chunk. Nothing here commits: the caller's transaction holds the whole load,
so a crash leaves nothing half-loaded.

Error codes a household or region can be rejected with: `missing_field`,
`too_long`, `invalid_value` (a wrong JSON type), `invalid_code` (a value
outside its code list), `invalid_household_id`, `invalid_region_code`
(malformed, not a village, or unknown once regions are loaded),
`out_of_scope` (outside the loading staff member's region),
`invalid_id_number`, `duplicate_in_batch` (an ID number twice in one
household, an ID number or household already loaded earlier in the same
load, a region code twice) and `invalid_json` (a line a reader could not
parse). Messages never contain the rejected value.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.errors import FieldError
from shared.event_types import HOUSEHOLDS_LOADED
from shared.events import notify, publish
from shared.idcard import InvalidIdNumber, mask_id_number, parse_id_number
from shared.pii import PiiProtector
from shared.regions import covers, is_well_formed, parent_code, region_level
from shared.text import CONTROL_CHARACTERS, checked_text

CATEGORIES = frozenset({"general", "poverty_alleviated"})
RELATIONS = frozenset({"head", "spouse", "child", "parent", "grandchild", "sibling", "other"})
LABOUR_CAPACITIES = frozenset({"full", "weak", "partial", "none"})
DISABILITY_GRADES = frozenset({1, 2, 3, 4})

REGIONS_LOADED = "registry.regions_loaded"
# Households per staging round trip: big enough for COPY to pay off, small
# enough that a 1M-line file never sits in memory.
CHUNK_HOUSEHOLDS = 10_000
CHUNK_REGIONS = 50_000

_HOUSEHOLD_ID = re.compile(r"[A-Za-z0-9-]{1,40}")
_NAME_MAX = 50
_REGION_NAME_MAX = 100


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record a reader could not turn into a dict (a broken NDJSON line or
    CSV cell); the load reports it at its index like any rejected record."""

    errors: tuple[FieldError, ...]


@dataclass(slots=True)
class CountyCounts:
    households: int = 0
    members: int = 0


@dataclass
class LoadResult:
    """What a load did: stored and rejected counts, and each rejected record's
    errors by its 0-based index (in arrival order, blank lines not counted)."""

    upserted: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    members: int = 0
    counties: dict[str, CountyCounts] = field(default_factory=dict)

    def reject(self, index: int, errors: list[FieldError], max_errors: int | None) -> None:
        self.rejected += 1
        if max_errors is None or len(self.errors) < max_errors:
            self.errors.append({"index": index, "errors": [e.as_dict() for e in errors]})

    def summary(self) -> dict[str, Any]:
        """The API answer: `{"upserted", "rejected", "errors"}`."""
        return {"upserted": self.upserted, "rejected": self.rejected, "errors": self.errors}


# -- validation ---------------------------------------------------------------


def _text(
    raw: dict[str, Any], key: str, where: str, limit: int, errors: list[FieldError]
) -> str | None:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.append(FieldError(where, "missing_field", f"{key} is required"))
        return None
    if not isinstance(value, str):
        errors.append(FieldError(where, "invalid_value", f"{key} must be a string"))
        return None
    return checked_text(value, where, limit, errors)


def _code(
    raw: dict[str, Any], key: str, where: str, allowed: frozenset[str], errors: list[FieldError]
) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        errors.append(FieldError(where, "missing_field", f"{key} is required"))
        return None
    if not isinstance(value, str) or value not in allowed:
        errors.append(
            FieldError(where, "invalid_code", f"{key} must be one of {', '.join(sorted(allowed))}")
        )
        return None
    return str(value)


# A validated member: number, birth date, sex, name, relation, labour
# capacity, disability grade, in school. Tuples: this runs 300k times a load.
Member = tuple[str, date, str, str, str, str, int | None, bool]


def _member(raw: Any, pos: int, today: date, errors: list[FieldError]) -> Member | None:
    # Fast path for a well-formed member; anything unusual goes the slow way,
    # which names every problem.
    if type(raw) is dict:
        number, name = raw.get("id_number"), raw.get("name")
        relation, labour = raw.get("relation"), raw.get("labour_capacity")
        grade, in_school = raw.get("disability_grade"), raw.get("in_school")
        if (
            type(number) is str
            and type(name) is str
            and 0 < len(name := name.strip()) <= _NAME_MAX
            and not CONTROL_CHARACTERS.search(name)
            and type(relation) is str
            and relation in RELATIONS
            and type(labour) is str
            and labour in LABOUR_CAPACITIES
            and (grade is None or (type(grade) is int and grade in DISABILITY_GRADES))
            and (in_school is None or type(in_school) is bool)
        ):
            try:
                resident = parse_id_number(number, today=today)
            except InvalidIdNumber:
                pass
            else:
                born, sex = resident.birth_date, resident.sex
                return (resident.number, born, sex, name, relation, labour, grade, bool(in_school))
    return _member_errors(raw, f"members[{pos}]", today, errors)


def _member_errors(raw: Any, at: str, today: date, errors: list[FieldError]) -> Member | None:
    if not isinstance(raw, dict):
        errors.append(FieldError(at, "invalid_value", "a member must be an object"))
        return None
    before = len(errors)
    number = raw.get("id_number")
    resident = None
    if number is None or number == "":
        errors.append(FieldError(at + ".id_number", "missing_field", "id_number is required"))
    elif not isinstance(number, str):
        errors.append(FieldError(at + ".id_number", "invalid_id_number", "must be a string"))
    else:
        try:
            resident = parse_id_number(number, today=today)
        except InvalidIdNumber as exc:
            errors.append(FieldError(at + ".id_number", "invalid_id_number", str(exc)))
    name = _text(raw, "name", at + ".name", _NAME_MAX, errors)
    relation = _code(raw, "relation", at + ".relation", RELATIONS, errors)
    labour = _code(raw, "labour_capacity", at + ".labour_capacity", LABOUR_CAPACITIES, errors)
    grade = raw.get("disability_grade")
    if grade is not None and (type(grade) is not int or grade not in DISABILITY_GRADES):
        errors.append(
            FieldError(at + ".disability_grade", "invalid_code", "disability_grade must be 1-4")
        )
    in_school = raw.get("in_school")
    if in_school is not None and not isinstance(in_school, bool):
        errors.append(FieldError(at + ".in_school", "invalid_value", "in_school must be a boolean"))
    if len(errors) > before or resident is None:
        return None
    assert name is not None and relation is not None and labour is not None
    return (
        resident.number,
        resident.birth_date,
        resident.sex,
        name,
        relation,
        labour,
        grade,
        bool(in_school),
    )


# A validated household: county, household id, region, category, head name, members.
Household = tuple[str, str, str, str, str, list[Member]]


def check_household(
    raw: Any, *, today: date, scope: str | None = None
) -> tuple[Household | None, list[FieldError]]:
    """Validate one household record; return it normalised, or None with its errors.

    `scope` is the loading staff member's region code: a household outside it
    is rejected as `out_of_scope`. Checks that need the database (a known
    village, duplicates across the load) are made by load_households.
    """
    if isinstance(raw, BadRecord):
        return None, list(raw.errors)
    if not isinstance(raw, dict):
        return None, [FieldError("household", "invalid_value", "a household must be an object")]
    errors: list[FieldError] = []
    household_id = raw.get("household_id")
    if household_id is None or household_id == "":
        errors.append(FieldError("household_id", "missing_field", "household_id is required"))
    elif not isinstance(household_id, str) or not _HOUSEHOLD_ID.fullmatch(household_id):
        errors.append(
            FieldError(
                "household_id",
                "invalid_household_id",
                "household_id must be 1-40 letters, digits or -",
            )
        )
    region = raw.get("region_code")
    if region is None or region == "":
        errors.append(FieldError("region_code", "missing_field", "region_code is required"))
    elif not isinstance(region, str) or not is_well_formed(region) or region[9:] == "000":
        errors.append(
            FieldError("region_code", "invalid_region_code", "region_code must be a village code")
        )
    elif scope is not None and not covers(scope, region):
        errors.append(
            FieldError("region_code", "out_of_scope", "the village is outside your scope")
        )
    category = _code(raw, "category", "category", CATEGORIES, errors)
    head_name = _text(raw, "head_name", "head_name", _NAME_MAX, errors)
    raw_members = raw.get("members")
    members: list[Member] = []
    if not raw_members:
        errors.append(FieldError("members", "missing_field", "a household needs members"))
    elif not isinstance(raw_members, list):
        errors.append(FieldError("members", "invalid_value", "members must be a list"))
    else:
        seen: set[str] = set()
        for pos, raw_member in enumerate(raw_members):
            member = _member(raw_member, pos, today, errors)
            if member is None:
                continue
            if member[0] in seen:
                errors.append(
                    FieldError(
                        f"members[{pos}].id_number",
                        "duplicate_in_batch",
                        "the same ID number appears twice in this household",
                    )
                )
            seen.add(member[0])
            members.append(member)
    if errors:
        return None, errors
    assert isinstance(household_id, str) and isinstance(region, str)
    assert category is not None and head_name is not None
    return (region[:6], household_id, region, category, head_name, members), errors


def _duplicate_member(pos: int) -> FieldError:
    return FieldError(
        f"members[{pos}].id_number",
        "duplicate_in_batch",
        "the same ID number is in an earlier household of this load",
    )


def _duplicate_household() -> FieldError:
    return FieldError(
        "household_id", "duplicate_in_batch", "the household is listed earlier in this load"
    )


# -- staging ------------------------------------------------------------------

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
        'parent_code text COLLATE "C"'
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
INSERT INTO regions AS r (code, name, level, parent_code)
SELECT code, name, level, parent_code FROM registry_regions_stage
ON CONFLICT (code) DO UPDATE
SET name = EXCLUDED.name, level = EXCLUDED.level, parent_code = EXCLUDED.parent_code,
    updated_at = now()
WHERE (r.name, r.level, r.parent_code)
    IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.level, EXCLUDED.parent_code);
"""


# Planner settings for the load's statements, restored when it ends. The
# registry tables grow inside this very transaction, so their statistics
# understate them: left alone, the planner sorts the whole members table for
# a merge join on every chunk, where an index lookup per staged row (or a
# hash of the chunk) costs in proportion to the chunk. The hashes need more
# than the default 4MB of work_mem to stay in memory.
_SAVE_SETTINGS = "SELECT current_setting('work_mem'), current_setting('enable_mergejoin')"
_LOAD_SETTINGS = """
SELECT set_config('enable_mergejoin', 'off', true), CASE
    WHEN pg_size_bytes(current_setting('work_mem')) < pg_size_bytes('64MB')
    THEN set_config('work_mem', '64MB', true) END
"""
_RESTORE_SETTINGS = (
    "SELECT set_config('work_mem', $1, true), set_config('enable_mergejoin', $2, true)"
)


class _Stage:
    """The temporary tables of one load, on the session's own connection and
    inside its transaction (so COPY goes through asyncpg directly)."""

    def __init__(
        self, driver: Any, tables: dict[str, str], *, regions_loaded: bool, settings: Any
    ) -> None:
        self.driver = driver
        self.tables = tables
        self.regions_loaded = regions_loaded
        self.settings = settings
        self.rounds = 0

    @classmethod
    async def open(cls, session: AsyncSession, tables: dict[str, str]) -> _Stage:
        await session.flush()
        conn = await session.connection()
        # A statement through SQLAlchemy first: it begins the transaction on
        # the driver connection, which the raw statements below then join.
        regions_loaded = bool(await conn.scalar(text("SELECT EXISTS (SELECT 1 FROM regions)")))
        driver = (await conn.get_raw_connection()).driver_connection
        if driver is None or not driver.is_in_transaction():
            raise RuntimeError("a registry load must run inside the caller's transaction")
        names = ", ".join(tables)
        ddl = "".join(
            f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP;"
            for name, columns in tables.items()
        )
        # Dropped first: an earlier load in the same transaction leaves none
        # (close() drops them), but one that failed in a savepoint may.
        await driver.execute(f"DROP TABLE IF EXISTS {names}; {ddl}")
        settings = await driver.fetchrow(_SAVE_SETTINGS)
        await driver.execute(_LOAD_SETTINGS)
        return cls(driver, tables, regions_loaded=regions_loaded, settings=settings)

    async def close(self) -> None:
        await self.driver.execute(f"DROP TABLE {', '.join(self.tables)}")
        await self.driver.execute(_RESTORE_SETTINGS, *self.settings)

    async def households(
        self, households: list[tuple[Any, ...]], members: list[tuple[Any, ...]]
    ) -> dict[int, list[FieldError]]:
        """Stage and apply one chunk; return the households rejected by the
        database checks (unknown village, duplicate of an earlier chunk)."""
        driver = self.driver
        if self.rounds:
            await driver.execute(_REMEMBER_CHUNK)
        await driver.copy_records_to_table(
            "registry_households_stage", records=households, columns=_HOUSEHOLD_COLUMNS
        )
        await driver.copy_records_to_table(
            "registry_members_stage", records=members, columns=_MEMBER_COLUMNS
        )
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

    async def regions(self, rows: list[tuple[str, str, str, str | None]]) -> None:
        await self.driver.execute("TRUNCATE registry_regions_stage")
        await self.driver.copy_records_to_table(
            "registry_regions_stage", records=rows, columns=("code", "name", "level", "parent_code")
        )
        await self.driver.execute(_APPLY_REGIONS)


def _db_rejection(pos: int | None) -> FieldError:
    if pos is None:
        return FieldError(
            "region_code", "invalid_region_code", "the village is not in the registry"
        )
    if pos < 0:
        return _duplicate_household()
    return _duplicate_member(pos)


# -- households ---------------------------------------------------------------


async def _aiter(items: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[Any]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


@dataclass
class _Chunk:
    """One chunk's valid households, ready for staging, and its rejections."""

    households: list[tuple[Any, ...]] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    # Per member: (household index, position, county, household id).
    owners: list[tuple[int, int, str, str]] = field(default_factory=list)
    # Per household index: (county, member count).
    sizes: dict[int, tuple[str, int]] = field(default_factory=dict)
    seen_ids: set[str] = field(default_factory=set)
    seen_households: set[tuple[str, str]] = field(default_factory=set)
    errors: list[tuple[int, list[FieldError]]] = field(default_factory=list)


def _add_household(chunk: _Chunk, index: int, household: Household) -> list[FieldError]:
    county, household_id, region, category, head_name, members = household
    if (county, household_id) in chunk.seen_households:
        return [_duplicate_household()]
    duplicates = [_duplicate_member(pos) for pos, m in enumerate(members) if m[0] in chunk.seen_ids]
    if duplicates:
        return duplicates
    chunk.seen_households.add((county, household_id))
    chunk.households.append((index, county, household_id, region, category, head_name))
    chunk.sizes[index] = (county, len(members))
    for pos, member in enumerate(members):
        chunk.seen_ids.add(member[0])
        chunk.members.append(member)
        chunk.owners.append((index, pos, county, household_id))
    return []


def _member_records(chunk: _Chunk, protector: PiiProtector) -> list[tuple[Any, ...]]:
    numbers = [m[0] for m in chunk.members]
    keys = protector.match_keys(numbers)
    sealed = protector.seal_many(numbers)
    # The column order of _MEMBER_COLUMNS.
    return [
        (idx, pos, county, hid, key, seal, mask_id_number(m[0]), *m[3:], m[1], m[2])
        for (idx, pos, county, hid), key, seal, m in zip(
            chunk.owners, keys, sealed, chunk.members, strict=True
        )
    ]


# While the database applies one chunk, the next one is validated: the
# reading loop yields to the writer this often (in households) so that the
# writer can send its next statement as soon as the previous one is done.
_YIELD_EVERY = 64


async def load_households(
    session: AsyncSession,
    households: Iterable[Any] | AsyncIterable[Any],
    *,
    protector: PiiProtector,
    actor: str,
    today: date,
    scope: str | None = None,
    max_errors: int | None = None,
    chunk_size: int = CHUNK_HOUSEHOLDS,
) -> LoadResult:
    """Upsert households with their members; never commits.

    A load is an upsert by (county, household id): a loaded household's
    members become exactly the listed ones, and a listed ID number is
    removed from any other household or county (members move). A rejected
    household stores nothing. Writes one `registry.households_loaded` event
    and one audit record per county touched (counts only). `scope` rejects
    households outside a staff member's region; `max_errors` caps the errors
    kept (the count stays exact).
    """
    result = LoadResult()
    stage = await _Stage.open(session, _HOUSEHOLD_TABLES)
    chunk = _Chunk()
    writing: asyncio.Task[None] | None = None
    index = -1
    try:
        async for raw in _aiter(households):
            index += 1
            household, errors = check_household(raw, today=today, scope=scope)
            if household is not None:
                errors = _add_household(chunk, index, household)
            if errors:
                chunk.errors.append((index, errors))
            if len(chunk.households) >= chunk_size:
                members = _member_records(chunk, protector)
                if writing is not None:
                    await writing
                writing = asyncio.create_task(
                    _write_chunk(stage, chunk, members, result, max_errors)
                )
                chunk = _Chunk()
            elif writing is not None and not index % _YIELD_EVERY:
                await asyncio.sleep(0)
        members = _member_records(chunk, protector)
        if writing is not None:
            await writing
        await _write_chunk(stage, chunk, members, result, max_errors)
    finally:
        # Never leave the writer running on the connection: let it finish
        # (its error, if any, is already on its way up or moot).
        if writing is not None and not writing.done():
            await asyncio.gather(writing, return_exceptions=True)
    await stage.close()
    await _publish_households_loaded(session, result, actor=actor)
    return result


async def _write_chunk(
    stage: _Stage,
    chunk: _Chunk,
    members: list[tuple[Any, ...]],
    result: LoadResult,
    max_errors: int | None,
) -> None:
    rejected: dict[int, list[FieldError]] = {}
    if chunk.households:
        rejected = await stage.households(chunk.households, members)
    for index, errors in sorted([*chunk.errors, *rejected.items()], key=lambda e: e[0]):
        result.reject(index, errors, max_errors)
    for index, (county, size) in chunk.sizes.items():
        if index in rejected:
            continue
        counts = result.counties.setdefault(county, CountyCounts())
        counts.households += 1
        counts.members += size
        result.upserted += 1
        result.members += size


async def _publish_households_loaded(
    session: AsyncSession, result: LoadResult, *, actor: str
) -> None:
    """One event and one audit record per county touched, with counts only,
    so that ingest can re-match its unmatched warnings."""
    if not result.counties:
        return
    counties = sorted(result.counties)
    # One statement for every county (a province load touches ~100); the
    # payload is two counts, so publish()'s personal-data check has nothing to find.
    await session.execute(
        text(
            "INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload) "
            "SELECT c, :type, 'registry', c, :actor, "
            "jsonb_build_object('households', h, 'members', m) "
            "FROM unnest(CAST(:counties AS text[]), CAST(:households AS int[]), "
            "CAST(:members AS int[])) AS t(c, h, m)"
        ),
        {
            "type": HOUSEHOLDS_LOADED,
            "actor": actor,
            "counties": counties,
            "households": [result.counties[c].households for c in counties],
            "members": [result.counties[c].members for c in counties],
        },
    )
    await notify(session)
    for county in counties:
        counts = result.counties[county]
        await audit.record(
            session,
            actor=actor,
            action=HOUSEHOLDS_LOADED,
            target_type="county",
            target_id=county,
            county_code=county,
            details={"households": counts.households, "members": counts.members},
        )


# -- regions ------------------------------------------------------------------


def check_region(raw: Any) -> tuple[tuple[str, str, str, str | None] | None, list[FieldError]]:
    """Validate one `{"code", "name"}`; return (code, name, level, parent) or errors."""
    if isinstance(raw, BadRecord):
        return None, list(raw.errors)
    if not isinstance(raw, dict):
        return None, [FieldError("region", "invalid_value", "a region must be an object")]
    errors: list[FieldError] = []
    code = raw.get("code")
    if code is None or code == "":
        errors.append(FieldError("code", "missing_field", "code is required"))
    elif not isinstance(code, str) or not is_well_formed(code):
        errors.append(
            FieldError("code", "invalid_region_code", "code must be a 12-digit region code")
        )
    name = _text(raw, "name", "name", _REGION_NAME_MAX, errors)
    if errors:
        return None, errors
    assert isinstance(code, str) and name is not None
    return (code, name, region_level(code), parent_code(code)), errors


async def load_regions(
    session: AsyncSession,
    regions: Iterable[Any] | AsyncIterable[Any],
    *,
    actor: str = "system",
    max_errors: int | None = None,
) -> LoadResult:
    """Upsert regions by code, level and parent computed from it; never commits.

    The second record with a code already in the load is rejected as
    `duplicate_in_batch`. Writes one `registry.regions_loaded` event.
    """
    result = LoadResult()
    stage = await _Stage.open(session, _REGION_TABLES)
    seen: set[str] = set()
    rows: list[tuple[str, str, str, str | None]] = []
    index = -1
    async for raw in _aiter(regions):
        index += 1
        region, errors = check_region(raw)
        if region is not None and region[0] in seen:
            errors = [FieldError("code", "duplicate_in_batch", "the code is listed earlier")]
        elif region is not None:
            seen.add(region[0])
            rows.append(region)
        if errors:
            result.reject(index, errors, max_errors)
        if len(rows) >= CHUNK_REGIONS:
            await stage.regions(rows)
            result.upserted += len(rows)
            rows = []
    if rows:
        await stage.regions(rows)
        result.upserted += len(rows)
    await stage.close()
    if result.upserted:
        await publish(
            session,
            type=REGIONS_LOADED,
            aggregate=("registry", "regions"),
            county_code=audit.NATIONAL,
            actor=actor,
            payload={"regions": result.upserted},
        )
        await audit.record(
            session,
            actor=actor,
            action=REGIONS_LOADED,
            target_type="registry",
            target_id="regions",
            details={"regions": result.upserted},
        )
    return result
