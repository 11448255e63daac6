"""Reporting summaries: counts per village and county that the figures add up.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 22:33:34.562696
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('summary_cases',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('grain', sa.String(length=8, collation='C'), nullable=False),
    sa.Column('bucket', sa.String(length=8, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('event', sa.String(length=8, collation='C'), nullable=False),
    sa.Column('days_to_decision', sa.Integer(), nullable=False),
    sa.Column('within_deadline', sa.Boolean(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'day', 'grain', 'bucket', 'region_code', 'event', 'days_to_decision', 'within_deadline')
    )
    op.create_index('ix_summary_cases_read', 'summary_cases', ['grain', 'bucket', 'region_code', 'day'], unique=False)
    op.create_table('summary_measures',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('grain', sa.String(length=8, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('category', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('status', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'grain', 'region_code', 'category', 'status')
    )
    op.create_index('ix_summary_measures_read', 'summary_measures', ['grain', 'region_code'], unique=False)
    op.create_table('summary_object_events',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('grain', sa.String(length=8, collation='C'), nullable=False),
    sa.Column('bucket', sa.String(length=8, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('event', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('monitoring_type', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'day', 'grain', 'bucket', 'region_code', 'event', 'monitoring_type')
    )
    op.create_index('ix_summary_object_events_read', 'summary_object_events', ['grain', 'bucket', 'region_code', 'day'], unique=False)
    op.create_table('summary_objects',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('grain', sa.String(length=8, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('monitoring_type', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('status', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('labour_capable', sa.Boolean(), nullable=False),
    sa.Column('developed', sa.Boolean(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'grain', 'region_code', 'monitoring_type', 'status', 'labour_capable', 'developed')
    )
    op.create_index('ix_summary_objects_read', 'summary_objects', ['grain', 'region_code'], unique=False)
    op.create_table('summary_open_cases',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('grain', sa.String(length=8, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'grain', 'region_code', 'deadline')
    )
    op.create_index('ix_summary_open_cases_read', 'summary_open_cases', ['grain', 'region_code'], unique=False)
    op.create_table('summary_warnings',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('grain', sa.String(length=8, collation='C'), nullable=False),
    sa.Column('bucket', sa.String(length=8, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('warning_type', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('status', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'day', 'grain', 'bucket', 'region_code', 'warning_type', 'status', 'late')
    )
    op.create_index('ix_summary_warnings_read', 'summary_warnings', ['grain', 'bucket', 'region_code', 'day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_summary_warnings_read', table_name='summary_warnings')
    op.drop_table('summary_warnings')
    op.drop_index('ix_summary_open_cases_read', table_name='summary_open_cases')
    op.drop_table('summary_open_cases')
    op.drop_index('ix_summary_objects_read', table_name='summary_objects')
    op.drop_table('summary_objects')
    op.drop_index('ix_summary_object_events_read', table_name='summary_object_events')
    op.drop_table('summary_object_events')
    op.drop_index('ix_summary_measures_read', table_name='summary_measures')
    op.drop_table('summary_measures')
    op.drop_index('ix_summary_cases_read', table_name='summary_cases')
    op.drop_table('summary_cases')
