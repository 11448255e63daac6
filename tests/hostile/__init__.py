"""Hostile input: the OpenAPI fuzz and nasty values through the ingest formats."""
