"""The event types services exchange through the `events` table, with the
payload each one promises (SPEC §8). A consumer relies on these names and
keys; a writer adds keys freely but never removes one. No payload holds a
name or an ID number (`shared.events.check_payload`).
"""

from __future__ import annotations

# -- registry (aggregate: ("registry", county_code)) -------------------------
# {"households": int, "members": int}, one per county touched by a load.
HOUSEHOLDS_LOADED = "registry.households_loaded"

# -- warnings (aggregate: ("warning", warning_id)) ----------------------------
# Every stored warning gets exactly one of the first three when it is stored,
# and one of accepted / below_threshold / dismissed when a later match or a
# resolve settles an unmatched one. Payload of all of them:
# {"warning_id", "department", "warning_type", "status", "household_id" | None,
#  "county_code", "region_code", "event_date" | None, "received_on", "late"}
# and, on the events that settle an unmatched warning, where it was before:
# "previous": {"status": "unmatched", "county_code", "region_code"}.
WARNING_ACCEPTED = "warning.accepted"  # matched, a risk clue: identification opens a case
WARNING_UNMATCHED = "warning.unmatched"  # person not in the registry: the unmatched queue
WARNING_BELOW_THRESHOLD = "warning.below_threshold"  # matched, under the policy threshold
WARNING_DISMISSED = "warning.dismissed"  # an unmatched warning dismissed by county staff
WARNING_EVENTS = frozenset(
    {WARNING_ACCEPTED, WARNING_UNMATCHED, WARNING_BELOW_THRESHOLD, WARNING_DISMISSED}
)

# -- feeds (aggregate: ("feed", "<department>:<warning_type>[:<population>]")) --
# {"department", "warning_type", "population", "due_at", "last_push_at" | None}, once per
# missed due time; population "all", or a per-population feed's (aggregate id suffixed).
FEED_LATE = "feed.late"

# -- cases (aggregate: ("case", case_id)), written by identification ----------
# case.opened: {"case_id", "household_id", "county_code", "region_code", "source",
#               "opened_on", "deadline", "warning_ids": [...]}
# case.warnings_attached: {"case_id", "household_id", "warning_ids": [...]}
# case.step_completed: {"case_id", "step", "done_on"}
# case.green_channel: {"case_id"}
# case.decided: {"case_id", "household_id", "outcome": "included" | "not_included"
#                | "not_eligible" | "risk_updated", "decided_on",
#                "monitoring_type"?, "risk_types"?}; every ending of a case, the visit's too.
# case.overdue: {"case_id", "deadline"}, once per case, by the overdue scan.
CASE_OPENED = "case.opened"
CASE_WARNINGS_ATTACHED = "case.warnings_attached"
CASE_STEP_COMPLETED = "case.step_completed"
CASE_GREEN_CHANNEL = "case.green_channel"
CASE_DECIDED = "case.decided"
CASE_OVERDUE = "case.overdue"

# -- monitoring objects (aggregate: ("monitoring_object", object_id)) ----------
# {"object_id", "household_id", "county_code", "region_code", "monitoring_type",
#  "risk_types", "case_id", "included_on" | "updated_on" | "removed_on"}
MONITORING_OBJECT_INCLUDED = "monitoring_object.included"
MONITORING_OBJECT_RISK_UPDATED = "monitoring_object.risk_updated"
MONITORING_OBJECT_REMOVED = "monitoring_object.removed"

# -- requests upward (aggregate: ("object_request", request_id)), SPEC §12 ---------
# request.filed: {"request_id", "object_id", "household_id", "county_code", "region_code",
#                 "kind": "rollback" | "removal", "requested_on", "levels": [level, ...]}
# request.decided: {"request_id", "object_id", "household_id", "county_code", "region_code",
#                   "kind", "level", "decision": "approved" | "rejected", "decided_on",
#                   "status": "pending" | "approved" | "rejected"}; one per level decided.
#   The last level's approval is followed by the object's own event
#   (risk.rolled_back or monitoring_object.removed). The reason, the evidence,
#   the document number (文号) and the notes are free text: rows only.
# A direct removal or rollback under a one-level chain writes both, decided at once.
REQUEST_FILED = "request.filed"
REQUEST_DECIDED = "request.decided"

# -- assistance ------------------------------------------------------------
# measure.* (aggregate ("measure", measure_id)): {"measure_id", "object_id" | None,
#   "case_id" | None, "household_id", "county_code", "category", "development",
#   "status", "planned_on", "started_on" | None, "completed_on" | None}
MEASURE_PLANNED = "measure.planned"
MEASURE_STARTED = "measure.started"
MEASURE_COMPLETED = "measure.completed"
MEASURE_CANCELLED = "measure.cancelled"
# assessment.recorded (aggregate ("monitoring_object", object_id)):
#   {"assessment_id", "object_id", "household_id", "kind", "assessed_on", "above_line"}
ASSESSMENT_RECORDED = "assessment.recorded"
# monitoring_object.flags_changed: {"object_id", "whole_household_no_labour"}
MONITORING_OBJECT_FLAGS_CHANGED = "monitoring_object.flags_changed"
# risk.eliminated / risk.rolled_back (aggregate ("monitoring_object", object_id)):
#   {"object_id", "household_id", "county_code", "decided_on" | "rolled_back_on"};
#   risk.eliminated also has "natural": bool (自然消除, without assistance).
RISK_ELIMINATED = "risk.eliminated"
RISK_ROLLED_BACK = "risk.rolled_back"
# assistance.gap_opened: {"object_id" | None, "household_id", "kind", "since",
#   "county_code", "region_code"}, once per gap; `object_id` is None for a
#   poverty-alleviated household's visit_overdue (aggregate ("household", household_id)).
GAP_OPENED = "assistance.gap_opened"
# visit.recorded (aggregate ("household", household_id)), a monthly visit (每月走访):
#   {"visit_id", "household_id", "county_code", "region_code", "object_id" | None,
#    "visited_on", "new_risk"}; `new_risk` true: identification opens a
#   `cadre_screening` case unless the household has one open.
VISIT_RECORDED = "visit.recorded"

# -- screening campaigns (identification, SPEC §11) ---------------------------
# campaign.created (aggregate ("campaign", campaign_id)): {"campaign_id", "county_code",
#   "region_code", "year"}
# campaign.updated: {"campaign_id", "county_code", "phases_done": [index],
#   "reported_figures": {...}} (county staff marked phases done or entered figures)
# screening.recorded (aggregate ("campaign", campaign_id)), one per upload:
#   {"campaign_id", "accepted", "replaced", "rejected", "cases_opened", "cases_joined"}
# spot_check.drawn (aggregate ("spot_check", spot_check_id)): {"spot_check_id",
#   "campaign_id", "kind", "seed", "households": n}
# spot_check.results_recorded: {"spot_check_id", "campaign_id", "checked": n, "differences": n}
# problem.* (aggregate ("problem", problem_id)): {"problem_id", "campaign_id" | None,
#   "county_code", "region_code", "type", "found_on", "due_on", "status",
#   "rectified_on" | None}; problem.overdue once per problem, by the gap scan.
CAMPAIGN_CREATED = "campaign.created"
CAMPAIGN_UPDATED = "campaign.updated"
SCREENING_RECORDED = "screening.recorded"
SPOT_CHECK_DRAWN = "spot_check.drawn"
SPOT_CHECK_RESULTS_RECORDED = "spot_check.results_recorded"
PROBLEM_RECORDED = "problem.recorded"
PROBLEM_RECTIFIED = "problem.rectified"
PROBLEM_OVERDUE = "problem.overdue"
