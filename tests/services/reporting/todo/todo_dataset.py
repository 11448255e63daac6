"""A hand-built county for the staff to-do list: every section has items, and
another county has one of each that 眉县's staff must never see.

TODAY is 2026-11-23 (the reporting data set's NOW); the shipped policy's
due-soon window is 3 days, a monthly visit is overdue after 31 days.

village  what                                            section
A1       C1 open, deadline 11-20 (3 days past)           overdue_cases
A1       C2 open, deadline 11-10 (13 days past)          overdue_cases (first)
A1       C3 open, deadline 11-25 (2 days left)           due_soon_cases
A1       C4 open, deadline 11-27 (4 days left)           -
A1       C5 decided, deadline 11-01                      -
A1       O1 at risk since 11-20, H1 able to work,        gaps: no_development_measure,
         no measure, no visit                              no_insurance_subsidy (since 11-20)
A1       R1 pending removal of O1, 11-15                 pending_requests
A1       R2 approved rollback of O1                      -
A2       P1 open, due 11-20                              overdue_problems (3 days)
A2       P2 open, due 11-23 (today)                      -
A2       P3 rectified, due 11-01                         -
B1       C6 open, deadline 11-23 (today)                 due_soon_cases (0 days left)
B1       H7 poverty-alleviated, registered 2026-01-01,   gaps: visit_overdue, no object,
         never visited                                     since 2026-02-01
B1       P4 open, due 10-01                              overdue_problems (53 days)
X        CX overdue, OX at risk, RX pending, PX overdue  (another county)
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

TODAY = date(2026, 11, 23)
COUNTY = "610326000000"
TOWN_A = "610326100000"
TOWN_B = "610326101000"
VILLAGE_A1 = "610326100201"
VILLAGE_A2 = "610326100202"
VILLAGE_B1 = "610326101201"
OTHER_VILLAGE = "610327100201"


def case_id(n: str) -> str:
    return f"c0000000-0000-0000-0000-0000000000{n}"


def object_id(n: str) -> str:
    return f"b0000000-0000-0000-0000-0000000000{n}"


def request_id(n: str) -> str:
    return f"d0000000-0000-0000-0000-0000000000{n}"


def problem_id(n: str) -> str:
    return f"f0000000-0000-0000-0000-0000000000{n}"


HOUSEHOLD_IDS = [f"HH-610326-{n:04d}" for n in range(1, 8)] + ["HH-610327-0001"]
NAMES = ["赵德明", "孙志强", "李桂兰", "周建国", "吴玉珍", "郑海涛", "冯立军", "褚永福"]

_REGIONS = """
INSERT INTO regions (code, name, level, parent_code) VALUES
  ('610326000000', '眉县', 'county', NULL),
  ('610326100000', '首善街道', 'town', '610326000000'),
  ('610326101000', '横渠镇', 'town', '610326000000'),
  ('610326100201', '城关村', 'village', '610326100000'),
  ('610326100202', '西街村', 'village', '610326100000'),
  ('610326101201', '横渠村', 'village', '610326101000'),
  ('610327000000', '陇县', 'county', NULL),
  ('610327100000', '城关镇', 'town', '610327000000'),
  ('610327100201', '东关村', 'village', '610327100000')
"""

# One household per case (one open case per household). Only H7 and HX are
# poverty-alleviated; only H1 and HX have a member (able to work).
_HOUSEHOLDS = """
INSERT INTO households (county_code, household_id, region_code, category, head_name,
                        registered_on) VALUES
  ('610326', 'HH-610326-0001', '610326100201', 'general', '赵德明', DATE '2026-01-01'),
  ('610326', 'HH-610326-0002', '610326100201', 'general', '孙志强', DATE '2026-01-01'),
  ('610326', 'HH-610326-0003', '610326100201', 'general', '李桂兰', DATE '2026-01-01'),
  ('610326', 'HH-610326-0004', '610326100201', 'general', '周建国', DATE '2026-01-01'),
  ('610326', 'HH-610326-0005', '610326100201', 'general', '吴玉珍', DATE '2026-01-01'),
  ('610326', 'HH-610326-0006', '610326101201', 'general', '郑海涛', DATE '2026-01-01'),
  ('610326', 'HH-610326-0007', '610326101201', 'poverty_alleviated', '冯立军',
   DATE '2026-01-01'),
  ('610327', 'HH-610327-0001', '610327100201', 'poverty_alleviated', '褚永福',
   DATE '2026-01-01')
"""

_MEMBERS = """
INSERT INTO members (county_code, id_hash, household_id, id_sealed, id_masked, name,
                     relation, labour_capacity, in_school, birth_date, sex) VALUES
  ('610326', decode(md5('m1'), 'hex'), 'HH-610326-0001', '\\x00'::bytea,
   '610326********001X', '赵德明', 'head', 'full', false, DATE '1970-01-01', 'male'),
  ('610327', decode(md5('mx'), 'hex'), 'HH-610327-0001', '\\x00'::bytea,
   '610327********001X', '褚永福', 'head', 'full', false, DATE '1970-01-01', 'male')
"""

_CASES = """
INSERT INTO cases (case_id, county_code, household_id, region_code, source, opened_on,
                   deadline, state, outcome, decided_on, opened_by)
SELECT CAST('c0000000-0000-0000-0000-0000000000' || c.n AS uuid), left(c.region, 6),
       c.household, c.region, c.source, CAST(c.deadline AS date) - 15, CAST(c.deadline AS date),
       c.state, c.outcome, CAST(c.decided_on AS date), 'test'
