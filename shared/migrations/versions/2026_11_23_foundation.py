"""foundation: registry, principals, events, audit log, job runs

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 18:13:51.940612
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target_type', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.String(length=64, collation='C'), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'id')
    )
    op.create_index('ix_audit_target', 'audit_log', ['target_type', 'target_id'], unique=False)
    op.create_table('consumer_positions',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('xid', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('event_id', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('events',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('xid', sa.BigInteger(), server_default=sa.text('pg_current_xact_id()::text::bigint'), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('aggregate_type', sa.String(length=40), nullable=False),
    sa.Column('aggregate_id', sa.String(length=64, collation='C'), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'id')
    )
    op.create_index('ix_events_aggregate', 'events', ['aggregate_type', 'aggregate_id'], unique=False)
    op.create_index('ix_events_xid_id', 'events', ['xid', 'id'], unique=False)
    op.create_table('households',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('household_id', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('head_name', sa.String(length=50), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'household_id')
    )
    op.create_index('ix_households_region', 'households', ['region_code', 'household_id'], unique=False)
    op.create_table('job_runs',
    sa.Column('job_name', sa.String(length=64), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('job_name', 'due_at')
    )
    op.create_table('members',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('id_hash', sa.LargeBinary(), nullable=False),
    sa.Column('household_id', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('id_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('id_masked', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.Column('labour_capacity', sa.String(length=8), nullable=False),
    sa.Column('disability_grade', sa.SmallInteger(), nullable=True),
    sa.Column('in_school', sa.Boolean(), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=6), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'id_hash')
    )
    op.create_index('ix_members_household', 'members', ['county_code', 'household_id'], unique=False)
    op.create_index('ix_members_id_hash', 'members', ['id_hash'], unique=False)
    op.create_table('principals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('department', sa.String(length=40), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=True),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=True),
    sa.Column('token_hash', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('regions',
    sa.Column('code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('parent_code', sa.String(length=12, collation='C'), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_index('ix_regions_parent', 'regions', ['parent_code'], unique=False)
    # The event log is append-only (STYLE.md rule 6): history is never rewritten.
    op.execute(
        """
        CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the events table is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events"
        " FOR EACH ROW EXECUTE FUNCTION events_append_only()"
    )
    op.execute(
        "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events"
        " FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER events_no_truncate ON events")
    op.execute("DROP TRIGGER events_no_update_delete ON events")
    op.execute("DROP FUNCTION events_append_only()")
    op.drop_index('ix_regions_parent', table_name='regions')
    op.drop_table('regions')
    op.drop_table('principals')
    op.drop_index('ix_members_id_hash', table_name='members')
    op.drop_index('ix_members_household', table_name='members')
    op.drop_table('members')
    op.drop_table('job_runs')
    op.drop_index('ix_households_region', table_name='households')
    op.drop_table('households')
    op.drop_index('ix_events_xid_id', table_name='events')
    op.drop_index('ix_events_aggregate', table_name='events')
    op.drop_table('events')
    op.drop_table('consumer_positions')
    op.drop_index('ix_audit_target', table_name='audit_log')
    op.drop_table('audit_log')
