# Rongxie: `make run` sets everything up and serves the app; `make test` runs the tests.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: install setup run test screenshots lint messages worker clean

$(VENV)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Everything `run` needs except serving: migrations, static files, regions, demo data.
setup: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py load_regions data/regions-wenzhou.csv
	$(PY) manage.py load_demo

run: setup
	$(PY) manage.py demo_logins --address $(HOST)
	$(PY) manage.py runserver $(HOST)

test: install
	$(PY) scripts/run_tests.py $(ARGS)

# The browser journeys (tests/e2e/) again, saving each one's last screen into docs/screenshots/.
screenshots: install
	E2E_SCREENSHOTS=docs/screenshots $(PY) scripts/run_tests.py tests/e2e -q -p no:cacheprovider

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

worker: install
	$(VENV)/bin/celery -A config worker -B --loglevel=info

messages: install
	$(PY) scripts/messages.py

clean:
	rm -rf $(VENV) var staticfiles
