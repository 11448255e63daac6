"""Screening campaigns (集中排查, SPEC §11): being built."""

from fastapi import APIRouter

router = APIRouter(tags=["screening"])
