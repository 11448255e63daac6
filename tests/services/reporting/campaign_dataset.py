"""A hand-checked screening campaign on top of `dataset.py`'s county (plain SQL).

眉县 gets a fourth village (营头村, B2, in town B), five more households, four
more monitoring objects, two look-backs, three campaigns (its 2026 campaign
CP1, the table's subject; its 2025 campaign CP0; 陇县's CPX) with their
screenings, and a problem ledger. Every expected figure below was worked out by
hand from the tables in the comments.

CP1 runs from 2026-04-15; its last phase is due 2026-06-12, before TODAY
(2026-11-23), so its window is 2026-04-15..2026-06-12.

API: `await load_campaign(session)` (loads `dataset.py` too) and the constants.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.summaries import refresh_all
from tests.services.reporting.dataset import (
    load_dataset,
)

VILLAGE_B2 = "610326101202"  # 营头村: registered households, none screened
CAMPAIGN = "5c000000-0000-0000-0000-000000000001"  # CP1, 眉县 2026
CAMPAIGN_2025 = "5c000000-0000-0000-0000-000000000000"  # CP0, 眉县 2025
OTHER_CAMPAIGN = "5c000000-0000-0000-0000-000000000099"  # CPX, 陇县 2026
CAMPAIGN_NAME = "眉县2026年防返贫集中排查"
WINDOW = {"date_from": "2026-04-15", "date_to": "2026-06-12"}

NEW_HOUSEHOLD_IDS = [f"HH-610326-00{n}" for n in range(21, 26)]
NEW_PERSON_NAMES = ["蒋红梅", "沈国庆", "韩建华", "杨秀兰", "朱德胜", "秦小燕", "许志刚", "无名氏"]
SCREENER = "排查员严立新"  # a screener's name, never reported

_REGIONS = """
INSERT INTO regions (code, name, level, parent_code) VALUES
  ('610326101202', '营头村', 'village', '610326101000')
"""

# Households of dataset.py:           Added here:
# H1 A1 poverty_alleviated  O1 at risk   H21 A2 poverty_alleviated  no object
# H2 A1 general             O2 at risk   H22 A2 general             O22 at risk
# H3 A1 general             O6 removed   H23 B1 poverty_alleviated  O23 removed
# H4 A1 general             O7 removed   H24 B2 general             O24 at risk
# H5 A2 general             none         H25 B2 poverty_alleviated  O25 at risk
# H6 B1 poverty_alleviated  O3 at risk
# H7 B1 general             O4 eliminated
# H8 B1 general             O5 at risk
# Persons (members): H1 2, H2 1, H3 1, H4 1, H5 1, H6 2, H7 1, H8 1 (dataset.py);
# H21 2, H22 1, H23 3, H24 1, H25 0 (no member loaded yet).
_HOUSEHOLDS = """
INSERT INTO households (county_code, household_id, region_code, category, head_name) VALUES
  ('610326', 'HH-610326-0021', '610326100202', 'poverty_alleviated', '蒋红梅'),
  ('610326', 'HH-610326-0022', '610326100202', 'general', '韩建华'),
  ('610326', 'HH-610326-0023', '610326101201', 'poverty_alleviated', '杨秀兰'),
  ('610326', 'HH-610326-0024', '610326101202', 'general', '许志刚'),
  ('610326', 'HH-610326-0025', '610326101202', 'poverty_alleviated', '无名氏')
"""

_MEMBERS = """
INSERT INTO members (county_code, id_hash, household_id, id_sealed, id_masked, name,
                     relation, labour_capacity, in_school, birth_date, sex)
SELECT '610326', decode(md5(m.name), 'hex'), m.household_id, '\\x00'::bytea,
       '610326********' || m.tail, m.name, m.relation, 'full', false, DATE '1980-01-01', 'male'
FROM (VALUES
  ('HH-610326-0021', '蒋红梅', 'head', '2101'),
  ('HH-610326-0021', '沈国庆', 'spouse', '2102'),
  ('HH-610326-0022', '韩建华', 'head', '2201'),
  ('HH-610326-0023', '杨秀兰', 'head', '2301'),
  ('HH-610326-0023', '朱德胜', 'spouse', '2302'),
  ('HH-610326-0023', '秦小燕', 'child', '2303'),
  ('HH-610326-0024', '许志刚', 'head', '2401')
) AS m(household_id, name, relation, tail)
"""

# id  household region type                status              included   other dates
# O22 H22       A2     sudden_hardship     risk_not_eliminated 2026-06-12 (window's last day)
# O23 H23       B1     unstable_alleviated removed             2026-05-05 removed 2026-06-01
# O24 H24       B2     marginal            risk_not_eliminated 2026-04-14 (day before the window)
# O25 H25       B2     unstable_alleviated risk_not_eliminated 2025-03-01 eliminated
#                                                              2025-11-01, rolled back
#                                                              2026-04-10 (before the window)
# O22 has the epidemic and illness risk types. Their cases (C22..C25) are not loaded:
# the table does not read cases.
_OBJECTS = """
INSERT INTO monitoring_objects (object_id, county_code, household_id, region_code,
                                monitoring_type, risk_types, status, included_on, case_id,
                                eliminated_on, rolled_back_on, removed_on)
