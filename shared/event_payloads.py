"""The personal-data guard of event payloads (SPEC §8): `check_payload`."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from shared.idcard import InvalidIdNumber, parse_id_number

_PERSONAL_KEYS = frozenset({"id_number", "name", "head_name", "phone", "id_sealed"})
# 17 digits and a check character, not part of a longer run of digits.
_ID_LIKE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9Xx])")
_ID_LENGTH = 18


def _is_id_number(candidate: str) -> bool:
    # The full GB 11643 check (check character and a real birth date), so that an
    # 18-digit household id or sequence number is not mistaken for a person's ID.
    try:
        parse_id_number(candidate.upper(), today=date.max)
    except InvalidIdNumber:
        return False
    return True


def _looks_like_id(value: object) -> bool:
    if isinstance(value, str):
        return len(value) >= _ID_LENGTH and any(
            _is_id_number(m.group()) for m in _ID_LIKE.finditer(value)
        )
    # An ID number without an X check character also fits in an int.
    return isinstance(value, int) and 10**17 <= abs(value) < 10**18 and _is_id_number(str(value))


def check_payload(payload: dict[str, Any]) -> None:
    """Raise ValueError if the payload holds personal data.

    Refused: a key named like a personal field (`id_number`, `name`, `head_name`,
    `phone`, `id_sealed`) at any depth, or a value holding a valid 18-character
    resident ID number. The message never repeats the offending value.
    """
    stack: list[Any] = [payload]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(key, str) and key.lower() in _PERSONAL_KEYS:
                    raise ValueError(f"an event payload must not hold personal data ({key!r})")
                if _looks_like_id(key):
                    raise ValueError("an event payload must not hold an ID number")
                stack.append(value)
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif _looks_like_id(item):
            raise ValueError("an event payload must not hold an ID number")
