"""The policy file: per-year figures with fallback, and refusal of nonsense."""

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from shared.policy import SHIPPED, Policy, load_policy


def test_shipped_policy_holds_the_seed_figures():
    policy = load_policy(SHIPPED)
    figures = policy.figures_for(date(2022, 6, 1))
    assert figures.monitoring_line_yuan == Decimal(6900)
    assert figures.medical_threshold_general_yuan == Decimal(18684)
    assert figures.medical_threshold_alleviated_yuan == Decimal(9342)
    assert policy.identification.decision_days == 15
    assert policy.identification.min_notice_days == 5


def test_a_year_without_figures_uses_the_latest_earlier_year():
    policy = Policy.model_validate(
        {
            "feeds": {"cadence_days": {"dibao": 15}},
            "years": {
                2022: _figures(6900),
                2024: _figures(7200),
            },
        }
    )
    assert policy.figures_for(date(2023, 5, 1)).monitoring_line_yuan == 6900
    assert policy.figures_for(date(2026, 1, 1)).monitoring_line_yuan == 7200
    assert policy.figures_for(date(2024, 1, 1)).monitoring_line_yuan == 7200


@pytest.mark.parametrize("cadence", [{"disaster": 7}, {"no_such_type": 15}, {"dibao": 0}], ids=str)
def test_cadence_only_for_known_periodic_types(cadence):
    with pytest.raises(ValidationError):
        Policy.model_validate({"feeds": {"cadence_days": cadence}, "years": {2022: _figures(1)}})


def test_policy_without_any_year_is_refused():
    with pytest.raises(ValidationError):
        Policy.model_validate({"feeds": {"cadence_days": {}}, "years": {}})


def _figures(line: int) -> dict[str, int]:
    return {
        "monitoring_line_yuan": line,
        "medical_threshold_general_yuan": 18684,
        "medical_threshold_alleviated_yuan": 9342,
    }


def test_shipped_policy_tracks_medical_expense_per_population_and_keeps_deliveries_30_days():
    policy = load_policy(SHIPPED)
    assert policy.feeds.population_cadence_days == {
        "high_medical_expense": {"monitored_and_alleviated": 10, "general": 30}
    }
    assert policy.webhooks.delivery_retention_days == 30


@pytest.mark.parametrize(
    "per_population",
    [
        {"disaster": {"monitored_and_alleviated": 10, "general": 30}},  # not periodic
        {"high_medical_expense": {"monitored_and_alleviated": 10}},  # a population missing
        {"high_medical_expense": {"monitored_and_alleviated": 10, "general": 30, "x": 5}},
        {"high_medical_expense": {"monitored_and_alleviated": 0, "general": 30}},
    ],
    ids=str,
)
def test_population_cadences_name_both_populations_of_a_periodic_type(per_population):
    with pytest.raises(ValidationError):
        Policy.model_validate(
            {
                "feeds": {"cadence_days": {}, "population_cadence_days": per_population},
                "years": {2022: _figures(1)},
            }
        )
