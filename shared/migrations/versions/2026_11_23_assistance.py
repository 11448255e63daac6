"""assistance: measures, assessments, gap notices; rollback on monitoring objects

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 20:18:57.309699
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('assessments',
    sa.Column('assessment_id', sa.Uuid(), nullable=False),
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('object_id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('income_per_capita_yuan', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('rigid_expenditure_yuan', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('housing_secure', sa.Boolean(), nullable=False),
    sa.Column('education_secure', sa.Boolean(), nullable=False),
    sa.Column('medical_secure', sa.Boolean(), nullable=False),
    sa.Column('drinking_water_secure', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('assessment_id', 'county_code')
    )
    op.create_index('ix_assessments_object', 'assessments', ['county_code', 'object_id', 'assessed_on'], unique=False)
    op.create_table('gap_notices',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('object_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('noticed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'object_id', 'kind', 'since')
    )
    op.create_table('measures',
    sa.Column('measure_id', sa.Uuid(), nullable=False),
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('object_id', sa.Uuid(), nullable=True),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('household_id', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('category', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('development', sa.Boolean(), nullable=False),
    sa.Column('responsible_department', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('amount_yuan', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('measure_id', 'county_code')
    )
    op.create_index('ix_measures_household', 'measures', ['county_code', 'household_id'], unique=False)
    op.create_index('ix_measures_object', 'measures', ['county_code', 'object_id'], unique=False)
    op.create_index('ix_measures_region', 'measures', ['region_code', 'planned_on', 'measure_id'], unique=False)
    op.add_column('monitoring_objects', sa.Column('rolled_back_on', sa.Date(), nullable=True))
    op.add_column('monitoring_objects', sa.Column('rollback_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('monitoring_objects', 'rollback_reason')
    op.drop_column('monitoring_objects', 'rolled_back_on')
    op.drop_index('ix_measures_region', table_name='measures')
    op.drop_index('ix_measures_object', table_name='measures')
    op.drop_index('ix_measures_household', table_name='measures')
    op.drop_table('measures')
    op.drop_table('gap_notices')
    op.drop_index('ix_assessments_object', table_name='assessments')
    op.drop_table('assessments')
