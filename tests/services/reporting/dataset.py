"""A small hand-checked county for the reporting tests (plain SQL inserts).

眉县 (610326) with two towns and three villages, eight households, and a few
rows of everything reporting counts, plus one village of another county (陇县,
610327) that no figure of 眉县 may count. Every expected figure below was
worked out by hand from the tables in the comments, not by running the code.

The clock is frozen at NOW (10:00 on 23 November 2026 in Shanghai), so the
default period is 2026-01-01..2026-11-23 (DEFAULT_PERIOD). NOVEMBER is a
second period for the tests of period and stock figures.

API (stable, shared with the other reporting tests): `await load_dataset(session)`,
and the constants of this module. `expected(...)` figures leave out the zero
entries of the `by_*`/`newly_included` maps (the responses list every catalog
code; `nonzero()` strips the zeros before comparing).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.summaries import refresh_all

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TODAY = date(2026, 11, 23)
DEFAULT_PERIOD = (date(2026, 1, 1), TODAY)
NOVEMBER = (date(2026, 11, 1), TODAY)

COUNTY = "610326000000"  # 眉县
TOWN_A = "610326100000"  # 首善街道
TOWN_B = "610326101000"  # 横渠镇
VILLAGE_A1 = "610326100201"  # 城关村: most of town A's rows
VILLAGE_A2 = "610326100202"  # 西街村: one household and nothing else (all figures zero)
VILLAGE_B1 = "610326101201"  # 横渠村: all of town B's rows
OTHER_COUNTY = "610327000000"  # 陇县: its rows must never count for 眉县
OTHER_VILLAGE = "610327100201"

REGION_NAMES = {
    TOWN_A: "首善街道",
    TOWN_B: "横渠镇",
    VILLAGE_A1: "城关村",
    VILLAGE_A2: "西街村",
    VILLAGE_B1: "横渠村",
}

# Personal data that no reporting response may carry.
HOUSEHOLD_IDS = [f"HH-610326-{n:04d}" for n in range(1, 9)] + ["HH-610327-0001"]
PERSON_NAMES = [
    "赵德明",
    "钱秀英",
    "孙志强",
    "李桂兰",
    "周建国",
    "吴玉珍",
    "郑海涛",
    "王春梅",
    "冯立军",
    "陈淑芬",
    "褚永福",
    "卫红霞",
]
MASKED_ID_PREFIX = "610326********"

_REGIONS = """
INSERT INTO regions (code, name, level, parent_code) VALUES
  ('610000000000', '陕西省', 'province', NULL),
  ('610300000000', '宝鸡市', 'city', '610000000000'),
  ('610326000000', '眉县', 'county', '610300000000'),
  ('610326100000', '首善街道', 'town', '610326000000'),
  ('610326101000', '横渠镇', 'town', '610326000000'),
  ('610326100201', '城关村', 'village', '610326100000'),
  ('610326100202', '西街村', 'village', '610326100000'),
  ('610326101201', '横渠村', 'village', '610326101000'),
  ('610327000000', '陇县', 'county', '610300000000'),
  ('610327100000', '城关镇', 'town', '610327000000'),
  ('610327100201', '东关村', 'village', '610327100000')
"""

# H1..H8 are HH-610326-0001..0008; HX is HH-610327-0001.
_HOUSEHOLDS = """
INSERT INTO households (county_code, household_id, region_code, category, head_name) VALUES
  ('610326', 'HH-610326-0001', '610326100201', 'poverty_alleviated', '赵德明'),
  ('610326', 'HH-610326-0002', '610326100201', 'general', '孙志强'),
  ('610326', 'HH-610326-0003', '610326100201', 'general', '李桂兰'),
  ('610326', 'HH-610326-0004', '610326100201', 'general', '周建国'),
  ('610326', 'HH-610326-0005', '610326100202', 'general', '吴玉珍'),
  ('610326', 'HH-610326-0006', '610326101201', 'poverty_alleviated', '郑海涛'),
  ('610326', 'HH-610326-0007', '610326101201', 'general', '冯立军'),
  ('610326', 'HH-610326-0008', '610326101201', 'general', '陈淑芬'),
  ('610327', 'HH-610327-0001', '610327100201', 'general', '褚永福')
"""

# Labour capacity decides who must have a development measure:
#   H1 full + none -> able    H2 none -> not able      H3 partial -> able
#   H4 weak -> able           H5 full -> able          H6 weak + none -> able
#   H7 full -> able           H8 full -> able          HX full -> able
_MEMBERS = """
INSERT INTO members (county_code, id_hash, household_id, id_sealed, id_masked, name,
                     relation, labour_capacity, in_school, birth_date, sex)
