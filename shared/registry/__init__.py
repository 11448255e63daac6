"""The household registry (SPEC §1-§2): regions (行政区划) and households
(农户) loaded in bulk.

- records: checking one household or region, and what a load reports;
- staging: the temporary tables and set-based statements of a load;
- load: load_households and load_regions, streaming and chunked;
- files: readers that turn files and request bodies into records.
"""

from shared.registry.load import (
    CHUNK_HOUSEHOLDS,
    CHUNK_REGIONS,
    REGIONS_LOADED,
    load_households,
    load_regions,
)
from shared.registry.records import (
    CATEGORIES,
    DISABILITY_GRADES,
    LABOUR_CAPACITIES,
    RELATIONS,
    BadRecord,
    CountyCounts,
    Household,
    LoadResult,
    Member,
    check_household,
    check_region,
)

__all__ = [
    "CATEGORIES",
    "CHUNK_HOUSEHOLDS",
    "CHUNK_REGIONS",
    "DISABILITY_GRADES",
    "LABOUR_CAPACITIES",
    "REGIONS_LOADED",
    "RELATIONS",
    "BadRecord",
    "CountyCounts",
    "Household",
    "LoadResult",
    "Member",
    "check_household",
    "check_region",
    "load_households",
    "load_regions",
]
