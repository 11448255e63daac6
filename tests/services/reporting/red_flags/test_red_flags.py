"""`GET /reporting/v1/red_flags` against the hand-checked data set, plus the
warnings, households and household visits each test adds itself.

TODAY is 2026-11-23, so "the last 365 days" means received_on / decided_on
after 2025-11-23. The shipped policy's monitoring line is 6900 yuan (2022's
figures, in force every later year); the high ratio is 0.02.

Rows written here by SQL write no events: each fixture recounts the county's
red-flag summaries as the reporting consumer would, and every household count
read is checked against the oracle (the rules decided from the tables on the
request, as before the summaries).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from services.reporting.red_flags.schemas import RedFlags
from services.reporting.red_flags.summary import recount_counties
from services.reporting.summaries import recount
from shared import clock
from shared.auth import issue_token
from tests.services.reporting.dataset import (
    COUNTY,
    HOUSEHOLD_IDS,
    NOW,
    OTHER_COUNTY,
    PERSON_NAMES,
    TOWN_A,
    TOWN_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    load_dataset,
)
from tests.services.reporting.red_flags.oracle import oracle_counts

RED_FLAGS = "/reporting/v1/red_flags"

# Households of the data set: H1 O1 at risk; H2 O2 at risk; H3 O6 removed, case C4
# open; H4 O7 removed, case C10 open; H5 nothing; H6 O3 at risk; H7 O4 eliminated,
# case C5 open; H8 O5 at risk, case C6 open.
#
# Added here (village B1, no members), with their cases:
# H9  case C91 decided 2026-01-05 (within 365 days)
# H10 case C92 decided 2025-10-01 (more than 365 days ago)
# H11 no case
_HOUSEHOLDS = """
INSERT INTO households (county_code, household_id, region_code, category, head_name) VALUES
  ('610326', 'HH-610326-0009', '610326101201', 'general', '甲'),
  ('610326', 'HH-610326-0010', '610326101201', 'general', '乙'),
  ('610326', 'HH-610326-0011', '610326101201', 'general', '丙')
"""
_CASES = """
INSERT INTO cases (case_id, county_code, household_id, region_code, source, opened_on,
                   deadline, state, outcome, decided_on, opened_by) VALUES
  (CAST('c0000000-0000-0000-0000-000000000091' AS uuid), '610326', 'HH-610326-0009',
   '610326101201', 'department_warning', DATE '2025-12-25', DATE '2026-01-09', 'decided',
   'not_included', DATE '2026-01-05', 'test'),
  (CAST('c0000000-0000-0000-0000-000000000092' AS uuid), '610326', 'HH-610326-0010',
   '610326101201', 'department_warning', DATE '2025-09-20', DATE '2025-10-05', 'decided',
   'not_included', DATE '2025-10-01', 'test')
"""

# id  type                  status  household region received_on  counts?
# W21 dibao                 matched H5        A2     2026-10-01   yes: nothing else
# W22 tekun                 matched H1        A1     2026-10-01   no: O1 at risk
# W23 tekun                 matched H9        B1     2026-09-01   no: C91 decided 2026-01-05
# W24 temporary_assistance  matched H10       B1     2026-11-01   yes: C92 is older
# W25 dibao                 matched H11       B1     2025-11-23   no: exactly 365 days ago
# W26 lonely_elderly        matched H11       B1     2026-11-01   no: not an aid type
# W27 dibao                 dismissed H11     B1     2026-11-01   no: not matched
# W28 dibao                 matched H5        A2     2026-11-02   (H5 counted once)
# The data set's own W3/W10 (H4, open C10) and W4 (H7, open C5) do not count.
_WARNINGS = """
INSERT INTO warnings (warning_id, county_code, department, warning_type, source_record_id,
                      batch_id, batch_index, id_hash, id_sealed, id_masked, name,
                      region_code, household_id, received_at, received_on, status, late,
                      name_mismatch)
SELECT CAST('d0000000-0000-0000-0000-0000000000' || w.n AS uuid), '610326',
       'civil_affairs', w.type, 'SRC-' || w.n, CAST('f0000000-0000-0000-0000-000000000098' AS uuid),
       CAST(w.n AS int), decode(md5(w.n), 'hex'), '\\x00'::bytea,
       '610326********' || w.n || '1X', '某某', w.region, w.household,
       (CAST(w.received_on AS date) + time '09:00') AT TIME ZONE 'Asia/Shanghai',
       CAST(w.received_on AS date), w.status, false, false
