"""Writing a step to a locked case: the step's row, the case's progress, and
the event and audit record of every write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.steps.order import LockedCase
from shared.event_types import CASE_STEP_COMPLETED
from shared.events import announce
from shared.models.columns import Json


@dataclass(frozen=True, slots=True)
class CaseWriteContext:
    """Who writes to which locked case, and when: every step's writes go through it."""

    session: AsyncSession
    case: LockedCase
    actor: str
    now: datetime


_INSERT_STEP = text(
    "INSERT INTO case_steps (case_id, county_code, step, done_on, actor, recorded_at, form)"
    " VALUES (:case_id, :county_code, :step, :done_on, :actor, :recorded_at, :form)"
).bindparams(bindparam("form", type_=Json))
_MARK_DONE = text(
    "UPDATE cases SET steps_done = array_append(steps_done, CAST(:step AS varchar)),"
    " completed = :completed WHERE case_id = :case_id AND county_code = :county_code"
)


async def record_step(
    writer: CaseWriteContext, step: str, done_on: date, form: BaseModel, *, completed: bool
) -> None:
    """The step's row and form, the case's steps_done and completed flag, an
    event and an audit record."""
    params = {**writer.case.key, "step": step, "done_on": done_on, "actor": writer.actor}
    form_json = form.model_dump(mode="json")
    await writer.session.execute(
        _INSERT_STEP, {**params, "recorded_at": writer.now, "form": form_json}
    )
    await writer.session.execute(
        _MARK_DONE, {**writer.case.key, "step": step, "completed": completed}
    )
    details = {"step": step, "done_on": done_on.isoformat()}
    await announce_for_case(
        writer, CASE_STEP_COMPLETED, {"case_id": str(writer.case.case_id), **details}, details
    )


async def announce_for_case(
    writer: CaseWriteContext,
    type: str,
    payload: dict[str, Any],
    details: dict[str, Any],
    *,
    aggregate: tuple[str, str] | None = None,
) -> None:
    """An event and an audit record about the case (or `aggregate`)."""
    await announce(
        writer.session,
        type=type,
        aggregate=aggregate or ("case", str(writer.case.case_id)),
        county_code=writer.case.county_code,
        actor=writer.actor,
        payload=payload,
        details=details,
    )
