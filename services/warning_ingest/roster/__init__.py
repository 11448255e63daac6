"""The roster of poverty-alleviated and monitored persons for the departments
that push on a cadence per population (SPEC §12; API.md "rosters")."""
