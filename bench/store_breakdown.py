"""Where a big push's time goes: `python bench/store_breakdown.py [--chunks 5]`.

What it measures, per 10,000-record chunk of `high_medical_expense` records
(bench/ingest_push.py's records, over a registry of `--households`):

- Python: parsing the NDJSON lines, validating them (`check_record`), and
  hashing, sealing and masking the ID numbers (`Chunk.stage_rows`);
- the database: COPY into `ingest_stage`, then the store statement
  (`staging._STORE`) run under `EXPLAIN (ANALYZE, FORMAT JSON)`, its time
  split by the plan into the person lookup and matching (`candidates`), the
  claim of each department record id (`warning_sources`), the warnings, and
  their events, each insert's own time (its index writes included) apart from
  the rows it reads.

Each chunk is stored in a transaction that is rolled back, so every chunk
meets the same tables. With `--drop-index NAME` (repeatable) every chunk is
stored twice, alternately as is and with those indexes dropped inside the
transaction, so that an index's cost is read against the same run.

Baseline, in the same run: a plain COPY of the chunk's rows into an
unindexed table of the warnings' shape (bench/ingest_push.py's floor). The
last line is one JSON object: medians per chunk in ms, and each part's ratio
to the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from database import bench_database
from ingest_push import TODAY_RECEIVED, prepare, time_floor, warning_rows, write_records
from sqlalchemy import text

from services.warning_ingest.batches.storing import Pusher, store_values
from services.warning_ingest.records import check_record, source_record_id_of
from services.warning_ingest.staging import _STAGE_COLUMNS, _STORE, _TABLES, Chunk, errors_json
from shared.db import Database, use_database
from shared.pii import PiiProtector
from shared.policy import get_policy
from shared.settings import reset_settings

CHUNK = 10_000
# The CTEs of the store statement whose insert's own time is reported.
_INSERTS = {"fresh": "warning_sources", "stored": "warnings", "evented": "events"}


def _lines(path: Path, chunk: int) -> Iterator[list[bytes]]:
    with path.open("rb") as handle:
        lines: list[bytes] = []
        for line in handle:
            lines.append(line)
            if len(lines) == chunk:
                yield lines
                lines = []
        if lines:
            yield lines


def validate(lines: list[bytes], first: int, today: date) -> tuple[Chunk, dict[str, float]]:
    """The chunk as the push validates it, with the time of each part."""
    started = time.perf_counter()
    raws = [orjson.loads(line) for line in lines]
    parsed = time.perf_counter()
    chunk = Chunk(first_index=first)
    for index, raw in enumerate(raws, start=first):
        record, errors = check_record(raw, department="medical_insurance", today=today)
        if record is None:
            chunk.rejects.append((index, source_record_id_of(raw), errors_json(errors)))
        else:
            chunk.indexes.append(index)
            chunk.checked.append(record)
    checked = time.perf_counter()
    return chunk, {"parse_ms": (parsed - started) * 1000, "validate_ms": (checked - parsed) * 1000}


def _own_ms(node: dict[str, Any]) -> float:
    """A plan node's time less its children's (per loop times loops)."""
    total = node["Actual Total Time"] * node.get("Actual Loops", 1)
    children = sum(c["Actual Total Time"] * c.get("Actual Loops", 1) for c in node.get("Plans", []))
    return max(0.0, total - children)


def split_plan(plan: dict[str, Any]) -> dict[str, float]:
    """The store statement's time by part, from its EXPLAIN ANALYZE JSON."""
    parts: dict[str, float] = {}

    def walk(node: dict[str, Any], cte: str | None) -> None:
        name = node.get("Subplan Name", "")
        if name.startswith("CTE "):
            cte = name[4:]
            if cte == "candidates":
                parts["candidates_ms"] = node["Actual Total Time"] * node.get("Actual Loops", 1)
        if node.get("Node Type") == "ModifyTable" and cte in _INSERTS:
            parts[f"insert_{_INSERTS[cte]}_ms"] = _own_ms(node)
        for child in node.get("Plans", []):
            walk(child, cte)

    walk(plan["Plan"], None)
    parts["statement_ms"] = plan["Execution Time"]
    parts["triggers_ms"] = sum(t["Time"] for t in plan.get("Triggers", []))
    return parts


