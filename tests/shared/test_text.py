"""shared.text: the one free-text check, in its field-error form for bulk
records and its FreeText form for request schemas."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from shared.errors import FieldError, install_error_handlers
from shared.text import FreeText, checked_text, required_text

SECRET = "张三610326198005170011"


@pytest.mark.parametrize("value", ["a\x00b", "\x07", "x\x1b[31m", "\x7f", "a\x0bb"])
def test_control_characters_are_an_error_that_never_repeats_the_value(value):
    errors: list[FieldError] = []
    assert checked_text(SECRET + value, "name", 100, errors) is None
    assert [(e.field, e.code) for e in errors] == [("name", "invalid_value")]
    assert SECRET not in errors[0].message


@pytest.mark.parametrize("value", ["a\tb", "line\nline", "crlf\r\n", "張三 O'Brien"])
def test_tab_newline_and_carriage_return_are_text(value):
    errors: list[FieldError] = []
    assert checked_text(value, "notes", 100, errors) == value.strip()
    assert errors == []


def test_text_over_the_limit_is_too_long_after_stripping():
    errors: list[FieldError] = []
    assert checked_text("  " + "张" * 5 + "  ", "name", 5, errors) == "张" * 5
    assert checked_text("张" * 6, "name", 5, errors) is None
    assert [(e.field, e.code) for e in errors] == [("name", "too_long")]


@pytest.mark.parametrize(
    ("raw", "code"),
    [({}, "missing_field"), ({"name": " "}, "missing_field"), ({"name": 7}, "invalid_value")],
)
def test_required_text_names_the_missing_or_wrong_type(raw, code):
    errors: list[FieldError] = []
    assert required_text(raw, "name", "members[0].name", 50, errors) is None
    assert [(e.field, e.code) for e in errors] == [("members[0].name", code)]


class _Note(BaseModel):
    reason: FreeText = Field(min_length=1, max_length=20)


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/notes")
    async def add(note: _Note) -> dict[str, str]:
        return {"reason": note.reason}

    return app


@pytest.mark.parametrize("reason", ["a\u0000b", "\u0001", "bell\u0007"])
async def test_a_free_text_field_with_nul_or_a_control_is_a_422_without_the_value(reason):
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post("/notes", json={"reason": "秘" + reason})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("reason", "invalid_value")
    assert "秘" not in response.text


async def test_a_free_text_field_keeps_newlines_and_its_length_bound():
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        ok = await client.post("/notes", json={"reason": "one\ttwo\r\nthree"})
        long = await client.post("/notes", json={"reason": "x" * 21})
    assert ok.status_code == 200 and ok.json() == {"reason": "one\ttwo\r\nthree"}
    assert long.status_code == 422 and long.json()["errors"][0]["code"] == "too_long"