SELECT substr(m.household_id, 4, 6), decode(md5(m.name), 'hex'), m.household_id,
       '\\x00'::bytea, substr(m.household_id, 4, 6) || '********' || m.tail, m.name,
       m.relation, m.labour, false, DATE '1970-01-01', 'male'
FROM (VALUES
  ('HH-610326-0001', '赵德明', 'head', 'full', '0011'),
  ('HH-610326-0001', '钱秀英', 'child', 'none', '0022'),
  ('HH-610326-0002', '孙志强', 'head', 'none', '0033'),
  ('HH-610326-0003', '李桂兰', 'head', 'partial', '0044'),
  ('HH-610326-0004', '周建国', 'head', 'weak', '0055'),
  ('HH-610326-0005', '吴玉珍', 'head', 'full', '0066'),
  ('HH-610326-0006', '郑海涛', 'head', 'weak', '0077'),
  ('HH-610326-0006', '王春梅', 'spouse', 'none', '0088'),
  ('HH-610326-0007', '冯立军', 'head', 'full', '0099'),
  ('HH-610326-0008', '陈淑芬', 'head', 'full', '010X'),
  ('HH-610327-0001', '褚永福', 'head', 'full', '0111')
) AS m(household_id, name, relation, labour, tail)
"""

# id  department / warning type                   status           late region household received_on
# W1  medical_insurance / high_medical_expense    matched               A1     H1   2026-03-01
# W2  medical_insurance / high_medical_expense    below_threshold       A1     H2   2026-11-10
# W3  civil_affairs / dibao                       matched               A1     H4   2026-11-08
# W4  civil_affairs / tekun                       matched               B1     H7   2026-11-10
# W5  civil_affairs / dibao                       unmatched             COUNTY -    2026-11-15
# W6  emergency_management / disaster             matched          late B1     H6   2026-06-01
# W7  health / epidemic_impact                    matched          late A1     H3   2026-11-01
# W8  education / school_dropout                  unmatched             B1     -    2026-03-12
# W9  housing / unsafe_housing                    dismissed             A1     -    2026-02-01
# W10 civil_affairs / dibao                       matched               A1     H4   2025-12-01 *
# W11 civil_affairs / dibao                       matched               X      HX   2026-11-01 **
# * before the period; ** another county.
# W5 names no village: it counts for the county and for none of its towns.
_WARNINGS = """
INSERT INTO warnings (warning_id, county_code, department, warning_type, source_record_id,
                      batch_id, batch_index, id_hash, id_sealed, id_masked, name,
                      region_code, household_id, received_at, received_on, status, late,
                      name_mismatch)
SELECT CAST('d0000000-0000-0000-0000-0000000000' || w.n AS uuid), left(w.region, 6),
       w.department, w.type, 'SRC-' || w.n, CAST('f0000000-0000-0000-0000-000000000099' AS uuid),
       CAST(w.n AS int), decode(md5(w.name), 'hex'), '\\x00'::bytea,
       left(w.region, 6) || '********' || w.n || '1X', w.name, w.region, w.household,
       (CAST(w.received_on AS date) + time '09:00') AT TIME ZONE 'Asia/Shanghai',
       CAST(w.received_on AS date), w.status, w.late, false
