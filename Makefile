# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The suite runs on PostgreSQL when one answers on 127.0.0.1:5432 (as in CI), else SQLite.
TEST_DATABASE_URL ?= $(shell $(PYTHON) -c "import socket;s=socket.socket();s.settimeout(1);print('postgres://postgres@127.0.0.1:5432/postgres' if s.connect_ex(('127.0.0.1',5432))==0 else '')")
PYTEST_ARGS ?=

.PHONY: run test lint chromium nginx clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-test.txt
	touch $@

run: $(VENV)/.installed
	@mkdir -p var
	$(PY) scripts/devserver.py run

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }; \
	  else echo "Browser tests need Chromium: run 'sudo apt-get install chromium' once."; exit 1; fi; \
	fi

# The scale-out test runs the README's nginx block in Debian's nginx.
nginx:
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light; }; \
	  else echo "The scale-out test needs nginx: run 'sudo apt-get install nginx-light' once."; exit 1; fi; \
	fi

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: $(VENV)/.installed-test chromium nginx lint
	@mkdir -p var staticfiles
	# Browser tests run in their own pytest process: Playwright's sync API keeps an event
	# loop on the test thread for the whole session, which must not leak into other tests.
	DATABASE_URL="$(TEST_DATABASE_URL)" CUTROOM_TEST_SLOT=$${CUTROOM_TEST_SLOT:-ci} \
	  $(PY) scripts/devserver.py exec -- sh -c '$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS); a=$$?; $(PY) -m pytest -m e2e $(PYTEST_ARGS); b=$$?; exit $$((a || b))'


clean:
	rm -rf var/test-logs var/test*.sqlite3 .pytest_cache