FROM (VALUES
  ('01', 'HH-610326-0001', '610326100201', 'department_warning', '2026-11-20', 'open',
   NULL, NULL),
  ('02', 'HH-610326-0002', '610326100201', 'self_report', '2026-11-10', 'open', NULL, NULL),
  ('03', 'HH-610326-0003', '610326100201', 'cadre_screening', '2026-11-25', 'open', NULL,
   NULL),
  ('04', 'HH-610326-0004', '610326100201', 'department_warning', '2026-11-27', 'open',
   NULL, NULL),
  ('05', 'HH-610326-0005', '610326100201', 'department_warning', '2026-11-01', 'decided',
   'not_included', '2026-10-30'),
  ('06', 'HH-610326-0006', '610326101201', 'self_report', '2026-11-23', 'open', NULL, NULL),
  ('99', 'HH-610327-0001', '610327100201', 'self_report', '2026-11-01', 'open', NULL, NULL)
) AS c(n, household, region, source, deadline, state, outcome, decided_on)
"""

_OBJECTS = """
INSERT INTO monitoring_objects (object_id, county_code, household_id, region_code,
                                monitoring_type, risk_types, status, included_on, case_id)
VALUES
  (CAST('b0000000-0000-0000-0000-000000000001' AS uuid), '610326', 'HH-610326-0001',
   '610326100201', 'marginal', '{illness}', 'risk_not_eliminated', DATE '2026-11-20',
   CAST('c0000000-0000-0000-0000-000000000001' AS uuid)),
  (CAST('b0000000-0000-0000-0000-000000000099' AS uuid), '610327', 'HH-610327-0001',
   '610327100201', 'marginal', '{illness}', 'risk_not_eliminated', DATE '2026-06-01',
   CAST('c0000000-0000-0000-0000-000000000099' AS uuid))
"""

_REQUESTS = """
INSERT INTO object_requests (request_id, county_code, object_id, household_id, region_code,
                             kind, reason, requested_on, requested_by, status, chain)
SELECT CAST('d0000000-0000-0000-0000-0000000000' || r.n AS uuid), left(r.region, 6),
       CAST('b0000000-0000-0000-0000-0000000000' || r.object_n AS uuid), r.household,
       r.region, r.kind, '赵德明家庭情况说明', CAST(r.requested_on AS date), 'test', r.status,
       jsonb_build_array(jsonb_build_object('level', 'county', 'decision', NULL,
                                            'decided_on', NULL, 'document_no', NULL,
                                            'notes', NULL, 'recorded_by', NULL))
FROM (VALUES
  ('01', '01', 'HH-610326-0001', '610326100201', 'removal', '2026-11-15', 'pending'),
  ('02', '01', 'HH-610326-0001', '610326100201', 'rollback', '2026-10-01', 'approved'),
  ('99', '99', 'HH-610327-0001', '610327100201', 'removal', '2026-11-01', 'pending')
) AS r(n, object_n, household, region, kind, requested_on, status)
"""

_PROBLEMS = """
INSERT INTO problems (problem_id, county_code, region_code, household_id, type, description,
                      found_on, due_on, responsible, status, rectified_on, action, created_by)
SELECT CAST('f0000000-0000-0000-0000-0000000000' || p.n AS uuid), left(p.region, 6),
       p.region, p.household, p.type, '周建国家饮水不安全', DATE '2026-09-01',
       CAST(p.due_on AS date), '孙志强', p.status, CAST(p.rectified_on AS date), p.action, 'test'
FROM (VALUES
  ('01', '610326100202', 'HH-610326-0005', 'guarantees_water', '2026-11-20', 'open', NULL,
   NULL),
  ('02', '610326100202', NULL, 'data_quality', '2026-11-23', 'open', NULL, NULL),
  ('03', '610326100202', NULL, 'other', '2026-11-01', 'rectified', '2026-10-20', '已整改'),
  ('04', '610326101201', NULL, 'policy_not_delivered', '2026-10-01', 'open', NULL, NULL),
  ('99', '610327100201', NULL, 'other', '2026-10-01', 'open', NULL, NULL)
) AS p(n, region, household, type, due_on, status, rectified_on, action)
"""


async def load_todo_dataset(session: AsyncSession) -> None:
    for statement in (
        _REGIONS,
        _HOUSEHOLDS,
        _MEMBERS,
        _CASES,
        _OBJECTS,
        _REQUESTS,
        _PROBLEMS,
    ):
        await session.execute(text(statement))


# Every date column the data set writes, to move it to another day (the browser
# test's server runs on the real clock).
_SHIFT = """
UPDATE households SET registered_on = registered_on + CAST(:days AS integer);
UPDATE cases SET opened_on = opened_on + CAST(:days AS integer),
                 deadline = deadline + CAST(:days AS integer),
                 decided_on = decided_on + CAST(:days AS integer);
UPDATE monitoring_objects SET included_on = included_on + CAST(:days AS integer);
UPDATE object_requests SET requested_on = requested_on + CAST(:days AS integer);
UPDATE problems SET found_on = found_on + CAST(:days AS integer),
                    due_on = due_on + CAST(:days AS integer),
                    rectified_on = rectified_on + CAST(:days AS integer)
"""


async def load_todo_dataset_on(session: AsyncSession, today: date) -> None:
    """The data set as it stands on `today` instead of TODAY: every date moved
    by the same number of days, so each item stays in its section."""
    await load_todo_dataset(session)
    for statement in _SHIFT.split(";"):
        await session.execute(text(statement), {"days": (today - TODAY).days})
