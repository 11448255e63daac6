"""Feedback to departments: `GET /feedback`."""

from fastapi import APIRouter

router = APIRouter(tags=["feedback"])
