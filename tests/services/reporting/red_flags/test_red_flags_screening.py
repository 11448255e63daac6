"""`GET /reporting/v1/red_flags`: the should-include (应纳未纳) and off-system
(体外循环) households that screening finds, and their union with the warning
and household-visit rules of `test_red_flags.py`.

Each test adds its campaigns and screening records to `dataset.py`'s county
(whose own rows flag no household). The shipped policy's monitoring line is
6900 yuan in every year from 2022; TODAY is 2026-11-23.

Each count is read after the county's red-flag summaries are recounted (as the
reporting consumer does after a `screening.recorded`), and must equal the oracle:
the same rules decided from the tables on the request, as before the summaries.

Households of the data set used here: H1 (A1) and H8 (B1) have an object at
risk; H3 (A1) and H4 (A1) only removed objects (and open cases C4, C10); H5
(A2) nothing; H7 (B1) an eliminated object (and open case C5).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from services.reporting.red_flags import summary as red_flags_summary
from services.reporting.red_flags.summary import recount_counties
from shared import clock
from shared.auth import issue_token
from shared.policy import get_policy
from tests.services.reporting.dataset import (
    COUNTY,
    HOUSEHOLD_IDS,
    NOW,
    PERSON_NAMES,
    TOWN_A,
    TOWN_B,
    VILLAGE_A1,
    VILLAGE_A2,
    load_dataset,
)
from tests.services.reporting.red_flags import oracle

RED_FLAGS = "/reporting/v1/red_flags"

H1, H3, H4, H5, H7, H8 = (HOUSEHOLD_IDS[n - 1] for n in (1, 3, 4, 5, 7, 8))
HX = HOUSEHOLD_IDS[8]  # 陇县
VILLAGE = {H1: VILLAGE_A1, H3: VILLAGE_A1, H4: VILLAGE_A1, H5: VILLAGE_A2}
VILLAGE |= {H7: "610326101201", H8: "610326101201", HX: "610327100201"}

# A screening record that flags nothing.
SAFE = {
    "housing": "own_safe",
    "drinking_water": "tap_safe",
    "schooling": "in_school",
    "income_band": "above_10000",
    "civil_affairs_support": "none",
}

_CAMPAIGN = text(
    "INSERT INTO campaigns (campaign_id, county_code, region_code, name, year, starts_on,"
    " phases, created_by)"
    " VALUES (CAST(:campaign_id AS uuid), :county, :region, '排查', :year,"
    " :starts_on, '[]', 'test')"
)

_SCREENING = text(
    "INSERT INTO screenings (campaign_id, county_code, household_id, region_code, screened_on,"
    " screener, residence, housing, schooling, drinking_water, insured, uninsured_members,"
    " income_band, rigid_expenditure, civil_affairs_support, needs_inclusion, recorded_by)"
    " VALUES (CAST(:campaign_id AS uuid), :county, :household, :region,"
    " :screened_on, '排查员', 'in_village', :housing, :schooling,"
    " :drinking_water, 'all', 0, :income_band, false, :civil_affairs_support, 'no', 'test')"
)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
async def data(session):
    await load_dataset(session)


async def _campaign(session, n: int, year: int, starts_on: str, county: str = "610326") -> str:
    campaign_id = f"5c000000-0000-0000-0000-0000000001{n:02d}"
    await session.execute(
        _CAMPAIGN,
        {
            "campaign_id": campaign_id,
            "county": county,
            "region": county + "000000",
            "year": year,
            "starts_on": date.fromisoformat(starts_on),
        },
    )
    return campaign_id


async def _screen(session, campaign_id: str, household: str, screened_on: str, **answers) -> None:
    await session.execute(
        _SCREENING,
        {
            "campaign_id": campaign_id,
            "county": household[3:9],
            "household": household,
            "region": VILLAGE[household],
            "screened_on": date.fromisoformat(screened_on),
        }
        | SAFE
        | answers,
    )


async def _counts(session, client, region: str = COUNTY) -> tuple[int, int]:
    """(should_include_households, off_system_households) of `region`."""
    await recount_counties(session, counties={"610326", "610327"})
    _, token = await issue_token(session, kind="user", name="v", role="viewer", region_code=region)
    response = await client.get(
        RED_FLAGS, params={"region": region}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    counts = body["should_include_households"], body["off_system_households"]
    off_system, should_include = await oracle.oracle_counts(
        session, region_code=region, today=clock.today()
    )
    assert counts == (should_include, off_system)
    return counts


def _line_in_2026(monkeypatch, line: str) -> None:
    policy = get_policy()
    figures = policy.years[2022].model_copy(update={"monitoring_line_yuan": Decimal(line)})
    patched = policy.model_copy(update={"years": {**policy.years, 2026: figures}})
    monkeypatch.setattr(red_flags_summary, "get_policy", lambda: patched)
    monkeypatch.setattr(oracle, "get_policy", lambda: patched)


async def test_safe_screenings_flag_nothing(session, client, data):
    campaign = await _campaign(session, 1, 2026, "2026-04-15")
    for household in (H1, H3, H4, H5, H7, H8):
        await _screen(session, campaign, household, "2026-05-01")
    assert await _counts(session, client) == (0, 0)


@pytest.mark.parametrize(
    "answer",
    [{"housing": "unsafe"}, {"drinking_water": "unsafe"}, {"schooling": "out_of_school"}],
)
async def test_an_unsafe_guarantee_flags_an_unmonitored_household(session, client, data, answer):
    # H5 is flagged; H1 (object at risk) is not, whatever its answers.
    campaign = await _campaign(session, 1, 2026, "2026-04-15")
    await _screen(session, campaign, H5, "2026-05-01", **answer)
    await _screen(session, campaign, H1, "2026-05-01", **answer)
    assert await _counts(session, client) == (1, 0)
    assert await _counts(session, client, VILLAGE_A2) == (1, 0)
    assert await _counts(session, client, TOWN_B) == (0, 0)


async def test_a_monitored_household_is_not_flagged(session, client, data):
    campaign = await _campaign(session, 1, 2026, "2026-04-15")
    everything = {
        "housing": "unsafe",
        "income_band": "below_4000",
        "civil_affairs_support": "dibao",
    }
    await _screen(session, campaign, H1, "2026-05-01", **everything)
    await _screen(session, campaign, H8, "2026-05-01", **everything)
    assert await _counts(session, client) == (0, 0)


async def test_an_eliminated_object_does_not_make_a_household_monitored(session, client, data):
    # H7's only object is risk_eliminated: it has no risk_not_eliminated object.
    campaign = await _campaign(session, 1, 2026, "2026-04-15")
    await _screen(
        session, campaign, H7, "2026-05-01", housing="unsafe", civil_affairs_support="tekun"
    )
    assert await _counts(session, client) == (1, 1)
    assert await _counts(session, client, TOWN_B) == (1, 1)


@pytest.mark.parametrize(
    ("support", "off_system"),
    [("dibao", 1), ("tekun", 1), ("temporary_assistance", 1), ("other", 0), ("none", 0)],
)
async def test_civil_affairs_support_flags_off_system(session, client, data, support, off_system):
    campaign = await _campaign(session, 1, 2026, "2026-04-15")
    await _screen(session, campaign, H5, "2026-05-01", civil_affairs_support=support)
    assert await _counts(session, client) == (0, off_system)


@pytest.mark.parametrize(
    ("line", "band", "flagged"),
    [
        (None, "below_4000", 1),  # 4000 <= 6900
        (None, "from_4000_to_6000", 1),  # 6000 <= 6900
        (None, "from_6000_to_10000", 0),  # 10000 > 6900: the band reaches over the line
        (None, "above_10000", 0),  # no upper end
        ("6000", "from_4000_to_6000", 1),  # upper end exactly at the line: wholly under it
        ("5999.99", "from_4000_to_6000", 0),  # a cent over the line
        ("10000", "from_6000_to_10000", 1),
    ],
)
async def test_an_income_band_wholly_under_the_line_flags_should_include(
    session, client, data, monkeypatch, line, band, flagged
):
    if line is not None:
        _line_in_2026(monkeypatch, line)
    campaign = await _campaign(session, 1, 2026, "2026-04-15")
    await _screen(session, campaign, H5, "2026-05-01", income_band=band)
    assert await _counts(session, client) == (flagged, 0)


async def test_the_line_is_the_screenings_years(session, client, data, monkeypatch):
    # 2026's line is 5000, 2025 keeps 6900 (2022's figures). The band 4000-6000 lies
    # under 6900 (H5, screened in 2025) but not under 5000 (H3, screened in 2026).
    _line_in_2026(monkeypatch, "5000")
    in_2025 = await _campaign(session, 1, 2025, "2025-04-15")
    in_2026 = await _campaign(session, 2, 2026, "2026-04-15")
    await _screen(session, in_2025, H5, "2025-05-01", income_band="from_4000_to_6000")
    await _screen(session, in_2026, H3, "2026-05-01", income_band="from_4000_to_6000")
    assert await _counts(session, client, VILLAGE_A2) == (1, 0)
    assert await _counts(session, client, VILLAGE_A1) == (0, 0)


async def test_only_the_latest_campaigns_record_counts(session, client, data):
    # By year: H5 unsafe in 2025, safe in 2026 (not flagged); H3 the reverse (flagged).
    # Same year, by starts_on: H4 dibao in the campaign starting 04-15 (flagged),
    # safe in the one starting 03-01; H7 unsafe in the one starting 03-01, safe in
    # the later one (not flagged).
    in_2025 = await _campaign(session, 1, 2025, "2025-04-15")
    march = await _campaign(session, 2, 2026, "2026-03-01")
    april = await _campaign(session, 3, 2026, "2026-04-15")
    await _screen(session, in_2025, H5, "2025-05-01", housing="unsafe")
    await _screen(session, april, H5, "2026-05-01")
    await _screen(session, in_2025, H3, "2025-05-01")
    await _screen(session, april, H3, "2026-05-01", drinking_water="unsafe")
    await _screen(session, march, H4, "2026-03-10")
    await _screen(session, april, H4, "2026-05-01", civil_affairs_support="dibao")
    await _screen(session, march, H7, "2026-03-10", schooling="out_of_school")
    await _screen(session, april, H7, "2026-05-01")
    assert await _counts(session, client) == (1, 1)  # H3; H4
    assert await _counts(session, client, TOWN_B) == (0, 0)


# The existing rules' inputs: a dibao warning for H5 (off-system by warning) and
# household visits of H3 (case C4, 5000 yuan) and H4 (case C10, 6000 yuan), both
# under 6900 (should-include by visit).
_WARNING = """
INSERT INTO warnings (warning_id, county_code, department, warning_type, source_record_id,
                      batch_id, batch_index, id_hash, id_sealed, id_masked, name,
                      region_code, household_id, received_at, received_on, status, late,
                      name_mismatch)