SELECT CAST('b0000000-0000-0000-0000-0000000000' || o.n AS uuid), '610326', o.household,
       o.region, o.type, CAST(o.risks AS varchar(40)[]), o.status, CAST(o.included AS date),
       CAST('c0000000-0000-0000-0000-0000000000' || o.n AS uuid), CAST(o.eliminated AS date),
       CAST(o.rolled_back AS date), CAST(o.removed AS date)
FROM (VALUES
  ('22', 'HH-610326-0022', '610326100202', 'sudden_hardship', '{epidemic,illness}',
   'risk_not_eliminated', '2026-06-12', NULL, NULL, NULL),
  ('23', 'HH-610326-0023', '610326101201', 'unstable_alleviated', '{lack_of_funds}',
   'removed', '2026-05-05', NULL, NULL, '2026-06-01'),
  ('24', 'HH-610326-0024', '610326101202', 'marginal', '{illness}',
   'risk_not_eliminated', '2026-04-14', NULL, NULL, NULL),
  ('25', 'HH-610326-0025', '610326101202', 'unstable_alleviated', '{illness}',
   'risk_not_eliminated', '2025-03-01', '2025-11-01', '2026-04-10', NULL)
) AS o(n, household, region, type, risks, status, included, eliminated, rolled_back, removed)
"""

# Look-backs added here (dataset.py's: S2 on O5 in B1, 2026-05-10, is in the window;
# S1 2026-08-01 and S5 2026-11-12 after it, S4 2025; S3 is routine).
# SA O25 look_back 2026-04-15 (window's first day)   SB O25 look_back 2026-04-14
# SC O22 routine   2026-06-01 (not a look-back)
_ASSESSMENTS = """
INSERT INTO assessments (assessment_id, county_code, object_id, household_id, assessed_on,
                         kind, income_per_capita_yuan, rigid_expenditure_yuan, housing_secure,
                         education_secure, medical_secure, drinking_water_secure, actor,
                         recorded_at)
SELECT CAST('a0000000-0000-0000-0000-0000000000' || s.n AS uuid), o.county_code, o.object_id,
       o.household_id, CAST(s.assessed AS date), s.kind, 8000, 500, true, true, true, true,
       'test', (CAST(s.assessed AS date) + time '10:00') AT TIME ZONE 'Asia/Shanghai'
FROM (VALUES
  ('21', '25', 'look_back', '2026-04-15'),
  ('22', '25', 'look_back', '2026-04-14'),
  ('23', '22', 'routine', '2026-06-01')
) AS s(n, object_n, kind, assessed)
JOIN monitoring_objects o
  ON o.object_id = CAST('b0000000-0000-0000-0000-0000000000' || s.object_n AS uuid)
"""

_CAMPAIGNS = """
INSERT INTO campaigns (campaign_id, county_code, region_code, name, year, starts_on, phases,
                       reported_figures, created_by) VALUES
  (CAST('5c000000-0000-0000-0000-000000000001' AS uuid), '610326', '610326000000',
   '眉县2026年防返贫集中排查', 2026, DATE '2026-04-15',
   '[{"name": "动员部署", "kind": "mobilisation", "due_on": "2026-04-30"},
     {"name": "入户排查", "kind": "household_screening", "due_on": "2026-05-21"},
     {"name": "交叉排查", "kind": "cross_screening", "due_on": "2026-05-26"},
     {"name": "暗访抽查", "kind": "spot_check", "due_on": "2026-05-31"},
     {"name": "数据录入", "kind": "data_entry", "due_on": "2026-06-09"},
     {"name": "总结报告", "kind": "summary", "due_on": "2026-06-12"}]',
   '{"deployment_meetings": 6, "staff_deployed": 85, "data_items_corrected": 37,
     "staff_trained": 120}', 'test'),
  (CAST('5c000000-0000-0000-0000-000000000000' AS uuid), '610326', '610326000000',
   '眉县2025年防返贫集中排查', 2025, DATE '2025-04-15',
   '[{"name": "总结报告", "due_on": "2025-06-12"}]', '{}', 'test'),
  (CAST('5c000000-0000-0000-0000-000000000099' AS uuid), '610327', '610327000000',
   '陇县2026年防返贫集中排查', 2026, DATE '2026-04-15',
   '[{"name": "总结报告", "due_on": "2026-06-12"}]', '{"staff_trained": 50}', 'test')
"""

# Screenings of CP1 (all with safe, unremarkable answers): H1 H2 H3 (A1), H5 H21 H22
# (A2), H6 H7 H23 (B1). Not screened in CP1: H4 (screened in CP0 only), H8, H24, H25.
# HX (陇县) is screened in CPX.
_SCREENINGS = """
INSERT INTO screenings (campaign_id, county_code, household_id, region_code, screened_on,
                        screener, residence, housing, schooling, drinking_water, insured,
                        uninsured_members, income_band, rigid_expenditure,
                        civil_affairs_support, needs_inclusion, recorded_by)
