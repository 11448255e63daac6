"""`POST /ingest/v1/registry/households` and `/registry/regions` over HTTP."""

from __future__ import annotations

from datetime import date

import orjson
import pytest
from sqlalchemy import text

from shared.auth import issue_token
from shared.idcard import compose_id_number

HOUSEHOLDS = "/ingest/v1/registry/households"
REGIONS = "/ingest/v1/registry/regions"
COUNTY = "610326000000"
VILLAGE = "610326100201"
OTHER_COUNTY_VILLAGE = "610327100201"


def person(seq: int) -> str:
    return compose_id_number("610326", date(1985, 3, 9), seq, sex="male")


def household(household_id: str, number: str, region: str = VILLAGE) -> dict:
    return {
        "household_id": household_id,
        "region_code": region,
        "category": "general",
        "head_name": "张三",
        "members": [
            {"id_number": number, "name": "张三", "relation": "head", "labour_capacity": "full"}
        ],
    }


async def bearer(session, role: str, region: str = COUNTY) -> dict[str, str]:
    _, token = await issue_token(session, kind="user", name=role, role=role, region_code=region)
    return {"Authorization": f"Bearer {token}"}


async def test_county_staff_load_households_of_their_county(client, session):
    headers = await bearer(session, "county_staff")
    number = person(1)
    response = await client.post(
        HOUSEHOLDS,
        json={
            "households": [
                household("H-1", number),
                household("H-2", person(3), region=OTHER_COUNTY_VILLAGE),
            ]
        },
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json() == {
        "upserted": 1,
        "rejected": 1,
        "errors": [
            {
                "index": 1,
                "errors": [
                    {
                        "field": "region_code",
                        "code": "out_of_scope",
                        "message": "the village is outside your scope",
                    }
                ],
            }
        ],
    }
    assert number not in response.text
    stored = await session.scalar(text("SELECT count(*) FROM members WHERE household_id = 'H-1'"))
    assert stored == 1
    audit = (
        await session.execute(
            text(
                "SELECT actor, target_id, details FROM audit_log "
                "WHERE action = 'registry.households_loaded'"
            )
        )
    ).one()
    assert audit.actor.startswith("user:")
    assert (audit.target_id, audit.details) == ("610326", {"households": 1, "members": 1})


async def test_an_admin_loads_households_anywhere(client, session):
    headers = await bearer(session, "admin")
    response = await client.post(
        HOUSEHOLDS,
        json={"households": [household("H-9", person(5), region=OTHER_COUNTY_VILLAGE)]},
        headers=headers,
    )
    assert response.json()["upserted"] == 1


@pytest.mark.parametrize("role", ["village_staff", "township_staff", "viewer"])
async def test_other_roles_may_not_load_households(client, session, role):
    headers = await bearer(session, role, region=VILLAGE if role == "village_staff" else COUNTY)
    response = await client.post(
        HOUSEHOLDS, json={"households": [household("H-1", person(7))]}, headers=headers
    )
    assert response.status_code == 403
    assert await session.scalar(text("SELECT count(*) FROM households")) == 0


async def test_a_load_without_a_token_is_401(client):
    response = await client.post(HOUSEHOLDS, json={"households": []})
    assert response.status_code == 401


async def test_ndjson_loads_report_a_broken_line_at_its_index(client, session):
    headers = await bearer(session, "county_staff")
    body = b"\n".join(
        [
            orjson.dumps(household("H-1", person(9))),
            b'{"household_id": "H-2", broken',
            orjson.dumps(household("H-3", person(11))),
        ]
    )
    response = await client.post(
        HOUSEHOLDS,
        content=body,
        headers={**headers, "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200
    answer = response.json()
    assert (answer["upserted"], answer["rejected"]) == (2, 1)
    assert answer["errors"][0]["index"] == 1
    assert answer["errors"][0]["errors"][0]["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("text/plain", b"households", 400),
        ("application/json", b'{"households": [', 400),
        ("application/json", b'{"records": []}', 422),
        ("application/json", b'{"households": {}}', 422),
    ],
)
async def test_bodies_that_cannot_be_read_are_refused(client, session, content_type, body, status):
    headers = await bearer(session, "county_staff")
    response = await client.post(
        HOUSEHOLDS, content=body, headers={**headers, "Content-Type": content_type}
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


async def test_an_admin_loads_regions_and_county_staff_may_not(client, session):
    regions = {"regions": [{"code": COUNTY, "name": "眉县"}, {"code": "61", "name": "坏"}]}
    response = await client.post(REGIONS, json=regions, headers=await bearer(session, "admin"))
    assert response.status_code == 200
    assert response.json()["upserted"] == 1
    assert response.json()["errors"][0]["errors"][0]["code"] == "invalid_region_code"
    denied = await client.post(REGIONS, json=regions, headers=await bearer(session, "county_staff"))
    assert denied.status_code == 403


async def test_the_registry_loads_are_documented_with_both_body_types(client):
    spec = (await client.get("/ingest/v1/openapi.json")).json()
    content = spec["paths"]["/registry/households"]["post"]["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-ndjson"}
    assert "/registry/regions" in spec["paths"]


async def test_registry_loads_take_bodies_over_the_ordinary_1_mib_limit(client, session):
    headers = await bearer(session, "county_staff")
    padding = b" " * (2 * 1024 * 1024)
    body = orjson.dumps({"households": [household("H-1", person(13))]})[:-1] + padding + b"}"
    response = await client.post(
        HOUSEHOLDS, content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["upserted"] == 1


async def _attributes(session) -> dict[str, list[str]]:
    rows = await session.execute(text("SELECT code, attributes FROM regions ORDER BY code"))
    return {code: list(attributes) for code, attributes in rows}


async def test_regions_carry_their_key_area_attributes(client, session):
    headers = await bearer(session, "admin")
    body = {
        "regions": [
            {"code": COUNTY, "name": "眉县"},
            {"code": "610326100000", "name": "某镇", "attributes": ["abandoned_mine"]},
            {
                "code": VILLAGE,
                "name": "某村",
                "attributes": ["resettlement_site", "key_village", "key_village"],
            },
        ]
    }
    response = await client.post(REGIONS, json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"upserted": 3, "rejected": 0, "errors": []}
    assert await _attributes(session) == {
        COUNTY: [],
        "610326100000": ["abandoned_mine"],
        VILLAGE: ["key_village", "resettlement_site"],
    }
    # A later load states a region's attributes again: left out, it has none.
    again = {"regions": [{"code": VILLAGE, "name": "某村"}]}
    assert (await client.post(REGIONS, json=again, headers=headers)).status_code == 200
    assert (await _attributes(session))[VILLAGE] == []


@pytest.mark.parametrize("attributes", [["key_village", "ghost_town"], "key_village", [3]])
async def test_an_unknown_attribute_is_a_422_and_stores_nothing(client, session, attributes):
    body = {
        "regions": [
            {"code": COUNTY, "name": "眉县"},
            {"code": VILLAGE, "name": "某村", "attributes": attributes},
        ]
    }
    response = await client.post(REGIONS, json=body, headers=await bearer(session, "admin"))
    if isinstance(attributes, list) and all(isinstance(a, str) for a in attributes):
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["detail"]
        assert problem["errors"] == [
            {
                "field": "regions[1].attributes",
                "code": "unknown_region_attribute",
                "message": "attributes must be among key_village, resettlement_site,"
                " abandoned_mine",
            }
        ]
        assert await _attributes(session) == {}
    else:
        # Not a list of codes: that record is rejected at its index like any bad field.
        assert response.status_code == 200
        assert response.json()["errors"] == [
            {
                "index": 1,
                "errors": [
                    {
                        "field": "attributes",
                        "code": "invalid_value",
                        "message": "attributes must be a list of codes",
                    }
                ],
            }
        ]
