"""Settings refuse unsafe values at start-up and come from env, .env and warnex.toml.

Each test builds its own `Settings`; the process-wide cached settings, which
the other tests rely on, are forgotten after each test so that nothing read
under a patched environment outlives it.
"""

from __future__ import annotations

import base64
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.settings import (
    Settings,
    UnsafeSettings,
    decode_secret,
    new_secret,
    reset_settings,
)

EXTERNAL = "postgresql://warnex:hunter2@db.example:5432/warnex"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    # No stray .env or config file from the working directory.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WARNEX_CONFIG", raising=False)
    try:
        yield
    finally:
        reset_settings()


def test_an_external_database_without_a_secret_key_refuses(monkeypatch):
    monkeypatch.delenv("WARNEX_SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", EXTERNAL)
    with pytest.raises(UnsafeSettings, match="WARNEX_SECRET_KEY is required") as caught:
        Settings()
    assert "hunter2" not in str(caught.value)


def test_an_external_database_with_a_good_secret_starts(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", EXTERNAL)
    monkeypatch.setenv("WARNEX_SECRET_KEY", new_secret())
    settings = Settings()
    assert settings.database_url == EXTERNAL
    assert not settings.embedded
    assert len(settings.secret_bytes()) == 32


WEAK = {
    "short": base64.b64encode(secrets.token_bytes(16)).decode(),
    "not_base64": "Tr0ub4dor&3-correct-horse-battery-staple-xkcd-936!",
    "non_ascii": "密钥" * 30,
    "known_weak": "changeme",
    "known_weak_upper": " ChangeMe ",
    "low_entropy": base64.b64encode(bytes(32)).decode(),
    "repeated_pattern": base64.b64encode(b"abcd" * 16).decode(),
}


@pytest.mark.parametrize("secret", WEAK.values(), ids=WEAK.keys())
def test_a_weak_secret_refuses_without_echoing_it(monkeypatch, secret):
    monkeypatch.setenv("DATABASE_URL", EXTERNAL)
    monkeypatch.setenv("WARNEX_SECRET_KEY", secret)
    with pytest.raises(UnsafeSettings) as caught:
        Settings()
    assert secret.strip() not in str(caught.value)
    with pytest.raises(UnsafeSettings):
        decode_secret(secret)


@pytest.mark.parametrize(
    "encode", [base64.b64encode, base64.urlsafe_b64encode], ids=["standard", "urlsafe"]
)
def test_a_random_secret_in_either_base64_alphabet_is_accepted(encode):
    raw = secrets.token_bytes(48)
    assert decode_secret(encode(raw).decode()) == raw


def test_new_secret_makes_acceptable_distinct_keys():
    first, second = new_secret(), new_secret()
    assert first != second
    assert len(decode_secret(first)) == 32


def test_the_embedded_default_generates_a_private_secret_file_and_reuses_it(monkeypatch, tmp_path):
    monkeypatch.delenv("WARNEX_SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir)
    assert settings.embedded
    key = settings.secret_bytes()
    path = data_dir / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 32
    assert settings.secret_bytes() == key
    # The next process (a new Settings) reads the same key back.
    assert Settings(data_dir=data_dir).secret_bytes() == key
    assert decode_secret(path.read_text().strip()) == key


def test_an_explicit_secret_wins_over_the_generated_file(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    secret = new_secret()
    monkeypatch.setenv("WARNEX_SECRET_KEY", secret)
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.secret_bytes() == base64.b64decode(secret)
    assert not (tmp_path / "data" / "secret.key").exists()


def test_a_config_file_sets_values_and_the_environment_overrides_them(monkeypatch, tmp_path):
    config = tmp_path / "warnex.toml"
    config.write_text('timezone = "Asia/Urumqi"\nlog_level = "debug"\nbody_limit_bytes = 2048\n')
    monkeypatch.setenv("WARNEX_CONFIG", str(config))
    monkeypatch.delenv("WARNEX_TIMEZONE", raising=False)
    monkeypatch.delenv("WARNEX_LOG_LEVEL", raising=False)
    settings = Settings()
    assert (settings.timezone, settings.log_level, settings.body_limit_bytes) == (
        "Asia/Urumqi",
        "DEBUG",
        2048,
    )
    monkeypatch.setenv("WARNEX_TIMEZONE", "UTC")
    settings = Settings()
    assert settings.timezone == "UTC"
    assert settings.body_limit_bytes == 2048


def test_a_dotenv_file_sits_between_the_environment_and_the_config_file(monkeypatch, tmp_path):
    config = tmp_path / "warnex.toml"
    config.write_text('timezone = "Asia/Urumqi"\nlog_level = "ERROR"\n')
    (tmp_path / ".env").write_text("WARNEX_TIMEZONE=Asia/Harbin\nWARNEX_LOG_LEVEL=WARNING\n")
    monkeypatch.setenv("WARNEX_CONFIG", str(config))
    monkeypatch.delenv("WARNEX_TIMEZONE", raising=False)
    monkeypatch.setenv("WARNEX_LOG_LEVEL", "DEBUG")
    settings = Settings()
    assert settings.timezone == "Asia/Harbin"
    assert settings.log_level == "DEBUG"


def test_a_missing_config_file_refuses(monkeypatch, tmp_path):
    monkeypatch.setenv("WARNEX_CONFIG", str(tmp_path / "nowhere.toml"))
    with pytest.raises(UnsafeSettings, match="does not exist"):
        Settings()


def test_an_unknown_time_zone_refuses():
    with pytest.raises(ValueError, match="unknown time zone"):
        Settings(timezone="Mars/Olympus_Mons")


def test_the_default_time_zone_is_shanghai(monkeypatch):
    monkeypatch.delenv("WARNEX_TIMEZONE", raising=False)
    assert Settings().zone.key == "Asia/Shanghai"
