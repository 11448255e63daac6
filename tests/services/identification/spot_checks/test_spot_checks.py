"""Cross-screening and spot-check samples (交叉排查, 暗访抽查; SPEC §11): the
reproducible draw with its per-town and per-village minimums and its
weighting, the checkers' records, and the differences from the village's."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import text

from services.identification.spot_checks.sampling import Village, draw_villages
from shared import clock
from tests.services.identification.ledger_helpers import (
    CAMPAIGNS,
    COUNTY,
    NOW,
    OTHER_TOWN,
    TOWN,
    add_campaign,
    add_households,
    add_object,
    add_problem,
    add_regions,
    add_screening,
    screening_record,
    staff_headers,
    village,
)

T1 = [village(TOWN, n) for n in range(201, 206)]  # five villages of 12 households
BIG, SMALL = village(OTHER_TOWN, 201), village(OTHER_TOWN, 202)  # 25 and 4 households


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def _county(session) -> None:
    await add_regions(session, [*T1, BIG, SMALL])
    for code in T1:
        await add_households(session, code, 12)
    await add_households(session, BIG, 25)
    await add_households(session, SMALL, 4)


def _path(campaign_id, *rest: str) -> str:
    return "/".join([f"{CAMPAIGNS}/{campaign_id}/spot_checks", *rest])


async def _draw(client, headers, campaign_id, **body) -> dict:
    response = await client.post(
        _path(campaign_id), json={"kind": "cross", **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _sampled(spot_check: dict) -> dict[str, set[str]]:
    by_village: dict[str, set[str]] = {}
    for household in spot_check["households"]:
        by_village.setdefault(household["region_code"], set()).add(household["household_id"])
    return by_village


async def _events(session, event_type: str) -> list[dict]:
    rows = await session.execute(
        text("SELECT payload FROM events WHERE type = :type ORDER BY id"), {"type": event_type}
    )
    return [row.payload for row in rows]


async def test_sample_takes_three_villages_per_town_and_ten_households_per_village(client, session):
    await _county(session)
    campaign_id = await add_campaign(session)
    headers = await staff_headers(session, "county_staff", COUNTY)

    drawn = await _draw(client, headers, campaign_id, seed=7)

    sampled = _sampled(drawn)
    town_one = [code for code in sampled if code.startswith(TOWN[:9])]
    assert len(town_one) == 3  # of five
    assert BIG in sampled and SMALL in sampled  # a town of two gives both
    assert all(len(sampled[code]) == 10 for code in town_one)  # of twelve
    assert len(sampled[BIG]) == 10  # of 25
    assert sampled[SMALL] == {f"H{SMALL[6:]}-0{n}" for n in range(1, 5)}  # all four
    assert drawn["seed"] == 7 and drawn["kind"] == "cross"
    assert all(h["checked"] is False for h in drawn["households"])
    assert drawn["villages"] == [
        {"region_code": code, "region_name": f"区划{code}", "households": len(sampled[code])}
        for code in sorted(sampled)
    ]
    assert drawn["differences"] == [] and drawn["difference_counts"]["total"] == 0
    stored = await session.scalar(
        text("SELECT count(*) FROM spot_check_households WHERE spot_check_id = :id"),
        {"id": drawn["spot_check_id"]},
    )
    assert stored == 3 * 10 + 10 + 4
    [event] = await _events(session, "spot_check.drawn")
    assert event["seed"] == 7 and event["households"] == 44 and event["kind"] == "cross"
    audited = await session.scalar(
        text(
            "SELECT count(*) FROM audit_log WHERE action = 'spot_check.drawn' AND target_id = :id"
        ),
        {"id": drawn["spot_check_id"]},
    )
    assert audited == 1


async def test_same_seed_draws_the_same_sample_and_another_seed_another(client, session):
    await _county(session)
    campaign_id = await add_campaign(session)
    headers = await staff_headers(session, "county_staff", COUNTY)

    first = await _draw(client, headers, campaign_id, seed=1)
    again = await _draw(client, headers, campaign_id, seed=1, kind="spot")
    other = await _draw(client, headers, campaign_id, seed=2)

    assert first["spot_check_id"] != again["spot_check_id"]
    assert _sampled(again) == _sampled(first)
    assert again["villages"] == first["villages"]
    assert _sampled(other) != _sampled(first)


async def test_without_a_seed_one_is_drawn_stored_and_draws_the_same_sample_again(client, session):
    await _county(session)
    campaign_id = await add_campaign(session)
    headers = await staff_headers(session, "county_staff", COUNTY)

    drawn = await _draw(client, headers, campaign_id)

    assert 0 <= drawn["seed"] < 2**63
    stored = await session.scalar(
        text("SELECT seed FROM spot_checks WHERE spot_check_id = :id"),
        {"id": drawn["spot_check_id"]},
    )
    assert stored == drawn["seed"]
    assert _sampled(await _draw(client, headers, campaign_id, seed=stored)) == _sampled(drawn)


async def test_draw_favours_villages_without_problems_or_monitoring_objects(client, session):
    await add_regions(session, T1)
    ids = {code: await add_households(session, code, 12) for code in T1}
    campaign_id = await add_campaign(session)
    earlier = await add_campaign(session, year=2025)
    no_problem, no_object, *others = T1
    # No problem in this campaign (one in an earlier campaign does not count).
    await add_object(session, ids[no_problem][0], no_problem)
    await add_problem(session, no_problem, campaign_id=earlier)
    # Problems, but the only monitoring object was removed.
    await add_problem(session, no_object, campaign_id=campaign_id)
    await add_object(session, ids[no_object][0], no_object, status="removed")
    for code in others:
        await add_problem(session, code, campaign_id=campaign_id)
        await add_object(session, ids[code][0], code)
    headers = await staff_headers(session, "county_staff", COUNTY)

    draws = 60
    picked: Counter[str] = Counter()
    for seed in range(draws):
        picked.update(list(_sampled(await _draw(client, headers, campaign_id, seed=seed))))

    # Unweighted, each village would be drawn 3 times in 5 (36 of 60); weighted
    # 3 to 1, about 83% against 44%.
    assert picked[no_problem] >= 44 and picked[no_object] >= 44, picked
    assert all(picked[code] <= 32 for code in others), picked


def test_weighted_draw_includes_focus_villages_more_often_over_many_seeds():
    frame = [
        Village("610326100201", 12, problems=0, objects=2),
        Village("610326100202", 12, problems=1, objects=0),
        *(Village(f"610326100{n}", 12, problems=1, objects=1) for n in (203, 204, 205)),
    ]
    picked: Counter[str] = Counter()
    for seed in range(2000):
        picked.update(draw_villages(frame, rng=random.Random(seed), per_town=3))

    # Weights 3, 3, 1, 1, 1, three drawn: about 83% against 44% (uniform: 60%).
    assert picked["610326100201"] > 1500 and picked["610326100202"] > 1500
    assert all(picked[f"610326100{n}"] < 1000 for n in (203, 204, 205))


async def _one_village_sample(client, session) -> tuple[object, dict, dict, list[str]]:
    """A campaign over one village of three households, two screened by the
    village, and its sample (all three)."""
    code = T1[0]
    await add_regions(session, [code])
    ids = await add_households(session, code, 3)
    campaign_id = await add_campaign(session, region=code)
    await add_screening(session, campaign_id, ids[0], code)
    await add_screening(
        session, campaign_id, ids[1], code, housing="own_safe", income_band="above_10000"
    )
    headers = await staff_headers(session, "county_staff", COUNTY)
    drawn = await _draw(client, headers, campaign_id, seed=3)
    assert [h["household_id"] for h in drawn["households"]] == ids
    return campaign_id, drawn, headers, ids


async def test_differences_between_village_and_checker_records_are_listed_and_counted(
    client, session
):
    campaign_id, drawn, headers, (same, differs, unscreened) = await _one_village_sample(
        client, session
    )
    records = [
        # Another screener on another day: not a finding.
        screening_record(same, screener="赵六", screened_on="2026-05-18"),
        screening_record(differs, housing="unsafe", income_band="below_4000"),
        screening_record(unscreened),
    ]

    response = await client.post(
        _path(campaign_id, drawn["spot_check_id"], "results"),
        json={"records": records},
        headers=headers,
    )

    assert response.status_code == 200, response.text
    expected = [
        {
            "household_id": differs,
            "field": "housing",
            "village_value": "own_safe",
            "checker_value": "unsafe",
        },
        {
            "household_id": differs,
            "field": "income_band",
            "village_value": "above_10000",
            "checker_value": "below_4000",
        },
        {
            "household_id": unscreened,
            "field": "screening",
            "village_value": "not_screened",
            "checker_value": "screened",
        },
    ]
    view = (await client.get(_path(campaign_id, drawn["spot_check_id"]), headers=headers)).json()
    assert response.json() == view
    assert view["differences"] == expected
    counts = view["difference_counts"]
    assert (counts["total"], counts["households_with_differences"]) == (3, 2)
    assert {f: n for f, n in counts["by_field"].items() if n} == {
        "housing": 1,
        "income_band": 1,
        "screening": 1,
    }
    assert set(counts["by_field"]) >= {"residence", "needs_inclusion", "uninsured_members"}
    assert all(h["checked"] for h in view["households"])
    [event] = await _events(session, "spot_check.results_recorded")
    assert event == {
        "spot_check_id": drawn["spot_check_id"],
        "campaign_id": str(campaign_id),
        "checked": 3,
        "differences": 3,
    }


async def test_a_later_result_replaces_the_earlier_one(client, session):
    campaign_id, drawn, headers, (_, differs, _) = await _one_village_sample(client, session)
    results = _path(campaign_id, drawn["spot_check_id"], "results")
    wrong = screening_record(differs, housing="unsafe")
    assert (await client.post(results, json={"records": [wrong]}, headers=headers)).is_success

    response = await client.post(
        results, json={"records": [screening_record(differs)]}, headers=headers
    )

    assert response.status_code == 200
    assert response.json()["differences"] == []
    assert [h["household_id"] for h in response.json()["households"] if h["checked"]] == [differs]


async def test_bad_results_are_all_named_and_nothing_is_stored(client, session):
    campaign_id, drawn, headers, (same, differs, _) = await _one_village_sample(client, session)
    await add_households(session, T1[1], 1)  # registered, but not in this sample
    records = [
        screening_record(same, housing="unsafe"),
        screening_record(differs, housing="castle"),
        screening_record(f"H{T1[1][6:]}-01"),
        screening_record(same),
        screening_record(differs, screened_on="2025-05-10"),
    ]

    response = await client.post(
        _path(campaign_id, drawn["spot_check_id"], "results"),
        json={"records": records},
        headers=headers,
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("records.1.housing", "invalid_code"),
        ("records.2.household_id", "not_in_sample"),
        ("records.3.household_id", "duplicate_in_batch"),
        ("records.4.screened_on", "outside_campaign"),
    ]
    checked = await session.scalar(
        text("SELECT count(*) FROM spot_check_households WHERE checker_record IS NOT NULL")
    )
    assert checked == 0
    assert await _events(session, "spot_check.results_recorded") == []


async def test_roles_and_scope(client, session):
    await _county(session)
    county_campaign = await add_campaign(session)
    town_campaign = await add_campaign(session, region=TOWN)
    county = await staff_headers(session, "county_staff", COUNTY)
    drawn = await _draw(client, county, county_campaign, seed=5)
    small_household = f"H{SMALL[6:]}-01"  # every household of SMALL is sampled
    some_t1_household = next(h for h in drawn["households"] if h["region_code"] in T1)

    village_staff = await staff_headers(session, "village_staff", SMALL)
    refused = await client.post(
        _path(county_campaign), json={"kind": "spot"}, headers=village_staff
    )
    assert refused.status_code == 403
    viewer = await staff_headers(session, "viewer", COUNTY)
    seen_by_viewer = await client.get(
        _path(county_campaign, drawn["spot_check_id"]), headers=viewer
    )
    assert seen_by_viewer.status_code == 403
    other_county = await staff_headers(session, "county_staff", "610327000000")
    assert (
        await client.post(_path(county_campaign), json={"kind": "spot"}, headers=other_county)
    ).status_code == 404

    # Township staff of the other town: not their town's campaign, and only
    # their own households of the county's.
    other_town = await staff_headers(session, "township_staff", OTHER_TOWN)
    town_draw = await _draw(client, county, town_campaign, seed=5)
    assert (
        await client.get(_path(town_campaign, town_draw["spot_check_id"]), headers=other_town)
    ).status_code == 404
    theirs = await client.get(_path(county_campaign, drawn["spot_check_id"]), headers=other_town)
    assert theirs.status_code == 200
    assert {h["region_code"] for h in theirs.json()["households"]} == {BIG, SMALL}

    # Village staff record results for their own households only.
    results = _path(county_campaign, drawn["spot_check_id"], "results")
    outside = await client.post(
        results,
        json={"records": [screening_record(some_t1_household["household_id"])]},
        headers=village_staff,
    )
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["code"] == "not_in_sample"
    own = await client.post(
        results, json={"records": [screening_record(small_household)]}, headers=village_staff
    )
    assert own.status_code == 200
    assert {h["household_id"] for h in own.json()["households"]} == {
        f"H{SMALL[6:]}-0{n}" for n in range(1, 5)
    }
    # Not screened by the village: a difference.
    assert own.json()["difference_counts"]["by_field"]["screening"] == 1


async def test_the_campaign_lists_its_samples_with_their_progress(client, session):
    await _county(session)
    campaign_id = await add_campaign(session)
    headers = await staff_headers(session, "county_staff", COUNTY)
    first = await _draw(client, headers, campaign_id, seed=1)
    second = await _draw(client, headers, campaign_id, seed=2, kind="spot")

    response = await client.get(_path(campaign_id), headers=headers)

    assert response.status_code == 200
    items = response.json()["items"]
    assert {i["spot_check_id"] for i in items} == {first["spot_check_id"], second["spot_check_id"]}
    assert all(i["households"] == 44 and i["checked"] == 0 for i in items)
    unknown = await client.get(_path(campaign_id, first["campaign_id"]), headers=headers)
    assert unknown.status_code == 404


async def test_bad_draw_requests_are_422(client, session):
    await _county(session)
    campaign_id = await add_campaign(session)
    empty_campaign = await add_campaign(session, region=village(TOWN, 299))
    headers = await staff_headers(session, "county_staff", COUNTY)

    bad_kind = await client.post(_path(campaign_id), json={"kind": "audit"}, headers=headers)
    negative = await client.post(
        _path(campaign_id), json={"kind": "spot", "seed": -1}, headers=headers
    )
    empty = await client.post(_path(empty_campaign), json={"kind": "spot"}, headers=headers)

    assert bad_kind.status_code == negative.status_code == empty.status_code == 422
    assert bad_kind.json()["errors"][0]["code"] == "invalid_code"
    assert empty.json()["errors"][0]["code"] == "no_households"
    assert await session.scalar(text("SELECT count(*) FROM spot_checks")) == 0
