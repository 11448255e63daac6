"""Monthly household visits (每月走访), the household gaps announced, natural
elimination (自然消除) on monitoring objects, and the day a household was
first registered (where an unvisited household's visit clock starts).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('household_visits',
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('household_id', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('object_id', sa.Uuid(), nullable=True),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('income_per_capita_yuan', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('labour_capable_members', sa.Integer(), nullable=True),
    sa.Column('employed_members', sa.Integer(), nullable=True),
    sa.Column('member_changes', sa.Text(), nullable=True),
    sa.Column('new_risk', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('visit_id', 'county_code')
    )
    op.create_index('ix_household_visits_household', 'household_visits',
                    ['county_code', 'household_id', 'visited_on'], unique=False)
    op.create_table('household_gap_notices',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('household_id', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('noticed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'household_id', 'kind', 'since')
    )
    op.add_column('monitoring_objects', sa.Column(
        'eliminated_naturally', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('monitoring_objects', sa.Column('elimination_reason', sa.Text(), nullable=True))
    op.add_column('households', sa.Column(
        'registered_on', sa.Date(), server_default=sa.text('CURRENT_DATE'), nullable=False))


def downgrade() -> None:
    op.drop_column('households', 'registered_on')
    op.drop_column('monitoring_objects', 'elimination_reason')
    op.drop_column('monitoring_objects', 'eliminated_naturally')
    op.drop_table('household_gap_notices')
    op.drop_index('ix_household_visits_household', table_name='household_visits')
    op.drop_table('household_visits')
