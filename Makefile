# Benchmarks run on demand (bench/README.md), never in the test run.
PYTHON ?= python

.PHONY: bench bench-quick

# Every issue-6 bench at full size: run it on a quiet machine.
bench:
	$(PYTHON) bench/run_all.py

# The same at small sizes, a few minutes in all.
bench-quick:
	$(PYTHON) bench/run_all.py --quick
