"""Webhooks: feedback items pushed to the departments' systems as they happen
(推送-核实-反馈, SPEC §12; API.md "feedback pushed")."""
