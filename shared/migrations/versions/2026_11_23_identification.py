"""identification: cases, their steps and warnings, monitoring objects

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 20:12:37.984944
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_steps',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('form', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('case_id', 'county_code', 'step')
    )
    op.create_table('case_warnings',
    sa.Column('warning_id', sa.Uuid(), nullable=False),
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('warning_type', sa.String(length=40, collation='C'), nullable=False),
    sa.PrimaryKeyConstraint('warning_id', 'county_code')
    )
    op.create_index('ix_case_warnings_case', 'case_warnings', ['case_id'], unique=False)
    op.create_table('cases',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('household_id', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('source', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('risk_types', sa.ARRAY(sa.String(length=40)), server_default='{}', nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('completed', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('steps_done', sa.ARRAY(sa.String(length=20)), server_default='{}', nullable=False),
    sa.Column('green_channel', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('green_channel_reason', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('monitoring_type', sa.String(length=30), nullable=True),
    sa.Column('decision_risk_types', sa.ARRAY(sa.String(length=40)), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('case_id', 'county_code')
    )
    op.create_index('ix_cases_household', 'cases', ['county_code', 'household_id'], unique=False)
    op.create_index('ix_cases_open_deadline', 'cases', ['county_code', 'deadline', 'case_id'], unique=False, postgresql_where=sa.text("state = 'open'"))
    op.create_index('ix_cases_region_deadline', 'cases', ['region_code', 'deadline', 'case_id'], unique=False)
    op.create_index('ux_cases_open_household', 'cases', ['county_code', 'household_id'], unique=True, postgresql_where=sa.text("state = 'open'"))
    op.create_table('monitoring_objects',
    sa.Column('object_id', sa.Uuid(), nullable=False),
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('household_id', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('monitoring_type', sa.String(length=30), nullable=False),
    sa.Column('risk_types', sa.ARRAY(sa.String(length=40)), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('included_on', sa.Date(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('eliminated_on', sa.Date(), nullable=True),
    sa.Column('removed_on', sa.Date(), nullable=True),
    sa.Column('removal_reason', sa.Text(), nullable=True),
    sa.Column('removal_approved_by', sa.String(length=100), nullable=True),
    sa.Column('whole_household_no_labour', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('development_assistance', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('object_id', 'county_code')
    )
    op.create_index('ix_monitoring_objects_household', 'monitoring_objects', ['county_code', 'household_id'], unique=False)
    op.create_index('ix_monitoring_objects_region', 'monitoring_objects', ['region_code', 'object_id'], unique=False)
    op.create_index('ux_monitoring_objects_active_household', 'monitoring_objects', ['county_code', 'household_id'], unique=True, postgresql_where=sa.text("status = 'risk_not_eliminated'"))


def downgrade() -> None:
    op.drop_index('ux_monitoring_objects_active_household', table_name='monitoring_objects', postgresql_where=sa.text("status = 'risk_not_eliminated'"))
    op.drop_index('ix_monitoring_objects_region', table_name='monitoring_objects')
    op.drop_index('ix_monitoring_objects_household', table_name='monitoring_objects')
    op.drop_table('monitoring_objects')
    op.drop_index('ux_cases_open_household', table_name='cases', postgresql_where=sa.text("state = 'open'"))
    op.drop_index('ix_cases_region_deadline', table_name='cases')
    op.drop_index('ix_cases_open_deadline', table_name='cases', postgresql_where=sa.text("state = 'open'"))
    op.drop_index('ix_cases_household', table_name='cases')
    op.drop_table('cases')
    op.drop_index('ix_case_warnings_case', table_name='case_warnings')
    op.drop_table('case_warnings')
    op.drop_table('case_steps')
