"""A screening campaign's progress table (集中排查工作进度统计表, SPEC §6 and §11;
the Meixian attachment), as JSON rows with coded columns and Chinese headers.

Rows, in region-code order: every town inside the region (the region itself
when it is a town) followed by its villages, then a `total` row for the whole
region. Towns and villages come from the registry's `regions` table; a village
region has its own row and the total. The table's region is the campaign's
region narrowed to the caller's (see `table_region`).

Without a campaign (none given, and none covers the region: `latest_campaign`)
the table has the same rows over the current calendar year to today, its
screening columns and problems 0 (households_registered still counts the
registry), and `campaign_id`, `campaign_name` null.

The campaign window is `starts_on` through the earlier of today and the latest
`due_on` of the campaign's phases (today when it has none); an empty window
(a campaign not yet started) counts nothing for the period figures.

Columns (`COLUMNS`, in the county table's order), every count per row:

- `households_screened`, `persons_screened`: the registry's households of the
  place (by their current `households.region_code`, as the coverage counts the
  live registry) with a screening record in this campaign, and their current
  `members`. Each is split into three parts that add up to it:
  `*_monitored` (监测户): households that have, today, a monitoring object whose
  status is not `removed` (`risk_not_eliminated` or `risk_eliminated`);
  `*_general` (一般农户) and `*_poverty_alleviated` (脱贫户): the other screened
  households by `households.category`.
- `households_registered`: the place's households in the registry today;
  `coverage_rate`: households_screened / households_registered, a fraction
  rounded to four decimals, null when the place has no household.
- `newly_included_marginal`, `..._unstable_alleviated`, `..._sudden_hardship`
  and `newly_included_epidemic` (因疫: those with the `epidemic` risk type),
  `look_backs`, `rollbacks`, `removals`: the figures of `figures.py` (one
  definition, read from the reporting summaries) over the campaign window:
  objects by `included_on`, look-back assessments by `assessed_on`,
  `rolled_back_on`, `removed_on`. `persons_newly_included_*`,
  `persons_rolled_back` and `persons_removed`: the same objects in persons
  (the members of their households today, as the overview counts them).
- `problems_found`, `problems_rectified`: the campaign's entries of the problem
  ledger by `found_on` in the window, and with status `rectified` by
  `rectified_on` in the window. A problem filed at a town or county code counts
  for that place and the total, not for any village.
- `deployment_meetings` (召开部署会议), `staff_deployed` (投入排查人员),
  `data_items_corrected`, `staff_trained`: the county's own figures from the
  campaign's `reported_figures` (0 when not entered). warnex cannot split them,
  so they appear on the total row of the campaign's whole region only and are
  null (blank in CSV/XLSX) on every other row, and on the total of a narrower
  region.

Each row also has `region_code`, `region_name` and `level` (`town`, `village`
or `total`). No household id, name or ID number is read into any row.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.figures import Grouping, Period, figures_by_group
from shared.catalog import REGION_LEVEL_LABELS
from shared.errors import NotFound
from shared.regions import (
    LEVEL_DIGITS,
    covers,
    parent_code,
    region_level,
    region_prefix,
    scope_like_pattern,
)


@dataclass(frozen=True, slots=True)
class Column:
    code: str
    label: str


# The leading columns name the row; the rest are its figures.
ROW_COLUMNS = (
    Column("region_code", "区划代码"),
    Column("region_name", "单位"),
    Column("level", "层级"),
)
FIGURE_COLUMNS = (
    Column("households_screened", "排查农户数（户）"),
    Column("households_screened_general", "其中：一般农户（户）"),
    Column("households_screened_poverty_alleviated", "其中：脱贫户（户）"),
    Column("households_screened_monitored", "其中：监测户（户）"),
    Column("persons_screened", "排查人数（人）"),
    Column("persons_screened_general", "其中：一般农户人数（人）"),
    Column("persons_screened_poverty_alleviated", "其中：脱贫户人数（人）"),
    Column("persons_screened_monitored", "其中：监测户人数（人）"),
    Column("households_registered", "登记农户数（户）"),
    Column("coverage_rate", "排查覆盖率"),
    Column("newly_included_marginal", "新纳入边缘易致贫户（户）"),
    Column("newly_included_unstable_alleviated", "新纳入脱贫不稳定户（户）"),
    Column("newly_included_sudden_hardship", "新纳入突发严重困难户（户）"),
    Column("newly_included_epidemic", "其中：因疫新纳入（户）"),
    Column("persons_newly_included_marginal", "新纳入边缘易致贫户人数（人）"),
    Column("persons_newly_included_unstable_alleviated", "新纳入脱贫不稳定户人数（人）"),
    Column("persons_newly_included_sudden_hardship", "新纳入突发严重困难户人数（人）"),
    Column("persons_newly_included_epidemic", "其中：因疫新纳入人数（人）"),
    Column("look_backs", "风险消除回头看（次）"),
    Column("rollbacks", "风险消除回退（户）"),
    Column("persons_rolled_back", "风险消除回退人数（人）"),
    Column("removals", "清退（户）"),
    Column("persons_removed", "清退人数（人）"),
    Column("problems_found", "发现问题（个）"),
    Column("problems_rectified", "整改问题（个）"),
    Column("deployment_meetings", "召开部署会议（场）"),
    Column("staff_deployed", "投入排查人员（人）"),
    Column("data_items_corrected", "修正数据（条）"),
    Column("staff_trained", "培训人员（人次）"),
)
COLUMNS = ROW_COLUMNS + FIGURE_COLUMNS

LEVEL_LABELS = {**REGION_LEVEL_LABELS, "total": "合计"}

# The county's own figures, from `campaigns.reported_figures`.
REPORTED = ("deployment_meetings", "staff_deployed", "data_items_corrected", "staff_trained")

_CATEGORIES = ("general", "poverty_alleviated", "monitored")
_OBJECT_TYPES = ("marginal", "unstable_alleviated", "sudden_hardship")

_CAMPAIGN = text(
    "SELECT campaign_id, county_code, region_code, name, year, starts_on, phases,"
    " reported_figures FROM campaigns WHERE campaign_id = :campaign_id"
)

_PLACES = text(
    "SELECT code, name, level FROM regions WHERE code LIKE CAST(:scope AS text)"
    " AND (level IN ('town', 'village') OR code = :region) ORDER BY code"
)

# Per village of the registry: households, and the screened ones by part.
# A household's part and its persons are read only when it was screened.
_SCREENED = text(
    """
