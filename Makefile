# GNU make. `make run` serves the demo; `make test` runs everything CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall only when pyproject.toml is newer than this stamp: a second `make run` is quick.
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help install run test lint bench migrate regen-migration clean distclean

help:
	@echo "make run              install if needed, migrate, seed a demo city, serve on :8000"
	@echo "make test             the whole suite (SQLite, PostgreSQL, Redis) and ruff"
	@echo "make lint             ruff check"
	@echo "make bench            all benchmarks (ratios against a same-run baseline)"
	@echo "make migrate          alembic upgrade head on HPF_DATABASE_URL (default var/)"
	@echo "make regen-migration  rebuild revision 0001 from the models (pre-release only)"
	@echo "make clean            caches and build leftovers; distclean also .venv and var/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/hpf up

test: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)
	$(BIN)/ruff check .

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/hpf bench all

migrate: $(STAMP)
	$(BIN)/alembic upgrade head

regen-migration: $(STAMP)
	scripts/regen_initial_migration.sh

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis build dist src/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) var
