# The two commands: `make run` serves the hub, `make test` runs the whole suite.
# Both create .venv and install into it on first use; nothing else is needed but Python 3.11.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: install run test bench lint vendor clean

$(INSTALLED): requirements/base.txt requirements/local.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/local.txt
	touch $@

install: $(INSTALLED)

PORT ?= 8000

run: install
	$(PY) manage.py runhub --port $(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks (not tests): fan-out side by side with the tutorial approach and a raw
# reference, the latency run, then the publish cost. See docs/performance.md.
bench: install
	$(PY) bench/fanout.py $(BENCH_ARGS)
	$(PY) bench/fanout.py --latency --setups hub-uvicorn
	$(PY) bench/publish_cost.py

# The contracts a machine checks: style (ruff), types (mypy), imports (import-linter:
# the core imports neither its features nor the demo). CI runs it before the suite.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Front-end libraries from the npm registry (package.json), copied into static files: the
# pages load them from the site itself, never from a CDN. The copies are committed.
vendor:
	npm ci --no-audit --no-fund
	cp node_modules/dompurify/dist/purify.min.js notifications/static/notifications/vendor/purify.min.js
	cp node_modules/dompurify/LICENSE notifications/static/notifications/vendor/purify.LICENSE

clean:
	rm -rf $(VENV) .hub staticfiles build *.egg-info