SELECT x.region_code, count(*) AS households_registered,
       count(*) FILTER (WHERE x.screened) AS households_screened,
       count(*) FILTER (WHERE x.part = 'general') AS households_screened_general,
       count(*) FILTER (WHERE x.part = 'poverty_alleviated')
           AS households_screened_poverty_alleviated,
       count(*) FILTER (WHERE x.part = 'monitored') AS households_screened_monitored,
       COALESCE(sum(x.persons), 0) AS persons_screened,
       COALESCE(sum(x.persons) FILTER (WHERE x.part = 'general'), 0) AS persons_screened_general,
       COALESCE(sum(x.persons) FILTER (WHERE x.part = 'poverty_alleviated'), 0)
           AS persons_screened_poverty_alleviated,
       COALESCE(sum(x.persons) FILTER (WHERE x.part = 'monitored'), 0)
           AS persons_screened_monitored
FROM (
    SELECT h.region_code, s.household_id IS NOT NULL AS screened,
           CASE WHEN s.household_id IS NULL THEN NULL
                WHEN EXISTS (SELECT 1 FROM monitoring_objects o
                             WHERE o.county_code = h.county_code
                               AND o.household_id = h.household_id
                               AND o.status <> 'removed') THEN 'monitored'
                ELSE h.category END AS part,
           CASE WHEN s.household_id IS NULL THEN 0
                ELSE (SELECT count(*) FROM members m
                      WHERE m.county_code = h.county_code
                        AND m.household_id = h.household_id) END AS persons
    FROM households h
    LEFT JOIN screenings s
      ON s.campaign_id = :campaign_id AND s.county_code = h.county_code
     AND s.household_id = h.household_id
    WHERE h.region_code LIKE CAST(:scope AS text)
) x
GROUP BY x.region_code
"""
)

_PROBLEMS = text(
    """