async def store_chunk(
    db: Database,
    rows: list[tuple[Any, ...]],
    values: dict[str, Any],
    drop: list[str],
) -> dict[str, float]:
    """COPY the chunk into the stage and EXPLAIN ANALYZE its store; roll back."""
    async with db.sessionmaker() as session:
        await session.execute(text("SELECT set_config('jit', 'off', true)"))
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        assert driver is not None
        for name, columns in _TABLES.items():
            await driver.execute(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")
        for index in drop:
            await driver.execute(f"DROP INDEX {index}")
        started = time.perf_counter()
        await driver.copy_records_to_table("ingest_stage", records=rows, columns=_STAGE_COLUMNS)
        copy_ms = (time.perf_counter() - started) * 1000
        await driver.execute("ANALYZE ingest_stage")
        started = time.perf_counter()
        plan = await session.scalar(text(f"EXPLAIN (ANALYZE, FORMAT JSON) {_STORE}"), values)
        wall_ms = (time.perf_counter() - started) * 1000
        await session.rollback()
    explained = orjson.loads(plan) if isinstance(plan, str | bytes) else plan
    return {"copy_ms": copy_ms, "store_wall_ms": wall_ms, **split_plan(explained[0])}


def _median(samples: list[dict[str, float]]) -> dict[str, float]:
    keys = sorted({k for s in samples for k in s})
    return {k: round(statistics.median(s.get(k, 0.0) for s in samples), 1) for k in keys}


async def bench(url: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    secret = secrets.token_bytes(32)
    os.environ["WARNEX_SECRET_KEY"] = base64.b64encode(secret).decode()
    os.environ["WARNEX_DATA_DIR"] = str(workdir / "data")
    reset_settings()
    print(f"loading a registry of {args.households} households", file=sys.stderr)
    await prepare(url, args.households, workdir, secret)
    path = workdir / "push.ndjson"
    write_records(path, CHUNK * args.chunks, args.households * 3, tag="B")
    protector = PiiProtector.from_secret(secret)
    db = Database(url, pool_size=2)
    use_database(db)
    today = TODAY_RECEIVED.date()
    pusher = Pusher(uuid.uuid4(), "medical_insurance", "bench", None)
    python: list[dict[str, float]] = []
    stores: dict[str, list[dict[str, float]]] = {"as_is": [], "dropped": []}
    floors: list[float] = []
    try:
        async with db.sessionmaker() as session:
            home = await session.scalar(text("SELECT min(county_code) FROM households"))
        for number, lines in enumerate(_lines(path, CHUNK)):
            print(f"chunk {number + 1} of {args.chunks}", file=sys.stderr, flush=True)
            chunk, times = validate(lines, number * CHUNK, today)
            started = time.perf_counter()
            rows = chunk.stage_rows(protector)
            times["seal_ms"] = (time.perf_counter() - started) * 1000
            python.append(times)
            values = store_values(
                pusher=pusher,
                batch_id=uuid.uuid4(),
                policy=get_policy(),
                now=TODAY_RECEIVED,
                today=today,
            ) | {"home_county": home}
            stores["as_is"].append(await store_chunk(db, rows, values, []))
            if args.drop_index:
                stores["dropped"].append(await store_chunk(db, rows, values, args.drop_index))
            chunk_path = workdir / "chunk.ndjson"
            chunk_path.write_bytes(b"".join(lines))
            floors.append(await time_floor(db, warning_rows(chunk_path, protector)) * 1000)
    finally:
        await db.dispose()
    floor_ms = statistics.median(floors)
    as_is = _median(stores["as_is"])
    outcome: dict[str, Any] = {
        "chunk_records": CHUNK,
        "chunks": args.chunks,
        "households": args.households,
        "python": _median(python),
        "database": as_is,
        "floor_copy_ms": round(floor_ms, 1),
        "ratio_to_floor": {k: round(v / floor_ms, 2) for k, v in (_median(python) | as_is).items()},
    }
    if args.drop_index:
        dropped = _median(stores["dropped"])
        outcome["without"] = {"indexes": args.drop_index, "database": dropped}
        outcome["without"]["saved_ms"] = {
            k: round(as_is[k] - dropped.get(k, 0.0), 1) for k in as_is
        }
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=5, help="10,000-record chunks timed")
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument(
        "--drop-index", action="append", default=[], help="also time without this index"
    )
    args = parser.parse_args()
    if args.chunks < 1:
        parser.error("--chunks must be at least 1")
    with bench_database() as (workdir, url):
        outcome = asyncio.run(bench(url, args, workdir))
    print(orjson.dumps(outcome).decode())


if __name__ == "__main__":
    main()
