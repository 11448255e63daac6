"""Red flags (SPEC §6, §12): region attributes (key areas) and the red-flag summaries.

- `regions.attributes`: the key-area attributes a regions load names
  (`key_village`, `resettlement_site`, `abandoned_mine`), empty by default.
- `red_flag_households`: per household, what the red flags need (only the
  households with something to count): persons when it is monitored at risk,
  the dates between which it is off-system (体外循环), and whether it should
  be included (应纳未纳).
- `summary_red_flags`: those households counted per village.
- `summary_red_flag_villages`: households and poverty-alleviated households per village.
- `ix_warnings_off_system`: a partial index of the civil-affairs aid warnings
  by household, so that deciding a few households again reads a few rows.

The migration fills the summaries from the tables (with a frozen copy of the
statement services/reporting/red_flags/summary.py decides households with);
the reporting consumer and `refresh_all` keep them current.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# services/reporting/red_flags/summary.py's _DECIDE as of this revision, for every household.
_DECIDE = """
INSERT INTO red_flag_households (county_code, household_id, region_code, persons_at_risk,
    off_system_from, off_system_until, should_include)
WITH targets AS MATERIALIZED (SELECT county_code, household_id, region_code FROM households),
lines AS (
    SELECT * FROM unnest(CAST(:years AS integer[]), CAST(:lines AS numeric[])) AS l(year, line)
), bands AS (
    SELECT * FROM unnest(CAST(:bands AS text[]), CAST(:band_uppers AS numeric[])) AS b(band, upper)
), at_risk AS (
    SELECT DISTINCT o.county_code, o.household_id FROM monitoring_objects o
    JOIN targets t ON t.county_code = o.county_code AND t.household_id = o.household_id
    WHERE o.status = 'risk_not_eliminated'
), persons AS (
    SELECT m.county_code, m.household_id, count(*) AS n FROM members m
    JOIN at_risk a ON a.county_code = m.county_code AND a.household_id = m.household_id
    GROUP BY 1, 2
), warned AS (
    SELECT w.county_code, w.household_id, max(w.received_on) + 365 AS until
    FROM warnings w
    JOIN targets t ON t.county_code = w.county_code AND t.household_id = w.household_id
    -- As ix_warnings_off_system's predicate (constants, so that it serves).
    WHERE w.status = 'matched' AND w.department = 'civil_affairs'
      AND w.warning_type IN ('dibao', 'tekun', 'temporary_assistance')
    GROUP BY 1, 2
), cased AS (
    SELECT c.county_code, c.household_id,
           CASE WHEN bool_or(c.state = 'open' AND c.decided_on IS NULL) THEN DATE 'infinity'
                ELSE COALESCE(max(c.decided_on) + 365, DATE '-infinity') END AS since
    FROM cases c
    JOIN warned w ON w.county_code = c.county_code AND w.household_id = c.household_id
    GROUP BY 1, 2
), latest_visits AS (
    SELECT DISTINCT ON (c.county_code, c.household_id)
           c.county_code, c.household_id, s.done_on,
           CAST(s.form ->> 'income_per_capita_yuan' AS numeric) AS income
    FROM case_steps s
    JOIN cases c ON c.county_code = s.county_code AND c.case_id = s.case_id
    JOIN targets t ON t.county_code = c.county_code AND t.household_id = c.household_id
    WHERE s.step = 'household_visit'
    ORDER BY c.county_code, c.household_id, s.done_on DESC, s.recorded_at DESC
), visited AS (
    SELECT v.county_code, v.household_id FROM latest_visits v
    WHERE v.income < COALESCE(
              (SELECT l.line FROM lines l WHERE l.year <= extract(year FROM v.done_on)
               ORDER BY l.year DESC LIMIT 1),
              (SELECT l.line FROM lines l ORDER BY l.year LIMIT 1))
), latest_screenings AS (
    SELECT DISTINCT ON (s.county_code, s.household_id)
           s.county_code, s.household_id, s.screened_on, s.housing, s.drinking_water,
           s.schooling, s.income_band, s.civil_affairs_support
    FROM screenings s
    JOIN campaigns p ON p.campaign_id = s.campaign_id
    JOIN targets t ON t.county_code = s.county_code AND t.household_id = s.household_id
    ORDER BY s.county_code, s.household_id, p.year DESC, p.starts_on DESC,
             p.created_at DESC, p.campaign_id
), screened AS (
    SELECT x.county_code, x.household_id,
           COALESCE(x.civil_affairs_support = ANY(CAST(:off_system_support AS text[])), false)
               AS off_system,
           COALESCE(x.housing = 'unsafe' OR x.drinking_water = 'unsafe'
             OR x.schooling = 'out_of_school'
             OR COALESCE(
                    (SELECT b.upper FROM bands b WHERE b.band = x.income_band)
                    <= COALESCE(
                        (SELECT l.line FROM lines l
                         WHERE l.year <= extract(year FROM x.screened_on)
                         ORDER BY l.year DESC LIMIT 1),
                        (SELECT l.line FROM lines l ORDER BY l.year LIMIT 1)),
                    false), false) AS should_include
    FROM latest_screenings x
), decided AS (
    SELECT t.county_code, t.household_id, t.region_code,
           CASE WHEN a.household_id IS NOT NULL THEN COALESCE(p.n, 0) ELSE 0 END AS persons,
           CASE WHEN a.household_id IS NOT NULL THEN DATE '-infinity'
                WHEN s.off_system THEN DATE '-infinity'
                WHEN w.until IS NOT NULL THEN COALESCE(c.since, DATE '-infinity')
                ELSE DATE '-infinity' END AS off_from,
           CASE WHEN a.household_id IS NOT NULL THEN DATE '-infinity'
                WHEN s.off_system THEN DATE 'infinity'
                ELSE COALESCE(w.until, DATE '-infinity') END AS off_until,
           a.household_id IS NULL
               AND (v.household_id IS NOT NULL OR COALESCE(s.should_include, false))
               AS should_include
    FROM targets t
    LEFT JOIN at_risk a ON a.county_code = t.county_code AND a.household_id = t.household_id
    LEFT JOIN persons p ON p.county_code = t.county_code AND p.household_id = t.household_id
    LEFT JOIN warned w ON w.county_code = t.county_code AND w.household_id = t.household_id
    LEFT JOIN cased c ON c.county_code = t.county_code AND c.household_id = t.household_id
    LEFT JOIN visited v ON v.county_code = t.county_code AND v.household_id = t.household_id
    LEFT JOIN screened s ON s.county_code = t.county_code AND s.household_id = t.household_id
)
SELECT county_code, household_id, region_code, persons, off_from, off_until, should_include
FROM decided
WHERE persons > 0 OR off_from < off_until OR should_include
"""
_COUNT = """
INSERT INTO summary_red_flags (county_code, region_code, off_system_from, off_system_until,
    should_include, households, persons_at_risk)
