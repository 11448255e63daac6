"""Response shapes of the reporting figures (API.md, reporting). Aggregates only:
no name, ID number or household id has a field here."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from shared.regions import Level

Counts = dict[str, int]


class PeriodOut(BaseModel):
    date_from: date
    date_to: date = Field(description="Both ends included")


class WarningFigures(BaseModel):
    received: int = Field(description="Received in the period (received_on), any status")
    matched: int
    unmatched: int
    below_threshold: int
    dismissed: int = Field(description="Unmatched records dismissed by staff")
    late: int = Field(description="Event records pushed late (record timeliness)")
    by_department: Counts = Field(description="Received, per department code (all listed)")
    by_type: Counts = Field(description="Received, per warning type code (all listed)")


class CaseFigures(BaseModel):
    opened: int = Field(description="opened_on in the period")
    decided: int = Field(description="decided_on in the period")
    decided_within_15_days: int = Field(description="Decided in the period, by the deadline")
    within_15_days_rate: float | None = Field(
        description="decided_within_15_days / decided (0..1); null when none was decided"
    )
    open: int = Field(description="Undecided today")
    overdue: int = Field(description="Undecided, deadline before today")
    due_soon: int = Field(description="Undecided, deadline today or within the due-soon days")
    median_days_to_decision: float | None = Field(
        description="Median of decided_on - opened_on over the period's decisions; null if none"
    )


class PersonFigures(BaseModel):
    """Persons: the members, today, of the households of the objects counted.
    (Weekly snapshots taken before persons were counted hold empty maps.)"""

    by_type: Counts = Field(
        default_factory=dict, description="Persons of objects not removed, per monitoring type"
    )
    by_status: Counts = Field(
        default_factory=dict, description="Persons of every object, per status"
    )
    newly_included: Counts = Field(
        default_factory=dict,
        description="Persons of objects included in the period, per monitoring type, "
        "and `epidemic`",
    )


class ObjectFigures(BaseModel):
    by_type: Counts = Field(description="Objects not removed, per monitoring type")
    by_status: Counts = Field(description="Every object, per status")
    newly_included: Counts = Field(
        description="included_on in the period, per monitoring type, and `epidemic`: "
        "those with the epidemic risk type (因疫)"
    )
    persons: PersonFigures = Field(
        default_factory=PersonFigures,
        description="by_type, by_status and newly_included in persons (members of those "
        "households today)",
    )
    by_risk_type: Counts = Field(
        default_factory=dict,
        description="Objects at risk (risk_not_eliminated) per risk type code (all listed); "
        "an object with two risk types counts in both",
    )
    look_backs: int = Field(description="Look-back assessments (回头看) in the period")
    eliminated_naturally: int = Field(
        default=0, description="Natural eliminations (自然消除) decided in the period"
    )
    rollbacks: int = Field(description="Rollbacks (风险消除回退) in the period")
    removals: int = Field(description="Removals (清退) in the period")


class MeasureFigures(BaseModel):
    by_category: Counts = Field(description="Measures not cancelled, per category")
    by_status: Counts = Field(description="Every measure, per status")
    labour_capable_objects: int = Field(
        description="Objects at risk with a member able to work (not flagged whole-household "
        "no labour)"
    )
    labour_capable_with_development: int = Field(
        description="Of those, the ones with a development measure not cancelled"
    )
    development_coverage_rate: float | None = Field(
        description="labour_capable_with_development / labour_capable_objects (0..1); "
        "null when there is no such object"
    )


class FeedFigures(BaseModel):
    on_time: int
    due_soon: int
    late: int
    never_pushed: int


class Figures(BaseModel):
    warnings: WarningFigures
    cases: CaseFigures
    monitoring_objects: ObjectFigures
    measures: MeasureFigures
    feeds: FeedFigures = Field(description="Periodic feeds by state now; feeds have no place")


class Overview(Figures):
    region: str = Field(description="The 12-digit region code the figures are about")
    region_name: str | None
    level: Level
    period: PeriodOut


class RegionRow(Figures):
    region_code: str
    region_name: str


class RegionRows(BaseModel):
    region: str
    level: Level = Field(description="The level of the rows")
    period: PeriodOut
    items: list[RegionRow]
