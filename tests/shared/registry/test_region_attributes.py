"""Regions' key-area attributes from files: the CSV `attributes` column and
`warnex import regions`."""

from __future__ import annotations

import io

from sqlalchemy import text

from shared.registry.files import csv_regions
from tests.shared.registry.test_plain_text_and_cli import _warnex


def test_the_csv_attributes_column_lists_codes_separated_by_semicolons():
    lines = io.BytesIO(
        "code,name,attributes\n"
        "610326000000,眉县,\n"
        "610326100201,某村,key_village; abandoned_mine\n".encode()
    )
    assert list(csv_regions(lines)) == [
        {"code": "610326000000", "name": "眉县"},
        {"code": "610326100201", "name": "某村", "attributes": ["key_village", "abandoned_mine"]},
    ]


async def test_warnex_import_regions_stores_attributes_and_rejects_unknown_ones(fresh_db, tmp_path):
    regions = tmp_path / "regions.csv"
    regions.write_text(
        "code,name,attributes\n"
        "610326000000,眉县,\n"
        "610326100201,某村,key_village;abandoned_mine\n"
        "610326100202,某安置点,resettlement_site\n"
        "610326100203,某地,ghost_town\n"
    )
    done = _warnex("import", "regions", str(regions), database_url=fresh_db.url)
    assert done.returncode == 1
    assert "regions: 3 upserted, 1 rejected" in done.stdout
    assert "record 3: attributes unknown_region_attribute" in done.stdout
    async with fresh_db.transaction() as session:
        rows = await session.execute(text("SELECT code, attributes FROM regions ORDER BY code"))
        assert {code: list(a) for code, a in rows} == {
            "610326000000": [],
            "610326100201": ["abandoned_mine", "key_village"],
            "610326100202": ["resettlement_site"],
        }
