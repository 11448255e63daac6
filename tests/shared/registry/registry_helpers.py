"""Households, members and loads for the registry tests."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from shared.idcard import compose_id_number
from shared.registry import load_households

TODAY = date(2026, 11, 23)
VILLAGE = "610326100201"
OTHER_VILLAGE = "610326100202"
OTHER_COUNTY_VILLAGE = "610327100201"


def person(seq: int, *, born: date = date(1980, 5, 17)) -> str:
    return compose_id_number("610326", born, seq, sex="male" if seq % 2 else "female")


def member(number: str, name: str = "张三", relation: str = "head", **extra: object) -> dict:
    return {
        "id_number": number,
        "name": name,
        "relation": relation,
        "labour_capacity": "full",
        **extra,
    }


def household(household_id: str, *members: dict, region: str = VILLAGE, **extra: object) -> dict:
    return {
        "household_id": household_id,
        "region_code": region,
        "category": "general",
        "head_name": "张三",
        "members": list(members),
        **extra,
    }


async def load(session, households, protector, **kwargs):
    return await load_households(
        session, households, protector=protector, actor="test", today=TODAY, **kwargs
    )


async def members_of(session, county: str, household_id: str) -> set[str]:
    rows = await session.execute(
        text("SELECT id_masked FROM members WHERE county_code = :c AND household_id = :h"),
        {"c": county, "h": household_id},
    )
    return {r[0] for r in rows}


def masked(number: str) -> str:
    return number[:6] + "********" + number[14:]


def codes(result) -> dict[int, list[tuple[str, str]]]:
    return {e["index"]: [(f["field"], f["code"]) for f in e["errors"]] for e in result.errors}


# One household per member row; the second household has a bad grade and flag.
MEMBER_ROWS_CSV = (
    "\ufeffhousehold_id,region_code,category,head_name,id_number,name,relation,"
    "labour_capacity,disability_grade,in_school\r\n"
    "H-1,{v},general,张三,{a},张三,head,full,,\r\n"
    'H-1,{v},general,张三,{b},"李,四",child,none,2,true\r\n'
    "\r\n"
    "H-2,{v},poverty_alleviated,王五,{c},王五,head,weak,x,maybe\r\n"
)
