# Every command of the project. See README.md.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench install-demo install-dev services pcscd compose-check clean

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

compose-check:
	docker-compose -f docker-compose.yml config -q

clean:
	rm -rf var build *.egg-info
