"""How big a demo is: the registry's shape and how much happens in it."""

from __future__ import annotations

from dataclasses import dataclass

# Counties of 宝鸡市 (610300), Shaanxi: the first is the demo county (眉县, the
# seed documents' Meixian); a province-size demo uses all ten.
COUNTIES: tuple[tuple[str, str], ...] = (
    ("610326", "眉县"),
    ("610323", "岐山县"),
    ("610324", "扶风县"),
    ("610327", "陇县"),
    ("610328", "千阳县"),
    ("610329", "麟游县"),
    ("610330", "凤县"),
    ("610331", "太白县"),
    ("610304", "陈仓区"),
    ("610305", "凤翔区"),
)
PROVINCE = ("610000000000", "陕西省")
CITY = ("610300000000", "宝鸡市")


@dataclass(frozen=True, slots=True)
class Size:
    """The registry per county, and the activity (records, clues) of the whole demo."""

    name: str
    counties: int
    towns: int
    villages: int  # per county, spread over its towns
    households: int  # per county
    # Warning records per periodic push and type, before the per-type weights.
    records_per_push: int
    # Manual clues found months ago: the monitoring objects old enough for
    # risk elimination (180 days of monitoring).
    old_clues: int
    # Manual clues of the recent weeks (self-reports and cadres' screening).
    recent_clues: int


SIZES: dict[str, Size] = {
    "small": Size("small", 1, 3, 20, 2_000, 4, 14, 6),
    "county": Size("county", 1, 12, 180, 60_000, 20, 80, 30),
    "province": Size("province", 10, 12, 180, 60_000, 40, 160, 60),
}
