"""Screening campaigns (集中排查): campaigns, screenings, spot-check samples, the problem ledger; audit rows by target.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 22:21:43.814155
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('phases', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('reported_figures', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id', 'county_code')
    )
    op.create_index('ix_campaigns_region', 'campaigns', ['region_code', 'year'], unique=False)
    op.create_table('problems',
    sa.Column('problem_id', sa.Uuid(), nullable=False),
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=True),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('household_id', sa.String(length=40, collation='C'), nullable=True),
    sa.Column('type', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('found_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('responsible', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('rectified_on', sa.Date(), nullable=True),
    sa.Column('action', sa.Text(), nullable=True),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('problem_id', 'county_code')
    )
    op.create_index('ix_problems_campaign', 'problems', ['campaign_id'], unique=False)
    op.create_index('ix_problems_open_due', 'problems', ['county_code', 'due_on'], unique=False, postgresql_where=sa.text("status = 'open'"))
    op.create_index('ix_problems_region', 'problems', ['region_code', 'found_on', 'problem_id'], unique=False)
    op.create_table('screenings',
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('household_id', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('screened_on', sa.Date(), nullable=False),
    sa.Column('screener', sa.Text(), nullable=False),
    sa.Column('residence', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('housing', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('schooling', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('drinking_water', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('insured', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('uninsured_members', sa.SmallInteger(), nullable=False),
    sa.Column('income_band', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('rigid_expenditure', sa.Boolean(), nullable=False),
    sa.Column('rigid_expenditure_reason', sa.Text(), nullable=True),
    sa.Column('civil_affairs_support', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('needs_inclusion', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('replaced', sa.Integer(), server_default='0', nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('campaign_id', 'county_code', 'household_id')
    )
    op.create_index('ix_screenings_campaign_region', 'screenings', ['campaign_id', 'region_code'], unique=False)
    op.create_table('spot_check_households',
    sa.Column('spot_check_id', sa.Uuid(), nullable=False),
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('household_id', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('checker_record', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('checked_by', sa.String(length=64), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('spot_check_id', 'county_code', 'household_id')
    )
    op.create_table('spot_checks',
    sa.Column('spot_check_id', sa.Uuid(), nullable=False),
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('campaign_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('spot_check_id', 'county_code')
    )
    op.create_index('ix_spot_checks_campaign', 'spot_checks', ['campaign_id'], unique=False)
    op.create_index('ix_audit_county_target', 'audit_log', ['county_code', 'target_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_county_target', table_name='audit_log')
    op.drop_index('ix_spot_checks_campaign', table_name='spot_checks')
    op.drop_table('spot_checks')
    op.drop_table('spot_check_households')
    op.drop_index('ix_screenings_campaign_region', table_name='screenings')
    op.drop_table('screenings')
    op.drop_index('ix_problems_region', table_name='problems')
    op.drop_index('ix_problems_open_due', table_name='problems', postgresql_where=sa.text("status = 'open'"))
    op.drop_index('ix_problems_campaign', table_name='problems')
    op.drop_table('problems')
    op.drop_index('ix_campaigns_region', table_name='campaigns')
    op.drop_table('campaigns')
