"""The reproducible draw of a cross-screening or spot-check sample (SPEC §11).

Every town gives at least `per_town` of its villages (all if fewer), each
sampled village at least `per_village` of its households (all if fewer).
Villages that reported no problem in the campaign, or have no monitoring
object, weigh `FOCUS_WEIGHT` to 1 (weighted sampling without replacement,
Efraimidis-Spirakis keys). Inputs are sorted and one `random.Random(seed)`
draws town by town, then village by village, so the same seed over the same
frame draws the same sample.
"""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from shared.events import check_payload

FOCUS_WEIGHT = 3.0
SEED_BITS = 63


@dataclass(frozen=True, slots=True)
class Village:
    """A village of the sampling frame, with what its weight depends on."""

    region_code: str
    households: int
    problems: int
    objects: int

    @property
    def weight(self) -> float:
        return FOCUS_WEIGHT if self.problems == 0 or self.objects == 0 else 1.0


def draw_villages(villages: Sequence[Village], *, rng: random.Random, per_town: int) -> list[str]:
    """At least `per_town` villages of every town (all if fewer), weighted;
    sorted codes. One `rng.random()` per village, in code order."""
    by_town: dict[str, list[Village]] = defaultdict(list)
    for village in sorted(villages, key=lambda v: v.region_code):
        by_town[village.region_code[:9]].append(village)
    chosen: list[str] = []
    for town in sorted(by_town):
        # Efraimidis-Spirakis: key u^(1/w); the largest keys are a weighted sample
        # without replacement.
        keyed = sorted(
            ((rng.random() ** (1.0 / v.weight), v.region_code) for v in by_town[town]),
            reverse=True,
        )
        chosen.extend(code for _, code in keyed[:per_town])
    return sorted(chosen)


def draw_households(
    households: dict[str, list[str]], *, rng: random.Random, per_village: int
) -> list[tuple[str, str]]:
    """At least `per_village` households of every village (all if fewer), as
    sorted (region_code, household_id) pairs."""
    drawn: list[tuple[str, str]] = []
    for village in sorted(households):
        ids = sorted(households[village])
        picked = ids if len(ids) <= per_village else rng.sample(ids, per_village)
        drawn.extend((village, household_id) for household_id in picked)
    return sorted(drawn)


def reads_as_id_number(seed: int) -> bool:
    # Event payloads refuse anything that reads as a resident ID number, and a
    # few 18-digit seeds do.
    try:
        check_payload({"seed": seed})
    except ValueError:
        return True
    return False


def new_seed() -> int:
    """A random non-negative 63-bit seed that an event payload accepts."""
    while reads_as_id_number(seed := secrets.randbits(SEED_BITS)):
        pass
    return seed
