"""Issue 21, finding 9: a receipt covers every county of a push, with each
record's outcome; staff below the county read none, the pusher, county staff
and admins do."""

from __future__ import annotations

import pytest

from tests.services.identification.id_helpers import TOWN, VILLAGE
from tests.services.warning_ingest.batches.push_paths import push_path  # noqa: F401
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    department_headers,
    record,
    staff_headers,
)

pytestmark = pytest.mark.usefixtures("push_path")


@pytest.mark.parametrize(
    ("role", "region", "status"),
    [
        ("village_staff", VILLAGE, 403),
        ("township_staff", TOWN, 403),
        ("county_staff", "610326000000", 200),
        ("admin", "610326000000", 200),
    ],
)
async def test_only_the_pusher_county_staff_and_admins_read_a_receipt(
    client, session, role, region, status
):
    pusher = await department_headers(session, "civil_affairs")
    pushed = await client.post(BATCHES, json={"records": [record(1)]}, headers=pusher)
    assert pushed.status_code == 201, pushed.text
    receipt = f"{BATCHES}/{pushed.json()['batch_id']}"
    answer = await client.get(receipt, headers=await staff_headers(session, role, region))
    assert answer.status_code == status, answer.text
    assert (await client.get(receipt, headers=pusher)).status_code == 200
