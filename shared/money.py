"""Money in yuan (API.md: a JSON number with at most two decimals)."""

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer

# Decimal inside (exact sums), a JSON number outside: pydantic would send a
# Decimal as a string.
Yuan = Annotated[
    Decimal,
    Field(max_digits=14, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
]