SELECT region_code,
       count(*) FILTER (WHERE found_on BETWEEN :date_from AND :date_to) AS problems_found,
       count(*) FILTER (WHERE status = 'rectified'
                          AND rectified_on BETWEEN :date_from AND :date_to)
           AS problems_rectified
FROM problems
WHERE campaign_id = :campaign_id AND region_code LIKE CAST(:scope AS text)
GROUP BY region_code
"""
)


# The campaigns whose region is the table's region or one above it, those
# already started first, then the latest start.
_LATEST = text(
    "SELECT campaign_id, county_code, region_code, name, year, starts_on, phases,"
    " reported_figures FROM campaigns WHERE region_code = ANY(CAST(:codes AS text[]))"
    " ORDER BY starts_on <= :today DESC, starts_on DESC, year DESC, campaign_id DESC LIMIT 1"
)


async def latest_campaign(
    session: AsyncSession, *, region_code: str, today: date
) -> dict[str, Any] | None:
    """The latest campaign covering `region_code` (its region is that region or
    one above it), preferring one already started; None when there is none."""
    codes: list[str] = []
    code: str | None = region_code
    while code is not None:
        codes.append(code)
        code = parent_code(code)
    row = (await session.execute(_LATEST, {"codes": codes, "today": today})).mappings().first()
    return dict(row) if row is not None else None


async def find_campaign(session: AsyncSession, *, campaign_id: uuid.UUID) -> dict[str, Any] | None:
    """The campaign with `campaign_id`, or None."""
    row = (await session.execute(_CAMPAIGN, {"campaign_id": campaign_id})).mappings().first()
    return dict(row) if row is not None else None


def overlaps(scope_code: str, region_code: str) -> bool:
    """Whether one of the two regions covers the other."""
    return covers(scope_code, region_code) or covers(region_code, scope_code)


def table_region(region_code: str, campaign_region: str) -> str:
    """The narrower of `region_code` (the caller's `?region=` or scope) and the
    campaign's region; 404 when neither covers the other."""
    if covers(region_code, campaign_region):
        return campaign_region
    if covers(campaign_region, region_code):
        return region_code
    raise NotFound("The campaign does not cover this region.")


def campaign_window(campaign: Mapping[str, Any] | None, today: date) -> Period:
    """`starts_on` through the earlier of `today` and the latest phase's `due_on`;
    without a campaign, the calendar year to `today`."""
    if campaign is None:
        return Period.year_to_date(today)
    due = [date.fromisoformat(str(phase["due_on"])) for phase in campaign["phases"] or []]
    end = min([today, max(due)]) if due else today
    return Period(campaign["starts_on"], end)


def _rate(part: int, whole: int) -> float | None:
    if whole == 0:
        return None
    return float((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def _reported(campaign: Mapping[str, Any]) -> dict[str, int]:
    figures = campaign["reported_figures"] or {}
    out = {}
    for code in REPORTED:
        value = figures.get(code)
        out[code] = value if isinstance(value, int) and not isinstance(value, bool) else 0
    return out


async def _counts_by_code(
    session: AsyncSession,
    *,
    campaign: Mapping[str, Any] | None,
    region_code: str,
    places: tuple[str, ...],
    window: Period,
    today: date,
) -> dict[str, Counter[str]]:
    """Every count of the table by the region code its rows are filed at: two
    statements, and `figures_by_group`'s over the reporting summaries (for the
    rows filed at `places`)."""
    scope = scope_like_pattern(region_code)
    counts: dict[str, Counter[str]] = {}

    def add(code: str, figures: Mapping[str, int]) -> None:
        counts.setdefault(code, Counter()).update(figures)

    # No campaign: no screening or campaign problem matches a null id.
    campaign_id = None if campaign is None else campaign["campaign_id"]
    params = {"campaign_id": campaign_id, "scope": scope}
    for row in (await session.execute(_SCREENED, params)).mappings():
        add(row["region_code"], {k: int(v) for k, v in row.items() if k != "region_code"})

    window_params = params | {
        "date_from": window.date_from,
        "date_to": window.date_to,
    }
    for row in (await session.execute(_PROBLEMS, window_params)).mappings():
        add(row["region_code"], {k: v for k, v in row.items() if k != "region_code"})

    groups = await figures_by_group(
        session,
        grouping=Grouping(region_code, LEVEL_DIGITS["village"], places),
        period=window,
        today=today,
    )
    for code, figures in groups.items():
        objects = figures["monitoring_objects"]
        newly, persons = objects["newly_included"], objects["persons"]
        add(
            code,
            {f"newly_included_{t}": newly[t] for t in (*_OBJECT_TYPES, "epidemic")}
            | {
                f"persons_newly_included_{t}": persons["newly_included"][t]
                for t in (*_OBJECT_TYPES, "epidemic")
            }
            | {
                "look_backs": objects["look_backs"],
                "rollbacks": objects["rollbacks"],
                "persons_rolled_back": persons["rollbacks"],
                "removals": objects["removals"],
                "persons_removed": persons["removals"],
            },
        )
    return counts


def _figures(counts: Counter[str]) -> dict[str, Any]:
    row: dict[str, Any] = {column.code: counts[column.code] for column in FIGURE_COLUMNS}
    row["coverage_rate"] = _rate(counts["households_screened"], counts["households_registered"])
    for code in REPORTED:
        row[code] = None
    return row


async def progress_table(
    session: AsyncSession, *, campaign: Mapping[str, Any] | None, region_code: str, today: date
) -> dict[str, Any]:
    """The progress table of `campaign` (or of none) for `region_code` (inside the
    campaign's region) as of `today`: columns and rows as the module docstring says."""
    window = campaign_window(campaign, today)
    places = (
        await session.execute(
            _PLACES, {"scope": scope_like_pattern(region_code), "region": region_code}
        )
    ).all()
    counts = await _counts_by_code(
        session,
        campaign=campaign,
        region_code=region_code,
        places=tuple(place.code for place in places),
        window=window,
        today=today,
    )

    # Roll the rows filed at a code up into its village, its town and the total.
    by_prefix: dict[str, Counter[str]] = {}
    total: Counter[str] = Counter()
    for code, figures in counts.items():
        for prefix in {code, code[: LEVEL_DIGITS["town"]]}:
            by_prefix.setdefault(prefix, Counter()).update(figures)
        total.update(figures)

    rows = [
        {
            "region_code": place.code,
            "region_name": place.name,
            "level": place.level,
            **_figures(by_prefix.get(region_prefix(place.code), Counter())),
        }
        for place in places
        if place.level in ("town", "village")
    ]
    region_name = next((p.name for p in places if p.code == region_code), None)
    total_row = {
        "region_code": region_code,
        "region_name": region_name,
        "level": "total",
        **_figures(total),
    }
    if campaign is not None and region_code == campaign["region_code"]:
        total_row |= _reported(campaign)
    rows.append(total_row)

    return {
        "campaign_id": None if campaign is None else campaign["campaign_id"],
        "campaign_name": None if campaign is None else campaign["name"],
        "year": window.date_to.year if campaign is None else campaign["year"],
        "region": region_code,
        "region_name": region_name,
        "level": region_level(region_code),
        "period": {"date_from": window.date_from, "date_to": window.date_to},
        "columns": [{"code": c.code, "label": c.label} for c in COLUMNS],
        "rows": rows,
    }