FROM (VALUES
  ('01', 'medical_insurance', 'high_medical_expense', 'matched', false,
   '610326100201', 'HH-610326-0001', '赵德明', '2026-03-01'),
  ('02', 'medical_insurance', 'high_medical_expense', 'below_threshold', false,
   '610326100201', 'HH-610326-0002', '孙志强', '2026-11-10'),
  ('03', 'civil_affairs', 'dibao', 'matched', false,
   '610326100201', 'HH-610326-0004', '周建国', '2026-11-08'),
  ('04', 'civil_affairs', 'tekun', 'matched', false,
   '610326101201', 'HH-610326-0007', '冯立军', '2026-11-10'),
  ('05', 'civil_affairs', 'dibao', 'unmatched', false,
   '610326000000', NULL, '卫红霞', '2026-11-15'),
  ('06', 'emergency_management', 'disaster', 'matched', true,
   '610326101201', 'HH-610326-0006', '郑海涛', '2026-06-01'),
  ('07', 'health', 'epidemic_impact', 'matched', true,
   '610326100201', 'HH-610326-0003', '李桂兰', '2026-11-01'),
  ('08', 'education', 'school_dropout', 'unmatched', false,
   '610326101201', NULL, '卫红霞', '2026-03-12'),
  ('09', 'housing', 'unsafe_housing', 'dismissed', false,
   '610326100201', NULL, '卫红霞', '2026-02-01'),
  ('10', 'civil_affairs', 'dibao', 'matched', false,
   '610326100201', 'HH-610326-0004', '周建国', '2025-12-01'),
  ('11', 'civil_affairs', 'dibao', 'matched', false,
   '610327100201', 'HH-610327-0001', '褚永福', '2026-11-01')
) AS w(n, department, type, status, late, region, household, name, received_on)
"""

# deadline = opened_on + 15; "days" = decided_on - opened_on.
# id  household region opened     deadline   decided    days outcome
# C1  H1        A1     2026-03-01 2026-03-16 2026-03-11 10   included (O1), in time
# C2  H2        A1     2026-04-01 2026-04-16 2026-04-21 20   included (O2), late
# C3  H6        B1     2026-06-01 2026-06-16 2026-06-13 12   included (O3), in time
# C4  H3        A1     2026-11-01 2026-11-16 -               open, overdue
# C5  H7        B1     2026-11-10 2026-11-25 -               open, due soon
# C6  H8        B1     2026-11-20 2026-12-05 -               open
# C7  H4        A1     2025-12-01 2025-12-16 2026-01-10 40   not_included, late
# C8  HX        X      2026-11-01 2026-11-16 -               (another county)
# C9  H7        B1     2025-05-20 2025-06-04 2025-05-30 10   included (O4), 2025
# C10 H4        A1     2026-11-08 2026-11-23 -               open, due soon (deadline today)
# C11 H8        B1     2025-02-10 2025-02-25 2025-02-20 10   included (O5), 2025
# C12 H3        A1     2026-01-26 2026-02-10 2026-02-10 15   included (O6), on the deadline
# C13 H4        A1     2025-01-05 2025-01-20 2025-01-15 10   included (O7), 2025
_CASES = """
INSERT INTO cases (case_id, county_code, household_id, region_code, source, opened_on,
                   deadline, state, outcome, decided_on, opened_by)
SELECT CAST('c0000000-0000-0000-0000-0000000000' || c.n AS uuid), left(c.region, 6),
       c.household, c.region, 'department_warning', CAST(c.opened AS date),
       CAST(c.opened AS date) + 15,
       CASE WHEN c.decided IS NULL THEN 'open' ELSE 'decided' END, c.outcome,
       CAST(c.decided AS date), 'test'
FROM (VALUES
  ('01', 'HH-610326-0001', '610326100201', '2026-03-01', '2026-03-11', 'included'),
  ('02', 'HH-610326-0002', '610326100201', '2026-04-01', '2026-04-21', 'included'),
  ('03', 'HH-610326-0006', '610326101201', '2026-06-01', '2026-06-13', 'included'),
  ('04', 'HH-610326-0003', '610326100201', '2026-11-01', NULL, NULL),
  ('05', 'HH-610326-0007', '610326101201', '2026-11-10', NULL, NULL),
  ('06', 'HH-610326-0008', '610326101201', '2026-11-20', NULL, NULL),
  ('07', 'HH-610326-0004', '610326100201', '2025-12-01', '2026-01-10', 'not_included'),
  ('08', 'HH-610327-0001', '610327100201', '2026-11-01', NULL, NULL),
  ('09', 'HH-610326-0007', '610326101201', '2025-05-20', '2025-05-30', 'included'),
  ('10', 'HH-610326-0004', '610326100201', '2026-11-08', NULL, NULL),
  ('11', 'HH-610326-0008', '610326101201', '2025-02-10', '2025-02-20', 'included'),
  ('12', 'HH-610326-0003', '610326100201', '2026-01-26', '2026-02-10', 'included'),
  ('13', 'HH-610326-0004', '610326100201', '2025-01-05', '2025-01-15', 'included')
) AS c(n, household, region, opened, decided, outcome)
"""

# id household region type                status              risk types
# O1 H1        A1     unstable_alleviated risk_not_eliminated illness
# O2 H2        A1     marginal            risk_not_eliminated epidemic, lack_of_funds
# O3 H6        B1     unstable_alleviated risk_not_eliminated disaster
# O4 H7        B1     sudden_hardship     risk_eliminated     accident, epidemic
# O5 H8        B1     marginal            risk_not_eliminated illness
# O6 H3        A1     marginal            removed             lack_of_skills
# O7 H4        A1     sudden_hardship     removed             illness
# OX HX        X      marginal            risk_not_eliminated illness (another county)
# Dates:
# O1 included 2026-03-11        O5 included 2025-02-20, eliminated 2025-10-01,
# O2 included 2026-04-21           rolled back 2026-05-10
#    (flagged whole household   O6 included 2026-02-10, removed 2026-07-01
#    without labour)            O7 included 2025-01-15, removed 2025-12-01
# O3 included 2026-06-13        OX included 2026-05-01
# O4 included 2025-05-30, eliminated 2026-02-01 naturally (自然消除)
_OBJECTS = """
INSERT INTO monitoring_objects (object_id, county_code, household_id, region_code,
                                monitoring_type, risk_types, status, included_on, case_id,
                                eliminated_on, rolled_back_on, removed_on,
                                whole_household_no_labour, eliminated_naturally)
