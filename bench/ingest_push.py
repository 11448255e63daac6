"""Batch push benchmark: `python bench/ingest_push.py [--sizes 10000,100000,1000000]`.

Loads a registry (100k households, 300k persons by default) into a fresh
embedded PostgreSQL (or DATABASE_URL as it is), then for each size writes an
NDJSON file of `high_medical_expense` records (most matching the registry,
some unknown, some under the threshold), starts `warnex serve` as its own
process, streams the file to `POST /ingest/v1/batches` over HTTP and times
it to the receipt. The server's peak RSS (VmHWM) is read before the push
(idle) and after it, a fresh process per size, so that memory that grows
with the batch shows. As a floor it times a plain COPY of the 100k-record
batch's rows into an unindexed table of the warnings' shape.

Target (issue 3): 100k records accepted with the receipt in under 10 s on a
2-core machine, memory flat from 10k to 1M. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
from database import bench_database
from registry_load import _name, _number, write_households

from shared.auth import issue_token
from shared.db import Database, plain_url, use_database
from shared.idcard import mask_id_number
from shared.migrate import migrate
from shared.pii import PiiProtector
from shared.registry import load_households
from shared.registry.files import ndjson_records
from shared.settings import reset_settings

TODAY_RECEIVED = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
UNKNOWN_EVERY = 50  # one record in 50 names a person outside the registry


def write_records(path: Path, size: int, persons: int, tag: str) -> None:
    with path.open("wb") as out:
        for i in range(size):
            person = i % persons if i % UNKNOWN_EVERY else persons + i
            out.write(
                orjson.dumps(
                    {
                        "source_record_id": f"{tag}-{i:08d}",
                        "warning_type": "high_medical_expense",
                        "id_number": _number(person),
                        "name": _name(person),
                        "region_code": f"610326{100 + i % 12:03d}{200 + i % 25:03d}",
                        "event_date": "2026-11-01",
                        "amount_yuan": round(5000 + (i * 37) % 30000 + 0.5, 2),
                        "details": {"hospital": "县人民医院", "visits": i % 9},
                    }
                )
                + b"\n"
            )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ingest/v1/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the server did not become ready")


def _chunks(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            yield block


def push(env: dict[str, str], token: str, path: Path) -> dict[str, object]:
    port = _free_port()
    server = _serve(env, port)
    try:
        idle_kib = _kib(server.pid, "VmHWM")
        started = time.perf_counter()
        response = httpx.post(
            f"http://127.0.0.1:{port}/ingest/v1/batches",
            content=_chunks(path),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
            timeout=600,
        )
        seconds = time.perf_counter() - started
        peak_kib = _kib(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(30)
    if response.status_code != 201:
        raise SystemExit(f"push failed: {response.status_code} {response.text[:300]}")
    receipt = response.json()
    return {
        "seconds": seconds,
        "accepted": receipt["accepted"],
        "rejected": receipt["rejected"],
        "idle_rss_mb": idle_kib / 1024,
        "peak_rss_mb": peak_kib / 1024,
    }


def warning_rows(path: Path, protector: PiiProtector) -> list[tuple[object, ...]]:
    """The rows a push stores, built outside any timing, for the COPY floor."""
    rows: list[tuple[object, ...]] = []
    with path.open("rb") as handle:
        for index, line in enumerate(handle):
            r = orjson.loads(line)
            number = r["id_number"]
            rows.append(
                ("610326", uuid.uuid4(), "medical_insurance", r["warning_type"],
                 r["source_record_id"], uuid.uuid4(), index, protector.match_key(number),
                 protector.seal(number), mask_id_number(number), r["name"], r["region_code"],
                 r["region_code"], None, datetime(2026, 11, 1).date(), r["amount_yuan"],
                 orjson.dumps(r["details"]).decode(), TODAY_RECEIVED, TODAY_RECEIVED.date(),
                 "matched", False, False)
            )  # fmt: skip
    return rows


_FLOOR_COLUMNS = (
    "county_code", "warning_id", "department", "warning_type", "source_record_id", "batch_id",
    "batch_index", "id_hash", "id_sealed", "id_masked", "name", "reported_region_code",
    "region_code", "household_id", "event_date", "amount_yuan", "details", "received_at",
    "received_on", "status", "late", "name_mismatch",
)  # fmt: skip


async def time_floor(db: Database, rows: list[tuple[object, ...]]) -> float:
    """A plain COPY of the batch's rows into an unindexed table of the warnings' shape."""
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute(
            "DROP TABLE IF EXISTS bench_warnings_floor; CREATE TABLE bench_warnings_floor"
            " (LIKE warnings INCLUDING DEFAULTS EXCLUDING INDEXES EXCLUDING CONSTRAINTS)"
        )
        started = time.perf_counter()
        async with driver.transaction():
            await driver.copy_records_to_table(
                "bench_warnings_floor", records=rows, columns=_FLOOR_COLUMNS
            )
        seconds = time.perf_counter() - started
        await driver.execute("DROP TABLE bench_warnings_floor")
    return seconds


async def prepare(url: str, households: int, workdir: Path, secret: bytes) -> str:
    """Migrate, load the registry, and return a medical-insurance client token."""
    db = Database(url, pool_size=2)
    use_database(db)
    try:
        await migrate(db.engine)
        registry = workdir / "households.ndjson"
        write_households(registry, households, 3)
        async with db.transaction() as session:
            with registry.open("rb") as handle:
                await load_households(
                    session,
                    ndjson_records(handle),
                    protector=PiiProtector.from_secret(secret),
                    actor="bench",
                    today=TODAY_RECEIVED.date(),
                )
            _, token = await issue_token(
                session, kind="client", name="医保", department="medical_insurance"
            )
    finally:
        await db.dispose()
    return token


async def floor_for(url: str, path: Path, secret: bytes) -> float:
    db = Database(url, pool_size=1)
    try:
        return await time_floor(db, warning_rows(path, PiiProtector.from_secret(secret)))
    finally:
        await db.dispose()


def bench(sizes: list[int], households: int, workdir: Path, url: str) -> dict[str, object]:
    secret = secrets.token_bytes(32)
    env = {
        **os.environ,
        "DATABASE_URL": plain_url(url),
        "WARNEX_SECRET_KEY": base64.b64encode(secret).decode(),
        "WARNEX_DATA_DIR": str(workdir / "data"),
        "WARNEX_RUN_WORKERS": "false",
        "WARNEX_LOG_LEVEL": "WARNING",
        # 1M records are about 260 MB, past the default 64 MiB body limit.
        "WARNEX_BULK_BODY_LIMIT_BYTES": str(1 << 30),
    }
    os.environ.update({k: env[k] for k in ("WARNEX_SECRET_KEY", "WARNEX_DATA_DIR")})
    reset_settings()
    print(f"loading a registry of {households} households", file=sys.stderr)
    token = asyncio.run(prepare(url, households, workdir, secret))
    results = []
    floor_path = None
    for size in sizes:
        path = workdir / f"push-{size}.ndjson"
        write_records(path, size, households * 3, tag=f"S{size}")
        megabytes = path.stat().st_size / 1e6
        print(f"pushing {size} records ({megabytes:.1f} MB)", file=sys.stderr)
        outcome = push(env, token, path)
        results.append(
            {
                "records": size,
                "megabytes": round(megabytes, 1),
                "seconds": round(float(outcome["seconds"]), 2),  # type: ignore[arg-type]
                "records_per_s": round(size / float(outcome["seconds"])),  # type: ignore[arg-type]
                "accepted": outcome["accepted"],
                "idle_rss_mb": round(float(outcome["idle_rss_mb"])),  # type: ignore[arg-type]
                "peak_rss_mb": round(float(outcome["peak_rss_mb"])),  # type: ignore[arg-type]
            }
        )
        if size == 100_000 or (floor_path is None and size == max(sizes)):
            floor_path = path
    answer: dict[str, object] = {"pushes": results}
    if floor_path is not None:
        print("timing the COPY floor", file=sys.stderr)
        floor = asyncio.run(floor_for(url, floor_path, secret))
        timed = next(r for r in results if workdir / f"push-{r['records']}.ndjson" == floor_path)
        answer |= {
            "floor_records": timed["records"],
            "floor_seconds": round(floor, 2),
            "ratio_to_floor": round(float(timed["seconds"]) / floor, 1),  # type: ignore[arg-type]
        }
    return answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--households", type=int, default=100_000)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with bench_database() as (workdir, url):
        outcome = bench(sizes, args.households, workdir, url)
    print(orjson.dumps(outcome).decode())


if __name__ == "__main__":
    main()
