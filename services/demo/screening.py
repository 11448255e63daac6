"""The demo's screening campaign (集中排查, SPEC §11), in progress today.

Started six weeks ago with the Meixian plan's phases: the mobilisation done,
household screening due in a few days with most villages screened and a few
behind, a cross-screening sample drawn and mostly checked (with differences),
and problems in the ledger, some rectified and some past their deadline.
Everything goes through the screening API, as village and county staff would.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import text

from services.demo.context import Demo
from shared.catalog import PROBLEM_TYPES

CAMPAIGNS = "/identification/v1/campaigns"
PROBLEMS = "/identification/v1/problems"
# Villages whose screening is behind: the first few of the county, by code.
VILLAGES_BEHIND = 4
# Phases as days from the start (Meixian 2022: 30 April .. 12 June).
PHASES = (
    ("动员部署", "mobilisation", 7),
    ("入户排查", "household_screening", 48),
    ("交叉排查", "cross_screening", 53),
    ("暗访抽查", "spot_check", 58),
    ("数据录入", "data_entry", 66),
    ("总结报告", "summary", 70),
)
STARTED_DAYS_AGO = 42
RECENT_DAYS = 12

_HOUSEHOLDS = text(
    "SELECT region_code, household_id FROM households"
    " WHERE county_code = :county ORDER BY region_code, household_id"
)


async def screening_campaign(demo: Demo) -> None:
    """Run the campaign of the demo's first county up to today."""
    county = demo.registry.counties[0][0] + "000000"
    start = max(demo.day(-STARTED_DAYS_AGO), date(demo.today.year, 1, 1))
    county_staff = await demo.county_staff(county)
    driver = demo.driver
    with driver.on(start):
        campaign = await driver.call(
            "POST",
            CAMPAIGNS,
            county_staff,
            {
                "name": f"{demo.today.year}年防止返贫集中排查",
                "region_code": county,
                "year": demo.today.year,
                "starts_on": start.isoformat(),
                "phases": [
                    {"name": name, "kind": kind, "due_on": (start + timedelta(days=d)).isoformat()}
                    for name, kind, d in PHASES
                ],
            },
        )
    path = f"{CAMPAIGNS}/{campaign['campaign_id']}"
    mobilised = start + timedelta(days=5)
    with driver.on(min(mobilised, demo.today)):
        await driver.call(
            "PATCH",
            path,
            county_staff,
            {
                "phases": [{"index": 0, "done_on": min(mobilised, demo.today).isoformat()}],
                "reported_figures": {"staff_trained": 40 + demo.rng.randrange(60)},
            },
        )
    await _screen_villages(demo, path, county, start)
    await _cross_check(demo, path, county_staff)
    await _problems(demo, campaign["campaign_id"], county, start)
    await driver.settle()


async def _screen_villages(demo: Demo, path: str, county: str, start: date) -> None:
    async with demo.driver.db.transaction() as session:
        rows = (await session.execute(_HOUSEHOLDS, {"county": county[:6]})).all()
    by_village: dict[str, list[str]] = {}
    for region_code, household_id in rows:
        by_village.setdefault(region_code, []).append(household_id)
    days = max((demo.today - start).days - 6, 1)
    for n, (village, households) in enumerate(sorted(by_village.items())):
        share = demo.rng.uniform(0.2, 0.8) if n < VILLAGES_BEHIND else 1.0
        screened = households[: int(len(households) * share)]
        if not screened:
            continue
        on = start + timedelta(days=6 + demo.rng.randrange(days))
        # Clues found in the last days are still on their way to a decision;
        # older ones would all be overdue by now, which no county lets happen.
        recent = (demo.today - on).days <= RECENT_DAYS
        records = [_record(demo, household_id, on, recent=recent) for household_id in screened]
        with demo.driver.on(on):
            await demo.driver.call(
                "POST",
                f"{path}/screenings",
                await demo.village_staff(village),
                {"records": records},
                accept=(201,),
            )


