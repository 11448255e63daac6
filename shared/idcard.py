"""Resident ID numbers (居民身份证号码, GB 11643-1999).

An ID number is 18 characters: a 6-digit division code, the birth date as
YYYYMMDD, a 3-digit sequence whose last digit gives the sex, and a check
character (0-9 or X). ID numbers are personal data: nothing here ever puts
one into an exception message or a log line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from operator import mul
from typing import Literal

Sex = Literal["male", "female"]

_LENGTH = 18
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_DIGIT_OFFSET = ord("0") * sum(_WEIGHTS)
# Index = weighted sum mod 11.
_CHECK_CHARACTERS = "10X98765432"
# Characters that may appear at all; X only as the last one.
_ALLOWED = frozenset("0123456789Xx")
_EARLIEST_BIRTH = date(1900, 1, 1)
_MASK = "*" * 8

_MESSAGES = {
    "length": "an ID number must be 18 characters",
    "characters": (
        "an ID number must be 17 digits followed by a digit or X, "
        "without spaces or other characters"
    ),
    "checksum": "the check character does not match",
    "birth_date": "the birth date is not a real date on or after 1900-01-01",
    "future_birth_date": "the birth date is in the future",
}


class InvalidIdNumber(ValueError):
    """An ID number failed validation; `code` says which rule it broke.

    The message says what is wrong and never contains the number.
    """

    code: str

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _fail(code: str) -> InvalidIdNumber:
    return InvalidIdNumber(code, _MESSAGES[code])


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A validated ID number with the facts it encodes."""

    number: str
    birth_date: date
    sex: Sex

    @property
    def division_code(self) -> str:
        """The 6-digit division code of the place of first registration."""
        return self.number[:6]


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit alone accepts full-width and other Unicode digits.
    return text.isascii() and text.isdigit()


def _check_character(first17: str) -> str:
    # Hot path (once per record in bulk loads): sum the weighted byte values,
    # then remove the ASCII "0" offset (48 per unit of weight) in one step
    # instead of converting each character. Callers pass 17 ASCII digits.
    total = sum(map(mul, first17.encode("ascii"), _WEIGHTS)) - _DIGIT_OFFSET
    return _CHECK_CHARACTERS[total % 11]


def check_character(first17: str) -> str:
    """Return the GB 11643 check character ("0"-"9" or "X") for 17 digits.

    Raises InvalidIdNumber if the input is not exactly 17 ASCII digits.
    """
    if len(first17) != _LENGTH - 1:
        raise InvalidIdNumber("length", "the check character needs exactly 17 digits")
    if not _is_ascii_digits(first17):
        raise InvalidIdNumber("characters", "the check character needs exactly 17 digits")
    return _check_character(first17)


def _shape_error(raw: str) -> InvalidIdNumber:
    # Only reached for bad input, so it may be slower than the happy path.
    # Characters are judged before length so that a padded number is reported
    # as a stray character rather than as a length problem.
    if any(char not in _ALLOWED for char in raw):
        return _fail("characters")
    if len(raw) != _LENGTH:
        return _fail("length")
    return _fail("characters")  # an X before the last position


def parse_id_number(raw: str, *, today: date) -> ResidentId:
    """Validate an ID number and return it normalised with its birth date and sex.

    Accepts a lower-case x as check character and returns it as X. Rejects,
    with InvalidIdNumber and one of the codes "length", "characters",
    "checksum", "birth_date" or "future_birth_date": anything that is not
    exactly 17 ASCII digits plus a digit or X (surrounding whitespace
    included), a wrong check character, a birth date that does not exist or
    is before 1900-01-01, and a birth date after `today`.
    """
    first17 = raw[:17]
    if len(raw) != _LENGTH or not _is_ascii_digits(first17) or raw[17] not in _ALLOWED:
        raise _shape_error(raw)
    last = raw[17]
    if last == "x":
        last = "X"
    if _check_character(first17) != last:
        raise _fail("checksum")
    try:
        born = date(int(raw[6:10]), int(raw[10:12]), int(raw[12:14]))
    except ValueError:
        raise _fail("birth_date") from None
    if born < _EARLIEST_BIRTH:
        raise _fail("birth_date")
    if born > today:
        raise _fail("future_birth_date")
    sex: Sex = "male" if (ord(raw[16]) - 48) % 2 else "female"
    return ResidentId(number=first17 + last, birth_date=born, sex=sex)


def mask_id_number(number: str) -> str:
    """Mask an 18-character ID number for display: first 6, 8 asterisks, last 4.

    Example: "610326********123X". Raises InvalidIdNumber (code "length") for
    any other length, since a masked short string could reveal most of it.
    """
    if len(number) != _LENGTH:
        raise _fail("length")
    return number[:6] + _MASK + number[14:].upper()


def compose_id_number(division_code: str, birth_date: date, sequence: int, *, sex: Sex) -> str:
    """Build a valid ID number from its parts (for demos and tests).

    The sequence is taken mod 1000, then its last digit is moved by one where
    needed so that its parity gives `sex` (odd male, even female); the check
    character is appended. Raises ValueError if the division code is not 6
    ASCII digits or the birth year does not have 4 digits.
    """
    if len(division_code) != 6 or not _is_ascii_digits(division_code):
        raise ValueError("the division code must be 6 digits")
    if not 1000 <= birth_date.year <= 9999:
        raise ValueError("the birth year must have 4 digits")
    seq = sequence % 1000
    seq = seq | 1 if sex == "male" else seq & ~1
    first17 = (
        f"{division_code}{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}{seq:03d}"
    )
    return first17 + _check_character(first17)
