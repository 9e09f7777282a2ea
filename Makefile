# Every command of the project. See README.md.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench screenshots references package schemathesis soak compose-check clean

## make demo: run the product on the embedded default (SQLite, no Redis): server, console, sandbox and one terminal.
demo:
	bash scripts/demo.sh

## make test: install what the tests need (apt + pip), make sure PostgreSQL, Redis and pcscd run, ruff + pytest.
test:
	bash scripts/test.sh

## make lint: ruff only.
lint:
	$(VENV)/bin/ruff check .

## make bench: the benchmarks in bench/ (real services, figures printed).
bench:
	bash scripts/bench.sh

## make screenshots: every screen and dialog of the terminal at 1280×800 into docs/screens/ (index.md lists them).
screenshots:
	bash scripts/screenshots.sh

## make references: re-render the reference screens the test suite compares with (after an intended change).
references:
	bash scripts/screenshots.sh --references

## make package: the terminal as an installable one-folder app (PyInstaller) in build/dist/myna-terminal/.
package:
	bash scripts/package.sh

## make soak: bench/soak.py — 50 simulated tablets for 10 minutes; errors, p95 per endpoint, RSS of web and worker.
soak:
	bash scripts/soak.sh

## make schemathesis: the schemathesis run of make test, larger (every operation, 150 examples per mode; 150 scenarios).
schemathesis:
	SCHEMATHESIS_EXAMPLES=$${SCHEMATHESIS_EXAMPLES:-150} SCHEMATHESIS_STEPS=$${SCHEMATHESIS_STEPS:-150} \
		bash scripts/test.sh tests/server/test_schemathesis.py

## make compose-check: validate docker-compose.yml (compose v1 keys).
compose-check:
	docker-compose -f docker-compose.yml config -q

## make clean: remove what make demo and make package leave behind (var/: the demo's SQLite database and data; build/).
clean:
	rm -rf var build *.egg-info
