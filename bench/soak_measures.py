"""What bench/soak.py pushes and measures: its records, the tally, the
server's RSS, the consumers' lag, and the checks at the end (every case,
every event once)."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from registry_load import _name, _number

DEPARTMENTS = {
    "medical_insurance": "high_medical_expense",
    "civil_affairs": "dibao",
    "housing": "unsafe_housing",
    "human_resources": "unemployment",
}
LAG_SAMPLE_SECONDS = 0.5

_HEAD = "SELECT xid, id FROM events ORDER BY xid DESC, id DESC LIMIT 1"
# The visibility horizon as a pseudo-consumer: the newest event below the
# oldest running transaction, the furthest any consumer may read. Its lag is
# what a writing transaction still open holds every consumer back by.
HORIZON = "(visibility horizon)"
_POSITIONS = (
    "SELECT name, xid, event_id FROM consumer_positions"
    " UNION ALL SELECT * FROM (SELECT '" + HORIZON + "', xid, id FROM events"
    " WHERE xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    " ORDER BY xid DESC, id DESC LIMIT 1) h"
)
_CHECKS = {
    "matched_warnings": "SELECT count(*) FROM warnings WHERE status = 'matched'",
    "matched_without_case": (
        "SELECT count(*) FROM warnings w WHERE w.status = 'matched' AND NOT EXISTS ("
        " SELECT 1 FROM case_warnings cw"
        " WHERE cw.county_code = w.county_code AND cw.warning_id = w.warning_id)"
    ),
    "accepted_events": "SELECT count(*) FROM events WHERE type = 'warning.accepted'",
    "case_warnings": "SELECT count(*) FROM case_warnings",
    "case_event_mentions": (
        "SELECT count(*) FROM events e, jsonb_array_elements_text(e.payload->'warning_ids') x"
        " WHERE e.type IN ('case.opened', 'case.warnings_attached')"
    ),
    "case_event_distinct": (
        "SELECT count(DISTINCT x) FROM events e,"
        " jsonb_array_elements_text(e.payload->'warning_ids') x"
        " WHERE e.type IN ('case.opened', 'case.warnings_attached')"
    ),
    "warnings": "SELECT count(*) FROM warnings",
    "warnings_in_summary": (
        "SELECT coalesce(sum(n), 0) FROM summary_warnings WHERE grain = 'county' AND bucket = 'day'"
    ),
    "cases": "SELECT count(*) FROM cases",
}


def _rss_mb(pid: int) -> float:
    """VmRSS of `pid` and all its descendants, in MB."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total_kib, stack = 0, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return round(total_kib / 1024, 1)


class LagSampler:
    """Every LAG_SAMPLE_SECONDS: the newest event; per consumer, when its
    position passed each earlier sample's newest event."""

    def __init__(self) -> None:
        self.pending: dict[str, list[tuple[float, tuple[int, int]]]] = {}
        self.lags: dict[str, list[float]] = {}

    async def run(self, conn: asyncpg.Connection, until: asyncio.Event) -> None:
        while not until.is_set():
            await self.sample(conn)
            await asyncio.sleep(LAG_SAMPLE_SECONDS)

    async def sample(self, conn: asyncpg.Connection) -> bool:
        """Take one sample; True when every consumer is at the newest event."""
        now = time.perf_counter()
        head_row = await conn.fetchrow(_HEAD)
        head = (0, 0) if head_row is None else (head_row["xid"], head_row["id"])
        caught_up = True
        for row in await conn.fetch(_POSITIONS):
            at = (row["xid"], row["event_id"])
            waiting = self.pending.setdefault(row["name"], [])
            lags = self.lags.setdefault(row["name"], [])
            while waiting and waiting[0][1] <= at:
                lags.append(now - waiting.pop(0)[0])
            if at < head:
                waiting.append((now, head))
                caught_up = False
            else:
                lags.append(0.0)
        return caught_up

    def figures(self) -> dict[str, Any]:
        every = sorted(
            lag for name, lags in self.lags.items() if name != HORIZON for lag in lags
        ) or [0.0]
        horizon = sorted(self.lags.get(HORIZON, [])) or [0.0]
        return {
            "lag_p99_s": round(every[max(0, int(len(every) * 0.99 + 0.5) - 1)], 2),
            "lag_max_s": {name: round(max(lags or [0.0]), 2) for name, lags in self.lags.items()},
            "horizon_lag_p99_s": round(horizon[max(0, int(len(horizon) * 0.99 + 0.5) - 1)], 2),
        }


def _percentiles(times: list[float]) -> dict[str, float]:
    ordered = sorted(times) or [0.0]
    return {
        "n": len(times),
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99 + 0.5) - 1)], 1),
    }


@dataclass
class Tally:
    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)
    deliberate_bad: int = 0
    rejected_records: int = 0
    pushed_records: int = 0
    times_ms: dict[str, list[float]] = field(default_factory=dict)

    def took(self, kind: str, started: float) -> None:
        self.requests[kind] += 1
        self.times_ms.setdefault(kind, []).append((time.perf_counter() - started) * 1000)


def _record(dept: str, n: int, persons: int, rng: random.Random, *, bad: bool) -> dict[str, Any]:
    person = rng.randrange(persons + persons // 50)  # one in 50 outside the registry
    record: dict[str, Any] = {
        "source_record_id": f"{dept[:3]}-{n:09d}",
        "warning_type": DEPARTMENTS[dept],
        "id_number": "110101199003071234X" if bad else _number(person),
        "name": _name(person),
        "details": {"note": "soak"},
    }
    if dept == "medical_insurance":
        record.update(event_date="2026-11-01", amount_yuan=25000.5)
    return record
