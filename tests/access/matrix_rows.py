"""The access matrix's rows (tests/access/test_matrix.py), written from the
contract: one (method, path template) each, with the status class every
caller must get and a body good enough that an allowed caller succeeds."""

from __future__ import annotations

from tests.access.matrix_callers import (
    CLIENTS,
    PUSHER,
    STAFF_IN,
    STAFF_OUT,
    TODAY,
    Row,
    any_caller,
    base,
    clients,
    readers,
    staff,
    staff_anywhere,
)
from tests.services.identification.ledger_helpers import screening_record
from tests.services.identification.screening_helpers import (
    PHASES,
    TOWN,
    VILLAGE,
    screening,
)

IG, ID, AS, RP = "/ingest/v1", "/identification/v1", "/assistance/v1", "/reporting/v1"
IN_VILLAGE = {"region": VILLAGE}

VISIT = {
    "visited_on": TODAY,
    "income_per_capita_yuan": 5200.5,
    "rigid_expenditure_yuan": 31000,
    "housing_secure": True,
    "education_secure": True,
    "medical_secure": False,
    "drinking_water_secure": True,
    "authorisation_signed": True,
    "eligible": True,
}
ASSESSMENT = {
    "assessed_on": TODAY,
    "kind": "routine",
    "income_per_capita_yuan": 9000,
    "rigid_expenditure_yuan": 0,
    "housing_secure": True,
    "education_secure": True,
    "medical_secure": True,
    "drinking_water_secure": True,
}
HOUSEHOLD_LOAD = {
    "households": [
        {
            "household_id": "H-1",
            "region_code": VILLAGE,
            "category": "general",
            "head_name": "张三",
            "members": [
                {
                    "id_number": "610326198001010011",
                    "name": "张三",
                    "relation": "head",
                    "labour_capacity": "full",
                }
            ],
        }
    ]
}
CASE = ID + "/cases/{case_id}"
OBJECT_ID = ID + "/monitoring_objects/{object_id}"
OBJECT_AS = AS + "/monitoring_objects/{object_id}"
CAMPAIGN = ID + "/campaigns/{campaign_id}"
SPOT = CAMPAIGN + "/spot_checks/{spot_check_id}"
SUBSCRIPTION = IG + "/subscriptions/{subscription_id}"
HOOKS = "hooks.example.test"
# A subscription is its department's: another department's client gets 404.
OWN_SUBSCRIPTION = base(**{c: "404" for c in CLIENTS}) | {f"client:{PUSHER}": "ok"}
# An addition to API.md, by design: the administrator who issues client tokens
# also reads receipts and feed states, to see whether a department's system pushes.
ADMIN = "admin"

