"""Six weeks of department pushes (部门筛查预警) on their cadences, through
`POST /ingest/v1/batches` with the clock on the day of each push.

What a newcomer finds afterwards: every periodic feed pushed, the water
bureau late (its last push 24 days ago on a 15-day cadence), human resources
due soon, a zero report, medical-expense records under their threshold,
records of people who are not in the registry (unmatched), a few names that
differ from the registry's, and event records (a flood, school dropouts,
industry risks) of which some arrive more than 7 days after the event (late).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from services.demo import names
from services.demo.context import Demo
from services.demo.registry import REFERENCE_YEAR, Person, PoolHousehold
from services.demo.timeline import Action
from shared.catalog import WARNING_TYPES, types_of
from shared.policy import get_policy

BATCHES = "/ingest/v1/batches"

# Days (from today) of each department's periodic pushes. The water bureau
# stops: its feeds are late. Human resources is due in 2 days: due soon.
PERIODIC_PUSHES: dict[str, tuple[int, ...]] = {
    "medical_insurance": (-42, -32, -22, -12, -2),
    "civil_affairs": (-41, -26, -11),
    "housing": (-40, -25, -10),
    "water": (-39, -24),
    "human_resources": (-43, -28, -13),
    "health": (-38, -23, -8),
    "disabled_persons_federation": (-37, -22, -7),
}
# A push with no records: the explicit "nothing to report" (零报告).
ZERO_REPORTS = {("disabled_persons_federation", -22)}
# Event records: (type, pushed on, event on). Pushed more than 7 days after
# the event: late.
EVENT_PUSHES: tuple[tuple[str, int, int], ...] = (
    ("disaster", -20, -21),
    ("disaster", -9, -21),
    ("epidemic_impact", -16, -18),
    ("school_dropout", -30, -33),
    ("school_dropout", -5, -16),
    ("industry_risk", -27, -29),
    ("industry_risk", -6, -8),
)
# Records per push and type, as a share of the size's records_per_push.
WEIGHTS = {
    "high_medical_expense": 1.2,
    "dibao": 0.5,
    "tekun": 0.15,
    "temporary_assistance": 0.4,
    "lonely_elderly": 0.2,
    "left_behind_child": 0.2,
    "unsafe_housing": 0.4,
    "unsafe_drinking_water": 0.3,
    "unemployment": 0.4,
    "unstable_employment": 0.5,
    "serious_illness": 0.5,
    "severe_disability": 0.3,
    "disaster": 1.0,
    "epidemic_impact": 0.2,
    "school_dropout": 0.1,
    "industry_risk": 0.3,
}
UNMATCHED_SHARE = 0.04
NAME_MISMATCH_SHARE = 0.02
# A record about a household warned before (it joins the open case, or
# opens a new one after a decision).
REPEAT_SHARE = 0.12
_PREFIX = {
    "medical_insurance": "YB",
    "civil_affairs": "MZ",
    "housing": "ZJ",
    "water": "SL",
    "human_resources": "RS",
    "health": "WJ",
    "disabled_persons_federation": "CL",
    "emergency_management": "YJ",
    "education": "JY",
    "agriculture": "NY",
}


def _age(person: Person) -> int:
    return REFERENCE_YEAR - person.birth_year


# Who a warning type is about, when the household has such a member.
FITS: dict[str, Callable[[Person], bool]] = {
    "tekun": lambda p: _age(p) >= 60 or p.labour == "none",
    "lonely_elderly": lambda p: _age(p) >= 60,
    "left_behind_child": lambda p: _age(p) < 16,
    "school_dropout": lambda p: 6 <= _age(p) <= 16,
    "unemployment": lambda p: 18 <= _age(p) <= 55 and p.labour in ("full", "partial"),
    "unstable_employment": lambda p: 18 <= _age(p) <= 55 and p.labour in ("full", "partial"),
    "severe_disability": lambda p: p.disability is not None and p.disability <= 2,
    "serious_illness": lambda p: _age(p) >= 30,
}


class Pusher:
    """Builds and sends the pushes; remembers whom it warned about."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.warned: list[PoolHousehold] = []
        self._serial: dict[str, int] = {}
        self.targets = [h for h in demo.registry.pool if h.household_id not in demo.old_households]
        policy = get_policy()
        figures = policy.figures_for(demo.today)
        self.general_threshold = float(figures.medical_threshold_general_yuan)
        self.alleviated_threshold = float(figures.medical_threshold_alleviated_yuan)

    def schedule(self) -> None:
        """Schedule every push, its records made now in date order (a repeat
        is about a household of an earlier push)."""
        demo = self.demo
        flood_town = demo.rng.choice(demo.registry.towns)[0]
        pushes: list[tuple[int, str, str | None, int | None, str | None]] = [
            (offset, department, None, None, None)
            for department, offsets in PERIODIC_PUSHES.items()
            for offset in offsets
        ]
        pushes += [
            (pushed, _department_of(warning_type), warning_type, happened,
             flood_town if warning_type == "disaster" else None)
            for warning_type, pushed, happened in EVENT_PUSHES
        ]  # fmt: skip
        for offset, department, event_type, happened, town in sorted(pushes, key=_push_order):
            day = demo.day(offset)
            records: list[dict[str, Any]] = []
            if event_type is not None and happened is not None:
                records = self._records(event_type, day, event_on=demo.day(happened), town=town)
            elif (department, offset) not in ZERO_REPORTS:
                for warning_type in types_of(department):
                    if warning_type.kind == "periodic":
                        records += self._records(warning_type.code, day, event_on=None)
            demo.timeline.at(day, self._push(department, records, day), lane="push:" + department)

    def _push(self, department: str, records: list[dict[str, Any]], day: date) -> Action:
        body = {"records": records, "period_end": day.isoformat()}

        async def push() -> None:
            await self.demo.driver.call("POST", BATCHES, self.demo.clients[department], body)

        return push

    # -- records --------------------------------------------------------------

    def _records(
        self, warning_type: str, day: date, *, event_on: date | None, town: str | None = None
    ) -> list[dict[str, Any]]:
        rng = self.demo.rng
        mean = self.demo.size.records_per_push * WEIGHTS[warning_type]
        count = max(1, round(mean * rng.uniform(0.6, 1.4)))
        department = _department_of(warning_type)
        records = []
        for _ in range(count):
            household = self._household(town)
            person = self._member(household, warning_type)
            record: dict[str, Any] = {
                "source_record_id": self._source_id(department, day),
                "warning_type": warning_type,
                "id_number": person.id_number,
                "name": person.name,
                "region_code": household.region_code,
            }
            roll = rng.random()
            if roll < UNMATCHED_SHARE:
                record |= self._unregistered(household)
            elif roll < UNMATCHED_SHARE + NAME_MISMATCH_SHARE:
                record["name"] = person.name[0] + names.given_name(
                    rng, birth_year=person.birth_year, sex=person.sex
                )
                self.warned.append(household)
            else:
                self.warned.append(household)
            if event_on is not None:
                record["event_date"] = event_on.isoformat()
            if WARNING_TYPES[warning_type].threshold == "medical_expense":
                record["amount_yuan"] = self._medical_amount(household)
            records.append(record)
        return records

    def _household(self, town: str | None) -> PoolHousehold:
        rng, pool = self.demo.rng, self.targets
        if town is not None:
            local = [h for h in pool if h.region_code.startswith(town[:9])]
            if local:
                return rng.choice(local)
        if self.warned and rng.random() < REPEAT_SHARE:
            return rng.choice(self.warned)
        return rng.choice(pool)

    def _member(self, household: PoolHousehold, warning_type: str) -> Person:
        fits = FITS.get(warning_type)
        members = [p for p in household.members if fits is None or fits(p)]
        return self.demo.rng.choice(members or list(household.members))

    def _unregistered(self, household: PoolHousehold) -> dict[str, Any]:
        """A valid number of someone the registry does not know (a newcomer,
        a person registered elsewhere): the warning stays unmatched."""
        rng = self.demo.rng
        sex = rng.choice(("male", "female"))
        year = rng.randint(1950, 2005)
        born = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        number = self.demo.registry.id_number(household.county_code, born, sex, registered=False)
        name = names.person_name(rng, names.surname(rng), birth_year=year, sex=sex)
        return {"id_number": number, "name": name}

    def _medical_amount(self, household: PoolHousehold) -> float:
        """Out-of-pocket expense of the year: about half the records under
        the household's threshold (stored as below_threshold)."""
        rng = self.demo.rng
        threshold = (
            self.alleviated_threshold
            if household.category == "poverty_alleviated"
            else self.general_threshold
        )
        if rng.random() < 0.45:
            return round(rng.uniform(0.3, 0.98) * threshold, 2)
        return round(rng.uniform(1.05, 4.0) * threshold, 2)

    def _source_id(self, department: str, day: date) -> str:
        serial = self._serial.get(department, 0) + 1
        self._serial[department] = serial
        return f"{_PREFIX[department]}{day:%Y%m%d}-{serial:05d}"


def _push_order(push: tuple[int, str, str | None, int | None, str | None]) -> tuple[int, str, str]:
    offset, department, event_type, _, _ = push
    return offset, department, event_type or ""


def _department_of(warning_type: str) -> str:
    return WARNING_TYPES[warning_type].department