SELECT county_code, region_code, off_system_from, off_system_until, should_include,
       count(*), sum(persons_at_risk)
FROM red_flag_households GROUP BY 1, 2, 3, 4, 5
"""
_COUNT_VILLAGES = """
INSERT INTO summary_red_flag_villages (county_code, region_code, households, poverty_alleviated)
SELECT county_code, region_code, count(*), count(*) FILTER (WHERE category = 'poverty_alleviated')
FROM households GROUP BY 1, 2
"""


def _fill() -> None:
    from shared.catalog import INCOME_BAND_UPPER_YUAN, OFF_SYSTEM_SUPPORT
    from shared.policy import get_policy

    policy = get_policy()
    years = sorted(policy.years)
    bands = {b: upper for b, upper in INCOME_BAND_UPPER_YUAN.items() if upper is not None}
    bind = op.get_bind()
    if not bind.execute(sa.text("SELECT EXISTS (SELECT 1 FROM households)")).scalar():
        return
    bind.execute(
        sa.text(_DECIDE),
        {
            "years": years,
            "lines": [policy.years[y].monitoring_line_yuan for y in years],
            "bands": list(bands),
            "band_uppers": list(bands.values()),
            "off_system_support": sorted(OFF_SYSTEM_SUPPORT),
        },
    )
    op.execute(_COUNT)
    op.execute(_COUNT_VILLAGES)


def _code(length: int) -> sa.String:
    return sa.String(length=length, collation='C')


OFF_SYSTEM_WARNINGS = (
    "status = 'matched' AND department = 'civil_affairs'"
    " AND warning_type IN ('dibao', 'tekun', 'temporary_assistance')"
)


def upgrade() -> None:
    op.add_column('regions', sa.Column(
        'attributes', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False
    ))
    # The civil-affairs aid warnings of a household, for deciding it again (few rows).
    op.create_index('ix_warnings_off_system', 'warnings', ['county_code', 'household_id',
                    'received_on'], unique=False,
                    postgresql_where=sa.text(OFF_SYSTEM_WARNINGS))
    op.create_table('red_flag_households',
    sa.Column('county_code', _code(6), nullable=False),
    sa.Column('household_id', _code(40), nullable=False),
    sa.Column('region_code', _code(12), nullable=False),
    sa.Column('persons_at_risk', sa.Integer(), nullable=False),
    sa.Column('off_system_from', sa.Date(), nullable=False),
    sa.Column('off_system_until', sa.Date(), nullable=False),
    sa.Column('should_include', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'household_id')
    )
    op.create_index('ix_red_flag_households_region', 'red_flag_households',
                    ['region_code'], unique=False)
    op.create_table('summary_red_flags',
    sa.Column('county_code', _code(6), nullable=False),
    sa.Column('region_code', _code(12), nullable=False),
    sa.Column('off_system_from', sa.Date(), nullable=False),
    sa.Column('off_system_until', sa.Date(), nullable=False),
    sa.Column('should_include', sa.Boolean(), nullable=False),
    sa.Column('households', sa.BigInteger(), nullable=False),
    sa.Column('persons_at_risk', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'region_code', 'off_system_from',
                            'off_system_until', 'should_include')
    )
    op.create_index('ix_summary_red_flags_region', 'summary_red_flags', ['region_code'],
                    unique=False)
    op.create_table('summary_red_flag_villages',
    sa.Column('county_code', _code(6), nullable=False),
    sa.Column('region_code', _code(12), nullable=False),
    sa.Column('households', sa.BigInteger(), nullable=False),
    sa.Column('poverty_alleviated', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'region_code')
    )
    op.create_index('ix_summary_red_flag_villages_region', 'summary_red_flag_villages',
                    ['region_code'], unique=False)
    _fill()


def downgrade() -> None:
    op.drop_table('summary_red_flag_villages')
    op.drop_table('summary_red_flags')
    op.drop_table('red_flag_households')
    op.drop_index('ix_warnings_off_system', table_name='warnings')
    op.drop_column('regions', 'attributes')
