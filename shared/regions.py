"""12-digit statistical division codes (统计用区划代码).

A code is province (2 digits), city (2), county (2), town 乡镇/街道 (3) and
village 行政村/社区 (3). Its level follows from its trailing zeros:
`610000000000` province, `610300000000` city, `610326000000` county,
`610326100000` town, `610326100201` village. A region covers itself and
everything whose code starts with its prefix (the code with its level's
trailing zeros cut).
"""

from __future__ import annotations

from typing import Literal

Level = Literal["province", "city", "county", "town", "village"]

CODE_LENGTH = 12

LEVEL_DIGITS: dict[Level, int] = {
    "province": 2,
    "city": 4,
    "county": 6,
    "town": 9,
    "village": 12,
}

_LEVELS: tuple[Level, ...] = ("province", "city", "county", "town", "village")
# (first, end) slice of each level's own part of the code.
_PARTS: tuple[tuple[Level, int, int], ...] = (
    ("province", 0, 2),
    ("city", 2, 4),
    ("county", 4, 6),
    ("town", 6, 9),
    ("village", 9, 12),
)


class InvalidRegionCode(ValueError):
    """A region code or prefix is malformed; the message says why."""


def _level_of(code: str) -> Level:
    # Assumes 12 ASCII digits; the deepest non-zero part decides.
    if code[9:12] != "000":
        return "village"
    if code[6:9] != "000":
        return "town"
    if code[4:6] != "00":
        return "county"
    if code[2:4] != "00":
        return "city"
    return "province"


def _problem(code: str) -> str | None:
    """Why `code` is malformed, or None when it is well-formed."""
    if len(code) != CODE_LENGTH or not (code.isascii() and code.isdigit()):
        return "a region code must be 12 digits"
    if code[:2] == "00":
        return "the province part must not be 00"
    level = _level_of(code)
    # Every part above the code's own level must be non-zero.
    for part, start, end in _PARTS[1 : _LEVELS.index(level)]:
        if code[start:end] == "0" * (end - start):
            return f"the {part} part must not be zero in a {level} code"
    return None


def is_well_formed(code: str) -> bool:
    """True when `code` is 12 ASCII digits with no zero part above its level."""
    return _problem(code) is None


def region_level(code: str) -> Level:
    """The level of a well-formed code; raises InvalidRegionCode otherwise."""
    problem = _problem(code)
    if problem is not None:
        raise InvalidRegionCode(problem)
    return _level_of(code)


def region_prefix(code: str) -> str:
    """The code with its level's trailing zeros cut ("610326" for a county).

    Raises InvalidRegionCode for a malformed code.
    """
    return code[: LEVEL_DIGITS[region_level(code)]]


def county_code(code: str) -> str:
    """The 6-digit county code of a county, town or village code.

    Raises InvalidRegionCode for a malformed code and for a province or city
    code, which lie above any county.
    """
    if region_level(code) in ("province", "city"):
        raise InvalidRegionCode("a province or city code has no county")
    return code[:6]


def parent_code(code: str) -> str | None:
    """The 12-digit code of the region one level up; None for a province.

    Raises InvalidRegionCode for a malformed code.
    """
    level = region_level(code)
    index = _LEVELS.index(level)
    if index == 0:
        return None
    return pad(code[: LEVEL_DIGITS[_LEVELS[index - 1]]])


def child_level(level: Level) -> Level | None:
    """The level one below `level`; None for a village."""
    index = _LEVELS.index(level)
    return _LEVELS[index + 1] if index + 1 < len(_LEVELS) else None


def covers(scope_code: str, code: str) -> bool:
    """True when the region `scope_code` is `code` itself or an ancestor of it.

    Raises InvalidRegionCode if either code is malformed, so that a bad code
    is never silently treated as out of (or inside) a scope.
    """
    region_level(code)
    return code.startswith(region_prefix(scope_code))


def pad(prefix: str) -> str:
    """Right-pad a prefix of up to 12 digits with zeros to a 12-digit code.

    Raises InvalidRegionCode if `prefix` is not 1-12 ASCII digits. The result
    is not checked for being well-formed.
    """
    if not (0 < len(prefix) <= CODE_LENGTH and prefix.isascii() and prefix.isdigit()):
        raise InvalidRegionCode("a region prefix must be 1 to 12 digits")
    return prefix.ljust(CODE_LENGTH, "0")


def prefix_range(prefix: str) -> tuple[str, str]:
    """[low, high) of the codes that start with `prefix`, for a range condition
    (`code >= low AND code < high`) on a column of collation "C".

    Unlike a LIKE pattern, a range of parameters bounds an index scan in a
    prepared statement's generic plan too. Codes are digits and ":" sorts right
    after "9", so every code starting with the prefix lies inside.
    """
    return prefix, prefix + ":"


def scope_range(scope_code: str) -> tuple[str, str]:
    """`prefix_range` of every code the scope covers (InvalidRegionCode if malformed)."""
    return prefix_range(region_prefix(scope_code))


def scope_like_pattern(scope_code: str) -> str:
    """The SQL LIKE pattern matching every code the scope covers.

    The prefix is digits only, so it needs no escaping. Raises
    InvalidRegionCode for a malformed code.
    """
    return region_prefix(scope_code) + "%"
