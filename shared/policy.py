"""The deployment's policy: figures per year and the settings SPEC.md lets a
deployment change. The shipped shared/policy.toml, with WARNEX_POLICY_FILE
merged over it: a deployment's file holds only what it changes (SPEC §12).

Every table refuses a key it does not know, so that a misspelt key stops the
start-up (`PolicyError`, naming the key) instead of silently keeping a default.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.catalog import DEPARTMENTS, WARNING_TYPES
from shared.settings import get_settings

SHIPPED = Path(__file__).with_name("policy.toml")

# The levels a request goes up (SPEC §12), lowest first.
LEVELS = ("county", "city", "province", "national")
Level = Literal["county", "city", "province", "national"]


class PolicyError(ValueError):
    """The policy file cannot be read or breaks a rule; the message names the key."""


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid")


class YearFigures(_Table):
    monitoring_line_yuan: Decimal = Field(gt=0)
    medical_threshold_general_yuan: Decimal = Field(gt=0)
    medical_threshold_alleviated_yuan: Decimal = Field(gt=0)


class IdentificationPolicy(_Table):
    decision_days: int = Field(15, ge=1)
    due_soon_days: int = Field(3, ge=0)
    min_notice_days: int = Field(5, ge=1)
    # 跟踪关注: a household found not eligible or not included stays followed this long.
    follow_up_days: int = Field(180, ge=1)


# A feed tracked per population (SPEC §12, Lingshou): the persons of
# poverty-alleviated households and of households with an active monitoring
# object (the roster's persons), and every other person. A feed not tracked
# per population is of population "all".
FEED_POPULATIONS = ("monitored_and_alleviated", "general")


class FeedPolicy(_Table):
    due_soon_days: int = Field(2, ge=0)
    late_record_days: int = Field(7, ge=0)
    cadence_days: dict[str, int]
    # Periodic types tracked per population, with each population's cadence:
    # such a type is two feeds, each with its own due time.
    population_cadence_days: dict[str, dict[str, int]] = {}

    @model_validator(mode="after")
    def _known_periodic_types(self) -> FeedPolicy:
        for code, days in [
            *self.cadence_days.items(),
            *((c, d) for c, per in self.population_cadence_days.items() for d in per.values()),
        ]:
            kind = WARNING_TYPES.get(code)
            if kind is None or kind.kind != "periodic":
                raise ValueError(f"cadence for {code!r}: not a periodic warning type")
            if days < 1:
                raise ValueError(f"cadence for {code!r} must be at least one day")
        for code, per in self.population_cadence_days.items():
            if set(per) != set(FEED_POPULATIONS):
                raise ValueError(
                    f"population cadences of {code!r} need exactly {', '.join(FEED_POPULATIONS)}"
                )
        return self


class AssistancePolicy(_Table):
    min_monitoring_days: int = 180
    income_stable_days: int = 180
    no_measure_gap_days: int = 30
    visit_interval_days: int = 31
    look_back_interval_days: int = 180


class ScreeningPolicy(_Table):
    min_villages_per_town: int = Field(3, ge=1)
    min_households_per_village: int = Field(10, ge=1)


class RedFlagPolicy(_Table):
    high_ratio: float = Field(0.02, gt=0, lt=1)


ROSTER_GROUPS = ("poverty_alleviated", "monitored")


class RosterPolicy(_Table):
    """Who may download the roster of poverty-alleviated and monitored persons
    (SPEC §12), and the push cadence it announces per group."""

    departments: list[str] = ["medical_insurance", "civil_affairs"]
    cadence_days: dict[str, int] = {"poverty_alleviated": 10, "monitored": 10}

    @model_validator(mode="after")
    def _known_codes(self) -> RosterPolicy:
        for department in self.departments:
            if department not in DEPARTMENTS:
                raise ValueError(f"rosters: unknown department {department!r}")
        if set(self.cadence_days) != set(ROSTER_GROUPS):
            raise ValueError(f"rosters: cadence_days needs exactly {', '.join(ROSTER_GROUPS)}")
        if any(days < 1 for days in self.cadence_days.values()):
            raise ValueError("rosters: a cadence must be at least one day")
        return self


class WebhookPolicy(_Table):
    """How long settled (delivered or failed) webhook deliveries are kept after
    their last attempt; a pending delivery is never removed."""

    delivery_retention_days: int = Field(30, ge=1)


def _county_only() -> list[Level]:
    return ["county"]


class RequestPolicy(_Table):
    """The chain of levels that approve a rollback (风险消除回退) or a removal
    (清退) before the object changes; the last level's approval applies it."""

    rollback: list[Level] = Field(default_factory=_county_only)
    removal: list[Level] = Field(default_factory=_county_only)

    @model_validator(mode="after")
    def _chains_go_upward(self) -> RequestPolicy:
        for kind in ("rollback", "removal"):
            chain = getattr(self, kind)
            ranks = [LEVELS.index(level) for level in chain]
            if not chain or ranks[0] != 0:
                raise ValueError(f"{kind}: a chain starts at the county")
            if ranks != sorted(set(ranks)):
                raise ValueError(f"{kind}: levels go upward, each once ({', '.join(LEVELS)})")
        return self

    def chain(self, kind: str) -> list[str]:
        return list(getattr(self, kind))


class Policy(_Table):
    identification: IdentificationPolicy = IdentificationPolicy()
    feeds: FeedPolicy
    assistance: AssistancePolicy = AssistancePolicy()
    screening: ScreeningPolicy = ScreeningPolicy()
    red_flags: RedFlagPolicy = RedFlagPolicy()
    rosters: RosterPolicy = RosterPolicy()
    webhooks: WebhookPolicy = WebhookPolicy()
    requests: RequestPolicy = RequestPolicy()
    years: dict[int, YearFigures]

    @model_validator(mode="after")
    def _some_year(self) -> Policy:
        if not self.years:
            raise ValueError("the policy needs figures for at least one year")
        return self

    def figures_for(self, day: date) -> YearFigures:
        """The figures in force on `day`: its year's, else the latest earlier year's."""
        earlier = [y for y in self.years if y <= day.year]
        year = max(earlier) if earlier else min(self.years)
        return self.years[year]


def merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` merged into `base`: tables merge key by key, any other value replaces."""
    result = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise PolicyError(f"policy file {path}: cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file {path}: not valid TOML ({exc})") from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '(top)'}: {error['msg']}"
        for error in exc.errors()
    )


def load_policy(path: Path | None = None) -> Policy:
    """The shipped policy with the file at `path` (if any) merged over it.

    Raises PolicyError naming every unknown key and every bad value."""
    raw = _read(SHIPPED)
    if path is not None and path.resolve() != SHIPPED.resolve():
        raw = merged(raw, _read(path))
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(f"policy file {path or SHIPPED}: {_problems(exc)}") from None


# A policy held in place of the deployment's for one run (`warnex demo`), innermost last.
_held: list[Policy] = []


@lru_cache(maxsize=1)
def get_policy() -> Policy:
    """The deployment's policy, read once per process (checked at start-up),
    or the one held by `holding_policy`."""
    if _held:
        return _held[-1]
    return load_policy(get_settings().policy_file)


@contextmanager
def holding_policy(policy: Policy) -> Iterator[None]:
    """Make `policy` the process's policy for the block; the deployment's
    comes back after it. For a whole run (the demo's), never per request."""
    _held.append(policy)
    get_policy.cache_clear()
    try:
        yield
    finally:
        _held.pop()
        get_policy.cache_clear()