FROM (VALUES
  ('21', 'dibao', 'matched', '610326100202', 'HH-610326-0005', '2026-10-01'),
  ('22', 'tekun', 'matched', '610326100201', 'HH-610326-0001', '2026-10-01'),
  ('23', 'tekun', 'matched', '610326101201', 'HH-610326-0009', '2026-09-01'),
  ('24', 'temporary_assistance', 'matched', '610326101201', 'HH-610326-0010', '2026-11-01'),
  ('25', 'dibao', 'matched', '610326101201', 'HH-610326-0011', '2025-11-23'),
  ('26', 'lonely_elderly', 'matched', '610326101201', 'HH-610326-0011', '2026-11-01'),
  ('27', 'dibao', 'dismissed', '610326101201', 'HH-610326-0011', '2026-11-01'),
  ('28', 'dibao', 'matched', '610326100202', 'HH-610326-0005', '2026-11-02')
) AS w(n, type, status, region, household, received_on)
"""

# case household done_on    income  latest of the household?  counts?
# C4   H3        2026-11-05 5000    yes                       yes: O6 removed
# C1   H1        2026-03-03 3000    yes                       no: O1 at risk
# C13  H4        2025-01-08 9000    no
# C10  H4        2026-11-10 6899.5  yes (below 6900)          yes: O7 removed
# C9   H7        2025-05-22 4000    no
# C5   H7        2026-11-12 6900    yes (not below the line)  no
_VISITS = """
INSERT INTO case_steps (case_id, county_code, step, done_on, actor, recorded_at, form)
SELECT CAST('c0000000-0000-0000-0000-0000000000' || v.case_n AS uuid), '610326',
       'household_visit', CAST(v.done_on AS date), 'test',
       (CAST(v.done_on AS date) + time '10:00') AT TIME ZONE 'Asia/Shanghai',
       jsonb_build_object('income_per_capita_yuan', CAST(v.income AS numeric))
FROM (VALUES
  ('04', '2026-11-05', '5000'),
  ('01', '2026-03-03', '3000'),
  ('13', '2025-01-08', '9000'),
  ('10', '2026-11-10', '6899.5'),
  ('09', '2025-05-22', '4000'),
  ('05', '2026-11-12', '6900')
) AS v(case_n, done_on, income)
"""


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
async def data(session):
    await load_dataset(session)


@pytest.fixture
async def extra(session, data):
    for statement in (_HOUSEHOLDS, _CASES, _WARNINGS, _VISITS):
        await session.execute(text(statement))
    await recount_counties(session, counties={"610326"})


async def _user(session, role: str = "viewer", region: str = COUNTY) -> dict[str, str]:
    _, token = await issue_token(session, kind="user", name=role, role=role, region_code=region)
    return {"Authorization": f"Bearer {token}"}


async def _flags(client, headers, **params) -> dict:
    response = await client.get(RED_FLAGS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    # The answer is written from the database's JSON, not through the model:
    # it must still be exactly what `RedFlags` documents.
    assert list(body) == list(RedFlags.model_fields)
    assert RedFlags.model_validate(body).model_dump() == body
    return body


async def _checked_flags(session, client, headers, region: str = COUNTY) -> dict:
    """The red flags of `region`, their household counts equal to the oracle's."""
    body = await _flags(client, headers, region=region)
    expected = await oracle_counts(session, region_code=region, today=clock.today())
    assert (body["off_system_households"], body["should_include_households"]) == expected
    return body


async def test_zero_object_villages(session, client, data):
    # A1 has O1 O2, B1 has O3 O4 O5; A2 has none. Another county's village never shows.
    headers = await _user(session)
    body = await _flags(client, headers)
    assert body["region"] == COUNTY
    assert body["zero_object_villages"] == [{"region_code": VILLAGE_A2, "region_name": "西街村"}]
    assert (await _flags(client, headers, region=TOWN_B))["zero_object_villages"] == []


async def test_a_village_whose_objects_are_all_removed_has_zero_objects(session, client, data):
    await session.execute(
        text("UPDATE monitoring_objects SET status = 'removed' WHERE region_code = '610326101201'")
    )
    body = await _flags(client, await _user(session), region=TOWN_B)
    assert [v["region_code"] for v in body["zero_object_villages"]] == [VILLAGE_B1]


async def test_high_ratio_regions(session, client, data):
    # Persons (members): A1 H1(2) H2 H3 H4 = 5; A2 H5 = 1; B1 H6(2) H7 H8 = 4.
    # At risk: A1 O1 (H1, 2 persons) O2 (H2, 1) = 3 persons; B1 O3 (H6, 2) O5 (H8, 1)
    # = 3 persons (O4 eliminated, O6 O7 removed).
    # Town A 3/6 = 0.5, A1 3/5 = 0.6, A2 0/1 (not flagged), town B and B1 3/4 = 0.75.
    body = await _flags(client, await _user(session))
    assert body["high_ratio_regions"] == [
        {"region_code": TOWN_A, "region_name": "首善街道", "ratio": 0.5},
        {"region_code": VILLAGE_A1, "region_name": "城关村", "ratio": 0.6},
        {"region_code": TOWN_B, "region_name": "横渠镇", "ratio": 0.75},
        {"region_code": VILLAGE_B1, "region_name": "横渠村", "ratio": 0.75},
    ]


