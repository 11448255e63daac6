"""The identification ledger (识别台账, LEDGERS.md): one row per case of the
pending-case list's filters, by village and deadline (the region index's order).

Columns: the household (户编号, 户主姓名, 户主身份证号 masked unless revealed,
所在乡镇, 所在村), the clue's source in the national form's words, the dates
of each step (公示起止 as `start至end`), the decision, and 是否超期: 是 for a
case decided after its deadline, or undecided with today past it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from services.identification.cases.lists import case_filters
from shared.catalog import CASE_OUTCOMES, MONITORING_TYPES
from shared.ledgers import (
    HEAD_COLUMNS,
    REGION_NAME_COLUMNS,
    IdNumbers,
    Ledger,
    LedgerQuery,
    head_join,
    region_names_join,
    yes_no,
)

# LEDGERS.md: the national form's words for a clue's source.
SOURCES = {
    "department_warning": "部门预警",
    "self_report": "农户自主申报",
    "cadre_screening": "干部排查",
}

HEADERS = (
    "户编号",
    "户主姓名",
    "户主身份证号",
    "所在乡镇",
    "所在村",
    "线索来源",
    "发现日期",
    "办结时限",
    "入户核实",
    "村级评议",
    "公示起止",
    "乡镇审核",
    "县级审定",
    "认定结果",
    "是否超期",
)

_STEP_DATES = """
LEFT JOIN LATERAL (
    SELECT
        max(s.done_on) FILTER (WHERE s.step = 'household_visit') AS visited_on,
        max(s.done_on) FILTER (WHERE s.step = 'village_review') AS reviewed_on,
        max(s.form ->> 'notice_start') FILTER (WHERE s.step = 'village_review') AS notice_start,
        max(s.form ->> 'notice_end') FILTER (WHERE s.step = 'village_review') AS notice_end,
        max(s.done_on) FILTER (WHERE s.step = 'township_review') AS township_on,
        max(s.done_on) FILTER (WHERE s.step = 'county_approval') AS county_on
    FROM case_steps s
    WHERE s.county_code = c.county_code AND s.case_id = c.case_id
) st ON true"""


class CaseLedgerRow(NamedTuple):
    """One case as the identification ledger reads it."""

    household_id: str
    head_name: str | None
    head_id_masked: str | None
    head_id_sealed: bytes | None  # null unless revealed
    region_name: str | None
    parent_name: str | None
    source: str
    opened_on: date
    deadline: date
    visited_on: date | None
    reviewed_on: date | None
    notice_start: str | None  # as the village review's form holds it
    notice_end: str | None
    township_on: date | None
    county_on: date | None
    outcome: str | None
    monitoring_type: str | None
    decided_on: date | None
    late: bool


# The fields of CaseLedgerRow.
_COLUMNS = f"""
    c.household_id, {HEAD_COLUMNS}, {REGION_NAME_COLUMNS}, c.source, c.opened_on, c.deadline,
    st.visited_on, st.reviewed_on, st.notice_start, st.notice_end, st.township_on, st.county_on,
    c.outcome, c.monitoring_type, c.decided_on,
    coalesce(c.decided_on > c.deadline, CAST(:today AS date) > c.deadline) AS late"""


def _decision(row: CaseLedgerRow) -> str | None:
    if row.outcome is None:
        return None
    label = CASE_OUTCOMES.get(row.outcome, row.outcome)
    kind = row.monitoring_type
    return f"{label}（{MONITORING_TYPES.get(kind, kind)}）" if kind else label


def _cells(row: CaseLedgerRow, ids: IdNumbers) -> Sequence[Any]:
    notice = None
    if row.notice_start:
        notice = f"{row.notice_start}至{row.notice_end}"
    return [
        row.household_id,
        row.head_name,
        ids(row.head_id_masked, row.head_id_sealed),
        row.parent_name,
        row.region_name,
        SOURCES.get(row.source, row.source),
        row.opened_on,
        row.deadline,
        row.visited_on,
        row.reviewed_on,
        notice,
        row.township_on,
        row.county_on,
        _decision(row),
        yes_no(row.late),
    ]


CASES_LEDGER = Ledger(
    code="cases", title="识别台账", headers=HEADERS, row=CaseLedgerRow, cells=_cells
)


def cases_query(
    *,
    region_code: str,
    today: date,
    state: str | None,
    step: str | None,
    source: str | None,
    reveal: bool,
) -> LedgerQuery:
    """The ledger's rows for the list's filters (422 `invalid_code` as the list)."""
    where, params = case_filters(
        region_code=region_code, today=today, state=state, step=step, source=source
    )
    return LedgerQuery(
        table="cases c",
        columns=_COLUMNS,
        joins=head_join("c", reveal=reveal) + region_names_join("c") + _STEP_DATES,
        where=where,
        params={**params, "today": today},
        order="c.region_code, c.deadline, c.case_id",
    )
