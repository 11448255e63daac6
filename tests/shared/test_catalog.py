"""The catalog is the one source of a warning type's rules: each entry says
whether it is event-dated, sudden, what it requires and its threshold rule, and
the sets the services read are those entries, as SPEC §3 and §4 list them."""

from __future__ import annotations

import re

from services.warning_ingest.records import FIELDS
from shared.catalog import (
    EVENT_DATED_TYPES,
    SUDDEN_WARNING_TYPES,
    THRESHOLD_TYPES,
    WARNING_TYPES,
)


def test_the_rule_sets_are_spec_s_types():
    assert sorted(EVENT_DATED_TYPES) == [
        "disaster",
        "epidemic_impact",
        "industry_risk",
        "school_dropout",
    ]
    assert sorted(SUDDEN_WARNING_TYPES) == ["disaster", "epidemic_impact", "serious_illness"]
    assert sorted(THRESHOLD_TYPES) == ["high_medical_expense"]


def test_event_types_and_only_they_require_an_event_date():
    for t in WARNING_TYPES.values():
        assert ("event_date" in t.requires) == (t.kind == "event"), t.code
        assert not t.event_dated or t.kind == "event", t.code


def test_a_threshold_rule_requires_the_amount_it_compares():
    for t in WARNING_TYPES.values():
        assert ("amount_yuan" in t.requires) == (t.threshold is not None), t.code


def test_a_type_requires_only_record_fields():
    for t in WARNING_TYPES.values():
        assert set(t.requires) <= set(FIELDS), t.code


def test_codes_are_snake_case_identifiers_safe_to_write_into_sql():
    # services/warning_ingest/matching.py writes the threshold types as literals.
    for code in WARNING_TYPES:
        assert re.fullmatch(r"[a-z][a-z_]*", code), code
