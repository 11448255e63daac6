"""Registry loads (shared.registry.load): households with their members,
rejections by index, duplicates across chunks, scope, events and audit,
regions, and the transaction a load leaves behind."""

from __future__ import annotations

from datetime import date

import orjson
import pytest
from sqlalchemy import text

from shared.registry import load_regions
from tests.shared.registry.registry_helpers import (
    OTHER_COUNTY_VILLAGE,
    OTHER_VILLAGE,
    VILLAGE,
    codes,
    household,
    load,
    masked,
    member,
    members_of,
    person,
)


async def test_loading_households_stores_them_with_their_members(session, protector):
    a, b, c = person(1), person(2), person(3)
    result = await load(
        session,
        [
            household("H-1", member(a), member(b, "李四", "spouse", disability_grade=2)),
            household("H-2", member(c, "王五", in_school=True), category="poverty_alleviated"),
        ],
        protector,
    )
    assert result.summary() == {"upserted": 2, "rejected": 0, "errors": []}
    rows = (
        await session.execute(
            text("SELECT household_id, county_code, category FROM households ORDER BY 1")
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("H-1", "610326", "general"),
        ("H-2", "610326", "poverty_alleviated"),
    ]
    assert await members_of(session, "610326", "H-1") == {masked(a), masked(b)}
    row = (
        await session.execute(
            text(
                "SELECT id_hash, id_sealed, birth_date, sex, disability_grade, in_school, relation "
                "FROM members WHERE household_id = 'H-1' AND relation = 'spouse'"
            )
        )
    ).one()
    assert row.id_hash == protector.match_key(b)
    assert protector.open(row.id_sealed) == b
    assert (row.birth_date, row.sex, row.disability_grade, row.in_school) == (
        date(1980, 5, 17),
        "female",
        2,
        False,
    )


async def test_reloading_a_household_replaces_its_member_list(session, protector):
    a, b, c = person(11), person(12), person(13)
    await load(session, [household("H-1", member(a), member(b, "李四", "spouse"))], protector)
    result = await load(
        session, [household("H-1", member(a, "张三丰"), member(c, "王五", "child"))], protector
    )
    assert (result.upserted, result.rejected) == (1, 0)
    assert await members_of(session, "610326", "H-1") == {masked(a), masked(c)}
    name = await session.scalar(
        text("SELECT name FROM members WHERE id_hash = :h"), {"h": protector.match_key(a)}
    )
    assert name == "张三丰"
    assert await session.scalar(text("SELECT count(*) FROM members")) == 2


async def test_a_member_moved_to_another_household_ends_up_only_in_the_new_one(session, protector):
    a, b, c = person(21), person(22), person(23)
    await load(
        session,
        [
            household("H-1", member(a), member(b, "李四", "child")),
            household("H-9", member(c), region=OTHER_COUNTY_VILLAGE),
        ],
        protector,
    )
    # b moves to H-2 in the same county, c to H-2 from another county.
    await load(
        session, [household("H-2", member(b, "李四"), member(c, "王五", "spouse"))], protector
    )
    rows = (
        await session.execute(
            text("SELECT county_code, household_id, id_masked FROM members ORDER BY 1, 2, 3")
        )
    ).all()
    assert sorted(tuple(r) for r in rows) == sorted(
        [
            ("610326", "H-1", masked(a)),
            ("610326", "H-2", masked(b)),
            ("610326", "H-2", masked(c)),
        ]
    )


async def test_rejected_households_store_nothing_and_are_reported_by_index(session, protector):
    good = person(31)
    bad_checksum = good[:17] + ("0" if good[17] != "0" else "1")
    relation_number, id_number_3, id_number_4 = person(32), person(33), person(34)
    result = await load(
        session,
        [
            household("H-ok", member(good)),
            household("H-checksum", member(person(35)), member(bad_checksum, relation="spouse")),
            household("H-relation", member(relation_number, relation="cousin")),
            household("bad id!", member(id_number_3)),
            {"household_id": "H-empty", "region_code": "6103261002", "category": "rich"},
            household("H-long", member(id_number_4, name="名" * 51), head_name=""),
        ],
        protector,
    )
    assert (result.upserted, result.rejected) == (1, 5)
    assert codes(result) == {
        1: [("members[1].id_number", "invalid_id_number")],
        2: [("members[0].relation", "invalid_code")],
        3: [("household_id", "invalid_household_id")],
        4: [
            ("region_code", "invalid_region_code"),
            ("category", "invalid_code"),
            ("head_name", "missing_field"),
            ("members", "missing_field"),
        ],
        5: [("head_name", "missing_field"), ("members[0].name", "too_long")],
    }
    assert await session.scalar(text("SELECT count(*) FROM households")) == 1
    assert await session.scalar(text("SELECT count(*) FROM members")) == 1
    dumped = orjson.dumps(result.summary()).decode()
    for number in (bad_checksum, relation_number, id_number_3, id_number_4, person(35)):
        assert number not in dumped
        assert number[:17] not in dumped


async def test_an_unknown_village_is_rejected_once_regions_are_loaded(session, protector):
    # Before any region is loaded a well-formed village code is enough.
    before = await load(
        session, [household("H-1", member(person(41)), region=OTHER_VILLAGE)], protector
    )
    assert before.rejected == 0
    regions = await load_regions(
        session,
        [
            {"code": "610326000000", "name": "某县"},
            {"code": "610326100000", "name": "某镇"},
            {"code": VILLAGE, "name": "某村"},
        ],
    )
    assert (regions.upserted, regions.rejected) == (3, 0)
    result = await load(
        session,
        [
            household("H-2", member(person(42))),
            household("H-3", member(person(43)), region=OTHER_VILLAGE),
            household("H-4", member(person(44)), region="610326100000"),
        ],
        protector,
    )
    assert (result.upserted, result.rejected) == (1, 2)
    assert codes(result) == {
        1: [("region_code", "invalid_region_code")],
        2: [("region_code", "invalid_region_code")],
    }
    assert await members_of(session, "610326", "H-3") == set()


@pytest.mark.parametrize("chunk_size", [1000, 1])
async def test_duplicates_within_a_load_reject_the_later_household(session, protector, chunk_size):
    a, b, c = person(51), person(52), person(53)
    result = await load(
        session,
        [
            household("H-1", member(a), member(b, "李四", "spouse")),
            household("H-2", member(c), member(b, "李四", "spouse")),
            household("H-1", member(c)),
            household("H-3", member(c), member(c, "王五", "child")),
            household("H-4", member(c)),
        ],
        protector,
        chunk_size=chunk_size,
    )
    assert (result.upserted, result.rejected) == (2, 3)
    assert codes(result) == {
        1: [("members[1].id_number", "duplicate_in_batch")],
        2: [("household_id", "duplicate_in_batch")],
        3: [("members[1].id_number", "duplicate_in_batch")],
    }
    assert await members_of(session, "610326", "H-1") == {masked(a), masked(b)}
    assert await members_of(session, "610326", "H-4") == {masked(c)}


async def test_a_household_outside_the_scope_is_rejected_in_its_row(session, protector):
    result = await load(
        session,
        [
            household("H-1", member(person(61))),
            household("H-2", member(person(62)), region=OTHER_COUNTY_VILLAGE),
        ],
        protector,
        scope="610326000000",
    )
    assert codes(result) == {1: [("region_code", "out_of_scope")]}


async def test_a_load_publishes_one_event_and_one_audit_record_per_county(session, protector):
    a, b, c = person(71), person(72), person(73)
    await load(
        session,
        [
            household("H-1", member(a), member(b, "李四", "spouse")),
            household("H-2", member(c), region=OTHER_COUNTY_VILLAGE),
        ],
        protector,
    )
    events = (
        await session.execute(
            text(
                "SELECT county_code, aggregate_type, aggregate_id, actor, payload FROM events "
                "WHERE type = 'registry.households_loaded' ORDER BY county_code"
            )
        )
    ).all()
    assert [tuple(e) for e in events] == [
        ("610326", "registry", "610326", "test", {"households": 1, "members": 2}),
        ("610327", "registry", "610327", "test", {"households": 1, "members": 1}),
    ]
    audits = (
        await session.execute(
            text(
                "SELECT target_id, details FROM audit_log "
                "WHERE action = 'registry.households_loaded' ORDER BY target_id"
            )
        )
    ).all()
    assert [tuple(r) for r in audits] == [
        ("610326", {"households": 1, "members": 2}),
        ("610327", {"households": 1, "members": 1}),
    ]


async def test_regions_get_their_level_and_parent_and_reloads_update_names(session):
    result = await load_regions(
        session,
        [
            {"code": "610326000000", "name": "眉县"},
            {"code": "610326100000", "name": "首善街道"},
            {"code": VILLAGE, "name": "某村"},
            {"code": "61032610020", "name": "短"},
            {"code": VILLAGE, "name": "重复"},
            {"code": "610326100202", "name": ""},
        ],
        actor="test",
    )
    assert (result.upserted, result.rejected) == (3, 3)
    assert codes(result) == {
        3: [("code", "invalid_region_code")],
        4: [("code", "duplicate_in_batch")],
        5: [("name", "missing_field")],
    }
    await load_regions(session, [{"code": VILLAGE, "name": "新村"}])
    rows = (
        await session.execute(text("SELECT code, name, level, parent_code FROM regions ORDER BY 1"))
    ).all()
    assert [tuple(r) for r in rows] == [
        ("610326000000", "眉县", "county", "610300000000"),
        ("610326100000", "首善街道", "town", "610326000000"),
        (VILLAGE, "新村", "village", "610326100000"),
    ]


async def test_a_load_leaves_the_transaction_settings_as_it_found_them(session, protector):
    before = (await session.execute(text("SHOW work_mem"))).scalar()
    await load(session, [household("H-1", member(person(75)))], protector)
    assert (await session.execute(text("SHOW enable_mergejoin"))).scalar() == "on"
    assert (await session.execute(text("SHOW work_mem"))).scalar() == before


async def test_loads_in_later_transactions_on_the_same_connection_work(fresh_db, protector):
    # The staging tables are dropped at commit and made anew; cached statements
    # that named the old ones must not break the next load.
    for round_, seq in enumerate((76, 77, 78)):
        async with fresh_db.transaction() as session:
            result = await load(
                session,
                [
                    household(f"H-{round_}", member(person(seq))),
                    household(f"H-{round_}", member(person(seq + 10))),
                    household(f"H-{round_}b", member(person(seq)), region=OTHER_VILLAGE),
                ],
                protector,
                chunk_size=1,
            )
        assert (result.upserted, result.rejected) == (1, 2)
    async with fresh_db.transaction() as session:
        assert await session.scalar(text("SELECT count(*) FROM members")) == 3
