"""Request and response shapes of batches (API.md, warning_ingest).

The request models document the bodies in OpenAPI; the handler reads the body
as a stream and validates record by record (services.warning_ingest.records),
so that one bad record is reported in its row instead of failing the batch.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from services.warning_ingest.registry.schemas import FieldErrorOut, inline_schema


class WarningRecordIn(BaseModel):
    source_record_id: str = Field(min_length=1, max_length=64)
    warning_type: str = Field(description="A warning type of the catalog, of your department")
    id_number: str = Field(description="Resident ID number; stored only hashed and sealed")
    name: str = Field(min_length=1, max_length=50)
    region_code: str | None = Field(default=None, description="12-digit region code")
    event_date: date | None = Field(default=None, description="Required for event types")
    amount_yuan: Decimal | None = Field(
        default=None, ge=0, decimal_places=2, description="Required for high_medical_expense"
    )
    details: dict[str, Any] | None = Field(default=None, description="At most 8 KiB of JSON")


class BatchIn(BaseModel):
    records: list[WarningRecordIn] = Field(description="An empty list is a zero report (零报告)")
    period_end: date | None = Field(default=None, description="Default today")
    atomic: bool = Field(default=False, description="All or nothing")


def batch_body_spec() -> dict[str, Any]:
    csv_help = (
        "A header row with the record field names, then one record per row; "
        "`details` as a JSON string. UTF-8 (a byte-order mark is fine) or "
        "`charset=gb18030`."
    )
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": inline_schema(BatchIn)},
                "application/x-ndjson": {"schema": inline_schema(WarningRecordIn)},
                "text/csv": {"schema": {"type": "string", "description": csv_help}},
            },
        }
    }


class ReceiptRecord(BaseModel):
    index: int = Field(description="0-based position (NDJSON: line less one; CSV: data row)")
    source_record_id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    warning_id: UUID | None = None
    errors: list[FieldErrorOut] | None = None


class Receipt(BaseModel):
    batch_id: UUID
    department: str
    received_at: datetime
    period_end: date
    record_count: int
    accepted: int
    duplicates: int
    rejected: int
    records: list[ReceiptRecord] = Field(
        description="Every record, or only the rejected ones for batches over 10,000 records"
    )
