"""Further reporting endpoints (feeds, red flags, progress table, trend); a stub
until they are written."""

from fastapi import APIRouter

router = APIRouter()