SELECT CAST(s.campaign AS uuid), substr(s.household, 4, 6), s.household, s.region,
       CAST(s.screened_on AS date), '排查员严立新', 'in_village', 'own_safe', 'none',
       'tap_safe', 'all', 0, 'above_10000', false, 'none', 'no', 'test'
FROM (VALUES
  ('5c000000-0000-0000-0000-000000000001', 'HH-610326-0001', '610326100201', '2026-05-02'),
  ('5c000000-0000-0000-0000-000000000001', 'HH-610326-0002', '610326100201', '2026-05-02'),
  ('5c000000-0000-0000-0000-000000000001', 'HH-610326-0003', '610326100201', '2026-05-03'),
  ('5c000000-0000-0000-0000-000000000001', 'HH-610326-0005', '610326100202', '2026-05-04'),
  ('5c000000-0000-0000-0000-000000000001', 'HH-610326-0021', '610326100202', '2026-05-04'),
  ('5c000000-0000-0000-0000-000000000001', 'HH-610326-0022', '610326100202', '2026-05-04'),
  ('5c000000-0000-0000-0000-000000000001', 'HH-610326-0006', '610326101201', '2026-05-06'),
  ('5c000000-0000-0000-0000-000000000001', 'HH-610326-0007', '610326101201', '2026-05-06'),
  ('5c000000-0000-0000-0000-000000000001', 'HH-610326-0023', '610326101201', '2026-05-07'),
  ('5c000000-0000-0000-0000-000000000000', 'HH-610326-0004', '610326100201', '2025-05-10'),
  ('5c000000-0000-0000-0000-000000000099', 'HH-610327-0001', '610327100201', '2026-05-10')
) AS s(campaign, household, region, screened_on)
"""

# id  campaign region  household found      status    rectified   counts (window)
# P1  CP1      A1      H1        2026-05-10 rectified 2026-05-30  found, rectified
# P2  CP1      A1      -         2026-05-20 open                  found
# P3  CP1      B1      H23       2026-05-12 rectified 2026-07-01  found (rectified later)
# P4  CP1      TOWN_B  -         2026-06-01 rectified 2026-06-10  found, rectified: town B
#                                                                  and the total, no village
# P5  -        A2      H5        2026-05-01 open                  no: not the campaign's
# P6  CP1      A2      -         2026-04-10 rectified 2026-04-14  no: before the window
# PX  CPX      陇县    HX        2026-05-10 open                  no: another county
_PROBLEMS = """
INSERT INTO problems (problem_id, county_code, campaign_id, region_code, household_id, type,
                      description, found_on, due_on, responsible, status, rectified_on,
                      created_by)
SELECT CAST('90000000-0000-0000-0000-0000000000' || p.n AS uuid), left(p.region, 6),
       CAST(p.campaign AS uuid), p.region, p.household, 'data_quality', '户籍信息不一致',
       CAST(p.found AS date), CAST(p.found AS date) + 30, '责任人', p.status,
       CAST(p.rectified AS date), 'test'
FROM (VALUES
  ('01', '5c000000-0000-0000-0000-000000000001', '610326100201', 'HH-610326-0001',
   '2026-05-10', 'rectified', '2026-05-30'),
  ('02', '5c000000-0000-0000-0000-000000000001', '610326100201', NULL,
   '2026-05-20', 'open', NULL),
  ('03', '5c000000-0000-0000-0000-000000000001', '610326101201', 'HH-610326-0023',
   '2026-05-12', 'rectified', '2026-07-01'),
  ('04', '5c000000-0000-0000-0000-000000000001', '610326101000', NULL,
   '2026-06-01', 'rectified', '2026-06-10'),
  ('05', NULL, '610326100202', 'HH-610326-0005', '2026-05-01', 'open', NULL),
  ('06', '5c000000-0000-0000-0000-000000000001', '610326100202', NULL,
   '2026-04-10', 'rectified', '2026-04-14'),
  ('99', '5c000000-0000-0000-0000-000000000099', '610327100201', 'HH-610327-0001',
   '2026-05-10', 'open', NULL)
) AS p(n, campaign, region, household, found, status, rectified)
"""

_STATEMENTS = (
    _REGIONS,
    _HOUSEHOLDS,
    _MEMBERS,
    _OBJECTS,
    _ASSESSMENTS,
    _CAMPAIGNS,
    _SCREENINGS,
    _PROBLEMS,
)


async def load_campaign(session: AsyncSession) -> None:
    """Insert dataset.py's county and the campaign data, and count them into the
    reporting summaries as the nightly refresh would (never commits)."""
    await load_dataset(session)
    for statement in _STATEMENTS:
        await session.execute(text(statement))
    await refresh_all(session)
