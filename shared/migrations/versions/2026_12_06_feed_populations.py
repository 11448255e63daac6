"""Feeds per population, and the webhook deliveries' retention index.

Feeds per population: `high_medical_expense` is pushed for two populations
(monitored and alleviated persons every 10 days, the others every 30; SPEC §12),
each a feed with its own pushes and late notices. Every other feed is `all`.

Pushes of a per-population type made before this revision cannot say whose
records they held: each counts for both populations, as a zero report does.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POPULATION = sa.String(length=40, collation='C')


def upgrade() -> None:
    op.add_column('feed_pushes', sa.Column('population', _POPULATION, server_default='all', nullable=False))
    op.drop_constraint('feed_pushes_pkey', 'feed_pushes', type_='primary')
    op.create_primary_key('feed_pushes_pkey', 'feed_pushes', ['batch_id', 'warning_type', 'population'])
    op.drop_index('ix_feed_pushes_latest', table_name='feed_pushes')
    op.create_index('ix_feed_pushes_latest', 'feed_pushes', ['department', 'warning_type', 'population', 'pushed_at'], unique=False)
    op.execute(
        "INSERT INTO feed_pushes (batch_id, warning_type, population, department, pushed_at, period_end)"
        " SELECT batch_id, warning_type, p, department, pushed_at, period_end FROM feed_pushes"
        " CROSS JOIN unnest(ARRAY['monitored_and_alleviated', 'general']) AS p"
        " WHERE warning_type = 'high_medical_expense' AND population = 'all'"
    )
    op.execute("DELETE FROM feed_pushes WHERE warning_type = 'high_medical_expense' AND population = 'all'")

    op.add_column('feed_late_notices', sa.Column('population', _POPULATION, server_default='all', nullable=False))
    op.drop_constraint('feed_late_notices_pkey', 'feed_late_notices', type_='primary')
    op.create_primary_key('feed_late_notices_pkey', 'feed_late_notices', ['department', 'warning_type', 'population', 'due_at'])
    op.execute(
        "UPDATE feed_late_notices SET population = 'monitored_and_alleviated'"
        " WHERE warning_type = 'high_medical_expense'"
    )

    # Retention (job webhook-retention): settled deliveries, oldest last attempt first.
    op.create_index('ix_webhook_deliveries_settled', 'webhook_deliveries', ['last_attempt_at'], unique=False, postgresql_where=sa.text("status <> 'pending'"))


def downgrade() -> None:
    op.drop_index('ix_webhook_deliveries_settled', table_name='webhook_deliveries')
    op.execute("DELETE FROM feed_late_notices WHERE population = 'general'")
    op.drop_constraint('feed_late_notices_pkey', 'feed_late_notices', type_='primary')
    op.drop_column('feed_late_notices', 'population')
    op.create_primary_key('feed_late_notices_pkey', 'feed_late_notices', ['department', 'warning_type', 'due_at'])

    op.execute("DELETE FROM feed_pushes WHERE population = 'general'")
    op.drop_index('ix_feed_pushes_latest', table_name='feed_pushes')
    op.drop_constraint('feed_pushes_pkey', 'feed_pushes', type_='primary')
    op.drop_column('feed_pushes', 'population')
    op.create_primary_key('feed_pushes_pkey', 'feed_pushes', ['batch_id', 'warning_type'])
    op.create_index('ix_feed_pushes_latest', 'feed_pushes', ['department', 'warning_type', 'pushed_at'], unique=False)
