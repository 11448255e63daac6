"""Reporting summaries: registered persons per village, for the red flags.

The red flags' ratio of objects at risk to registered persons joined every
member to its household on each request (10M rows in a province).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('summary_persons',
    sa.Column('county_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=12, collation='C'), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('county_code', 'region_code')
    )
    op.execute(
        "INSERT INTO summary_persons (county_code, region_code, n)"
        " SELECT h.county_code, h.region_code, count(*) FROM households h"
        " JOIN members m ON m.county_code = h.county_code AND m.household_id = h.household_id"
        " GROUP BY 1, 2"
    )


def downgrade() -> None:
    op.drop_table('summary_persons')