SELECT CAST('b0000000-0000-0000-0000-0000000000' || o.n AS uuid), left(o.region, 6),
       o.household, o.region, o.type, CAST(o.risks AS varchar(40)[]), o.status,
       CAST(o.included AS date), CAST('c0000000-0000-0000-0000-0000000000' || o.case_n AS uuid),
       CAST(o.eliminated AS date), CAST(o.rolled_back AS date), CAST(o.removed AS date),
       o.no_labour, o.n = '04'
FROM (VALUES
  ('01', 'HH-610326-0001', '610326100201', 'unstable_alleviated', '{illness}',
   'risk_not_eliminated', '2026-03-11', '01', NULL, NULL, NULL, false),
  ('02', 'HH-610326-0002', '610326100201', 'marginal', '{epidemic,lack_of_funds}',
   'risk_not_eliminated', '2026-04-21', '02', NULL, NULL, NULL, true),
  ('03', 'HH-610326-0006', '610326101201', 'unstable_alleviated', '{disaster}',
   'risk_not_eliminated', '2026-06-13', '03', NULL, NULL, NULL, false),
  ('04', 'HH-610326-0007', '610326101201', 'sudden_hardship', '{accident,epidemic}',
   'risk_eliminated', '2025-05-30', '09', '2026-02-01', NULL, NULL, false),
  ('05', 'HH-610326-0008', '610326101201', 'marginal', '{illness}',
   'risk_not_eliminated', '2025-02-20', '11', '2025-10-01', '2026-05-10', NULL, false),
  ('06', 'HH-610326-0003', '610326100201', 'marginal', '{lack_of_skills}',
   'removed', '2026-02-10', '12', NULL, NULL, '2026-07-01', false),
  ('07', 'HH-610326-0004', '610326100201', 'sudden_hardship', '{illness}',
   'removed', '2025-01-15', '13', NULL, NULL, '2025-12-01', false),
  ('99', 'HH-610327-0001', '610327100201', 'marginal', '{illness}',
   'risk_not_eliminated', '2026-05-01', '08', NULL, NULL, NULL, false)
) AS o(n, household, region, type, risks, status, included, case_n, eliminated,
       rolled_back, removed, no_labour)
"""

# id object kind      assessed_on
# S1 O4     look_back 2026-08-01
# S2 O5     look_back 2026-05-10 (found it unstable: the rollback)
# S3 O1     routine   2026-06-01 (not a look-back)
# S4 O5     look_back 2025-12-15 (before the period)
# S5 O4     look_back 2026-11-12 (in November)
# SX OX     look_back 2026-11-01 (another county)
_ASSESSMENTS = """
INSERT INTO assessments (assessment_id, county_code, object_id, household_id, assessed_on,
                         kind, income_per_capita_yuan, rigid_expenditure_yuan, housing_secure,
                         education_secure, medical_secure, drinking_water_secure, actor,
                         recorded_at)
SELECT CAST('a0000000-0000-0000-0000-0000000000' || s.n AS uuid), o.county_code, o.object_id,
       o.household_id, CAST(s.assessed AS date), s.kind, 8000, 500, true, true, true, true,
       'test', (CAST(s.assessed AS date) + time '10:00') AT TIME ZONE 'Asia/Shanghai'
FROM (VALUES
  ('01', '04', 'look_back', '2026-08-01'),
  ('02', '05', 'look_back', '2026-05-10'),
  ('03', '01', 'routine', '2026-06-01'),
  ('04', '05', 'look_back', '2025-12-15'),
  ('05', '04', 'look_back', '2026-11-12'),
  ('99', '99', 'look_back', '2026-11-01')
) AS s(n, object_n, kind, assessed)
JOIN monitoring_objects o
  ON o.object_id = CAST('b0000000-0000-0000-0000-0000000000' || s.object_n AS uuid)
