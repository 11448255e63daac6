"""The demo's registry (SPEC §1-§2): regions and households with members,
generated from the seed and loaded by the bulk loader that `warnex import`
uses (shared.registry), in the caller's transaction.

The same seed and size give the same registry, whatever the date: ages are
counted from a fixed reference year. Every ID number is a valid GB 11643
number whose division code is the household's county, unique through a
counter per birth date and sex.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.demo import names
from services.demo.sizes import CITY, COUNTIES, PROVINCE, Size
from shared.idcard import compose_id_number
from shared.pii import PiiProtector
from shared.registry import load_households, load_regions

ACTOR = "system:demo"
# Ages are counted at the end of this year, so that no birth date lies in the future.
REFERENCE_YEAR = 2024
# Households kept in memory for the demo's warnings and clues, per county.
POOL_PER_COUNTY = 600
# Registry sequences per birth date and sex stay below this; higher ones make
# valid numbers of people who are not registered (the unmatched warnings).
UNREGISTERED_FROM = 450


@dataclass(frozen=True, slots=True)
class Person:
    id_number: str
    name: str
    birth_year: int
    sex: str
    labour: str
    disability: int | None
    in_school: bool


@dataclass(frozen=True, slots=True)
class PoolHousehold:
    """A registered household the demo's warnings and clues may be about."""

    county_code: str
    household_id: str
    region_code: str
    category: str
    members: tuple[Person, ...]


@dataclass
class Registry:
    """What was generated: the regions, counts, and the households kept for activity."""

    counties: list[tuple[str, str]]
    towns: list[tuple[str, str]] = field(default_factory=list)
    villages: list[tuple[str, str]] = field(default_factory=list)
    households: int = 0
    persons: int = 0
    poverty_alleviated: int = 0
    pool: list[PoolHousehold] = field(default_factory=list)
    # (division, birth date, sex) -> the next free sequence.
    _sequences: dict[tuple[str, date, str], int] = field(default_factory=dict, repr=False)

    def id_number(self, division: str, born: date, sex: str, *, registered: bool = True) -> str:
        key = (division if registered else "u" + division, born, sex)
        k = self._sequences.get(key, 0 if registered else UNREGISTERED_FROM)
        if registered and k >= UNREGISTERED_FROM:
            raise RuntimeError("too many people born on one day for the demo's numbering")
        self._sequences[key] = k + 1
        return compose_id_number(division, born, 2 * k, sex="male" if sex == "male" else "female")


def _regions(rng: random.Random, size: Size) -> Registry:
    registry = Registry(counties=list(COUNTIES[: size.counties]))
    for county, _ in registry.counties:
        town_names: set[str] = set()
        village_names: set[str] = set()
        per_town = _split(rng, size.villages, size.towns)
        for t in range(size.towns):
            town = f"{county}{100 + t:03d}000"
            registry.towns.append((town, names.town_name(rng, town_names)))
            for v in range(per_town[t]):
                code = f"{town[:9]}{201 + v:03d}"
                registry.villages.append((code, names.village_name(rng, village_names)))
    return registry


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """`total` split into `parts` uneven shares, each at least 1."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    scale = (total - parts) / sum(weights)
    shares = [1 + int(w * scale) for w in weights]
    shares[0] += total - sum(shares)
    return shares


# Key areas (SPEC §12, REGION_ATTRIBUTES): the key-area `attributes` of a
# county's villages by their place in the county's list, so that the red flags'
# `key_area_regions` has one of each kind (and one village with two). Fixed
# places, not drawn: the seed's registry stays the same.
KEY_AREA_VILLAGES: dict[int, list[str]] = {
    1: ["key_village"],
    4: ["resettlement_site"],
    7: ["abandoned_mine", "key_village"],
}
# The place (in the county's list) of a village with households but none
# poverty-alleviated: the red flags' `no_alleviated_villages` (SPEC §12).
NO_ALLEVIATED_VILLAGE = 10


def region_records(registry: Registry) -> list[dict[str, Any]]:
    """Province, city, counties, towns and villages as `{"code", "name"}`, the
    key-area villages (KEY_AREA_VILLAGES) with their `attributes`."""
    rows = [PROVINCE, CITY]
    rows += [(f"{code}000000", name) for code, name in registry.counties]
    records: list[dict[str, Any]] = [{"code": code, "name": name} for code, name in rows]
    records += [{"code": code, "name": name} for code, name in registry.towns]
    for county, _ in registry.counties:
        own = [v for v in registry.villages if v[0].startswith(county)]
        for place, (code, name) in enumerate(own):
            record: dict[str, Any] = {"code": code, "name": name}
            if place in KEY_AREA_VILLAGES:
                record["attributes"] = KEY_AREA_VILLAGES[place]
            records.append(record)
    return records


# -- people -------------------------------------------------------------------


def _labour(r: float, age: int, disability: int | None) -> str:
    """Labour capacity by age (`r` uniform in [0, 1))."""
    if age < 16 or (disability is not None and disability <= 2 and r < 0.7):
        return "none"
    if age < 60:
        return "full" if r < 0.85 else "partial" if r < 0.92 else "weak" if r < 0.97 else "none"
    if age < 70:
        return "full" if r < 0.15 else "partial" if r < 0.55 else "weak" if r < 0.9 else "none"
    return "weak" if r < 0.3 else "none"


def _person(
    rng: random.Random, registry: Registry, county: str, family: str, age: int, sex: str
) -> Person:
    rand = rng.random
    year = REFERENCE_YEAR - age
    born = date.fromordinal(date(year, 1, 1).toordinal() + int(rand() * 365))
    disability = 1 + int(rand() * 4) if rand() < 0.04 else None
    in_school = (6 <= age <= 18 and rand() < 0.97) or (19 <= age <= 22 and rand() < 0.4)
    return Person(
        id_number=registry.id_number(county, born, sex),
        name=names.person_name(rng, family, birth_year=year, sex=sex),
        birth_year=year,
        sex=sex,
        labour=_labour(rand(), age, disability),
        disability=disability,
        in_school=in_school,
    )


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _sex(rng: random.Random) -> str:
    return "male" if rng.random() < 0.5 else "female"


def _family(rng: random.Random, registry: Registry, county: str) -> list[tuple[str, Person]]:
    """One household's members with their relation to the head, head first."""
    rand = rng.random
    family = names.surname(rng)
    head_age = min(92, max(24, int(rng.gauss(54, 13))))
    head_sex = "male" if rand() < 0.85 else "female"
    other_sex = "female" if head_sex == "male" else "male"
    members = [("head", _person(rng, registry, county, family, head_age, head_sex))]
    if rand() < (0.82 if head_age < 72 else 0.5):
        age = min(95, max(20, head_age + _between(rng, -5, 4)))
        spouse = _person(rng, registry, county, names.surname(rng), age, other_sex)
        members.append(("spouse", spouse))
    if head_age < 70:
        r = rand()
        for _ in range(0 if r < 0.15 else 1 if r < 0.55 else 2 if r < 0.9 else 3):
            age = head_age - _between(rng, 22, 34)
            if age >= 0:
                members.append(("child", _person(rng, registry, county, family, age, _sex(rng))))
    if head_age >= 48 and rand() < 0.35:
        for _ in range(1 if rand() < 0.67 else 2):
            age = head_age - _between(rng, 44, 58)
            if age >= 0:
                person = _person(rng, registry, county, family, age, _sex(rng))
                members.append(("grandchild", person))
    if head_age < 62 and rand() < 0.22:
        age = min(96, head_age + _between(rng, 22, 32))
        members.append(("parent", _person(rng, registry, county, family, age, _sex(rng))))
    return members


