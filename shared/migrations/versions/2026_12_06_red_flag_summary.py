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

The summaries are filled by the reporting consumer and `refresh_all`.

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0014'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


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


def downgrade() -> None:
    op.drop_table('summary_red_flag_villages')
    op.drop_table('summary_red_flags')
    op.drop_table('red_flag_households')
    op.drop_index('ix_warnings_off_system', table_name='warnings')
    op.drop_column('regions', 'attributes')
