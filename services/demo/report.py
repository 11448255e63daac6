"""What the demo loaded, and what to try: counts (never a name or an ID
number), the tokens, the URLs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text

from services.demo.context import Demo
from services.demo.driver import bearer
from shared.policy import get_policy

# `warnex serve`'s defaults.
SERVER = "http://127.0.0.1:8000"
DEMO_POLICY = "deploy/policy/province-chain.toml"
# The worklists (SPEC §12), counted through their pages as county staff see them.
WORKLISTS = {
    "ready_to_eliminate": "/assistance/v1/ready_to_eliminate",
    "rollback_candidates": "/assistance/v1/rollback_candidates",
    "follow_up": "/identification/v1/follow_up",
}
DOCS = ("/ingest/v1/docs", "/identification/v1/docs", "/assistance/v1/docs", "/reporting/v1/docs")

_COUNTS = {
    "regions": "SELECT level, count(*) FROM regions GROUP BY level",
    "households": "SELECT category, count(*) FROM households GROUP BY category",
    "persons": "SELECT 'persons', count(*) FROM members",
    "batches": "SELECT department, count(*) FROM ingest_batches GROUP BY department",
    "warnings": "SELECT status, count(*) FROM warnings GROUP BY status",
    "late_warnings": "SELECT 'late', count(*) FROM warnings WHERE late",
    "name_mismatches": "SELECT 'name_mismatch', count(*) FROM warnings WHERE name_mismatch",
    "cases": "SELECT coalesce(outcome, 'open'), count(*) FROM cases GROUP BY 1",
    "case_sources": "SELECT source, count(*) FROM cases GROUP BY source",
    "open_cases": (
        "SELECT CASE WHEN deadline < :today THEN 'overdue'"
        " WHEN deadline - :today <= :due_soon THEN 'due_soon' ELSE 'on_track' END, count(*)"
        " FROM cases WHERE state = 'open' GROUP BY 1"
    ),
    "monitoring_objects": "SELECT status, count(*) FROM monitoring_objects GROUP BY status",
    "monitoring_types": (
        "SELECT monitoring_type, count(*) FROM monitoring_objects GROUP BY monitoring_type"
    ),
    "measures": "SELECT status, count(*) FROM measures GROUP BY status",
    "natural_eliminations": (
        "SELECT 'natural', count(*) FROM monitoring_objects WHERE eliminated_naturally"
    ),
    "requests": "SELECT kind || ' ' || status, count(*) FROM object_requests GROUP BY 1",
    "assessments": "SELECT kind, count(*) FROM assessments GROUP BY kind",
    "monthly_visits": (
        "SELECT CASE WHEN new_risk THEN 'new_risk' ELSE 'routine' END, count(*)"
        " FROM household_visits GROUP BY 1"
    ),
    "events": "SELECT 'events', count(*) FROM events",
}


@dataclass
class DemoReport:
    seed: int
    size: str
    seconds: float
    calls: int
    counts: dict[str, dict[str, int]]
    feeds: dict[str, int]
    worklists: dict[str, int] = field(default_factory=dict)
    chain: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The summary, the URLs and the tokens, for a terminal."""
        out = [f"warnex demo (size {self.size}, seed {self.seed}) loaded in {self.seconds:.0f} s"]
        for name, counts in self.counts.items():
            total = sum(counts.values())
            detail = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
            out.append(f"  {name}: {total:,}" + (f" ({detail})" if len(counts) > 1 else ""))
        out.append("  feeds: " + ", ".join(f"{k} {v}" for k, v in sorted(self.feeds.items())))
        out.append("  worklists: " + ", ".join(f"{k} {v:,}" for k, v in self.worklists.items()))
        out += [
            f"  requests went up {' → '.join(self.chain)} (the demo policy, {DEMO_POLICY});",
            f"  serve with WARNEX_POLICY_FILE={DEMO_POLICY} for new ones to do the same",
        ]
        out += [
            "",
            "Try it: start the services with `warnex serve`, then open",
            f"  {SERVER}/reporting/v1/dashboard   (the dashboard; sign in with the viewer token)",
            *(f"  {SERVER}{path}" for path in DOCS),
            "  and call the API with a token, e.g.",
            f'  curl -H "Authorization: Bearer $TOKEN" \\\n'
            f'    "{SERVER}/identification/v1/cases?state=overdue"',
            "  (likewise /identification/v1/requests?status=pending, /identification/v1/follow_up,",
            "  /assistance/v1/ready_to_eliminate, /assistance/v1/rollback_candidates)",
            "",
            "Tokens (each a role or a department; keep them like passwords):",
        ]
        width = max(len(label) for label in self.tokens)
        out += [f"  {label.ljust(width)}  {token}" for label, token in self.tokens.items()]
        return out


async def gather_report(demo: Demo, *, seed: int, seconds: float) -> DemoReport:
    params: dict[str, Any] = {"today": demo.today, "due_soon": 3}
    counts: dict[str, dict[str, int]] = {}
    async with demo.driver.db.transaction() as session:
        for name, sql in _COUNTS.items():
            rows = await session.execute(text(sql), params if ":today" in sql else {})
            counts[name] = {str(key): int(n) for key, n in rows.all()}
    county_token = next(t for label, t in demo.tokens.items() if label.startswith("county_staff"))
    feeds = await demo.driver.call("GET", "/ingest/v1/feeds", bearer(county_token))
    states: dict[str, int] = {}
    for item in feeds["items"]:
        states[item["state"]] = states.get(item["state"], 0) + 1
    worklists = {
        name: await _count_pages(demo, path, bearer(county_token))
        for name, path in WORKLISTS.items()
    }
    return DemoReport(
        seed=seed,
        size=demo.size.name,
        seconds=seconds,
        calls=demo.driver.calls,
        counts=counts,
        feeds=states,
        worklists=worklists,
        chain=get_policy().requests.chain("rollback"),
        tokens=dict(demo.tokens),
    )


async def _count_pages(demo: Demo, path: str, who: dict[str, str]) -> int:
    """Items of a keyset-paged list, page after page."""
    total, params = 0, {"limit": "500"}
    while True:
        page = await demo.driver.call("GET", f"{path}?{urlencode(params)}", who)
        total += len(page["items"])
        if page["next_cursor"] is None:
            return total
        params["cursor"] = page["next_cursor"]
