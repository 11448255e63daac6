"""The measures ledger (帮扶措施台账, LEDGERS.md): one row per measure of the
list's filters, by village and planned date (the region index's order).

措施类别 is warnex's category, 国家帮扶措施类别 its national column
(shared.catalog; education aid by the household's school stage); 户主身份证号
is masked unless revealed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from services.assistance.measures.lookup import measure_filters
from shared.catalog import (
    DEPARTMENTS,
    MEASURE_CATEGORIES,
    MEASURE_STATUSES,
)
from shared.ledgers import (
    HEAD_COLUMNS,
    REGION_NAME_COLUMNS,
    IdNumbers,
    Ledger,
    LedgerQuery,
    compulsory_pupil_column,
    head_join,
    region_names_join,
)
from shared.national_form import national_measure_category

HEADERS = (
    "户编号",
    "户主姓名",
    "户主身份证号",
    "所在乡镇",
    "所在村",
    "措施类别",
    "国家帮扶措施类别",
    "责任部门",
    "计划日期",
    "开始日期",
    "完成日期",
    "金额(元)",
    "状态",
)


class MeasureLedgerRow(NamedTuple):
    """One measure as the measures ledger reads it."""

    household_id: str
    head_name: str | None
    head_id_masked: str | None
    head_id_sealed: bytes | None  # null unless revealed
    region_name: str | None
    parent_name: str | None
    category: str
    responsible_department: str
    planned_on: date
    started_on: date | None
    completed_on: date | None
    amount_yuan: Decimal | None
    status: str
    compulsory_pupil: bool


# The fields of MeasureLedgerRow.
_COLUMNS = f"""
    m.household_id, {HEAD_COLUMNS}, {REGION_NAME_COLUMNS}, m.category, m.responsible_department,
    m.planned_on, m.started_on, m.completed_on, m.amount_yuan, m.status,
    {compulsory_pupil_column("m")}"""


def _cells(row: MeasureLedgerRow, ids: IdNumbers) -> Sequence[Any]:
    code = row.category
    category = MEASURE_CATEGORIES.get(code)
    return [
        row.household_id,
        row.head_name,
        ids(row.head_id_masked, row.head_id_sealed),
        row.parent_name,
        row.region_name,
        category.label if category else code,
        national_measure_category(code, compulsory_pupil=row.compulsory_pupil),
        DEPARTMENTS.get(row.responsible_department, row.responsible_department),
        row.planned_on,
        row.started_on,
        row.completed_on,
        row.amount_yuan,
        MEASURE_STATUSES.get(row.status, row.status),
    ]


MEASURES_LEDGER = Ledger(
    code="measures", title="帮扶措施台账", headers=HEADERS, row=MeasureLedgerRow, cells=_cells
)


def measures_query(
    *,
    region_code: str,
    today: date,
    category: str | None,
    status: str | None,
    object_id: uuid.UUID | None,
    reveal: bool,
) -> LedgerQuery:
    """The ledger's rows for the list's filters (422 `invalid_code` as the list)."""
    where, params = measure_filters(
        region_code=region_code, category=category, status=status, object_id=object_id
    )
    return LedgerQuery(
        table="measures m",
        columns=_COLUMNS,
        joins=head_join("m", reveal=reveal) + region_names_join("m"),
        where=where,
        params={**params, "today": today},
        order="m.region_code, m.planned_on, m.measure_id",
    )
