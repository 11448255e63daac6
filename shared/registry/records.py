"""Registry records (SPEC §1-§2): checking one household or region in
Python, with no database, and what a load reports.

Error codes a household or region can be rejected with: `missing_field`,
`too_long`, `invalid_value` (a wrong JSON type), `invalid_code` (a value
outside its code list), `invalid_household_id`, `invalid_region_code`
(malformed, not a village, or unknown once regions are loaded),
`out_of_scope` (outside the loading staff member's region),
`invalid_id_number`, `duplicate_in_batch` (an ID number twice in one
household, an ID number or household already loaded earlier in the same
load, a region code twice) and `invalid_json` (a line a reader could not
parse). Messages never contain the rejected value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.catalog import REGION_ATTRIBUTES
from shared.errors import FieldError
from shared.idcard import InvalidIdNumber, parse_id_number
from shared.regions import covers, is_well_formed, parent_code, region_level
from shared.text import CONTROL_CHARACTERS, required_text

CATEGORIES = frozenset({"general", "poverty_alleviated"})
RELATIONS = frozenset({"head", "spouse", "child", "parent", "grandchild", "sibling", "other"})
LABOUR_CAPACITIES = frozenset({"full", "weak", "partial", "none"})
DISABILITY_GRADES = frozenset({1, 2, 3, 4})

_HOUSEHOLD_ID = re.compile(r"[A-Za-z0-9-]{1,40}")
_NAME_MAX = 50
_REGION_NAME_MAX = 100
# The code of a regions load's attribute outside REGION_ATTRIBUTES.
UNKNOWN_REGION_ATTRIBUTE = "unknown_region_attribute"


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record a reader could not turn into a dict (a broken NDJSON line or
    CSV cell); the load reports it at its index like any rejected record."""

    errors: tuple[FieldError, ...]


@dataclass(slots=True)
class CountyCounts:
    households: int = 0
    members: int = 0


@dataclass
class LoadResult:
    """What a load did: stored and rejected counts, and each rejected record's
    errors by its 0-based index (in arrival order, blank lines not counted)."""

    upserted: int = 0
    rejected: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    members: int = 0
    counties: dict[str, CountyCounts] = field(default_factory=dict)

    def reject(self, index: int, errors: list[FieldError], max_errors: int | None) -> None:
        self.rejected += 1
        if max_errors is None or len(self.errors) < max_errors:
            self.errors.append({"index": index, "errors": [e.as_dict() for e in errors]})

    def summary(self) -> dict[str, Any]:
        """The API answer: `{"upserted", "rejected", "errors"}`."""
        return {"upserted": self.upserted, "rejected": self.rejected, "errors": self.errors}


# -- validation ---------------------------------------------------------------


def _code(
    raw: dict[str, Any], key: str, where: str, allowed: frozenset[str], errors: list[FieldError]
) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        errors.append(FieldError(where, "missing_field", f"{key} is required"))
        return None
    if not isinstance(value, str) or value not in allowed:
        errors.append(
            FieldError(where, "invalid_code", f"{key} must be one of {', '.join(sorted(allowed))}")
        )
        return None
    return str(value)


# A validated member: number, birth date, sex, name, relation, labour
# capacity, disability grade, in school. Tuples: this runs 300k times a load.
Member = tuple[str, date, str, str, str, str, int | None, bool]


def _member(raw: Any, pos: int, today: date, errors: list[FieldError]) -> Member | None:
    # Fast path for a well-formed member; anything unusual goes the slow way,
    # which names every problem.
    if type(raw) is dict:
        number, name = raw.get("id_number"), raw.get("name")
        relation, labour = raw.get("relation"), raw.get("labour_capacity")
        grade, in_school = raw.get("disability_grade"), raw.get("in_school")
        if (
            type(number) is str
            and type(name) is str
            and 0 < len(name := name.strip()) <= _NAME_MAX
            and not CONTROL_CHARACTERS.search(name)
            and type(relation) is str
            and relation in RELATIONS
            and type(labour) is str
            and labour in LABOUR_CAPACITIES
            and (grade is None or (type(grade) is int and grade in DISABILITY_GRADES))
            and (in_school is None or type(in_school) is bool)
        ):
            try:
                resident = parse_id_number(number, today=today)
            except InvalidIdNumber:
                pass
            else:
                born, sex = resident.birth_date, resident.sex
                return (resident.number, born, sex, name, relation, labour, grade, bool(in_school))
    return _member_errors(raw, f"members[{pos}]", today, errors)


def _member_errors(raw: Any, at: str, today: date, errors: list[FieldError]) -> Member | None:
    if not isinstance(raw, dict):
        errors.append(FieldError(at, "invalid_value", "a member must be an object"))
        return None
    before = len(errors)
    number = raw.get("id_number")
    resident = None
    if number is None or number == "":
        errors.append(FieldError(at + ".id_number", "missing_field", "id_number is required"))
    elif not isinstance(number, str):
        errors.append(FieldError(at + ".id_number", "invalid_id_number", "must be a string"))
    else:
        try:
            resident = parse_id_number(number, today=today)
        except InvalidIdNumber as exc:
            errors.append(FieldError(at + ".id_number", "invalid_id_number", str(exc)))
    name = required_text(raw, "name", at + ".name", _NAME_MAX, errors)
    relation = _code(raw, "relation", at + ".relation", RELATIONS, errors)
    labour = _code(raw, "labour_capacity", at + ".labour_capacity", LABOUR_CAPACITIES, errors)
    grade = raw.get("disability_grade")
    if grade is not None and (type(grade) is not int or grade not in DISABILITY_GRADES):
        errors.append(
            FieldError(at + ".disability_grade", "invalid_code", "disability_grade must be 1-4")
        )
    in_school = raw.get("in_school")
    if in_school is not None and not isinstance(in_school, bool):
        errors.append(FieldError(at + ".in_school", "invalid_value", "in_school must be a boolean"))
    if len(errors) > before or resident is None:
        return None
    assert name is not None and relation is not None and labour is not None
    return (
        resident.number,
        resident.birth_date,
        resident.sex,
        name,
        relation,
        labour,
        grade,
        bool(in_school),
    )


