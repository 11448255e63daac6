"""Signatures follow Standard Webhooks: checked against the scheme's published
example and the `standardwebhooks` reference library."""

from __future__ import annotations

import base64
import time

from standardwebhooks import Webhook

from services.warning_ingest.webhooks.signing import (
    SECRET_PREFIX,
    new_secret,
    signature,
    signed_headers,
    signing_key,
)


def test_the_published_example_signature_is_reproduced() -> None:
    # The example of the Standard Webhooks specification (and Svix's docs).
    key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    got = signature(
        key,
        webhook_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=1614265330,
        body=b'{"test": 2432232314}',
    )
    assert got == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_reference_library_verifies_what_we_sign() -> None:
    secret = new_secret()
    body = b'{"source_record_id":"R-1","status":"unmatched"}'
    headers = signed_headers(
        signing_key(secret), webhook_id="msg_1_ab", timestamp=int(time.time()), body=body
    )
    assert Webhook(secret).verify(body, headers) == {
        "source_record_id": "R-1",
        "status": "unmatched",
    }


def test_the_reference_library_refuses_another_secret_or_body() -> None:
    secret, other = new_secret(), new_secret()
    body = b'{"a":1}'
    headers = signed_headers(
        signing_key(secret), webhook_id="m", timestamp=int(time.time()), body=body
    )
    for verifier, sent in ((Webhook(other), body), (Webhook(secret), b'{"a":2}')):
        try:
            verifier.verify(sent, headers)
        except Exception as exc:
            assert type(exc).__name__ == "WebhookVerificationError"
        else:
            raise AssertionError("a wrong signature verified")


def test_secrets_hold_24_random_bytes_after_the_prefix() -> None:
    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith(SECRET_PREFIX)
        assert len(base64.b64decode(secret.removeprefix(SECRET_PREFIX))) == 24
