"""Assessments by household: the `visit_overdue` gap of a poverty-alleviated
household takes the latest assessment of any of its objects, one index probe
per household instead of a scan of the county's assessments (the gap list, the
gap scan and the staff to-do list all read it).

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0017'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_assessments_household', 'assessments',
                    ['county_code', 'household_id', 'assessed_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_assessments_household', table_name='assessments')