VALUES (CAST('d0000000-0000-0000-0000-000000000301' AS uuid), '610326', 'civil_affairs',
        'dibao', 'SRC-301', CAST('f0000000-0000-0000-0000-000000000301' AS uuid), 0,
        decode(md5('301'), 'hex'), '\\x00'::bytea, '610326********301X', '某某',
        '610326100202', 'HH-610326-0005', TIMESTAMPTZ '2026-10-01 09:00+08',
        DATE '2026-10-01', 'matched', false, false)
"""
_VISITS = """
INSERT INTO case_steps (case_id, county_code, step, done_on, actor, recorded_at, form)
SELECT CAST('c0000000-0000-0000-0000-0000000000' || v.case_n AS uuid), '610326',
       'household_visit', CAST(v.done_on AS date), 'test',
       (CAST(v.done_on AS date) + time '10:00') AT TIME ZONE 'Asia/Shanghai',
       jsonb_build_object('income_per_capita_yuan', CAST(v.income AS numeric))
FROM (VALUES ('04', '2026-11-05', '5000'), ('10', '2026-11-10', '6000'))
  AS v(case_n, done_on, income)
"""


async def test_both_rules_count_a_household_once(session, client, data):
    # off-system:     H5 (warning and screening), H7 (screening)       -> 2
    # should-include: H3 (visit and screening), H4 (visit), H7 (screening) -> 3
    await session.execute(text(_WARNING))
    await session.execute(text(_VISITS))
    campaign = await _campaign(session, 1, 2026, "2026-04-15")
    await _screen(session, campaign, H5, "2026-05-01", civil_affairs_support="dibao")
    await _screen(session, campaign, H3, "2026-05-01", housing="unsafe")
    await _screen(
        session,
        campaign,
        H7,
        "2026-05-01",
        income_band="below_4000",
        civil_affairs_support="tekun",
    )
    assert await _counts(session, client) == (3, 2)
    assert await _counts(session, client, TOWN_A) == (2, 1)
    assert await _counts(session, client, TOWN_B) == (1, 1)


async def test_another_countys_screenings_never_count(session, client, data):
    campaign = await _campaign(session, 1, 2026, "2026-04-15", county="610327")
    await _screen(
        session, campaign, HX, "2026-05-01", housing="unsafe", civil_affairs_support="dibao"
    )
    assert await _counts(session, client) == (0, 0)


async def test_no_household_id_or_name_in_the_response(session, client, data):
    campaign = await _campaign(session, 1, 2026, "2026-04-15")
    await _screen(session, campaign, H5, "2026-05-01", housing="unsafe")
    await recount_counties(session, counties={"610326"})
    _, token = await issue_token(session, kind="user", name="v", role="viewer", region_code=COUNTY)
    response = await client.get(RED_FLAGS, headers={"Authorization": f"Bearer {token}"})
    assert response.json()["should_include_households"] == 1
    for secret in [*HOUSEHOLD_IDS, *PERSON_NAMES, "HH-", "排查员"]:
        assert secret not in response.text
