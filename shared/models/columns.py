"""Column types used across the models."""

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import JSONB

# Codes compare byte-wise ("C" collation) so that a btree index serves the
# prefix matches (`LIKE '610326%'`) that region scopes turn into.
RegionCode = String(12, collation="C")
CountyCode = String(6, collation="C")
Json = JSONB
