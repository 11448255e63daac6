"""Tests for shared.regions: 12-digit statistical division codes."""

from __future__ import annotations

import pytest

from shared.regions import (
    LEVEL_DIGITS,
    InvalidRegionCode,
    Level,
    child_level,
    county_code,
    covers,
    is_well_formed,
    pad,
    parent_code,
    region_level,
    region_prefix,
    scope_like_pattern,
)

PROVINCE = "610000000000"
CITY = "610300000000"
COUNTY = "610326000000"
TOWN = "610326100000"
VILLAGE = "610326100201"


@pytest.mark.parametrize(
    ("code", "level"),
    [
        (PROVINCE, "province"),
        (CITY, "city"),
        (COUNTY, "county"),
        (TOWN, "town"),
        (VILLAGE, "village"),
        ("610326100001", "village"),
        ("610326001000", "town"),
    ],
)
def test_level_follows_from_trailing_zeros(code: str, level: Level) -> None:
    assert is_well_formed(code)
    assert region_level(code) == level


@pytest.mark.parametrize(
    "code",
    [
        "61032610020",  # 11 digits
        "6103261002010",  # 13 digits
        "61032610020A",  # a letter
        "６10326100201",  # full-width digit
        " 61032610020",  # whitespace
        "",
        "000000000000",  # 00 province
        "003261002010",  # 00 province under a village
        "610326000201",  # village under a 000 town
        "610300100000",  # town under a 00 county
        "610026100000",  # town under a 00 city
        "610026000000",  # county under a 00 city
        "610000100201",  # village under 00 city and county
    ],
)
def test_malformed_codes_are_rejected(code: str) -> None:
    assert not is_well_formed(code)
    with pytest.raises(InvalidRegionCode):
        region_level(code)


def test_short_code_error_says_12_digits() -> None:
    with pytest.raises(InvalidRegionCode, match="12 digits"):
        region_level("61032610020")


def test_prefix_cuts_the_level_trailing_zeros() -> None:
    assert region_prefix(PROVINCE) == "61"
    assert region_prefix(CITY) == "6103"
    assert region_prefix(COUNTY) == "610326"
    assert region_prefix(TOWN) == "610326100"
    assert region_prefix(VILLAGE) == VILLAGE


def test_prefix_length_matches_level_digits() -> None:
    for code in (PROVINCE, CITY, COUNTY, TOWN, VILLAGE):
        assert len(region_prefix(code)) == LEVEL_DIGITS[region_level(code)]


def test_parent_chain_runs_from_village_to_province() -> None:
    chain = [VILLAGE]
    while (parent := parent_code(chain[-1])) is not None:
        chain.append(parent)
    assert chain == [VILLAGE, TOWN, COUNTY, CITY, PROVINCE]


def test_province_has_no_parent() -> None:
    assert parent_code(PROVINCE) is None


def test_child_level_steps_down_and_stops_at_village() -> None:
    assert child_level("province") == "city"
    assert child_level("city") == "county"
    assert child_level("county") == "town"
    assert child_level("town") == "village"
    assert child_level("village") is None


def test_county_code_is_first_6_digits_below_city() -> None:
    assert county_code(COUNTY) == "610326"
    assert county_code(TOWN) == "610326"
    assert county_code(VILLAGE) == "610326"


@pytest.mark.parametrize("code", [PROVINCE, CITY, "61032610020"])
def test_county_code_refuses_province_city_and_malformed(code: str) -> None:
    with pytest.raises(InvalidRegionCode):
        county_code(code)


def test_county_covers_its_village() -> None:
    assert covers(COUNTY, VILLAGE)


def test_county_does_not_cover_another_county_village() -> None:
    assert not covers(COUNTY, "610327100201")


def test_village_covers_itself() -> None:
    assert covers(VILLAGE, VILLAGE)


def test_town_does_not_cover_its_county() -> None:
    assert not covers(TOWN, COUNTY)


def test_province_covers_everything_in_it() -> None:
    for code in (PROVINCE, CITY, COUNTY, TOWN, VILLAGE):
        assert covers(PROVINCE, code)
    assert not covers(PROVINCE, "620000000000")


def test_covers_refuses_malformed_codes() -> None:
    with pytest.raises(InvalidRegionCode):
        covers(COUNTY, "610326000201")
    with pytest.raises(InvalidRegionCode):
        covers("6103", VILLAGE)


def test_pad_fills_a_prefix_to_12_digits() -> None:
    assert pad("610326") == COUNTY
    assert pad("61") == PROVINCE
    assert pad(VILLAGE) == VILLAGE


@pytest.mark.parametrize("prefix", ["", "6103261002011", "61a3"])
def test_pad_refuses_non_digit_or_too_long_prefixes(prefix: str) -> None:
    with pytest.raises(InvalidRegionCode):
        pad(prefix)


def test_scope_like_pattern_is_prefix_and_percent() -> None:
    assert scope_like_pattern(COUNTY) == "610326%"
    assert scope_like_pattern(TOWN) == "610326100%"
    assert scope_like_pattern(VILLAGE) == VILLAGE + "%"
    assert scope_like_pattern(PROVINCE) == "61%"
