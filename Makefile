# coopreg — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: bench fuzz redis run test test-sqlite test-postgres lint install install-test chromium libreoffice postgres clean \
	translations extract-messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make run: install, migrate the embedded SQLite database, load the demo once, serve on :5000
run: install translations
	$(BIN)/coopreg db upgrade
	$(BIN)/coopreg demo
	@echo "coopreg is serving on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	@$(BIN)/coopreg worker --workers 2 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --workers 1 --threads 8 --worker-class gthread \
		--bind $(HOST):$(PORT) --access-logfile - "coopreg:create_app()"

## make test: the whole suite on SQLite and on PostgreSQL, the two runs side by side (each has
## its own temporary folder, databases and Redis database; each run's output is printed whole
## when it ends); `make test-sqlite` or `make test-postgres` runs one
test: install-test chromium libreoffice postgres redis lint translations
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

lint: install-test
	$(BIN)/ruff check .

test-sqlite: install-test translations
	$(BIN)/pytest -p no:cacheprovider

test-postgres: install-test postgres translations
	COOPREG_TEST_DATABASE_URL=$(PG_TEST_URL) COOPREG_TEST_REDIS_URL=redis://127.0.0.1:6379/14 \
		$(BIN)/pytest -p no:cacheprovider

# Debian's Chromium for the Playwright tests (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Debian's LibreOffice Calc (no GUI): the batch files are opened by it in the tests
libreoffice:
	@command -v soffice >/dev/null 2>&1 || { \
		echo "Installing Debian's libreoffice-calc-nogui for the spreadsheet tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends libreoffice-calc-nogui; }

# The machine's PostgreSQL (127.0.0.1:5432, trust auth); start it when it is down.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
		for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; }

## make fuzz: the hostile-input tests at full size (10,000 files, 50 random posts per route)
fuzz: install-test translations
	COOPREG_FUZZ_FILES=10000 COOPREG_FUZZ_POSTS=50 $(BIN)/pytest -p no:cacheprovider -q tests/fuzz

## make bench: every benchmark (goal 1: every page as every role, 10,000 vs 1,000,000 members
## with a year of dues and receipts), report in bench/results.md; BENCH_ARGS="--large 100000"
## to make it shorter, BENCH_ARGS="--goals 1,2" for a part (add --keep to report the goals
## saved by earlier runs too); needs the PostgreSQL server of `make test`
bench: install-test postgres
	PYTHONPATH=. $(BIN)/python -m bench.run $(BENCH_ARGS)

## the translation catalogues (coopreg/translations/*/LC_MESSAGES/messages.po) are compiled at
## build time; compiled .mo files are not kept in git
translations: install
	@if ls coopreg/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
		$(BIN)/pybabel compile -d coopreg/translations --statistics; fi

## after changing texts: extract them and merge them into every language's catalogue
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o coopreg/translations/messages.pot coopreg
	$(BIN)/pybabel update -i coopreg/translations/messages.pot -d coopreg/translations

# The machine's Redis (127.0.0.1:6379): the tests of several processes sharing rate limits.
redis:
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || { \
		mkdir -p /var/lib/redis /var/log/redis; \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
			--dir /var/lib/redis --logfile /var/log/redis/ci.log; \
		for i in $$(seq 1 20); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done; }

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