def generate(registry: Registry, seed: int, size: Size) -> Iterator[dict[str, Any]]:
    """The households of every village, in the API's shape; fills the counts
    and the pool as it goes. Call once, after `plan_registry`."""
    rng = random.Random(f"warnex-demo-households:{seed}")
    villages = registry.villages
    for county, _ in registry.counties:
        own = [v for v in villages if v[0].startswith(county)]
        shares = _split(rng, size.households, len(own))
        pool_rate = min(1.0, POOL_PER_COUNTY / size.households)
        for place, ((village, _), count) in enumerate(zip(own, shares, strict=True)):
            poor_rate = rng.uniform(0.02, 0.14)
            if place == NO_ALLEVIATED_VILLAGE:
                poor_rate = 0.0  # the draws stay the same: only this village changes
            for n in range(1, count + 1):
                members = _family(rng, registry, county)
                category = "poverty_alleviated" if rng.random() < poor_rate else "general"
                household_id = f"{village}-{n:04d}"
                registry.households += 1
                registry.persons += len(members)
                registry.poverty_alleviated += category == "poverty_alleviated"
                if rng.random() < pool_rate:
                    registry.pool.append(
                        PoolHousehold(
                            county, household_id, village, category, tuple(p for _, p in members)
                        )
                    )
                yield {
                    "household_id": household_id,
                    "region_code": village,
                    "category": category,
                    "head_name": members[0][1].name,
                    "members": [_member_record(relation, p) for relation, p in members],
                }


def _member_record(relation: str, person: Person) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id_number": person.id_number,
        "name": person.name,
        "relation": relation,
        "labour_capacity": person.labour,
        "in_school": person.in_school,
    }
    if person.disability is not None:
        record["disability_grade"] = person.disability
    return record


def plan_registry(seed: int, size: Size) -> Registry:
    """The regions of the demo (the households follow from `generate`)."""
    return _regions(random.Random(f"warnex-demo-regions:{seed}"), size)


async def load_registry(
    session: AsyncSession,
    registry: Registry,
    *,
    seed: int,
    size: Size,
    protector: PiiProtector,
    today: date,
) -> None:
    """Load the regions, then the households, in the caller's transaction;
    raise if the loader rejects anything (a bug in the generator)."""
    regions = await load_regions(session, region_records(registry), actor=ACTOR, max_errors=5)
    households = await load_households(
        session,
        generate(registry, seed, size),
        protector=protector,
        actor=ACTOR,
        today=today,
        max_errors=5,
    )
    for result in (regions, households):
        if result.rejected:
            raise RuntimeError(f"the demo registry was rejected: {result.errors}")
