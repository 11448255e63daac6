"""Webhooks: departments' subscriptions and the deliveries of their feedback items.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('webhook_subscriptions',
    sa.Column('subscription_id', sa.Uuid(), nullable=False),
    sa.Column('department', sa.String(length=40), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('secret_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('busy_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('subscription_id')
    )
    op.create_index('ix_webhook_subscriptions_department', 'webhook_subscriptions', ['department'], unique=False)
    op.create_table('webhook_deliveries',
    sa.Column('delivery_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('subscription_id', sa.Uuid(), nullable=False),
    sa.Column('webhook_id', sa.String(length=80, collation='C'), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('round_attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_status_code', sa.SmallInteger(), nullable=True),
    sa.Column('last_error', sa.String(length=40), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retry_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.subscription_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('delivery_id'),
    sa.UniqueConstraint('subscription_id', 'webhook_id', name='uq_webhook_deliveries_message')
    )
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['subscription_id', 'next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_webhook_deliveries_list', 'webhook_deliveries', ['subscription_id', 'seq'], unique=False)


def downgrade() -> None:
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_subscriptions')
