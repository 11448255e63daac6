"""The monitoring-object ledger (监测对象台账, LEDGERS.md): one row per object of
the list's filters, by village and household, in the national form's columns.

- 户主身份证号: masked unless revealed; 家庭人口数: the registry's members today.
- 致贫/返贫风险1…5: the risk types in the order recorded (a sixth and later are
  left out: the form has five).
- 识别监测时间 / 消除监测时间: YYYYMM of inclusion / elimination.
- 风险消除方式: 自然消除 for a natural elimination, else 帮扶消除; empty while
  the risk stands.
- 是否已实施开发式帮扶: 已实施 once a development measure has started or
  completed, else 尚未实施.
- 帮扶措施: one column per national category (shared.catalog), each listing the
  object's measures in it that are not cancelled, in planned order (、).
- 最近走访日期: the latest monthly visit or assessment (routine or look-back):
  shared/visits.py, the rule the gaps and the follow-up list read too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from services.identification.objects.monitoring_objects import object_filters
from shared.catalog import (
    MEASURE_CATEGORIES,
    MONITORING_TYPES,
    RISK_TYPES,
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
    year_month,
    yes_no,
)
from shared.national_form import NATIONAL_MEASURE_COLUMNS, national_measure_category
from shared.visits import last_visit_sql

RISK_COLUMNS = 5

HEADERS = (
    "户编号",
    "户主姓名",
    "户主身份证号",
    "所在乡镇",
    "所在村",
    "家庭人口数",
    "监测对象类别",
    "是否脱贫户",
    "整户无劳动能力",
    *(f"致贫/返贫风险{n}" for n in range(1, RISK_COLUMNS + 1)),
    "识别监测时间",
    "风险是否已消除",
    "风险消除方式",
    "消除监测时间",
    "是否已实施开发式帮扶",
    *NATIONAL_MEASURE_COLUMNS,
    "最近走访日期",
)

_ELIMINATED = {"risk_not_eliminated": "否", "risk_eliminated": "是", "removed": "已清退"}
_STARTED = ("in_progress", "completed")


class ObjectLedgerRow(NamedTuple):
    """One monitoring object as the monitoring-object ledger reads it."""

    household_id: str
    head_name: str | None
    head_id_masked: str | None
    head_id_sealed: bytes | None  # null unless revealed
    region_name: str | None
    parent_name: str | None
    category: str | None
    persons: int
    monitoring_type: str
    whole_household_no_labour: bool
    risk_types: list[str]
    included_on: date
    status: str
    eliminated_on: date | None
    eliminated_naturally: bool
    measures: list[str]  # `category:status` of each measure not cancelled, planned order
    last_visit_on: date | None
    compulsory_pupil: bool


# The fields of ObjectLedgerRow.
_COLUMNS = f"""
    o.household_id, {HEAD_COLUMNS}, {REGION_NAME_COLUMNS}, h.category,
    (SELECT count(*) FROM members pm
     WHERE pm.county_code = o.county_code AND pm.household_id = o.household_id) AS persons,
    o.monitoring_type, o.whole_household_no_labour, o.risk_types, o.included_on, o.status,
    o.eliminated_on, o.eliminated_naturally,
    (SELECT coalesce(array_agg(m.category || ':' || m.status ORDER BY m.planned_on, m.measure_id),
                     '{{}}')
     FROM measures m
     WHERE m.county_code = o.county_code AND m.object_id = o.object_id
         AND m.status <> 'cancelled') AS measures,
    {last_visit_sql("o", by="object")} AS last_visit_on,
    {compulsory_pupil_column("o")}"""


def _measure_columns(measures: Sequence[str], *, compulsory_pupil: bool) -> list[str | None]:
    listed: dict[str, list[str]] = {column: [] for column in NATIONAL_MEASURE_COLUMNS}
    for measure in measures:
        code = measure.split(":", 1)[0]
        label = MEASURE_CATEGORIES[code].label
        column = listed[national_measure_category(code, compulsory_pupil=compulsory_pupil)]
        if label not in column:
            column.append(label)
    return ["、".join(labels) or None for labels in listed.values()]


def _development_started(measures: Sequence[str]) -> bool:
    for measure in measures:
        code, status = measure.split(":", 1)
        if MEASURE_CATEGORIES[code].development and status in _STARTED:
            return True
    return False


def _cells(row: ObjectLedgerRow, ids: IdNumbers) -> Sequence[Any]:
    risks: list[str | None] = [RISK_TYPES.get(r, r) for r in row.risk_types[:RISK_COLUMNS]]
    risks += [None] * (RISK_COLUMNS - len(risks))
    eliminated = row.status == "risk_eliminated"
    measures = row.measures
    return [
        row.household_id,
        row.head_name,
        ids(row.head_id_masked, row.head_id_sealed),
        row.parent_name,
        row.region_name,
        row.persons,
        MONITORING_TYPES.get(row.monitoring_type, row.monitoring_type),
        yes_no(row.category == "poverty_alleviated") if row.category else None,
        yes_no(row.whole_household_no_labour),
        *risks,
        year_month(row.included_on),
        _ELIMINATED.get(row.status, row.status),
        ("自然消除" if row.eliminated_naturally else "帮扶消除") if eliminated else None,
        year_month(row.eliminated_on) if eliminated else None,
        "已实施" if _development_started(measures) else "尚未实施",
        *_measure_columns(measures, compulsory_pupil=row.compulsory_pupil),
        row.last_visit_on,
    ]


OBJECTS_LEDGER = Ledger(
    code="monitoring_objects",
    title="监测对象台账",
    headers=HEADERS,
    row=ObjectLedgerRow,
    cells=_cells,
)


def objects_query(
    *,
    region_code: str,
    today: date,
    status: str | None,
    monitoring_type: str | None,
    reveal: bool,
) -> LedgerQuery:
    """The ledger's rows for the list's filters (422 `invalid_code` as the list)."""
    where, params = object_filters(
        region_code=region_code, status=status, monitoring_type=monitoring_type
    )
    return LedgerQuery(
        table="monitoring_objects o",
        columns=_COLUMNS,
        joins=head_join("o", reveal=reveal) + region_names_join("o"),
        where=where,
        params={**params, "today": today},
        order="o.region_code, o.household_id, o.included_on, o.object_id",
    )