def _record(demo: Demo, household_id: str, on: date, *, recent: bool = False) -> dict[str, Any]:
    """A village form's row: most households safe and above the line; a few
    with an unsafe guarantee, a low income, civil-affairs aid, or a need to
    be looked at (which opens a case; only forms of the last days say so)."""
    rng = demo.rng
    roll = rng.random()
    record: dict[str, Any] = {
        "household_id": household_id,
        "screened_on": on.isoformat(),
        "screener": "网格员",
        "residence": rng.choice(["in_village"] * 8 + ["county_seat", "outside_county"]),
        "housing": "own_safe",
        "schooling": rng.choice(["in_school", "none", "none"]),
        "drinking_water": "tap_safe",
        "insured": "all",
        "uninsured_members": 0,
        "income_band": rng.choice(["from_6000_to_10000", "above_10000", "above_10000"]),
        "rigid_expenditure": False,
        "civil_affairs_support": "none",
        "needs_inclusion": "no",
    }
    if roll < 0.01:
        if recent and roll < 0.005:
            record["needs_inclusion"] = rng.choice(["yes", "unsure"])
        record["income_band"] = "below_4000"
        record |= {"rigid_expenditure": True, "rigid_expenditure_reason": "家人重病住院"}
    elif roll < 0.02:
        record["housing"] = "unsafe"
    elif roll < 0.03:
        record |= {"income_band": "from_4000_to_6000"}
    elif roll < 0.04:
        record["civil_affairs_support"] = rng.choice(["dibao", "tekun", "temporary_assistance"])
    elif roll < 0.06:
        record |= {"insured": "partly", "uninsured_members": 1}
    return record


async def _cross_check(demo: Demo, path: str, county_staff: dict[str, str]) -> None:
    """A cross-screening sample, four in five of it checked; one checked
    household in eight found otherwise than the village recorded it."""
    driver = demo.driver
    with driver.on(demo.day(-3)):
        sample = await driver.call(
            "POST",
            f"{path}/spot_checks",
            county_staff,
            {"kind": "cross", "seed": demo.rng.randrange(1, 10**9)},
            accept=(201,),
        )
    async with driver.db.transaction() as session:
        ids = [h["household_id"] for h in sample["households"]]
        screened = await session.execute(
            text(
                "SELECT household_id, region_code FROM screenings"
                " WHERE campaign_id = :campaign AND household_id = ANY(:ids)"
            ),
            {"campaign": sample["campaign_id"], "ids": ids},
        )
        screened_ids: dict[str, str] = {row[0]: row[1] for row in screened}
    checked = []
    for household in sample["households"]:
        if household["household_id"] not in screened_ids or demo.rng.random() > 0.8:
            continue
        record = _record(demo, household["household_id"], demo.day(-1))
        record["screener"] = "交叉排查组"
        if demo.rng.random() < 0.125:
            record["housing"] = "unsafe"
        checked.append(record)
    if checked:
        with driver.on(demo.day(-1)):
            await driver.call(
                "POST",
                f"{path}/spot_checks/{sample['spot_check_id']}/results",
                county_staff,
                {"records": checked},
            )


async def _problems(demo: Demo, campaign_id: str, county: str, start: date) -> None:
    """A dozen problems of the ledger across the towns: half rectified, two
    past their deadline and still open."""
    driver, rng = demo.driver, demo.rng
    towns = [code for code, _ in demo.registry.towns if code.startswith(county[:6])]
    types = sorted(PROBLEM_TYPES)
    for n in range(12):
        town = towns[n % len(towns)]
        found = start + timedelta(days=8 + rng.randrange(max((demo.today - start).days - 10, 1)))
        due = demo.day(-2 - n) if n < 2 else found + timedelta(days=15 + rng.randrange(10))
        due = max(due, found)
        staff = await demo.township_staff(town)
        with driver.on(found):
            problem = await driver.call(
                "POST",
                PROBLEMS,
                staff,
                {
                    "campaign_id": campaign_id,
                    "region_code": town,
                    "type": types[n % len(types)],
                    "description": "排查发现的问题（演示数据）",
                    "found_on": found.isoformat(),
                    "due_on": due.isoformat(),
                    "responsible": "乡镇包村干部",
                },
                accept=(201,),
            )
        if n >= 2 and n % 2 == 0:
            fixed = min(found + timedelta(days=3 + rng.randrange(8)), demo.today)
            with driver.on(fixed):
                await driver.call(
                    "PATCH",
                    f"{PROBLEMS}/{problem['problem_id']}",
                    staff,
                    {"status": "rectified", "rectified_on": fixed.isoformat(), "action": "已整改"},
                )
