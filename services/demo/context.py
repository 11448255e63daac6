"""What every part of the demo shares: the driver, the calendar, the registry,
the size, a seeded RNG, and the staff who act in each place."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from services.demo.driver import Driver, Headers
from services.demo.registry import Registry
from services.demo.sizes import Size
from services.demo.timeline import Timeline


@dataclass
class Demo:
    driver: Driver
    timeline: Timeline
    registry: Registry
    size: Size
    rng: random.Random
    # Department code -> its client's headers.
    clients: dict[str, Headers] = field(default_factory=dict)
    # Label -> token, in the order they are printed.
    tokens: dict[str, str] = field(default_factory=dict)
    # Households of the old clues: their story runs on its own, no warnings
    # about them (a new case could stand in the way of their rollback).
    old_households: set[str] = field(default_factory=set)

    @property
    def today(self) -> date:
        return self.driver.today

    def day(self, offset: int) -> date:
        """Today plus `offset` days (negative: the past)."""
        return self.today + timedelta(days=offset)

    async def county_staff(self, region_code: str) -> Headers:
        county = region_code[:6] + "000000"
        return await self.driver.staff("county_staff", county, "县级工作人员")

    async def township_staff(self, region_code: str) -> Headers:
        town = region_code[:9] + "000"
        return await self.driver.staff("township_staff", town, "乡镇工作人员")

    async def village_staff(self, region_code: str) -> Headers:
        return await self.driver.staff("village_staff", region_code, "村级工作人员")