async def test_a_ratio_at_or_below_the_policy_is_not_flagged(session, client, data):
    # 145 more persons in H3's household (not at risk): A1 has 3 persons at risk /
    # 150 persons = 0.02, not over 0.02; town A 3/151 neither. Town B is unchanged.
    await session.execute(
        text(
            "INSERT INTO members (county_code, id_hash, household_id, id_sealed, id_masked, name,"
            "                     relation, labour_capacity, in_school, birth_date, sex)"
            " SELECT '610326', decode(md5('extra' || n), 'hex'), 'HH-610326-0003', '\\x00'::bytea,"
            "        '610326********0000', '某', 'other', 'full', false, DATE '1990-01-01', 'male'"
            " FROM generate_series(1, 145) AS n"
        )
    )
    # Members written by SQL, not by a registry load: recount the persons as the
    # summaries consumer does after a load.
    await recount(session, families={"persons": {"610326"}})
    await recount_counties(session, counties={"610326"})
    body = await _flags(client, await _user(session))
    assert [r["region_code"] for r in body["high_ratio_regions"]] == [TOWN_B, VILLAGE_B1]


async def test_the_data_set_alone_has_no_household_flags(session, client, data):
    # Its civil-affairs aid warnings are H4's (C10 open) and H7's (C5 open); it has
    # no household visit.
    body = await _checked_flags(session, client, await _user(session))
    assert (body["off_system_households"], body["should_include_households"]) == (0, 0)


@pytest.mark.parametrize(
    ("region", "off_system"), [(COUNTY, 2), (TOWN_A, 1), (VILLAGE_A2, 1), (TOWN_B, 1)]
)
async def test_off_system_households(session, client, extra, region, off_system):
    # H5 (W21, W28, village A2) and H10 (W24, village B1).
    body = await _checked_flags(session, client, await _user(session), region=region)
    assert body["off_system_households"] == off_system


@pytest.mark.parametrize(
    ("region", "should_include"), [(COUNTY, 2), (TOWN_A, 2), (VILLAGE_A1, 2), (TOWN_B, 0)]
)
async def test_should_include_households(session, client, extra, region, should_include):
    # H3 (5000) and H4 (latest 6899.5), both in village A1.
    body = await _checked_flags(session, client, await _user(session), region=region)
    assert body["should_include_households"] == should_include


async def test_no_personal_data_in_the_response(session, client, extra):
    response = await client.get(RED_FLAGS, headers=await _user(session))
    assert response.status_code == 200
    for secret in [*HOUSEHOLD_IDS, *PERSON_NAMES, "HH-", "********", "某某"]:
        assert secret not in response.text


@pytest.mark.parametrize("role", ["viewer", "county_staff", "township_staff", "village_staff"])
async def test_viewers_and_staff_may_read_in_scope(session, client, data, role):
    body = await _flags(client, await _user(session, role, VILLAGE_A2))
    assert body["region"] == VILLAGE_A2
    assert body["zero_object_villages"] == [{"region_code": VILLAGE_A2, "region_name": "西街村"}]
    assert body["high_ratio_regions"] == []


async def test_department_clients_are_forbidden(session, client, data):
    _, token = await issue_token(session, kind="client", name="civil", department="civil_affairs")
    response = await client.get(RED_FLAGS, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


@pytest.mark.parametrize(("scope", "region"), [(COUNTY, OTHER_COUNTY), (TOWN_A, TOWN_B)])
async def test_a_region_outside_the_scope_is_404(session, client, data, scope, region):
    response = await client.get(
        RED_FLAGS, params={"region": region}, headers=await _user(session, "viewer", scope)
    )
    assert response.status_code == 404


# Around the 365-day edges of the extra rows: H9's case decided 2026-01-05 stops
# hiding its warning of 2026-09-01 from 2027-01-05; the warnings of H5 (latest
# 2026-11-02) and H10 (2026-11-01) and H9 lapse 365 days after they came.
@pytest.mark.parametrize(
    ("day", "off_system"),
    [
        (date(2026, 11, 23), 2),
        (date(2027, 1, 4), 2),
        (date(2027, 1, 5), 3),
        (date(2027, 9, 1), 2),
        (date(2027, 11, 1), 1),
        (date(2027, 11, 2), 0),
    ],
)
async def test_the_off_system_days_follow_the_calendar(session, client, extra, day, off_system):
    headers = await _user(session)
    with clock.frozen_at(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)):
        body = await _checked_flags(session, client, headers)
    assert body["off_system_households"] == off_system
