"""Tests for shared.idcard: GB 11643 resident ID numbers."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.idcard import (
    InvalidIdNumber,
    ResidentId,
    Sex,
    check_character,
    compose_id_number,
    mask_id_number,
    parse_id_number,
)

TODAY = date(2024, 6, 1)
SEXES: list[Sex] = ["male", "female"]
# Checked by hand: weighted sums 167 and 207, mod 11 give 2 -> X and 9 -> 3.
KNOWN_FEMALE = "11010519491231002X"
KNOWN_MALE = "610326199001011233"


def _with_check(first17: str) -> str:
    return first17 + check_character(first17)


def test_hand_checked_number_with_x_parses_with_birth_date_and_sex() -> None:
    parsed = parse_id_number(KNOWN_FEMALE, today=TODAY)
    assert parsed == ResidentId(number=KNOWN_FEMALE, birth_date=date(1949, 12, 31), sex="female")
    assert parsed.division_code == "110105"


def test_hand_checked_number_with_digit_check_parses() -> None:
    parsed = parse_id_number(KNOWN_MALE, today=TODAY)
    assert parsed.birth_date == date(1990, 1, 1)
    assert parsed.sex == "male"
    assert parsed.division_code == "610326"


def test_check_character_matches_hand_computed_values() -> None:
    assert check_character(KNOWN_FEMALE[:17]) == "X"
    assert check_character(KNOWN_MALE[:17]) == "3"


def test_composed_numbers_parse() -> None:
    cases: list[tuple[int, Sex]] = [(0, "female"), (1, "male"), (999, "female"), (1234, "male")]
    for sequence, sex in cases:
        number = compose_id_number("610326", date(1985, 2, 28), sequence, sex=sex)
        parsed = parse_id_number(number, today=TODAY)
        assert parsed.number == number
        assert parsed.sex == sex
        assert parsed.birth_date == date(1985, 2, 28)


def test_compose_fixes_sequence_parity_for_sex() -> None:
    male = compose_id_number("610326", date(2000, 1, 1), 998, sex="male")
    female = compose_id_number("610326", date(2000, 1, 1), 999, sex="female")
    assert male[14:17] == "999"
    assert female[14:17] == "998"


def test_compose_takes_sequence_mod_1000() -> None:
    number = compose_id_number("610326", date(2000, 1, 1), 1_000_124, sex="female")
    assert number[14:17] == "124"


def test_compose_rejects_bad_division_code() -> None:
    with pytest.raises(ValueError):
        compose_id_number("61032", date(2000, 1, 1), 1, sex="male")


def test_wrong_check_character_is_rejected_as_checksum() -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(KNOWN_MALE[:17] + "4", today=TODAY)
    assert caught.value.code == "checksum"


def test_impossible_birth_date_is_rejected() -> None:
    number = _with_check("610326" + "19990230" + "123")
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(number, today=TODAY)
    assert caught.value.code == "birth_date"


def test_birth_date_before_1900_is_rejected() -> None:
    number = _with_check("610326" + "18991231" + "123")
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(number, today=TODAY)
    assert caught.value.code == "birth_date"


def test_birth_date_after_today_is_rejected_as_future() -> None:
    number = compose_id_number("610326", date(2024, 6, 2), 1, sex="male")
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(number, today=TODAY)
    assert caught.value.code == "future_birth_date"


def test_birth_on_today_is_accepted() -> None:
    number = compose_id_number("610326", TODAY, 1, sex="male")
    assert parse_id_number(number, today=TODAY).birth_date == TODAY


def test_lower_case_x_is_accepted_and_normalised() -> None:
    parsed = parse_id_number(KNOWN_FEMALE.lower(), today=TODAY)
    assert parsed.number == KNOWN_FEMALE


@pytest.mark.parametrize("raw", [KNOWN_MALE[:17], KNOWN_MALE + "1", "", "1"])
def test_wrong_length_is_rejected(raw: str) -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(raw, today=TODAY)
    assert caught.value.code == "length"


@pytest.mark.parametrize(
    "raw",
    [
        "61032619900101123A",
        "6103261990010X1233",
        "61032619900101123X".replace("1", "l", 1),
        "６10326199001011233",  # full-width digit
        "61032619900101-233",
    ],
)
def test_non_digits_in_first_17_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(raw, today=TODAY)
    assert caught.value.code == "characters"


@pytest.mark.parametrize(
    "raw",
    [f" {KNOWN_MALE}", f"{KNOWN_MALE} ", f"{KNOWN_MALE}\n", "610326 99001011233"],
)
def test_whitespace_is_rejected_as_characters(raw: str) -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(raw, today=TODAY)
    assert caught.value.code == "characters"


def test_sex_follows_parity_of_position_17() -> None:
    for digit in range(10):
        number = _with_check("610326" + "19900101" + "12" + str(digit))
        expected = "male" if digit % 2 else "female"
        assert parse_id_number(number, today=TODAY).sex == expected


def test_mask_keeps_first_6_and_last_4() -> None:
    assert mask_id_number(KNOWN_FEMALE) == "110105********002X"
    assert mask_id_number("610326199001011233") == "610326********1233"


def test_mask_upper_cases_x() -> None:
    assert mask_id_number(KNOWN_FEMALE.lower()) == "110105********002X"


def test_mask_refuses_other_lengths() -> None:
    with pytest.raises(InvalidIdNumber):
        mask_id_number(KNOWN_MALE[:10])


@pytest.mark.parametrize(
    "raw",
    [
        KNOWN_MALE[:17] + "4",  # checksum
        _with_check("610326" + "19990230" + "123"),  # birth_date
        compose_id_number("610326", date(2030, 1, 1), 5, sex="male"),  # future
        KNOWN_MALE[:17],  # length
        KNOWN_MALE + " ",  # characters
        "61032619900101123A",  # characters
    ],
)
def test_error_messages_never_contain_the_digits(raw: str) -> None:
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(raw, today=TODAY)
    message = str(caught.value)
    # No run of 6 or more digits from the input may appear in the message.
    digits = "".join(char for char in raw if char.isdigit())
    for start in range(len(digits) - 5):
        assert digits[start : start + 6] not in message
    assert raw.strip() not in message


@given(
    division=st.from_regex(r"[1-9][0-9]{5}", fullmatch=True),
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    sequence=st.integers(min_value=-5000, max_value=5000),
    sex=st.sampled_from(SEXES),
)
def test_composed_number_always_parses_back(
    division: str, born: date, sequence: int, sex: Sex
) -> None:
    number = compose_id_number(division, born, sequence, sex=sex)
    parsed = parse_id_number(number, today=TODAY)
    assert parsed.birth_date == born
    assert parsed.sex == sex
    assert parsed.division_code == division