ROWS: list[Row] = [
    # warning_ingest
    Row("POST", IG + "/batches", clients(), body={"records": []}),
    Row(
        "GET",
        IG + "/batches/{batch_id}",
        # Another department's client: 404 (the receipt is not theirs).
        base(
            **{c: "404" for c in CLIENTS},
            # A receipt spans the counties of the push: county staff only.
            **{c: "403" for c in (*STAFF_IN, *STAFF_OUT)},
        )
        | {f"client:{PUSHER}": "ok", ADMIN: "ok", "county_in": "ok", "county_out": "ok"},
    ),
    Row("GET", IG + "/warnings", staff(), query=IN_VILLAGE),
    Row("GET", IG + "/unmatched", staff(), query=IN_VILLAGE),
    Row("GET", IG + "/warnings/{warning_id}", staff()),
    Row(
        "POST",
        IG + "/warnings/{warning_id}/resolve",
        staff("county_staff"),
        use={"warning_id": "unmatched_id"},
        body={"action": "dismiss", "reason": "核实不属实"},
    ),
    Row(
        "GET",
        IG + "/feeds",
        base(**{c: "ok" for c in (*CLIENTS, *STAFF_IN, *STAFF_OUT)}) | {ADMIN: "ok"},
    ),
    Row("GET", IG + "/catalog", any_caller()),
    Row("GET", IG + "/feedback", clients()),
    Row("POST", IG + "/subscriptions", clients(), body={"url": f"https://{HOOKS}/warnex"}),
    Row("GET", IG + "/subscriptions", clients()),
    Row("DELETE", SUBSCRIPTION, OWN_SUBSCRIPTION),
    # The policy's roster departments (shipped: medical insurance and civil affairs).
    Row(
        "GET",
        IG + "/roster",
        base(**{"client:medical_insurance": "ok", "client:civil_affairs": "ok"}),
        query={"format": "ndjson"},
    ),
    Row("GET", SUBSCRIPTION + "/deliveries", OWN_SUBSCRIPTION),
    Row("POST", SUBSCRIPTION + "/deliveries/{delivery_id}/redeliver", OWN_SUBSCRIPTION),
    # A county load outside its county rejects the households in the answer
    # (like a screening upload), so county staff elsewhere are past the role check.
    Row(
        "POST",
        IG + "/registry/households",
        base(county_in="ok", county_out="ok", admin="ok"),
        body=HOUSEHOLD_LOAD,
    ),
    Row(
        "POST",
        IG + "/registry/regions",
        base(admin="ok"),
        body={"regions": [{"code": VILLAGE, "name": "第一村"}]},
    ),
    # identification
    Row("GET", ID + "/cases", staff(), query=IN_VILLAGE),
    Row("GET", ID + "/cases/export", staff(), query=IN_VILLAGE),
    Row(
        "GET",
        ID + "/cases/export",
        staff("county_staff"),
        variant="reveal",
        query={**IN_VILLAGE, "reveal": "true"},
    ),
    Row(
        "POST",
        ID + "/cases",
        staff(),
        body={
            "household_id": "H-3",
            "source": "self_report",
            "found_on": TODAY,
            "description": "家中突发变故",
        },
    ),
    Row("GET", CASE, staff()),
    Row(
        "POST",
        CASE + "/steps/household_visit",
        staff("village_staff", "county_staff"),
        body=VISIT,
    ),
    Row(
        "POST",
        CASE + "/steps/village_review",
        staff("village_staff", "county_staff"),
        rule="the household visit is not recorded yet",
        body={
            "reviewed_on": TODAY,
            "notice_start": TODAY,
            "notice_end": "2026-05-24",
            "objections": False,
        },
    ),
    Row(
        "POST",
        CASE + "/steps/township_review",
        staff("township_staff", "county_staff"),
        rule="the village review is not recorded yet",
        body={"reviewed_on": TODAY, "approved": True},
    ),
    Row(
        "POST",
        CASE + "/steps/county_approval",
        staff("county_staff"),
        rule="the reviews are not recorded yet",
        body={
            "approved_on": TODAY,
            "comparison_waived": False,
            "outcome": "included",
            "monitoring_type": "marginal",
            "risk_types": ["illness"],
        },
    ),
    Row(
        "POST",
        CASE + "/green_channel",
        staff("county_staff"),
        rule="the household visit is not recorded yet",
        body={"reason": "突发重病"},
    ),
    Row("GET", ID + "/monitoring_objects", staff(), query=IN_VILLAGE),
    Row("GET", ID + "/monitoring_objects/export", staff(), query={**IN_VILLAGE, "format": "xlsx"}),
    Row("GET", OBJECT_ID, staff()),
    Row(
        "POST",
        OBJECT_ID + "/removal",
        staff("county_staff"),
        body={"reason": "识别有误", "approved_by": "县乡村振兴局"},
    ),
    Row(
        "POST",
        OBJECT_ID + "/requests",
        staff("township_staff", "county_staff"),
        use={"object_id": "eliminated_id"},
        body={"kind": "rollback", "reason": "因病返贫风险", "requested_on": TODAY},
    ),
    Row("GET", ID + "/requests", staff(), query=IN_VILLAGE),
    Row("GET", ID + "/requests/{request_id}", staff()),
    Row(
        "POST",
        ID + "/requests/{request_id}/decisions",
        staff("county_staff"),
        body={"level": "county", "decision": "approved", "decided_on": TODAY},
    ),
    Row("GET", ID + "/households/{household_id}", staff()),
    Row("GET", ID + "/follow_up", staff(), query=IN_VILLAGE),
    Row(
        "GET",
        ID + "/households/{household_id}",
        staff("county_staff"),
        variant="reveal",
        query={"reveal": "true"},
    ),
    Row(
        "POST",
        ID + "/campaigns",
        staff("county_staff"),
        body={"name": "2026年集中排查", "region_code": TOWN, "year": 2026, "phases": PHASES},
    ),
    Row("GET", ID + "/campaigns", staff_anywhere()),
    Row("GET", ID + "/campaigns/catalog", any_caller()),
    Row("GET", CAMPAIGN, staff()),
    Row(
        "PATCH",
        CAMPAIGN,
        staff("county_staff"),
        body={"reported_figures": {"staff_trained": 3}},
    ),
    Row("POST", CAMPAIGN + "/screenings", staff(), body={"records": [screening("H-1")]}),
    Row("GET", CAMPAIGN + "/coverage", staff()),
    Row("GET", CAMPAIGN + "/unscreened", staff()),
    Row("POST", CAMPAIGN + "/spot_checks", staff("county_staff"), body={"kind": "spot", "seed": 7}),
    Row("GET", CAMPAIGN + "/spot_checks", staff()),
    Row("GET", SPOT, staff()),
    Row("POST", SPOT + "/results", staff(), body={"records": [screening_record("H-1")]}),
    Row(
        "POST",
        ID + "/problems",
        staff(),
        body={
            "region_code": VILLAGE,
            "type": "data_quality",
            "description": "台账与系统不一致",
            "found_on": TODAY,
            "due_on": "2026-06-20",
            "responsible": "村委会",
        },
    ),
    Row(
        "PATCH",
        ID + "/problems/{problem_id}",
        staff(),
        body={"status": "rectified", "rectified_on": TODAY, "action": "已更正"},
    ),
    Row("GET", ID + "/problems/{problem_id}", staff()),
    Row("GET", ID + "/problems", staff(), query=IN_VILLAGE),
    Row("GET", ID + "/problems/export", staff(), query=IN_VILLAGE),
    # The county's audit trail (not in API.md; SPEC §9: county staff audit): the
    # caller's own county, so county staff anywhere see theirs.
    Row("GET", ID + "/audit", staff_anywhere("county_staff")),
    # assistance
    Row("GET", AS + "/catalog", any_caller()),
    Row(
        "POST",
        AS + "/measures",
        staff(),
        body={"object_id": "{object_id}", "category": "industry", "planned_on": TODAY},
    ),
    Row("GET", AS + "/measures/{measure_id}", staff()),
    Row(
        "PATCH",
        AS + "/measures/{measure_id}",
        staff(),
        body={"status": "in_progress", "started_on": TODAY},
    ),
    Row("GET", AS + "/measures", staff(), query=IN_VILLAGE),
    Row("GET", AS + "/measures/export", staff(), query=IN_VILLAGE),
    Row("GET", OBJECT_AS, staff()),
    Row("POST", OBJECT_AS + "/assessments", staff(), body=ASSESSMENT),
    Row("GET", OBJECT_AS + "/assessments", staff()),
    Row(
        "PUT",
        OBJECT_AS + "/flags",
        staff("county_staff"),
        body={"whole_household_no_labour": False},
    ),
    Row(
        "POST",
        OBJECT_AS + "/elimination",
        staff("county_staff"),
        rule="the object has no assessment and is monitored under 180 days",
        body={"decided_on": TODAY},
    ),
    Row(
        "POST",
        OBJECT_AS + "/rollback",
        staff("county_staff"),
        use={"object_id": "eliminated_id"},
        body={"reason": "因病返贫风险"},
    ),
    Row("GET", AS + "/gaps", staff(), query=IN_VILLAGE),
    # H-2 is a monitoring object's household: visited monthly.
    Row(
        "POST",
        AS + "/households/{household_id}/visits",
        staff(),
        use={"household_id": "monitored_household_id"},
        body={"visited_on": TODAY, "income_per_capita_yuan": 8000, "new_risk": True},
    ),
    Row("GET", AS + "/ready_to_eliminate", staff(), query=IN_VILLAGE),
    Row("GET", AS + "/rollback_candidates", staff(), query=IN_VILLAGE),
    # reporting: viewers and staff
    Row("GET", RP + "/overview", readers(), query=IN_VILLAGE),
    # Town A's villages: village staff of A1 do not cover the town (404).
    Row(
        "GET",
        RP + "/regions",
        {**readers(), "village_in": "404"},
        query={"region": TOWN, "level": "village"},
    ),
    Row("GET", RP + "/feeds", readers(), query=IN_VILLAGE),
    Row("GET", RP + "/red_flags", readers(), query=IN_VILLAGE),
    # The staff to-do list: staff only (a viewer gets 403), inside the scope.
    Row("GET", RP + "/worklist", staff(), query=IN_VILLAGE),
    Row("GET", RP + "/trend", readers(), query={**IN_VILLAGE, "interval": "week"}),
    Row(
        "GET",
        RP + "/progress_table",
        readers(),
        query={**IN_VILLAGE, "campaign_id": "{campaign_id}", "format": "json"},
    ),
]
