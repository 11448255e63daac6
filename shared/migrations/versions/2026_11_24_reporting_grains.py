"""Reporting summaries: city and province grains, year buckets, covering read indexes.

A province's overview added up every county-grain day row of its counties
(800k rows at province size); a grain per level lets each region add up only
its own grain's rows, and a city's or province's rows are kept once for the
whole region rather than per county. Year rows let a period ending today be
read as its year less the days to come. The read indexes now carry every column the figures
sum, so those rows are read from the index alone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 01:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (dated, the dimensions its figures sum)
_TABLES: dict[str, tuple[bool, tuple[str, ...]]] = {
    'summary_warnings': (True, ('warning_type', 'status', 'late')),
    'summary_cases': (True, ('event', 'days_to_decision', 'within_deadline')),
    'summary_object_events': (True, ('event', 'monitoring_type')),
    'summary_open_cases': (False, ('deadline',)),
    'summary_objects': (False, ('monitoring_type', 'status', 'labour_capable', 'developed')),
    'summary_measures': (False, ('category', 'status')),
}
# grain -> the digits of its region code
_NEW_GRAINS = {'city': 4, 'province': 2}


def _keys(dated: bool) -> list[str]:
    return ['grain', 'bucket', 'region_code', 'day'] if dated else ['grain', 'region_code']


def upgrade() -> None:
    for table, (dated, dimensions) in _TABLES.items():
        op.drop_index(f'ix_{table}_read', table_name=table)
        op.create_index(
            f'ix_{table}_read', table, _keys(dated), unique=False,
            postgresql_include=['county_code', *dimensions, 'n'],
        )
        if dated:
            # Year rows: a period ending today reads its year less the days to come.
            dims = ', '.join(dimensions)
            op.execute(
                f"INSERT INTO {table} (county_code, grain, region_code, bucket, day, {dims}, n)"
                f" SELECT county_code, grain, region_code, 'year',"
                f" CAST(date_trunc('year', day) AS date), {dims}, sum(n) FROM {table}"
                f" WHERE bucket = 'month' GROUP BY county_code, grain, region_code,"
                f" date_trunc('year', day), {dims}"
            )
        # A city's or province's rows add up the county-grain rows inside it,
        # keyed by its own code cut to six digits (services/reporting/summaries.py).
        keys = ', '.join([*(['bucket', 'day'] if dated else []), *dimensions])
        for grain, digits in _NEW_GRAINS.items():
            region = f"rpad(left(region_code, {digits}), 12, '0')"
            op.execute(
                f"INSERT INTO {table} (county_code, grain, region_code, {keys}, n)"
                f" SELECT left({region}, 6), '{grain}', {region}, {keys}, sum(n)"
                f" FROM {table} WHERE grain = 'county' GROUP BY {region}, {keys}"
            )


def downgrade() -> None:
    for table, (dated, _dimensions) in _TABLES.items():
        op.execute(f"DELETE FROM {table} WHERE grain IN ('city', 'province')")
        if dated:
            op.execute(f"DELETE FROM {table} WHERE bucket = 'year'")
        op.drop_index(f'ix_{table}_read', table_name=table)
        op.create_index(f'ix_{table}_read', table, _keys(dated), unique=False)
