"""Request and response shapes of screening campaigns (API.md "Screening
campaigns", SPEC §11).

The screenings upload is read from the raw body (JSON, CSV or XLSX) and checked
record by record (`screening_record.check_screening`), so that one bad row is
reported in its place; `ScreeningUploadIn` only documents the JSON form.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.dates import Day
from shared.text import FreeText

_CSV_HELP = (
    "A header row with the record field names, then one household per row; booleans "
    "`true`/`false`, dates YYYY-MM-DD. UTF-8 (a byte-order mark is fine) or `charset=gb18030`."
)
_XLSX_HELP = "The first sheet: a header row with the record field names, one household per row."
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PhaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: FreeText = Field(min_length=1, max_length=100)
    kind: str | None = Field(
        default=None, description="A code of the phase kinds (catalog) warnex can check"
    )
    due_on: Day


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: FreeText = Field(min_length=1, max_length=200)
    region_code: str = Field(description="12-digit code of a county, town or village")
    year: int = Field(ge=2000, le=2100)
    starts_on: Day | None = Field(default=None, description="Default 1 January of `year`")
    phases: list[PhaseIn] = Field(
        max_length=20, description="In the plan's order, due dates not decreasing"
    )


class PhaseDoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, description="0-based position of the phase")
    done_on: Day | None = Field(description="null clears it")


class ReportedFiguresIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deployment_meetings: int | None = Field(default=None, ge=0, le=10_000_000)
    staff_deployed: int | None = Field(default=None, ge=0, le=10_000_000)
    data_items_corrected: int | None = Field(default=None, ge=0, le=10_000_000)
    staff_trained: int | None = Field(default=None, ge=0, le=10_000_000)


class CampaignPatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phases: list[PhaseDoneIn] | None = Field(
        default=None, max_length=20, description="Phases without a kind warnex checks"
    )
    reported_figures: ReportedFiguresIn | None = None


class PhaseOut(BaseModel):
    name: str
    kind: str | None
    due_on: date
    done_on: date | None
    late: bool = Field(description="Past its due date and not done")


class CampaignOut(BaseModel):
    campaign_id: UUID
    name: str
    region_code: str
    year: int
    starts_on: date
    ends_on: date = Field(description="The last phase's due date")
    phases: list[PhaseOut]
    reported_figures: dict[str, Any]
    late: bool = Field(description="Some phase is late")
    created_at: datetime | None = None


class CampaignPage(BaseModel):
    items: list[CampaignOut]
    next_cursor: str | None


class CodeLabel(BaseModel):
    code: str
    label: str


class CatalogOut(BaseModel):
    fields: dict[str, list[CodeLabel]] = Field(description="The codes of each form field")
    problem_types: list[CodeLabel]
    phase_kinds: list[CodeLabel]
    spot_check_kinds: list[CodeLabel]
    record_fields: list[str] = Field(description="A record's fields: the CSV/XLSX columns")


class ScreeningIn(BaseModel):
    """One household's form (documentation only; checked by check_screening)."""

    household_id: str
    screened_on: date = Field(description="In the campaign's year, not in the future")
    screener: str
    residence: str
    housing: str
    schooling: str
    drinking_water: str
    insured: Literal["all", "partly", "none"]
    uninsured_members: int
    income_band: str
    rigid_expenditure: bool
    rigid_expenditure_reason: str | None = None
    civil_affairs_support: str
    needs_inclusion: Literal["yes", "unsure", "no"]
    notes: str | None = None


class ScreeningUploadIn(BaseModel):
    records: list[ScreeningIn]


def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    # `openapi_extra` cannot point at `$defs`: inline them.
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def upload_body_spec() -> dict[str, Any]:
    """The OpenAPI request body of a screenings upload: its three forms."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": _inline_schema(ScreeningUploadIn)},
                "text/csv": {"schema": {"type": "string", "description": _CSV_HELP}},
                XLSX_MEDIA_TYPE: {
                    "schema": {"type": "string", "format": "binary", "description": _XLSX_HELP}
                },
            },
        }
    }


class FieldErrorOut(BaseModel):
    field: str
    code: str
    message: str


class ReceiptRecord(BaseModel):
    index: int = Field(description="0-based arrival order (CSV/XLSX: the data row less one)")
    household_id: str | None
    status: Literal["accepted", "replaced", "rejected"]
    errors: list[FieldErrorOut] = Field(default_factory=list)
    case_id: UUID | None = Field(default=None, description="The case a yes/unsure opened or joined")


class ScreeningReceipt(BaseModel):
    campaign_id: UUID
    received: int
    accepted: int = Field(description="New screenings")
    replaced: int = Field(description="Screenings that replaced an earlier one")
    rejected: int
    cases_opened: int
    cases_joined: int
    records: list[ReceiptRecord] = Field(
        description="Every record, or only the rejected ones for uploads over 10,000 records"
    )


class CategoryCount(BaseModel):
    households: int
    screened: int


class CoverageRow(BaseModel):
    region_code: str
    region_name: str | None
    households: int
    screened: int
    by_category: dict[str, CategoryCount] = Field(
        description="general and poverty_alleviated split the households by registry "
        "category; monitored (risk not eliminated) overlaps them"
    )


class CoverageOut(BaseModel):
    items: list[CoverageRow]


class UnscreenedHousehold(BaseModel):
    household_id: str
    region_code: str
    category: str


class UnscreenedPage(BaseModel):
    items: list[UnscreenedHousehold]
    next_cursor: str | None
