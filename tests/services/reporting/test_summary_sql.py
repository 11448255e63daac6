"""The generated summary SQL: every statement of every summary table, printed
(`pytest -s` shows them) and well-formed, as PostgreSQL's EXPLAIN of it on the
migrated schema with a county list bound (an ON CONFLICT without its unique
index, a misspelt column, a key the table lacks all fail here)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from services.reporting.summaries import SUMMARY_TABLES, recount_statements
from services.reporting.summary_sql import Summary, fold_above_county, recount_sql, roll_up

COUNTIES = ["610326", "610327"]
STATEMENTS = recount_statements()


@pytest.mark.parametrize("family", list(STATEMENTS))
async def test_every_recount_statement_prints_and_explains(session, family):
    for i, statement in enumerate(STATEMENTS[family], start=1):
        print(f"\n-- {family} {i}/{len(STATEMENTS[family])}\n{statement.text.strip()}")
        plan = (
            await session.execute(text("EXPLAIN " + statement.text), {"counties": COUNTIES})
        ).scalars()
        assert list(plan), statement.text


def _recounted(summary: Summary) -> list[str]:
    return [s.text for family in STATEMENTS.values() for s in family if summary.table in s.text]


@pytest.mark.parametrize("summary", SUMMARY_TABLES, ids=lambda s: s.table)
def test_every_summary_table_is_recounted_with_its_generated_statements(summary):
    recounted = _recounted(summary)
    generated = recount_sql(summary, "-- the count")
    assert generated[-2] == roll_up(summary)
    for statement in (*fold_above_county(summary, "-"), roll_up(summary)):
        assert statement in recounted
    assert fold_above_county(summary, "+")[0] in recounted


def test_a_dated_summary_is_keyed_by_bucket_and_day_before_its_dimensions():
    dated = Summary("summary_x", ("a", "b"), dated=True)
    stock = Summary("summary_y", ("a", "b"), dated=False)
    assert dated.keys == ("bucket", "day", "a", "b")
    assert stock.keys == ("a", "b")
    assert "GROUP BY 1, 2, 3, 4, 5, s.a, s.b" in roll_up(dated)
    assert "GROUP BY 1, 2, 3, s.a, s.b" in roll_up(stock)
