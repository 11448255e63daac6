"""A deployment's policy file holds only what it changes (SPEC §12): merged
over the shipped policy, and refused at start-up, naming the key, when it
holds an unknown key or a bad value."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shared import cli
from shared.policy import (
    SHIPPED,
    PolicyError,
    RequestPolicy,
    get_policy,
    holding_policy,
    load_policy,
    merged,
)
from shared.settings import reset_settings
from tests.services.identification.requests.request_helpers import requests_policy


@pytest.fixture
def forget_policy() -> Iterator[None]:
    reset_settings()
    get_policy.cache_clear()
    yield
    reset_settings()
    get_policy.cache_clear()


def test_a_file_with_only_requests_keeps_every_other_shipped_value(tmp_path: Path) -> None:
    with requests_policy(tmp_path / "policy.toml", removal=["county", "city", "province"]):
        policy = get_policy()
    shipped = load_policy(SHIPPED)
    assert policy.requests.removal == ["county", "city", "province"]
    assert policy.requests.rollback == ["county"]
    assert policy.model_dump(exclude={"requests"}) == shipped.model_dump(exclude={"requests"})


def test_tables_merge_key_by_key(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        "[feeds.cadence_days]\ndibao = 30\n\n[years.2026]\n"
        "monitoring_line_yuan = 7500\nmedical_threshold_general_yuan = 20000\n"
        "medical_threshold_alleviated_yuan = 10000\n",
        encoding="utf-8",
    )
    policy = load_policy(path)
    assert policy.feeds.cadence_days["dibao"] == 30
    assert policy.feeds.cadence_days["tekun"] == 15
    assert policy.feeds.late_record_days == 7
    assert sorted(policy.years) == [2022, 2026]
    assert merged({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ("[requests]\nrolback = ['county']\n", "requests.rolback"),
        ("[identification]\ndecison_days = 20\n", "identification.decison_days"),
        ("[approvals]\nremoval = ['county']\n", "approvals"),
        ("[requests]\nremoval = ['county', 'township']\n", "requests.removal"),
        ("[requests]\nremoval = ['province', 'county']\n", "requests"),
        ("[identification]\ndecision_days = 0\n", "identification.decision_days"),
        ("[red_flags]\nhigh_ratio = 'two percent'\n", "red_flags.high_ratio"),
    ],
)
def test_an_unknown_key_or_a_bad_value_is_refused_naming_it(
    tmp_path: Path, toml: str, named: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(PolicyError, match=named.replace(".", r"\.")):
        load_policy(path)


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[requests\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(path)


async def test_the_app_refuses_to_start_on_a_bad_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forget_policy: None
) -> None:
    from services.identification.app import create_app

    path = tmp_path / "policy.toml"
    path.write_text("[requests]\nrolback = ['county']\n", encoding="utf-8")
    monkeypatch.setenv("WARNEX_POLICY_FILE", str(path))
    reset_settings()
    app = create_app()
    with pytest.raises(PolicyError, match=r"requests\.rolback"):
        async with app.router.lifespan_context(app):
            pass  # pragma: no cover


def test_serve_refuses_to_start_on_a_bad_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forget_policy: None
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[requests]\nremoval = ['county', 'township']\n", encoding="utf-8")
    monkeypatch.setenv("WARNEX_POLICY_FILE", str(path))
    reset_settings()
    result = CliRunner().invoke(cli.app, ["serve", "--port", "1"])
    assert result.exit_code == 2, result.output
    assert "requests.removal" in result.output


def test_a_held_policy_applies_for_its_block_only(forget_policy: None) -> None:
    deployment = get_policy()
    chain: list = ["county", "city", "province"]
    held = deployment.model_copy(update={"requests": RequestPolicy(rollback=chain, removal=chain)})
    with pytest.raises(RuntimeError), holding_policy(held):
        assert get_policy().requests.chain("removal") == chain
        raise RuntimeError("the run failed")
    assert get_policy().requests.chain("removal") == ["county"]
    assert get_policy() == deployment


def test_the_documented_province_chain_file_loads_over_the_shipped_policy() -> None:
    path = Path(__file__).parents[2] / "deploy" / "policy" / "province-chain.toml"
    policy = load_policy(path)
    for kind in ("rollback", "removal"):
        assert policy.requests.chain(kind) == ["county", "city", "province"]
    shipped = load_policy(SHIPPED)
    assert policy.model_dump(exclude={"requests"}) == shipped.model_dump(exclude={"requests"})
