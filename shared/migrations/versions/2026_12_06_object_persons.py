"""Reporting summaries: persons beside the monitoring objects, and objects at
risk per risk type (SPEC §12: figures in households and persons, by risk type).

`summary_objects` and `summary_object_events` gain `persons` (the members of
the counted objects' households; 0 for look-back rows), filled here for the
rows already counted, and their read indexes carry it. `summary_object_risks`
counts the objects at risk per risk type at every grain, filled from the
tables. The numbers equal a recount by services/reporting/summaries.py.

Revision ID: 0013
Revises: 0017
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OBJECT_DIMS = ('monitoring_type', 'status', 'labour_capable', 'developed')
_EVENT_DIMS = ('event', 'monitoring_type')

# Every grain: its digits, and its rows' county_code (the county's own, or above
# the county the region's code cut to six digits).
_GRAINS = (
    "(VALUES ('village', 12), ('town', 9), ('county', 6), ('city', 4), ('province', 2))"
    " AS g(grain, digits)"
)
_GRAIN_REGION = "rpad(left(o.region_code, g.digits), 12, '0')"
_GRAIN_COUNTY = f"CASE WHEN g.digits >= 6 THEN o.county_code ELSE left({_GRAIN_REGION}, 6) END"

# Each object with the members of its household.
_OBJECTS = """
SELECT x.*, (SELECT count(*) FROM members p
             WHERE p.county_code = x.county_code AND p.household_id = x.household_id) AS persons
FROM monitoring_objects x"""

_FILL_OBJECTS = f"""
UPDATE summary_objects s SET persons = a.persons
FROM (
    SELECT {_GRAIN_COUNTY} AS county_code, g.grain, {_GRAIN_REGION} AS region_code,
           o.monitoring_type, o.status, o.labour_capable, o.developed, sum(o.persons) AS persons
    FROM (
        SELECT x.county_code, x.region_code, x.monitoring_type, x.status, x.persons,
               CASE WHEN x.status = 'risk_not_eliminated' AND NOT x.whole_household_no_labour
                    THEN EXISTS (SELECT 1 FROM members p
                                 WHERE p.county_code = x.county_code
                                   AND p.household_id = x.household_id
                                   AND p.labour_capacity <> 'none')
                    ELSE false END AS labour_capable,
               EXISTS (SELECT 1 FROM measures m
                       WHERE m.county_code = x.county_code AND m.object_id = x.object_id
                         AND m.development AND m.status <> 'cancelled') AS developed
        FROM ({_OBJECTS}) x
    ) o CROSS JOIN {_GRAINS}
    GROUP BY 1, 2, 3, 4, 5, 6, 7
) a
WHERE s.county_code = a.county_code AND s.grain = a.grain AND s.region_code = a.region_code
  AND s.monitoring_type = a.monitoring_type AND s.status = a.status
  AND s.labour_capable = a.labour_capable AND s.developed = a.developed
"""

_FILL_EVENTS = f"""
UPDATE summary_object_events s SET persons = a.persons
FROM (
    SELECT {_GRAIN_COUNTY} AS county_code, g.grain, {_GRAIN_REGION} AS region_code,
           b.bucket, CASE b.bucket WHEN 'day' THEN o.day
                          ELSE CAST(date_trunc(b.bucket, o.day) AS date) END AS day,
           o.event, o.monitoring_type, sum(o.persons) AS persons
    FROM (
        SELECT x.county_code, x.region_code, x.monitoring_type, x.persons, e.event, e.day
        FROM ({_OBJECTS}) x
        CROSS JOIN LATERAL (VALUES
            ('included', x.included_on),
            ('included_epidemic', CASE WHEN 'epidemic' = ANY(x.risk_types) THEN x.included_on END),
            ('eliminated_naturally', CASE WHEN x.eliminated_naturally THEN x.eliminated_on END),
            ('rolled_back', x.rolled_back_on),
            ('removed', x.removed_on)) AS e(event, day)
        WHERE e.day IS NOT NULL
    ) o CROSS JOIN {_GRAINS} CROSS JOIN (VALUES ('day'), ('month'), ('year')) AS b(bucket)
    GROUP BY 1, 2, 3, 4, 5, 6, 7
) a
WHERE s.county_code = a.county_code AND s.grain = a.grain AND s.region_code = a.region_code
  AND s.bucket = a.bucket AND s.day = a.day AND s.event = a.event
  AND s.monitoring_type = a.monitoring_type
"""

_FILL_RISKS = f"""
INSERT INTO summary_object_risks (county_code, grain, region_code, risk_type, n)
SELECT {_GRAIN_COUNTY}, g.grain, {_GRAIN_REGION}, o.risk_type, count(*)
FROM (
    SELECT x.county_code, x.region_code, r.risk_type
    FROM monitoring_objects x
    CROSS JOIN LATERAL (SELECT DISTINCT unnest(x.risk_types)) AS r(risk_type)
    WHERE x.status = 'risk_not_eliminated'
) o CROSS JOIN {_GRAINS}
GROUP BY 1, 2, 3, 4
"""


def _read_index(table: str, dims: tuple[str, ...], dated: bool, persons: bool) -> None:
    keys = ['grain', 'bucket', 'region_code', 'day'] if dated else ['grain', 'region_code']
    include = ['county_code', *dims, *(['persons'] if persons else []), 'n']
    op.drop_index(f'ix_{table}_read', table_name=table)
    op.create_index(f'ix_{table}_read', table, keys, unique=False, postgresql_include=include)


def upgrade() -> None:
    for table, dims, dated in (
        ('summary_objects', _OBJECT_DIMS, False),
        ('summary_object_events', _EVENT_DIMS, True),
    ):
        op.add_column(table, sa.Column('persons', sa.BigInteger(), server_default='0',
                                       nullable=False))
        op.alter_column(table, 'persons', server_default=None)
        _read_index(table, dims, dated, persons=True)
    op.execute(_FILL_OBJECTS)
    op.execute(_FILL_EVENTS)
    op.create_table('summary_object_risks',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('grain', sa.String(length=8, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('risk_type', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'grain', 'region_code', 'risk_type')
    )
    op.create_index('ix_summary_object_risks_read', 'summary_object_risks',
                    ['grain', 'region_code'], unique=False,
                    postgresql_include=['county_code', 'risk_type', 'n'])
    op.execute(_FILL_RISKS)


def downgrade() -> None:
    op.drop_index('ix_summary_object_risks_read', table_name='summary_object_risks')
    op.drop_table('summary_object_risks')
    for table, dims, dated in (
        ('summary_objects', _OBJECT_DIMS, False),
        ('summary_object_events', _EVENT_DIMS, True),
    ):
        _read_index(table, dims, dated, persons=False)
        op.drop_column(table, 'persons')
