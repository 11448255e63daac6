"""The "last visit" rule (shared/visits.py), one fragment read by the gaps, the
follow-up list and the objects ledger: the latest monthly visit or assessment,
an object counting only its own assessments; each side by its index."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import text

from shared.visits import last_visit_sql

H, QUIET = "lv-household", "lv-quiet"
EARLIER, CURRENT = uuid.uuid4(), uuid.uuid4()
VISITS_INDEX = "ix_household_visits_household"


async def _visit(session, household: str, day: str) -> None:
    await session.execute(
        text(
            "INSERT INTO household_visits (visit_id, county_code, household_id, region_code,"
            " visited_on, new_risk, actor, recorded_at)"
            " VALUES (:id, '610326', :h, '610326100201', :day, false, 'test', now())"
        ),
        {"id": uuid.uuid4(), "h": household, "day": date.fromisoformat(day)},
    )


async def _assessment(session, object_id: uuid.UUID, day: str) -> None:
    await session.execute(
        text(
            "INSERT INTO assessments (assessment_id, county_code, object_id, household_id,"
            " assessed_on, kind, income_per_capita_yuan, rigid_expenditure_yuan,"
            " housing_secure, education_secure, medical_secure, drinking_water_secure,"
            " actor, recorded_at) VALUES (:id, '610326', :o, :h, :day, 'routine', 9000, 0,"
            " true, true, true, true, 'test', now())"
        ),
        {"id": uuid.uuid4(), "o": object_id, "h": H, "day": date.fromisoformat(day)},
    )


async def _households(session) -> None:
    for household in (H, QUIET):
        await session.execute(
            text(
                "INSERT INTO households (county_code, household_id, region_code, category,"
                " head_name) VALUES ('610326', :h, '610326100201', 'poverty_alleviated', '户主')"
            ),
            {"h": household},
        )


async def _last_visit(session, household: str, object_id: uuid.UUID | None = None) -> date | None:
    by = "household" if object_id is None else "object"
    statement = text(
        f"SELECT {last_visit_sql('x', by=by)} FROM (SELECT CAST('610326' AS text) AS county_code,"
        " CAST(:h AS text) AS household_id, CAST(:o AS uuid) AS object_id) x"
    )
    return (await session.execute(statement, {"h": household, "o": object_id})).scalar_one()


async def test_the_latest_of_monthly_visits_and_assessments(session):
    await _households(session)
    await _visit(session, H, "2026-08-20")
    await _assessment(session, CURRENT, "2026-08-01")
    # An earlier object of the same household, assessed later than any visit.
    await _assessment(session, EARLIER, "2026-09-10")

    assert await _last_visit(session, H) == date(2026, 9, 10)
    assert await _last_visit(session, H, CURRENT) == date(2026, 8, 20)
    assert await _last_visit(session, H, EARLIER) == date(2026, 9, 10)
    assert await _last_visit(session, QUIET) is None

    await _visit(session, H, "2026-09-30")
    assert await _last_visit(session, H, CURRENT) == date(2026, 9, 30)
    assert await _last_visit(session, H) == date(2026, 9, 30)


@pytest.mark.parametrize(
    ("by", "table", "indexes"),
    [
        ("household", "households", (VISITS_INDEX, "ix_assessments_household")),
        ("object", "monitoring_objects", (VISITS_INDEX, "ix_assessments_object")),
    ],
)
async def test_each_side_reads_its_index(session, by, table, indexes):
    """With sequential scans priced out, both subqueries still find their rows by
    index: the fragment keeps the indexed columns bare."""
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        (
            await session.execute(
                text(
                    f"EXPLAIN SELECT {last_visit_sql('x', by=by)} FROM {table} x"
                    " WHERE x.county_code = '610326'"
                )
            )
        ).scalars()
    )
    for index in indexes:
        assert index in plan, plan
    assert "Seq Scan on household_visits" not in plan and "Seq Scan on assessments" not in plan


def test_an_alias_is_an_identifier():
    with pytest.raises(ValueError, match="not an SQL alias"):
        last_visit_sql("o; DROP TABLE households")
