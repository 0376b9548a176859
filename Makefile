# The two commands: `make run` serves the hub, `make test` runs the whole suite.
# Both create .venv and install into it on first use; nothing else is needed but Python 3.11.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: install run test bench bench-deps bench-connect bench-storm lint vendor clean

$(INSTALLED): requirements/base.txt requirements/local.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/local.txt
	touch $@

install: $(INSTALLED)

PORT ?= 8000

run: install
	$(PY) manage.py runhub --port $(PORT)

NPM := $(shell command -v npm)
test: install $(if $(NPM),node_modules/.package-lock.json)
	$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks (not tests), see docs/performance.md: fan-out and connect time beside Socket.IO
# (Node), python-socketio and a raw reference, one and two hub processes; the connect rate;
# idle memory; what compression costs; the reconnect storm; the latency run; the publish
# cost; then the targets, met or not.
# The peers' extras come from bench/requirements.txt (pip) and bench/package.json (npm).
BENCH_ARGS ?= --clients 1000 5000
CONNECT_ARGS ?= --clients 1000 10000
STORM_ARGS ?= --clients 5000 --rate 50
bench: bench-deps
	$(PY) bench/fanout.py $(BENCH_ARGS) --json .hub/bench-fanout.json
	$(PY) bench/connect.py $(CONNECT_ARGS) --json .hub/bench-connect.json
	$(PY) bench/idle.py --clients 10000 --minutes 0.2 --json .hub/bench-idle.json
	$(PY) bench/compression.py
	$(PY) bench/storm.py $(STORM_ARGS) --json .hub/bench-storm.json
	$(PY) bench/storm.py $(STORM_ARGS) --topics 50 --json .hub/bench-storm-50topics.json
	$(PY) bench/fanout.py --latency --setups hub socketio --json .hub/bench-latency.json
	$(PY) bench/publish_cost.py --json .hub/bench-publish.json
	$(PY) bench/report.py

bench-deps: install $(VENV)/.bench-installed bench/node_modules/.package-lock.json

$(VENV)/.bench-installed: bench/requirements.txt $(INSTALLED)
	$(PY) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

bench/node_modules/.package-lock.json: bench/package.json bench/package-lock.json
	cd bench && npm ci --no-audit --no-fund

# The scenarios one at a time.
bench-connect: bench-deps
	$(PY) bench/connect.py $(CONNECT_ARGS) --profile

bench-storm: bench-deps
	$(PY) bench/storm.py $(STORM_ARGS)

# The contracts a machine checks: style (ruff), types (mypy), imports (import-linter:
# the core imports neither its features nor the demo). CI runs it before the suite.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Front-end libraries from the npm registry (package.json), copied into static files: the
# pages load them from the site itself, never from a CDN. The copies are committed, so that
# `make run` needs no Node.js. Source maps are not shipped (collectstatic's manifest would look for them).
BOOTSTRAP := hub/static/hub/vendor/bootstrap
ICONS := hub/static/hub/vendor/bootstrap-icons
vendor:
	npm ci --no-audit --no-fund
	sed '/sourceMappingURL/d' node_modules/dompurify/dist/purify.min.js > notifications/static/notifications/vendor/purify.min.js
	cp node_modules/dompurify/LICENSE notifications/static/notifications/vendor/purify.LICENSE
	mkdir -p $(BOOTSTRAP) $(ICONS)/fonts
	sed '/sourceMappingURL/d' node_modules/bootstrap/dist/css/bootstrap.min.css > $(BOOTSTRAP)/bootstrap.min.css
	sed '/sourceMappingURL/d' node_modules/bootstrap/dist/js/bootstrap.bundle.min.js > $(BOOTSTRAP)/bootstrap.bundle.min.js
	cp node_modules/bootstrap/LICENSE $(BOOTSTRAP)/LICENSE
	cp node_modules/bootstrap-icons/font/bootstrap-icons.min.css $(ICONS)/
	cp node_modules/bootstrap-icons/font/fonts/bootstrap-icons.woff2 node_modules/bootstrap-icons/font/fonts/bootstrap-icons.woff $(ICONS)/fonts/
	cp node_modules/bootstrap-icons/LICENSE $(ICONS)/LICENSE

# The browser tests' own tools from the npm registry (axe-core): installed when npm is there;
# without them the accessibility checks skip, saying why.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund || echo "npm ci failed: the accessibility checks will be left out"

clean:
	rm -rf $(VENV) .hub staticfiles build *.egg-info
