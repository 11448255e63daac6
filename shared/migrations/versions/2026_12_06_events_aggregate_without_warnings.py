"""Events by aggregate, warnings apart: `ix_events_aggregate` now leaves out the
warning events. Nothing looks a warning's events up by its id (the feedback
page reads case events by case), and a warning event is most of what a push
writes: its entry in this index cost a 10,000-record chunk 83 of the store
statement's 395 ms (bench/store_breakdown.py --drop-index ix_events_aggregate).

Rebuilding the index reads the whole events table once, under a lock that
blocks writes to it until it is built: run it in a quiet hour.

Revision ID: 0018
Revises: 0014
Create Date: 2026-12-06 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_events_aggregate', table_name='events')
    op.create_index('ix_events_aggregate', 'events', ['aggregate_type', 'aggregate_id'],
                    unique=False, postgresql_where=sa.text("aggregate_type <> 'warning'"))


def downgrade() -> None:
    op.drop_index('ix_events_aggregate', table_name='events')
    op.create_index('ix_events_aggregate', 'events', ['aggregate_type', 'aggregate_id'],
                    unique=False)
