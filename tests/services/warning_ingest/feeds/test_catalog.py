"""`GET /ingest/v1/catalog`: what a department's developer pushes against."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.warning_ingest.records import FIELDS
from shared.auth import issue_token
from shared.catalog import DEPARTMENTS, WARNING_TYPES
from shared.policy import get_policy
from shared.settings import reset_settings

CATALOG = "/ingest/v1/catalog"
ALWAYS = ["source_record_id", "warning_type", "id_number", "name"]


async def catalog(client, session) -> dict:
    _, token = await issue_token(session, kind="client", name="water", department="water")
    response = await client.get(CATALOG, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return response.json()


def types_by_code(body: dict) -> dict[str, dict]:
    return {t["code"]: t for d in body["departments"] for t in d["warning_types"]}


async def test_the_catalog_lists_every_department_and_type_with_labels(client, session):
    body = await catalog(client, session)
    assert [(d["code"], d["label"]) for d in body["departments"]] == list(DEPARTMENTS.items())
    pairs = [
        (d["code"], t["code"], t["label"]) for d in body["departments"] for t in d["warning_types"]
    ]
    assert sorted(pairs) == sorted((t.department, t.code, t.label) for t in WARNING_TYPES.values())
    health = next(d for d in body["departments"] if d["code"] == "health")
    assert health["label"] == "卫生健康局"
    assert [t["code"] for t in health["warning_types"]] == ["serious_illness", "epidemic_impact"]


async def test_periodic_types_carry_their_cadence(client, session):
    types = types_by_code(await catalog(client, session))
    assert types["dibao"]["kind"] == "periodic"
    assert types["dibao"]["cadence_days"] == 15
    assert types["high_medical_expense"]["cadence_days"] == 10
    assert types["dibao"]["late_after_days"] is None


async def test_a_type_with_a_cadence_per_population_shows_each_and_the_shortest(client, session):
    types = types_by_code(await catalog(client, session))
    medical = types["high_medical_expense"]
    assert medical["cadence_days_by_population"] == {"monitored_and_alleviated": 10, "general": 30}
    assert medical["cadence_days"] == 10
    for code in ("dibao", "serious_illness", "disaster"):
        assert types[code]["cadence_days_by_population"] is None, code


@pytest.fixture
def policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A deployment's policy file (WARNEX_POLICY_FILE), read by the next request."""
    path = tmp_path / "policy.toml"
    monkeypatch.setenv("WARNEX_POLICY_FILE", str(path))
    reset_settings()
    get_policy.cache_clear()
    yield path
    monkeypatch.delenv("WARNEX_POLICY_FILE")
    reset_settings()
    get_policy.cache_clear()


async def test_a_policy_file_that_changes_the_population_cadences_changes_the_catalog(
    client, session, policy_file
):
    policy_file.write_text(
        "[feeds.population_cadence_days.high_medical_expense]\n"
        "monitored_and_alleviated = 20\n"
        "general = 7\n",
        encoding="utf-8",
    )
    medical = types_by_code(await catalog(client, session))["high_medical_expense"]
    assert medical["cadence_days_by_population"] == {"monitored_and_alleviated": 20, "general": 7}
    # The shortest, whichever population it is, not the policy's plain cadence (10).
    assert medical["cadence_days"] == 7


async def test_event_dated_types_carry_their_late_limit(client, session):
    types = types_by_code(await catalog(client, session))
    for code in ("disaster", "epidemic_impact", "school_dropout", "industry_risk"):
        assert types[code]["kind"] == "event"
        assert types[code]["late_after_days"] == 7
        assert types[code]["cadence_days"] is None
    # Found and pushed as found, in a season: not checked against an event date.
    assert types["poor_new_university_student"]["kind"] == "event"
    assert types["poor_new_university_student"]["late_after_days"] is None


async def test_required_fields_follow_the_kind_and_the_medical_amount(client, session):
    types = types_by_code(await catalog(client, session))
    assert types["dibao"]["required_fields"] == ALWAYS
    assert types["dibao"]["optional_fields"] == [
        "region_code",
        "event_date",
        "amount_yuan",
        "details",
    ]
    assert types["disaster"]["required_fields"] == [*ALWAYS, "event_date"]
    assert "event_date" not in types["disaster"]["optional_fields"]
    assert types["high_medical_expense"]["required_fields"] == [*ALWAYS, "amount_yuan"]


async def test_record_fields_describe_every_field_a_record_may_carry(client, session):
    fields = {f["name"]: f for f in (await catalog(client, session))["record_fields"]}
    assert list(fields) == list(FIELDS)
    assert fields["source_record_id"]["max_length"] == 64
    assert fields["name"]["max_length"] == 50
    assert fields["details"]["max_bytes"] == 8192
    assert fields["amount_yuan"]["minimum"] == 0
    assert fields["event_date"]["type"] == "date"
    assert fields["region_code"]["required"] == "never"


async def test_any_authenticated_caller_may_read_the_catalog(client, session):
    _, token = await issue_token(
        session, kind="user", name="v", role="viewer", region_code="610326000000"
    )
    response = await client.get(CATALOG, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


async def test_the_catalog_needs_a_token(client):
    response = await client.get(CATALOG)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_openapi_documents_the_feed_and_catalog_shapes(client):
    schemas = (await client.get("/ingest/v1/openapi.json")).json()["components"]["schemas"]
    assert {"FeedsOut", "FeedOut", "CatalogOut", "RecordFieldOut"} <= set(schemas)
    fields = schemas["WarningTypeOut"]["properties"]
    assert "shortest" in fields["cadence_days"]["description"]
    assert "cadence_days_by_population" in schemas["WarningTypeOut"]["required"]
