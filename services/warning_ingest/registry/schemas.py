"""Request and response shapes of the registry loads (API.md, warning_ingest).

The request models document the bodies in OpenAPI; the handlers read the
bodies as streams and validate them record by record (shared.registry), so
that one bad household is reported in its row instead of failing the load.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class MemberIn(BaseModel):
    id_number: str = Field(
        description="Resident ID number (18 characters); stored only hashed and sealed"
    )
    name: str = Field(min_length=1, max_length=50)
    relation: Literal["head", "spouse", "child", "parent", "grandchild", "sibling", "other"]
    labour_capacity: Literal["full", "weak", "partial", "none"]
    disability_grade: int | None = Field(default=None, ge=1, le=4)
    in_school: bool | None = None


class HouseholdIn(BaseModel):
    household_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,40}$")
    region_code: str = Field(description="The 12-digit code of the household's village")
    category: Literal["general", "poverty_alleviated"]
    head_name: str = Field(min_length=1, max_length=50)
    members: list[MemberIn] = Field(min_length=1)


class HouseholdsIn(BaseModel):
    households: list[HouseholdIn]


class RegionIn(BaseModel):
    code: str = Field(description="12-digit statistical division code")
    name: str = Field(min_length=1, max_length=100)
    attributes: list[Literal["key_village", "resettlement_site", "abandoned_mine"]] = Field(
        default=[],
        description="Key areas (SPEC §12): 乡村振兴重点帮扶村, 易地搬迁安置点, 废弃矿山区域;"
        " a load states them all (left out: none). Another code is a 422"
        " `unknown_region_attribute` and the load stores nothing.",
    )


class RegionsIn(BaseModel):
    regions: list[RegionIn]


class FieldErrorOut(BaseModel):
    field: str
    code: str
    message: str


class RejectedRecord(BaseModel):
    index: int = Field(description="0-based position of the record in the body (NDJSON: line)")
    errors: list[FieldErrorOut]


class LoadAnswer(BaseModel):
    upserted: int
    rejected: int
    errors: list[RejectedRecord]


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its `$defs` inlined, for `openapi_extra`
    (whose references would otherwise point nowhere)."""
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


def body_spec(whole: type[BaseModel], line: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a body that is JSON `whole` or NDJSON lines of `line`."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": inline_schema(whole)},
                "application/x-ndjson": {"schema": inline_schema(line)},
            },
        }
    }
