"""Soak: `python bench/soak.py [--minutes 10] [--quick]` (on demand, never in CI).

What it does: loads a registry (20k households, 60k persons; 5k with
`--quick`) into a fresh embedded PostgreSQL (or DATABASE_URL as it is),
starts `warnex serve --workers 2` with its consumers and jobs on (the jobs on
their own schedule: each once at start, the overdue scan every 15 minutes),
waits until its start-up work is done, and then for `--minutes` (`--quick`:
60 s) keeps it under mixed load over HTTP:

- batch pushes of 1k-10k NDJSON records every 20-50 s (`--quick`: 500-2,000
  every 3-10 s) from each of four departments (medical insurance, civil
  affairs, housing, human resources), one in 200 records with a bad ID
  number (rejected in the receipt) and every fifth push of civil affairs a
  JSON body whose `records` is no list (a 4xx problem): the deliberate bad
  input, counted apart from the errors;
- one-record pushes from four department clients;
- a county's and a town's staff paging the open cases (up to five pages,
  following `next_cursor`) and opening the households of each page;
- a province viewer reading the dashboard (overview, town regions, trend).

It measures:

- `errors`: answers other than the expected ones and transport errors (target
  0); a 429 (the staff tasks outrunning the per-user rate limit) is counted
  apart in `rate_limited`;
- the server's RSS (all its processes) at start, after the warm-up (the first
  quarter, at most 2 minutes) and at the end (target: end within 20% of
  after-warm-up);
- each consumer's lag, sampled every 0.5 s: the time from an event being the
  newest committed one until the consumer's position passes it (0.5 s
  resolution; target p99 < 5 s over every consumer's samples), and the same
  for the visibility horizon (the newest event below the oldest transaction
  still running: no consumer can read past it);
- at the end, once every consumer has caught up: every matched warning has
  its case, every `warning.accepted` event was applied exactly once (one
  `case_warnings` row and one mention in a case event per accepted warning,
  none twice) and the warnings summary counts each warning once.

Baseline, same run: `GET /ingest/v1/healthz` latencies of the staff task's
client at start (no load), beside the same request's latencies under load.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import secrets
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from database import bench_database
from ingest import serve, settle, stop
from ingest_push import _free_port
from registry_load import COUNTY, write_households
from soak_measures import (
    _CHECKS,
    DEPARTMENTS,
    LAG_SAMPLE_SECONDS,
    LagSampler,
    Tally,
    _percentiles,
    _record,
    _rss_mb,
)

from shared.auth import issue_token
from shared.db import Database, plain_url, use_database
from shared.migrate import migrate
from shared.pii import PiiProtector
from shared.registry import load_households
from shared.registry.files import ndjson_records
from shared.settings import reset_settings

COUNTY_REGION = COUNTY + "000000"
TOWN_REGION = COUNTY + "100000"
PROVINCE_REGION = COUNTY[:2] + "0000000000"
SINGLE_PUSHERS = 4


async def prepare(url: str, households: int, workdir: Path, secret: bytes) -> dict[str, Any]:
    db = Database(url, pool_size=2)
    use_database(db)
    try:
        await migrate(db.engine)
        registry = workdir / "households.ndjson"
        write_households(registry, households, 3)
        made: dict[str, Any] = {"departments": {}, "singles": []}
        async with db.transaction() as session:
            with registry.open("rb") as handle:
                await load_households(
                    session,
                    ndjson_records(handle),
                    protector=PiiProtector.from_secret(secret),
                    actor="bench",
                    today=date(2026, 11, 23),
                )
            for dept in DEPARTMENTS:
                _, made["departments"][dept] = await issue_token(
                    session, kind="client", name=f"soak-{dept}", department=dept
                )
            for n in range(SINGLE_PUSHERS):
                _, token = await issue_token(
                    session, kind="client", name=f"soak-one-{n}", department="medical_insurance"
                )
                made["singles"].append(token)
            for key, role, region in (
                ("county", "county_staff", COUNTY_REGION),
                ("town", "township_staff", TOWN_REGION),
                ("viewer", "viewer", PROVINCE_REGION),
            ):
                _, made[key] = await issue_token(
                    session, kind="user", role=role, region_code=region, name=f"soak-{key}"
                )
    finally:
        await db.dispose()
    return made


class Load:
    """The load tasks, sharing a tally and a stop time."""

    def __init__(self, base: str, tokens: dict[str, Any], persons: int, quick: bool) -> None:
        self.base, self.tokens, self.persons, self.quick = base, tokens, persons, quick
        self.tally = Tally()
        self.stop_at = 0.0
        self.sequence = 0
        # Seconds between a department's batch pushes: about 500 records/s in all
        # for the full soak (a province's departments at a busy hour, and more).
        self.batch_pause = (3.0, 10.0) if quick else (20.0, 50.0)

    def _next(self) -> int:
        self.sequence += 1
        return self.sequence

    def running(self) -> bool:
        return time.perf_counter() < self.stop_at

    async def _call(
        self, client: httpx.AsyncClient, kind: str, method: str, path: str, **kw: Any
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await client.request(method, path, **kw)
        except httpx.HTTPError as exc:
            self.tally.errors[f"{kind}: {type(exc).__name__}"] += 1
            await asyncio.sleep(0.2)
            return None
        self.tally.took(kind, started)
        return response

    def _expect(self, kind: str, response: httpx.Response | None, *codes: int) -> bool:
        if response is None:
            return False
        if response.status_code in codes:
            return True
        if response.status_code == 429:  # the load generator outran a per-user limit
            self.tally.rate_limited[kind] += 1
            return False
        self.tally.errors[f"{kind}: {response.status_code}"] += 1
        return False

    async def batches(self, dept: str, seed: int) -> None:
        rng = random.Random(seed)
        low, high = (500, 2000) if self.quick else (1000, 10_000)
        headers = {
            "Authorization": f"Bearer {self.tokens['departments'][dept]}",
            "Content-Type": "application/x-ndjson",
        }
        pushes = 0
        async with httpx.AsyncClient(base_url=self.base, timeout=300) as client:
            while self.running():
                pushes += 1
                if dept == "civil_affairs" and pushes % 5 == 0:
                    bad = await self._call(
                        client, "bad_push", "POST", "/ingest/v1/batches",
                        content=b'{"records": "not a list"}',
                        headers={**headers, "Content-Type": "application/json"},
                    )  # fmt: skip
                    if bad is not None and 400 <= bad.status_code < 500:
                        self.tally.deliberate_bad += 1
                    else:
                        self._expect("bad_push", bad, 400, 422)
                size = rng.randint(low, high)
                body = b"".join(
                    orjson.dumps(_record(dept, self._next(), self.persons, rng, bad=i % 200 == 199))
                    + b"\n"
                    for i in range(size)
                )
                response = await self._call(
                    client, "batch_push", "POST", "/ingest/v1/batches", content=body,
                    headers=headers,
                )  # fmt: skip
                if self._expect("batch_push", response, 201) and response is not None:
                    receipt = response.json()
                    self.tally.pushed_records += size
                    self.tally.rejected_records += int(receipt["rejected"])
                await asyncio.sleep(rng.uniform(*self.batch_pause))

    async def singles(self, task: int) -> None:
        rng = random.Random(1000 + task)
        headers = {
            "Authorization": f"Bearer {self.tokens['singles'][task]}",
            "Content-Type": "application/json",
        }
        async with httpx.AsyncClient(base_url=self.base, timeout=60) as client:
            while self.running():
                record = _record("medical_insurance", self._next(), self.persons, rng, bad=False)
                response = await self._call(
                    client, "one_push", "POST", "/ingest/v1/batches",
                    content=orjson.dumps({"records": [record]}), headers=headers,
                )  # fmt: skip
                self._expect("one_push", response, 201)
                await asyncio.sleep(0.2)

    async def staff(self, who: str) -> None:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        async with httpx.AsyncClient(base_url=self.base, timeout=60) as client:
            while self.running():
                params: dict[str, str] = {"state": "open"}
                for _ in range(5):
                    page = await self._call(
                        client, f"cases_{who}", "GET", "/identification/v1/cases",
                        params=params, headers=headers,
                    )  # fmt: skip
                    if not self._expect(f"cases_{who}", page, 200) or page is None:
                        break
                    body = page.json()
                    for item in body["items"][:5]:
                        household = await self._call(
                            client, f"household_{who}", "GET",
                            f"/identification/v1/households/{item['household_id']}",
                            headers=headers,
                        )  # fmt: skip
                        self._expect(f"household_{who}", household, 200)
                        await asyncio.sleep(0.1)  # a person reads a household
                    if not body["next_cursor"]:
                        break
                    params = {"state": "open", "cursor": body["next_cursor"]}
                await asyncio.sleep(0.5)

    async def dashboard(self) -> None:
        headers = {"Authorization": f"Bearer {self.tokens['viewer']}"}
        reads = [
            ("/reporting/v1/overview", {}),
            ("/reporting/v1/regions", {"level": "town", "region": COUNTY_REGION}),
            ("/reporting/v1/trend", {"interval": "week"}),
        ]
        async with httpx.AsyncClient(base_url=self.base, timeout=60) as client:
            while self.running():
                for path, params in reads:
                    response = await self._call(
                        client, "dashboard", "GET", path, params=params, headers=headers
                    )
                    self._expect("dashboard", response, 200)
                await asyncio.sleep(1.0)

    async def health(self, samples: int) -> list[float]:
        times = []
        async with httpx.AsyncClient(base_url=self.base, timeout=60) as client:
            for _ in range(samples):
                started = time.perf_counter()
                (await client.get("/ingest/v1/healthz")).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.05)
        return times


async def soak(env: dict[str, str], url: str, tokens: dict[str, Any], args: Any) -> dict[str, Any]:
    seconds = 60.0 if args.quick else args.minutes * 60
    warm_up = min(120.0, seconds / 4)
    conn = await asyncpg.connect(plain_url(url))
    port = _free_port()
    log = Path(env["WARNEX_DATA_DIR"]).parent / "soak.serve.log"
    server = serve(env, port, log, processes=2)
    load = Load(f"http://127.0.0.1:{port}", tokens, args.households * 3, args.quick)
    sampler = LagSampler()
    try:
        await settle(conn)
        rss_start = _rss_mb(server.pid)
        health_idle = await load.health(40)
        load.stop_at = time.perf_counter() + seconds
        sampling_done = asyncio.Event()
        tasks = [
            *(load.batches(dept, n) for n, dept in enumerate(DEPARTMENTS)),
            *(load.singles(n) for n in range(SINGLE_PUSHERS)),
            load.staff("county"),
            load.staff("town"),
            load.dashboard(),
        ]
        running = [asyncio.create_task(t) for t in tasks]
        sampling = asyncio.create_task(sampler.run(conn, sampling_done))
        print(f"load for {seconds:.0f} s (warm-up {warm_up:.0f} s)", file=sys.stderr, flush=True)
        await asyncio.sleep(warm_up)
        rss_warm = _rss_mb(server.pid)
        health_loaded = await load.health(40)
        await asyncio.gather(*running)
        rss_end = _rss_mb(server.pid)
        sampling_done.set()
        await sampling
        print("load over; waiting for the consumers to catch up", file=sys.stderr, flush=True)
        deadline = time.perf_counter() + 300
        while not await sampler.sample(conn) and time.perf_counter() < deadline:
            await asyncio.sleep(LAG_SAMPLE_SECONDS)
        checks = {name: int(await conn.fetchval(sql)) for name, sql in _CHECKS.items()}
    finally:
        stop(server, log)
        await conn.close()
    tally = load.tally
    consumed_once = (
        checks["accepted_events"]
        == checks["case_warnings"]
        == checks["case_event_mentions"]
        == checks["case_event_distinct"]
    )
    lag = sampler.figures()
    return {
        "seconds": seconds,
        "requests": dict(tally.requests),
        "latency": {kind: _percentiles(times) for kind, times in tally.times_ms.items()},
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors),
        "rate_limited": dict(tally.rate_limited),
        "deliberate_bad_requests": tally.deliberate_bad,
        "pushed_records": tally.pushed_records,
        "rejected_records": tally.rejected_records,
        "rss_start_mb": rss_start,
        "rss_after_warm_up_mb": rss_warm,
        "rss_end_mb": rss_end,
        "rss_drift": round(rss_end / rss_warm - 1, 3) if rss_warm else None,
        **lag,
        "baseline_healthz_idle": _percentiles(health_idle),
        "healthz_under_load": _percentiles(health_loaded),
        **checks,
        "every_matched_warning_has_its_case": checks["matched_without_case"] == 0,
        "every_accepted_event_applied_once": consumed_once,
        "summary_counts_each_warning_once": checks["warnings_in_summary"] == checks["warnings"],
        "targets": {"errors": 0, "rss_drift_max": 0.2, "lag_p99_s_max": 5, "lost": 0},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load")
    parser.add_argument("--quick", action="store_true", help="about 60 s of lighter load")
    parser.add_argument("--households", type=int, default=None, help="registry size")
    args = parser.parse_args()
    if args.households is None:
        args.households = 5000 if args.quick else 20_000
    with bench_database() as (workdir, url):
        secret = secrets.token_bytes(32)
        env = {
            **os.environ,
            "DATABASE_URL": plain_url(url),
            "WARNEX_SECRET_KEY": base64.b64encode(secret).decode(),
            "WARNEX_DATA_DIR": str(workdir / "data"),
            "WARNEX_RUN_WORKERS": "true",
            "WARNEX_LOG_LEVEL": "WARNING",
        }
        os.environ.update({k: env[k] for k in ("WARNEX_SECRET_KEY", "WARNEX_DATA_DIR")})
        reset_settings()
        print(f"loading a registry of {args.households} households", file=sys.stderr, flush=True)
        tokens = asyncio.run(prepare(url, args.households, workdir, secret))
        load_before = os.getloadavg()
        outcome = asyncio.run(soak(env, url, tokens, args))
        outcome = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_average_start": [round(x, 1) for x in load_before],
            "load_average_end": [round(x, 1) for x in os.getloadavg()],
            "households": args.households,
            **outcome,
        }
    print(orjson.dumps(outcome).decode())


if __name__ == "__main__":
    main()
