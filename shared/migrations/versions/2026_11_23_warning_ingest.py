"""warning ingest: batches with their receipts, warnings, department record ids, feed pushes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:24:12.314168
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('feed_late_notices',
    sa.Column('department', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('warning_type', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('noticed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('department', 'warning_type', 'due_at')
    )
    op.create_table('feed_pushes',
    sa.Column('batch_id', sa.Uuid(), nullable=False),
    sa.Column('warning_type', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('department', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('pushed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('batch_id', 'warning_type')
    )
    op.create_index('ix_feed_pushes_latest', 'feed_pushes', ['department', 'warning_type', 'pushed_at'], unique=False)
    op.create_table('ingest_batches',
    sa.Column('batch_id', sa.Uuid(), nullable=False),
    sa.Column('department', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('client_id', sa.Uuid(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('body_hash', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('atomic', sa.Boolean(), nullable=False),
    sa.Column('record_count', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('duplicates', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('records', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('batch_id')
    )
    op.create_index('ix_ingest_batches_department', 'ingest_batches', ['department', 'received_at'], unique=False)
    op.create_index('ux_ingest_batches_idempotency', 'ingest_batches', ['client_id', 'idempotency_key'], unique=True, postgresql_where=sa.text('idempotency_key IS NOT NULL'))
    op.create_table('warning_sources',
    sa.Column('department', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('source_record_id', sa.String(length=64, collation='C'), nullable=False),
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('warning_id', sa.Uuid(), nullable=False),
    sa.Column('batch_id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('department', 'source_record_id')
    )
    op.create_table('warnings',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('warning_id', sa.Uuid(), nullable=False),
    sa.Column('department', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('warning_type', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('source_record_id', sa.String(length=64, collation='C'), nullable=False),
    sa.Column('batch_id', sa.Uuid(), nullable=False),
    sa.Column('batch_index', sa.Integer(), nullable=False),
    sa.Column('id_hash', sa.LargeBinary(), nullable=False),
    sa.Column('id_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('id_masked', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('reported_region_code', sa.String(length=12, collation='C'), nullable=True),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('household_id', sa.String(length=40, collation='C'), nullable=True),
    sa.Column('event_date', sa.Date(), nullable=True),
    sa.Column('amount_yuan', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('name_mismatch', sa.Boolean(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('resolution_reason', sa.String(length=500), nullable=True),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('warning_id', 'county_code')
    )
    op.create_index('ix_warnings_case', 'warnings', ['case_id'], unique=False, postgresql_where=sa.text('case_id IS NOT NULL'))
    op.create_index('ix_warnings_late', 'warnings', ['department', 'received_at'], unique=False, postgresql_where=sa.text('late'))
    op.create_index('ix_warnings_region', 'warnings', ['region_code', 'received_at', 'warning_id'], unique=False)
    op.create_index('ix_warnings_unmatched', 'warnings', ['region_code', 'received_at', 'warning_id'], unique=False, postgresql_where=sa.text("status = 'unmatched'"))
    op.create_index('ix_warnings_unmatched_person', 'warnings', ['id_hash'], unique=False, postgresql_where=sa.text("status = 'unmatched'"))


def downgrade() -> None:
    op.drop_index('ix_warnings_unmatched_person', table_name='warnings', postgresql_where=sa.text("status = 'unmatched'"))
    op.drop_index('ix_warnings_unmatched', table_name='warnings', postgresql_where=sa.text("status = 'unmatched'"))
    op.drop_index('ix_warnings_region', table_name='warnings')
    op.drop_index('ix_warnings_late', table_name='warnings', postgresql_where=sa.text('late'))
    op.drop_index('ix_warnings_case', table_name='warnings', postgresql_where=sa.text('case_id IS NOT NULL'))
    op.drop_table('warnings')
    op.drop_table('warning_sources')
    op.drop_index('ux_ingest_batches_idempotency', table_name='ingest_batches', postgresql_where=sa.text('idempotency_key IS NOT NULL'))
    op.drop_index('ix_ingest_batches_department', table_name='ingest_batches')
    op.drop_table('ingest_batches')
    op.drop_index('ix_feed_pushes_latest', table_name='feed_pushes')
    op.drop_table('feed_pushes')
    op.drop_table('feed_late_notices')
