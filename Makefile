# Branchline: `make run` starts everything on this machine; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench install clean-instance screenshots

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

## Migrate, seed a demo region if the database is empty, start Redis (embedded), a worker and the web app.
run: $(STAMP)
	$(BIN)/flask --app crm crm serve

## The whole suite (SQLite + embedded Redis by default; DATABASE_URL / REDIS_URL to use servers).
test: $(STAMP)
	$(BIN)/pytest

## Benchmarks: one table of measured vs baseline.
bench: $(STAMP)
	$(BIN)/python -m bench

## Screenshots of every page at 375px and 1280px (needs `make run` in another terminal).
screenshots: $(STAMP)
	$(BIN)/python ../shared/tools/screenshots.py http://127.0.0.1:$${PORT:-5000} admin@demo.branchline.example branchline-demo tests/artifacts/screens

## Remove the local SQLite database, embedded Redis data and secret key.
clean-instance:
	rm -rf instance
