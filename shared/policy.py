"""The deployment's policy: figures per year and the settings SPEC.md lets a
deployment change. Read from WARNEX_POLICY_FILE, or the shipped example."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from shared.catalog import WARNING_TYPES
from shared.settings import get_settings

SHIPPED = Path(__file__).with_name("policy.toml")


class YearFigures(BaseModel):
    monitoring_line_yuan: Decimal = Field(gt=0)
    medical_threshold_general_yuan: Decimal = Field(gt=0)
    medical_threshold_alleviated_yuan: Decimal = Field(gt=0)


class IdentificationPolicy(BaseModel):
    decision_days: int = Field(15, ge=1)
    due_soon_days: int = Field(3, ge=0)
    min_notice_days: int = Field(5, ge=1)
    # 跟踪关注: a household found not eligible or not included stays followed this long.
    follow_up_days: int = Field(180, ge=1)


class FeedPolicy(BaseModel):
    due_soon_days: int = Field(2, ge=0)
    late_record_days: int = Field(7, ge=0)
    cadence_days: dict[str, int]

    @model_validator(mode="after")
    def _known_periodic_types(self) -> FeedPolicy:
        for code, days in self.cadence_days.items():
            kind = WARNING_TYPES.get(code)
            if kind is None or kind.kind != "periodic":
                raise ValueError(f"cadence for {code!r}: not a periodic warning type")
            if days < 1:
                raise ValueError(f"cadence for {code!r} must be at least one day")
        return self


class AssistancePolicy(BaseModel):
    min_monitoring_days: int = 180
    income_stable_days: int = 180
    no_measure_gap_days: int = 30
    visit_interval_days: int = 31
    look_back_interval_days: int = 180


class ScreeningPolicy(BaseModel):
    min_villages_per_town: int = Field(3, ge=1)
    min_households_per_village: int = Field(10, ge=1)


class RedFlagPolicy(BaseModel):
    high_ratio: float = Field(0.02, gt=0, lt=1)


class Policy(BaseModel):
    identification: IdentificationPolicy = IdentificationPolicy()
    feeds: FeedPolicy
    assistance: AssistancePolicy = AssistancePolicy()
    screening: ScreeningPolicy = ScreeningPolicy()
    red_flags: RedFlagPolicy = RedFlagPolicy()
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


def load_policy(path: Path) -> Policy:
    with path.open("rb") as handle:
        return Policy.model_validate(tomllib.load(handle))


@lru_cache(maxsize=1)
def get_policy() -> Policy:
    """The deployment's policy, read once per process."""
    return load_policy(get_settings().policy_file or SHIPPED)
