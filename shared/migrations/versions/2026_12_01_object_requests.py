"""Requests upward: a monitoring object's rollback or removal with its chain
of approvals (SPEC §12).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('object_requests',
    sa.Column('request_id', sa.Uuid(), nullable=False),
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('object_id', sa.Uuid(), nullable=False),
    sa.Column('household_id', sa.String(length=40, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('chain', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
              nullable=False),
    sa.PrimaryKeyConstraint('request_id', 'county_code')
    )
    op.create_index('ux_object_requests_pending_object', 'object_requests',
                    ['county_code', 'object_id'], unique=True,
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_object_requests_region', 'object_requests',
                    ['region_code', 'requested_on', 'request_id'])
    op.create_index('ix_object_requests_object', 'object_requests', ['county_code', 'object_id'])


def downgrade() -> None:
    op.drop_table('object_requests')
