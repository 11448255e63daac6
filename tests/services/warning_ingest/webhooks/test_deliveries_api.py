"""`GET .../deliveries` and `POST .../redeliver`: a department follows what was
sent to its receiver and queues an item again. Real commits (`fresh_db`)."""

from __future__ import annotations

import httpx
import pytest

from services.warning_ingest.webhooks.delivery import DeliveryWorker
from services.warning_ingest.webhooks.fanout import WEBHOOK_FANOUT
from shared.db import Database
from tests.services.warning_ingest.webhooks.receiver import receiving
from tests.services.warning_ingest.webhooks.webhook_helpers import (
    SUBSCRIPTIONS,
    client_headers,
    push_unmatched,
    subscribe,
)

pytestmark = pytest.mark.usefixtures("allowed_hosts")


async def test_deliveries_are_listed_by_status_and_one_can_be_sent_again(
    api: httpx.AsyncClient, fresh_db: Database
) -> None:
    civil = await client_headers(fresh_db, "civil_affairs")
    worker = DeliveryWorker(timeout=5)
    with receiving(fail_first=1) as receiver:
        sub = await subscribe(api, civil, receiver.url)
        listing = f"{SUBSCRIPTIONS}/{sub['subscription_id']}/deliveries"
        await push_unmatched(api, civil, range(1, 4))
        await WEBHOOK_FANOUT.drain(fresh_db)
        await worker.run_once(fresh_db)  # one answered 500, two delivered

        everything = (await api.get(listing, headers=civil)).json()
        assert len(everything["items"]) == 3 and everything["next_cursor"] is None
        assert set(everything["items"][0]) == {
            "delivery_id",
            "webhook_id",
            "status",
            "attempts",
            "last_status_code",
            "next_attempt_at",
        }
        pending = (await api.get(listing, params={"status": "pending"}, headers=civil)).json()
        (waiting,) = pending["items"]
        assert waiting["attempts"] == 1 and waiting["last_status_code"] == 500
        assert waiting["next_attempt_at"] is not None
        delivered = (await api.get(listing, params={"status": "delivered"}, headers=civil)).json()
        assert len(delivered["items"]) == 2
        assert all(d["next_attempt_at"] is None for d in delivered["items"])
        assert (await api.get(listing, params={"status": "failed"}, headers=civil)).json()[
            "items"
        ] == []

        # Pages of one, newest first, then nothing more.
        first = (await api.get(listing, params={"limit": 2}, headers=civil)).json()
        rest = (
            await api.get(
                listing, params={"limit": 2, "cursor": first["next_cursor"]}, headers=civil
            )
        ).json()
        assert [d["delivery_id"] for d in first["items"] + rest["items"]] == [
            d["delivery_id"] for d in everything["items"]
        ]
        assert rest["next_cursor"] is None

        # A delivered item is queued again and sent again, with its webhook id.
        again = delivered["items"][0]
        response = await api.post(f"{listing}/{again['delivery_id']}/redeliver", headers=civil)
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "pending"
        before = len(receiver.requests)
        assert await worker.run_once(fresh_db) == 1
        assert len(receiver.requests) == before + 1
        assert receiver.requests[-1].headers["webhook-id"] == again["webhook_id"]

    after = {d["delivery_id"]: d for d in (await api.get(listing, headers=civil)).json()["items"]}
    assert after[again["delivery_id"]]["status"] == "delivered"
    assert after[again["delivery_id"]]["attempts"] == 2
