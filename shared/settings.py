"""The one settings class: `WARNEX_*` variables, `.env`, and an optional `warnex.toml`.

Precedence, highest first: environment, `.env`, the TOML file named by `--config`
(or `WARNEX_CONFIG`), the defaults below. Unsafe values fail at start-up, not at
first use.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

MIN_SECRET_BYTES = 32
# Values that appear in documentation or are typed by hand: never a production secret.
_KNOWN_WEAK = {"changeme", "secret", "warnex", "test", "password"}


class UnsafeSettings(Exception):
    """A setting that would run the deployment unsafely; start-up stops.

    Not a ValueError: pydantic would wrap one raised in a validator into a
    ValidationError, which the CLI does not catch and whose text echoes the
    inputs (the secret key, the database password).
    """


def decode_secret(raw: str) -> bytes:
    """Decode a base64 secret and refuse one that is short or visibly not random."""
    if raw.strip().lower() in _KNOWN_WEAK:
        raise UnsafeSettings("WARNEX_SECRET_KEY is a known example value")
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        try:
            # The URL-safe alphabet, strictly: a passphrase must not pass as base64.
            key = base64.b64decode(raw.strip(), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise UnsafeSettings("WARNEX_SECRET_KEY must be base64") from None
    if len(key) < MIN_SECRET_BYTES:
        raise UnsafeSettings(f"WARNEX_SECRET_KEY must hold at least {MIN_SECRET_BYTES} bytes")
    # 32 random bytes hold ~29 distinct values; a repeated pattern holds few.
    if len(set(key)) < 16:
        raise UnsafeSettings("WARNEX_SECRET_KEY does not look random")
    return key


def new_secret() -> str:
    """A fresh secret in the form WARNEX_SECRET_KEY takes."""
    return base64.b64encode(secrets.token_bytes(MIN_SECRET_BYTES)).decode()


# Pushes and county work load and recount in bulk; a viewer only reads figures.
STATEMENT_TIMEOUTS: dict[str, float] = {
    "client": 120.0,
    "admin": 600.0,
    "county_staff": 120.0,
    "township_staff": 30.0,
    "village_staff": 30.0,
    "viewer": 15.0,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="WARNEX_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "WARNEX_DATABASE_URL")
    )
    data_dir: Path = Field(default_factory=lambda: platformdirs.user_data_path("warnex"))
    secret_key: SecretStr | None = None
    log_level: str = "INFO"
    log_format: str = "json"
    timezone: str = "Asia/Shanghai"
    policy_file: Path | None = None

    body_limit_bytes: int = 1024 * 1024
    bulk_body_limit_bytes: int = 64 * 1024 * 1024
    # A body is read whole before its request touches the database
    # (shared/limits.py): 408 once it stalls this long, or takes longer in all.
    body_idle_seconds: float = Field(default=10.0, gt=0)
    body_deadline_seconds: float = Field(default=600.0, gt=0)
    # The longest one SQL statement of a request may run, by who asks
    # (`client` for department clients, else the user's role): a request never
    # holds a pooled connection for long. Merged over STATEMENT_TIMEOUTS.
    statement_timeout_seconds: dict[str, float] = Field(default_factory=dict)
    # Requests per principal and process (shared/rate_limits.py); empty turns it off.
    client_rate_limit: str = "200/second"
    user_rate_limit: str = "50/second"
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # Ping each pooled connection before use (three round trips per checkout), so
    # that a database restart costs no request; off, a connection found dead fails
    # its one request with 503 and Retry-After (shared/db.py): a trade for the
    # busiest push rates, chosen by the operator, not by default.
    db_pre_ping: bool = True
    # Background work (event consumers, scheduled jobs) in this process. Turned off
    # for a replica that should only answer requests, and by most tests.
    run_workers: bool = True
    consumer_poll_seconds: float = 1.0
    # Hosts (names or addresses, comma-separated) that webhook URLs may name.
    # Empty: no webhook can be registered. An internal address (loopback,
    # private, link-local) is reached only when that very address is listed.
    webhook_allowed_hosts: str = ""

    def webhook_hosts(self) -> frozenset[str]:
        """The allowed webhook hosts, lower-case, without blanks."""
        return frozenset(
            h.strip().lower().strip("[]")
            for h in self.webhook_allowed_hosts.split(",")
            if h.strip()
        )

    @field_validator("statement_timeout_seconds")
    @classmethod
    def _statement_timeouts(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(STATEMENT_TIMEOUTS))
        if unknown:
            raise ValueError(
                f"statement timeouts are kept for {', '.join(STATEMENT_TIMEOUTS)}; "
                f"not for {', '.join(unknown)}"
            )
        if any(seconds <= 0 for seconds in value.values()):
            raise ValueError("a statement timeout must be more than 0 seconds")
        return {**STATEMENT_TIMEOUTS, **value}

    def statement_timeouts(self) -> dict[str, float]:
        """Seconds per caller kind: the shipped values with this deployment's over them."""
        return {**STATEMENT_TIMEOUTS, **self.statement_timeout_seconds}

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("client_rate_limit", "user_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        if value.strip():
            from limits import parse

            parse(value)  # ValueError names the bad notation
        return value.strip()

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("log level must be DEBUG, INFO, WARNING or ERROR")
        return level

    @model_validator(mode="after")
    def _secret_required_with_external_database(self) -> Settings:
        if self.secret_key is not None:
            decode_secret(self.secret_key.get_secret_value())
        elif self.database_url is not None:
            raise UnsafeSettings(
                "WARNEX_SECRET_KEY is required with an external DATABASE_URL "
                "(generate one with `warnex admin new-secret`)"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        config_file = os.environ.get("WARNEX_CONFIG")
        if config_file:
            path = Path(config_file)
            if not path.is_file():
                raise UnsafeSettings(f"config file {path} does not exist")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    def secret_bytes(self) -> bytes:
        """The deployment secret; for the embedded default, kept in the data directory.

        The generated file outlives restarts so that what was hashed and sealed today
        can be matched and opened tomorrow.
        """
        if self.secret_key is not None:
            return decode_secret(self.secret_key.get_secret_value())
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # O_EXCL: two processes starting at once must not write two different keys.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(new_secret() + "\n")
        return decode_secret(path.read_text().strip())


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()


def reset_settings() -> None:
    """Forget the cached settings (tests, and the CLI after `--config`)."""
    get_settings.cache_clear()