# A validated household: county, household id, region, category, head name, members.
Household = tuple[str, str, str, str, str, list[Member]]


def check_household(
    raw: Any, *, today: date, scope: str | None = None
) -> tuple[Household | None, list[FieldError]]:
    """Validate one household record; return it normalised, or None with its errors.

    `scope` is the loading staff member's region code: a household outside it
    is rejected as `out_of_scope`. Checks that need the database (a known
    village, duplicates across the load) are made by load_households.
    """
    if isinstance(raw, BadRecord):
        return None, list(raw.errors)
    if not isinstance(raw, dict):
        return None, [FieldError("household", "invalid_value", "a household must be an object")]
    errors: list[FieldError] = []
    household_id = raw.get("household_id")
    if household_id is None or household_id == "":
        errors.append(FieldError("household_id", "missing_field", "household_id is required"))
    elif not isinstance(household_id, str) or not _HOUSEHOLD_ID.fullmatch(household_id):
        errors.append(
            FieldError(
                "household_id",
                "invalid_household_id",
                "household_id must be 1-40 letters, digits or -",
            )
        )
    region = raw.get("region_code")
    if region is None or region == "":
        errors.append(FieldError("region_code", "missing_field", "region_code is required"))
    elif not isinstance(region, str) or not is_well_formed(region) or region[9:] == "000":
        errors.append(
            FieldError("region_code", "invalid_region_code", "region_code must be a village code")
        )
    elif scope is not None and not covers(scope, region):
        errors.append(
            FieldError("region_code", "out_of_scope", "the village is outside your scope")
        )
    category = _code(raw, "category", "category", CATEGORIES, errors)
    head_name = required_text(raw, "head_name", "head_name", _NAME_MAX, errors)
    raw_members = raw.get("members")
    members: list[Member] = []
    if not raw_members:
        errors.append(FieldError("members", "missing_field", "a household needs members"))
    elif not isinstance(raw_members, list):
        errors.append(FieldError("members", "invalid_value", "members must be a list"))
    else:
        seen: set[str] = set()
        for pos, raw_member in enumerate(raw_members):
            member = _member(raw_member, pos, today, errors)
            if member is None:
                continue
            if member[0] in seen:
                errors.append(
                    FieldError(
                        f"members[{pos}].id_number",
                        "duplicate_in_batch",
                        "the same ID number appears twice in this household",
                    )
                )
            seen.add(member[0])
            members.append(member)
    if errors:
        return None, errors
    assert isinstance(household_id, str) and isinstance(region, str)
    assert category is not None and head_name is not None
    return (region[:6], household_id, region, category, head_name, members), errors


def duplicate_member(pos: int) -> FieldError:
    return FieldError(
        f"members[{pos}].id_number",
        "duplicate_in_batch",
        "the same ID number is in an earlier household of this load",
    )


def duplicate_household() -> FieldError:
    return FieldError(
        "household_id", "duplicate_in_batch", "the household is listed earlier in this load"
    )


RegionRow = tuple[str, str, str, str | None, list[str]]  # code, name, level, parent, attributes


def check_region(raw: Any) -> tuple[RegionRow | None, list[FieldError]]:
    """Validate one `{"code", "name", "attributes"?}`; return (code, name,
    level, parent, attributes) or errors. `attributes` is a list of
    REGION_ATTRIBUTES codes (a CSV cell lists them separated by `;`)."""
    if isinstance(raw, BadRecord):
        return None, list(raw.errors)
    if not isinstance(raw, dict):
        return None, [FieldError("region", "invalid_value", "a region must be an object")]
    errors: list[FieldError] = []
    code = raw.get("code")
    if code is None or code == "":
        errors.append(FieldError("code", "missing_field", "code is required"))
    elif not isinstance(code, str) or not is_well_formed(code):
        errors.append(
            FieldError("code", "invalid_region_code", "code must be a 12-digit region code")
        )
    name = required_text(raw, "name", "name", _REGION_NAME_MAX, errors)
    attributes = _region_attributes(raw.get("attributes"), errors)
    if errors:
        return None, errors
    assert isinstance(code, str) and name is not None
    return (code, name, region_level(code), parent_code(code), attributes), errors


def _region_attributes(value: Any, errors: list[FieldError]) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(
            FieldError("attributes", "invalid_value", "attributes must be a list of codes")
        )
        return []
    unknown = sorted(set(value) - set(REGION_ATTRIBUTES))
    if unknown:
        errors.append(
            FieldError(
                "attributes",
                UNKNOWN_REGION_ATTRIBUTE,
                f"attributes must be among {', '.join(REGION_ATTRIBUTES)}",
            )
        )
        return []
    return sorted(set(value))
