# The two commands a newcomer needs: `make run` and `make test`.
VENV    ?= .venv
PYTHON  ?= python3
BIN     := $(VENV)/bin
HOST    ?= 127.0.0.1
PORT    ?= 5000

.PHONY: run port-free test coverage install install-test browser db bench bench-proxy translations clean

# With REDIS_URL (or MODERATION_REDIS_URL) set, the job queue's worker (`flask worker`: webhook
# deliveries) runs beside the server and is stopped with it; without, deliveries run in a thread
# of each web process.
run: port-free install db
	@worker=; if [ -n "$$REDIS_URL$$MODERATION_REDIS_URL" ]; then \
	  $(BIN)/flask --app wsgi worker & worker=$$!; fi; \
	trap 'if [ -n "$$worker" ]; then kill $$worker 2>/dev/null; wait $$worker; fi' EXIT; \
	GUNICORN_BIND=$(HOST):$(PORT) WEB_CONCURRENCY=$${WEB_CONCURRENCY:-2} $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# A server already there: said at once (gunicorn would retry five times, then stop on a bare error).
port-free:
	@$(PYTHON) scripts/port_free.py '$(HOST)' $(PORT)

# Lint (ruff, imports sorted), then the whole suite on one worker more than the cores (pytest-xdist;
# each worker makes its own PostgreSQL databases): a tenth of the suite's time is spent waiting on
# servers, browsers and subprocesses, and with a worker per core the cores were 88-90% busy, with
# one more 98%. The slowest tests go first (tests/conftest.py, RUN_FIRST), and workers take at most
# four tests at a time, so that they finish together.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))
# Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE): the suite
# starts a hundred Python processes (gunicorn workers, commands, scripts), and each compiled the
# package from source, 0.4 s apiece.
test: install-test browser
	$(BIN)/ruff check .
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n $(TEST_WORKERS) --maxschedchunk 4 $(PYTEST_ARGS)

# The same suite under coverage (a third slower on this Python), then the report.
coverage: install-test browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --cov --cov-report=term $(PYTEST_ARGS)

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# uv installs into the venv what pip would (the same pyproject.toml, the same resolution rules) in a
# fifth of the time: on a fresh clone pip's install was 13 of `make test`'s seconds, uv's about 6.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e .
	touch $@

# The package and its test tools in one run (each run builds the editable wheel again), which also
# stands for the plain install.
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[test]'
	touch $@ $(VENV)/.installed

# Debian's Chromium and CJK fonts for the browser tests (Playwright cannot download a browser here),
# and the page checkers they run (axe-core, vnu-jar from npm; Java for vnu).
browser:
	scripts/install-browser.sh

# After changing a user-facing string: extract, merge into zh_Hant/zh_Hans/en, fill zh_Hans with
# OpenCC for review, compile. Fails while an English string is missing; the tests check the same.
translations: install-test
	$(BIN)/python scripts/translations.py

# Creates or upgrades the schema and loads the bundled seed article once; safe to repeat.
db: install
	$(BIN)/flask --app wsgi init-db

# Run on a quiet machine: nothing else (no test suite) beside it. Each script exits non-zero on a missed target.
bench: install-test
	scripts/install-bench-tools.sh
	$(BIN)/python -m bench.screening
	$(BIN)/python -m bench.false_positives
	$(BIN)/python -m bench.moderation_queue
	$(BIN)/python -m bench.dashboard
	$(BIN)/python -m bench.first_page
	$(BIN)/python -m bench.serving

# Opt-in: Debian's nginx with deploy/nginx.conf in front of gunicorn.
bench-proxy: install-test
	scripts/install-bench-tools.sh --with-nginx
	$(BIN)/python -m bench.proxy

clean:
	rm -rf $(VENV) .pytest_cache node_modules
