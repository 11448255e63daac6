"""`/ingest/v1/subscriptions`: registering, listing and removing webhooks, and
the rules a URL must keep. Each test rolls back."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.warning_ingest.webhooks.subscriptions import open_secret
from tests.services.warning_ingest.ingest_helpers import department_headers, staff_headers
from tests.services.warning_ingest.webhooks.webhook_helpers import SUBSCRIPTIONS

pytestmark = pytest.mark.usefixtures("allowed_hosts")

URL = "https://hooks.example.test/warnex"


async def test_a_subscription_shows_its_secret_once_and_keeps_it_sealed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = await department_headers(session, "medical_insurance")
    response = await client.post(SUBSCRIPTIONS, json={"url": URL}, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == {"subscription_id", "url", "secret", "created_at"}
    assert created["url"] == URL and created["secret"].startswith("whsec_")

    listed = (await client.get(SUBSCRIPTIONS, headers=headers)).json()
    assert [s["subscription_id"] for s in listed["items"]] == [created["subscription_id"]]
    assert "secret" not in listed["items"][0]

    sealed = await session.scalar(
        text("SELECT secret_sealed FROM webhook_subscriptions WHERE subscription_id = :id"),
        {"id": uuid.UUID(created["subscription_id"])},
    )
    assert created["secret"].encode() not in sealed
    assert open_secret(uuid.UUID(created["subscription_id"]), sealed) == (created["secret"])
    audited = await session.scalar(
        text(
            "SELECT count(*) FROM audit_log WHERE action = 'webhook.subscribed'"
            " AND target_id = :id AND details::text NOT LIKE '%whsec%'"
        ),
        {"id": created["subscription_id"]},
    )
    assert audited == 1


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("hooks.example.test/warnex", "invalid_url"),
        ("https://hooks.example.test:70000/", "invalid_url"),
        ("gopher://hooks.example.test/", "invalid_url"),
        ("https://admin:hunter2@hooks.example.test/", "url_has_credentials"),
        ("https://intranet.example.test/", "url_not_allowed"),
        ("http://169.254.169.254/latest/meta-data", "url_not_allowed"),
    ],
)
async def test_a_bad_url_is_422_with_its_code_and_nothing_is_stored(
    client: httpx.AsyncClient, session: AsyncSession, url: str, code: str
) -> None:
    headers = await department_headers(session, "medical_insurance")
    response = await client.post(SUBSCRIPTIONS, json={"url": url}, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["code"] for e in response.json()["errors"]] == [code]
    assert "hunter2" not in response.text
    assert await session.scalar(text("SELECT count(*) FROM webhook_subscriptions")) == 0


async def test_another_departments_subscription_is_404_everywhere(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    medical = await department_headers(session, "medical_insurance")
    civil = await department_headers(session, "civil_affairs")
    created = (await client.post(SUBSCRIPTIONS, json={"url": URL}, headers=medical)).json()
    one = f"{SUBSCRIPTIONS}/{created['subscription_id']}"
    assert (await client.get(SUBSCRIPTIONS, headers=civil)).json()["items"] == []
    assert (await client.delete(one, headers=civil)).status_code == 404
    assert (await client.get(one + "/deliveries", headers=civil)).status_code == 404
    redeliver = f"{one}/deliveries/{uuid.uuid4()}/redeliver"
    assert (await client.post(redeliver, headers=civil)).status_code == 404
    # Its own department: an unknown delivery is 404 too.
    assert (await client.post(redeliver, headers=medical)).status_code == 404
    assert (
        await client.get(SUBSCRIPTIONS + f"/{uuid.uuid4()}/deliveries", headers=medical)
    ).status_code == 404


async def test_staff_cannot_subscribe(client: httpx.AsyncClient, session: AsyncSession) -> None:
    headers = await staff_headers(session)
    response = await client.post(SUBSCRIPTIONS, json={"url": URL}, headers=headers)
    assert response.status_code == 403


async def test_deleting_a_subscription_removes_it_and_its_deliveries(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = await department_headers(session, "medical_insurance")
    created = (await client.post(SUBSCRIPTIONS, json={"url": URL}, headers=headers)).json()
    one = f"{SUBSCRIPTIONS}/{created['subscription_id']}"
    assert (await client.delete(one, headers=headers)).status_code == 204
    assert (await client.get(SUBSCRIPTIONS, headers=headers)).json()["items"] == []
    assert (await client.delete(one, headers=headers)).status_code == 404


async def test_an_unknown_delivery_status_filter_is_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    headers = await department_headers(session, "medical_insurance")
    created = (await client.post(SUBSCRIPTIONS, json={"url": URL}, headers=headers)).json()
    response = await client.get(
        f"{SUBSCRIPTIONS}/{created['subscription_id']}/deliveries",
        params={"status": "lost"},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "invalid_code"
