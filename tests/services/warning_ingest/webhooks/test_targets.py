"""Where a webhook may point: checked at registration and again, after
resolving the host, at every delivery."""

from __future__ import annotations

import pytest

from services.warning_ingest.webhooks.targets import TargetRefused, check_url, resolve_target
from shared.errors import Unprocessable

ALLOWED = frozenset({"hooks.example.test", "127.0.0.1", "localhost", "93.184.216.34"})


def _code(url: str, allowed: frozenset[str] = ALLOWED) -> str:
    with pytest.raises(Unprocessable) as raised:
        check_url(url, allowed)
    return raised.value.errors[0].code


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "hooks.example.test/path",
        "ftp://hooks.example.test/x",
        "javascript:alert(1)",
        "https://",
        "https://hooks.example.test:99999/",
        "https://hooks.example.test:port/",
        "https://hooks.example.test/\nHost: evil",
        "https://bad_host!.test/",
        "https://例子.测试/",
    ],
)
def test_an_unparseable_url_is_invalid_url(url: str) -> None:
    assert _code(url) == "invalid_url"


@pytest.mark.parametrize(
    "url", ["https://user:pw@hooks.example.test/", "https://user@hooks.example.test/"]
)
def test_a_url_with_credentials_is_refused(url: str) -> None:
    assert _code(url) == "url_has_credentials"


@pytest.mark.parametrize(
    "url",
    [
        "https://other.example.test/",
        "https://hooks.example.test.evil.test/",
        "http://127.0.0.2:8080/",
        "http://10.0.0.1/",
        "http://[::1]/",
    ],
)
def test_a_host_outside_the_list_is_url_not_allowed(url: str) -> None:
    assert _code(url) == "url_not_allowed"


def test_nothing_is_allowed_when_the_list_is_empty() -> None:
    assert _code("https://hooks.example.test/", frozenset()) == "url_not_allowed"


def test_an_allowed_url_is_kept_without_its_fragment() -> None:
    assert check_url("https://HOOKS.example.test/in?x=1#top", ALLOWED) == (
        "https://HOOKS.example.test/in?x=1"
    )
    assert check_url("http://127.0.0.1:9000/hook", ALLOWED) == "http://127.0.0.1:9000/hook"


async def test_a_listed_address_is_sent_to() -> None:
    target = await resolve_target("http://127.0.0.1:9000/hook", ALLOWED)
    assert (target.address, target.host) == ("127.0.0.1", "127.0.0.1")


async def test_a_listed_name_that_resolves_inside_is_refused_at_delivery() -> None:
    # "localhost" is listed, but its address 127.0.0.1 only as a literal URL host
    # would be: a listed name alone reaches public addresses only.
    allowed = frozenset({"localhost"})
    with pytest.raises(TargetRefused) as refused:
        await resolve_target("http://localhost:9000/hook", allowed)
    assert refused.value.code == "address_not_allowed"
    target = await resolve_target("http://localhost:9000/hook", allowed | {"127.0.0.1", "::1"})
    assert target.address in ("127.0.0.1", "::1")
    assert target.host == "localhost"


async def test_a_host_removed_from_the_list_is_refused_at_delivery() -> None:
    with pytest.raises(TargetRefused) as refused:
        await resolve_target("https://hooks.example.test/", frozenset({"127.0.0.1"}))
    assert refused.value.code == "host_not_allowed"


async def test_a_public_address_needs_only_its_host_listed() -> None:
    target = await resolve_target("https://93.184.216.34/hook", ALLOWED)
    assert target.address == "93.184.216.34"


async def test_a_name_that_does_not_resolve_is_a_dns_error() -> None:
    with pytest.raises(TargetRefused) as refused:
        await resolve_target("https://hooks.example.test/", ALLOWED)
    assert refused.value.code == "dns_error"