"""

# id  object            region category             development status
# ME1 O1                A1     industry             yes         planned
# ME2 O1                A1     insurance_subsidy                completed
# ME3 O2                A1     dibao                            in_progress
# ME4 O3                B1     employment           yes         cancelled
# ME5 O3                B1     tekun                            planned
# ME6 O5                B1     public_welfare_job   yes         in_progress
# ME7 O4                B1     microcredit          yes         completed
# ME8 O6                A1     insurance_subsidy                cancelled
# ME9 - (case C5, H7)   B1     temporary_assistance             planned (green channel)
# MEX OX                X      industry             yes         planned (another county)
_MEASURES = """
INSERT INTO measures (measure_id, county_code, object_id, case_id, household_id, region_code,
                      category, development, responsible_department, status, planned_on,
                      created_by)
SELECT CAST('e0000000-0000-0000-0000-0000000000' || m.n AS uuid), left(m.region, 6),
       CAST('b0000000-0000-0000-0000-0000000000' || m.object_n AS uuid),
       CAST('c0000000-0000-0000-0000-0000000000' || m.case_n AS uuid),
       m.household, m.region, m.category, m.development, 'agriculture', m.status,
       DATE '2026-07-01', 'test'
FROM (VALUES
  ('01', '01', NULL, 'HH-610326-0001', '610326100201', 'industry', true, 'planned'),
  ('02', '01', NULL, 'HH-610326-0001', '610326100201', 'insurance_subsidy', false, 'completed'),
  ('03', '02', NULL, 'HH-610326-0002', '610326100201', 'dibao', false, 'in_progress'),
  ('04', '03', NULL, 'HH-610326-0006', '610326101201', 'employment', true, 'cancelled'),
  ('05', '03', NULL, 'HH-610326-0006', '610326101201', 'tekun', false, 'planned'),
  ('06', '05', NULL, 'HH-610326-0008', '610326101201', 'public_welfare_job', true,
   'in_progress'),
  ('07', '04', NULL, 'HH-610326-0007', '610326101201', 'microcredit', true, 'completed'),
  ('08', '06', NULL, 'HH-610326-0003', '610326100201', 'insurance_subsidy', false,
   'cancelled'),
  ('09', NULL, '05', 'HH-610326-0007', '610326101201', 'temporary_assistance', false,
   'planned'),
  ('99', '99', NULL, 'HH-610327-0001', '610327100201', 'industry', true, 'planned')
) AS m(n, object_n, case_n, household, region, category, development, status)
"""

# Feeds belong to no place. At NOW (2026-11-23T02:00Z), with the shipped cadences:
# batch department / type                      pushed_at (UTC)  state at NOW
# F1    medical_insurance / high_medical_expense 2026-11-10 02:00   (monitored_and_alleviated)
# F2    medical_insurance / high_medical_expense 2026-11-20 02:00 due 11-30 02:00: on_time
# F3    civil_affairs / dibao                    2026-10-20 00:00
# F4    civil_affairs / dibao                    2026-11-09 12:00 due 11-24 12:00: due_soon
# F5    housing / unsafe_housing                 2026-11-01 00:00 due 11-16 00:00: late
# The other ten periodic feeds (the general population's high_medical_expense
# among them) were never pushed. No ingest_batches rows are written.
_FEED_PUSHES = """
INSERT INTO feed_pushes (batch_id, warning_type, population, department, pushed_at, period_end)
SELECT CAST('f0000000-0000-0000-0000-0000000000' || p.n AS uuid), p.type,
       CASE p.type WHEN 'high_medical_expense' THEN 'monitored_and_alleviated' ELSE 'all' END,
       p.department, CAST(p.pushed_at AS timestamptz), CAST(p.pushed_at AS date) - 1
FROM (VALUES
  ('01', 'medical_insurance', 'high_medical_expense', '2026-11-10T02:00:00Z'),
  ('02', 'medical_insurance', 'high_medical_expense', '2026-11-20T02:00:00Z'),
  ('03', 'civil_affairs', 'dibao', '2026-10-20T00:00:00Z'),
  ('04', 'civil_affairs', 'dibao', '2026-11-09T12:00:00Z'),
  ('05', 'housing', 'unsafe_housing', '2026-11-01T00:00:00Z')
) AS p(n, department, type, pushed_at)
"""

_STATEMENTS = (
    _REGIONS,
    _HOUSEHOLDS,
    _MEMBERS,
    _WARNINGS,
    _CASES,
    _OBJECTS,
    _ASSESSMENTS,
    _MEASURES,
    _FEED_PUSHES,
)


async def load_dataset(session: AsyncSession) -> None:
    """Insert the data set and count it into the reporting summaries (plain SQL
    writes no events). Never commits; the test's transaction rolls it back."""
    for statement in _STATEMENTS:
        await session.execute(text(statement))
    await refresh_all(session)
