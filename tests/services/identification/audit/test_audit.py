"""`GET /identification/v1/audit?target=`: county staff read who did what in
their county, with the request it came from; nobody else reads it."""

from __future__ import annotations

from tests.services.identification.id_helpers import (
    TOWN,
    open_case,
    person,
    register,
    staff_headers,
)

AUDIT = "/identification/v1/audit"
OTHER_COUNTY = "610327000000"


async def test_a_write_and_a_reveal_appear_in_the_audit_trail_of_their_target(client, session):
    await register(session, "H-1", [1])
    headers = await staff_headers(session, "county_staff")
    case = await open_case(client, session, "H-1", headers=headers)
    revealed = await client.get(
        "/identification/v1/households/H-1",
        params={"reveal": "true"},
        headers=headers | {"X-Request-ID": "req-audit-1"},
    )
    assert revealed.status_code == 200, revealed.text

    by_case = await client.get(AUDIT, params={"target": case["case_id"]}, headers=headers)
    assert by_case.status_code == 200, by_case.text
    [opened] = by_case.json()["items"]
    assert (opened["action"], opened["target_type"]) == ("case.opened", "case")
    assert opened["actor"].startswith("user:")

    by_household = (await client.get(AUDIT, params={"target": "H-1"}, headers=headers)).json()
    [reveal] = by_household["items"]
    assert reveal["action"] == "household.id_numbers_revealed"
    assert reveal["request_id"] == "req-audit-1"
    # The trail names who and what, never the number that was shown.
    assert person(1) not in str(by_household)

    everything = (await client.get(AUDIT, headers=headers)).json()["items"]
    assert [row["action"] for row in everything[:2]] == [
        "household.id_numbers_revealed",
        "case.opened",
    ]


async def test_pages_of_the_trail_are_newest_first_and_complete(client, session):
    await register(session, "H-1", [1])
    headers = await staff_headers(session, "county_staff")
    for _ in range(3):
        response = await client.get(
            "/identification/v1/households/H-1", params={"reveal": "true"}, headers=headers
        )
        assert response.status_code == 200
    seen, cursor = [], None
    while True:
        params = {"target": "H-1", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(AUDIT, params=params, headers=headers)).json()
        seen += [row["at"] for row in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 3 and seen == sorted(seen, reverse=True)


async def test_another_county_sees_nothing_and_other_roles_are_refused(client, session):
    await register(session, "H-1", [1])
    case = await open_case(client, session, "H-1")
    other_county = await staff_headers(session, "county_staff", OTHER_COUNTY)
    response = await client.get(AUDIT, params={"target": case["case_id"]}, headers=other_county)
    assert response.status_code == 200 and response.json()["items"] == []

    township = await staff_headers(session, "township_staff", TOWN)
    assert (await client.get(AUDIT, headers=township)).status_code == 403
    viewer = await staff_headers(session, "viewer")
    assert (await client.get(AUDIT, headers=viewer)).status_code == 403
    assert (await client.get(AUDIT)).status_code == 401
