"""Registry loads (SPEC §1-§2): regions (行政区划) and households (农户) in bulk.

A load validates every record in Python in one streaming pass
(shared.registry.records), then writes the valid ones set-based
(shared.registry.staging) chunk by chunk, validating the next chunk while
the database writes this one. Nothing here commits: the caller's transaction
holds the whole load, so a crash leaves nothing half-loaded.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.bulk_load import OverlappedWrites, as_async
from shared.errors import FieldError
from shared.event_types import HOUSEHOLDS_LOADED
from shared.events import notify, publish
from shared.idcard import mask_id_number
from shared.pii import PiiProtector
from shared.registry.records import (
    CountyCounts,
    Household,
    LoadResult,
    Member,
    RegionRow,
    check_household,
    check_region,
    duplicate_household,
    duplicate_member,
)
from shared.registry.staging import Stage

REGIONS_LOADED = "registry.regions_loaded"
# Households per staging round trip: big enough for COPY to pay off, small
# enough that a 1M-line file never sits in memory.
CHUNK_HOUSEHOLDS = 10_000
CHUNK_REGIONS = 50_000
# A load of this many households refreshes the planner's statistics of the
# registry before it commits (a sample: about a second on ten million persons).
ANALYZE_FROM = 1_000


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
        return [duplicate_household()]
    duplicates = [duplicate_member(pos) for pos, m in enumerate(members) if m[0] in chunk.seen_ids]
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
    # The column order of the staged members (staging._MEMBER_COLUMNS).
    return [
        (idx, pos, county, hid, key, seal, mask_id_number(m[0]), *m[3:], m[1], m[2])
        for (idx, pos, county, hid), key, seal, m in zip(
            chunk.owners, keys, sealed, chunk.members, strict=True
        )
    ]


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
    stage = await Stage.open_households(session)
    chunk = _Chunk()
    index = -1
    async with OverlappedWrites() as writer:
        async for raw in as_async(households):
            index += 1
            household, errors = check_household(raw, today=today, scope=scope)
            if household is not None:
                errors = _add_household(chunk, index, household)
            if errors:
                chunk.errors.append((index, errors))
            if len(chunk.households) >= chunk_size:
                members = _member_records(chunk, protector)
                await writer.write(_write_chunk, stage, chunk, members, result, max_errors)
                chunk = _Chunk()
            else:
                await writer.pause()
        members = _member_records(chunk, protector)
        await writer.write(_write_chunk, stage, chunk, members, result, max_errors)
    await stage.close()
    if result.upserted >= ANALYZE_FROM:
        # The consumers recount the loaded counties as soon as this commits,
        # before autovacuum's next look (up to a minute): statistics that still
        # describe the registry as it was would plan those recounts for a
        # fraction of its households.
        await session.execute(text("ANALYZE households, members"))
    await _publish_households_loaded(session, result, actor=actor)
    return result


async def _write_chunk(
    stage: Stage,
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
    stage = await Stage.open_regions(session)
    seen: set[str] = set()
    rows: list[RegionRow] = []
    index = -1
    async for raw in as_async(regions):
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
