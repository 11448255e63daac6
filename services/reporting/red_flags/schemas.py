"""Response shapes of `GET /red_flags` (API.md, reporting). Counts and region
codes only: no name, ID number or household id."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PlaceOut(BaseModel):
    region_code: str
    region_name: str


class HighRatioPlaceOut(PlaceOut):
    ratio: float = Field(
        description="Persons of objects with risk not eliminated / registered persons"
    )


class KeyAreaOut(PlaceOut):
    attributes: list[str] = Field(
        description="key_village (乡村振兴重点帮扶村), resettlement_site (易地搬迁安置点),"
        " abandoned_mine (废弃矿山区域)"
    )


class RedFlags(BaseModel):
    region: str
    zero_object_villages: list[PlaceOut] = Field(description="Villages without a current object")
    high_ratio_regions: list[HighRatioPlaceOut] = Field(
        description="Towns and villages where persons of objects at risk over registered"
        " persons exceed the policy's high ratio"
    )
    off_system_households: int = Field(
        description="体外循环: not monitored, with civil-affairs aid by a recent warning (and no"
        " recent case) or by the latest screening"
    )
    should_include_households: int = Field(
        description="应纳未纳: not monitored, and the latest household visit found income below"
        " the line, or the latest screening found unsafe guarantees or water or income below it"
    )
    no_alleviated_villages: list[PlaceOut] = Field(
        description="Villages with registered households but no poverty-alleviated one"
    )
    key_area_regions: list[KeyAreaOut] = Field(
        description="Regions with key-area attributes (regions loads' `attributes`)"
    )
