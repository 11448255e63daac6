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
WARNING_ACCEPTED = "warning.accepted"  # matched, a risk clue: identification opens a case
WARNING_UNMATCHED = "warning.unmatched"  # person not in the registry: the unmatched queue
WARNING_BELOW_THRESHOLD = "warning.below_threshold"  # matched, under the policy threshold
WARNING_DISMISSED = "warning.dismissed"  # an unmatched warning dismissed by county staff
WARNING_EVENTS = frozenset(
    {WARNING_ACCEPTED, WARNING_UNMATCHED, WARNING_BELOW_THRESHOLD, WARNING_DISMISSED}
)

# -- feeds (aggregate: ("feed", "<department>:<warning_type>")) ----------------
# {"department", "warning_type", "due_at", "last_push_at" | None}, once per missed due time.
FEED_LATE = "feed.late"

# -- cases (aggregate: ("case", case_id)), written by identification ----------
# case.opened / case.warnings_attached: {"case_id", "household_id", "warning_ids": [...], ...}
# case.decided: {"case_id", "outcome": "included" | "not_included" | "not_eligible"
#                | "risk_updated", ...}; every ending of a case, the visit's too.
CASE_OPENED = "case.opened"
CASE_WARNINGS_ATTACHED = "case.warnings_attached"
CASE_DECIDED = "case.decided"
