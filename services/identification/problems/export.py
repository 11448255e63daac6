"""The problem ledger as a file (问题台账, LEDGERS.md: the Shenmu ledger's own
columns): one row per problem of the list's filters, by region and found date.

所在区域 names the region with the one above it (乡镇 and 村 for a village's
problem); 整改情况 is 已整改, 未整改 or 逾期未整改 (open and past its deadline),
整改措施 what was done. Problems carry no ID number: `reveal` changes nothing
here, and is audited all the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from services.identification.problems.ledger import problem_filters
from shared.catalog import PROBLEM_TYPES
from shared.ledgers import REGION_NAME_COLUMNS, IdNumbers, Ledger, LedgerQuery, region_names_join

HEADERS = (
    "问题类型",
    "区划代码",
    "所在区域",
    "户编号",
    "问题描述",
    "发现日期",
    "整改时限",
    "责任人",
    "整改情况",
    "整改措施",
    "整改日期",
)


class ProblemLedgerRow(NamedTuple):
    """One problem as the problem ledger reads it."""

    type: str
    region_code: str
    region_name: str | None
    parent_name: str | None
    household_id: str | None
    description: str
    found_on: date
    due_on: date
    responsible: str
    status: str
    action: str | None
    rectified_on: date | None
    late: bool


# The fields of ProblemLedgerRow.
_COLUMNS = f"""
    p.type, p.region_code, {REGION_NAME_COLUMNS}, p.household_id, p.description, p.found_on,
    p.due_on, p.responsible, p.status, p.action, p.rectified_on,
    (p.status = 'open' AND p.due_on < CAST(:today AS date)) AS late"""


def _state(row: ProblemLedgerRow) -> str:
    if row.status == "rectified":
        return "已整改"
    return "逾期未整改" if row.late else "未整改"


def _cells(row: ProblemLedgerRow, ids: IdNumbers) -> Sequence[Any]:
    place = "".join(name for name in (row.parent_name, row.region_name) if name)
    return [
        PROBLEM_TYPES.get(row.type, row.type),
        row.region_code,
        place or None,
        row.household_id,
        row.description,
        row.found_on,
        row.due_on,
        row.responsible,
        _state(row),
        row.action,
        row.rectified_on,
    ]


PROBLEMS_LEDGER = Ledger(
    code="problems", title="问题台账", headers=HEADERS, row=ProblemLedgerRow, cells=_cells
)


def problems_query(
    *,
    region_code: str,
    today: date,
    status: str | None,
    type_: str | None,
    campaign_id: uuid.UUID | None,
    overdue: bool | None,
) -> LedgerQuery:
    """The ledger's rows for the list's filters (422 `invalid_code` as the list)."""
    where, params = problem_filters(
        region_code=region_code,
        status=status,
        type_=type_,
        campaign_id=campaign_id,
        overdue=overdue,
        today=today,
    )
    return LedgerQuery(
        table="problems p",
        columns=_COLUMNS,
        joins=region_names_join("p"),
        where=where,
        params={**params, "today": today},
        order="p.region_code, p.found_on, p.problem_id",
    )
