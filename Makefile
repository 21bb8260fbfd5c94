# Lodestar: `make run` for a trial on SQLite, `make test` for the whole suite on PostgreSQL + Redis.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

# The test suite talks to real services; override these to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lodestar
TEST_REDIS_URL ?= redis://127.0.0.1:6379/9
# The whole suite runs with pytest-xdist: one worker per core (at most 6: worker N uses Redis
# database TEST_REDIS_URL + N, and Redis has 16), slow tests first, module-scoped stacks kept on
# one worker (xdist_group). A narrow run (PYTEST_ARGS given) stays in one process unless XDIST
# is passed too, e.g. XDIST="-n 2 --dist loadgroup".
XDIST ?= $(if $(PYTEST_ARGS),,-n auto --maxprocesses 6 --dist loadgroup)

.PHONY: venv run test typecheck lint bench lock clean

# Development: Lodestar editable, with the test and lint tools.
$(VENV)/.installed: pyproject.toml
	@python=$$(bin/find-python) || exit 1; \
	  test -x $(PY) || $$python -m venv $(VENV); \
	  $(PY) -m pip install --quiet --upgrade pip && \
	  $(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

# Trial: the runtime dependencies only, exactly as locked (what the image installs), then
# Lodestar editable. No test tools, no browser driver.
$(VENV)/.runtime: requirements.lock pyproject.toml
	@python=$$(bin/find-python) || exit 1; \
	  test -x $(PY) || $$python -m venv $(VENV); \
	  $(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock && \
	  $(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

venv: $(VENV)/.installed

# Trial mode: embedded SQLite, tasks in-process, e-mail on the console. No PostgreSQL or Redis.
# `make run PORT=8080` serves elsewhere; links in the e-mails it prints follow (SITE_URL).
run: $(VENV)/.runtime
	DEBUG=1 PORT=$(PORT) $(PY) manage.py migrate --noinput
	DEBUG=1 PORT=$(PORT) $(PY) manage.py load_demo
	@echo "Lodestar is starting on http://127.0.0.1:$(PORT)/ — sign in with a user above."
	DEBUG=1 PORT=$(PORT) $(PY) manage.py runserver 127.0.0.1:$(PORT)

# Re-resolve requirements.lock (every runtime dependency and setuptools, pinned with hashes)
# after changing pyproject.toml's dependencies. Needs PyPI.
lock: venv
	$(PY) -m pip install --quiet "uv>=0.5"
	echo "setuptools>=75" | $(VENV)/bin/uv pip compile pyproject.toml - --universal \
	  --python-version 3.12 --generate-hashes \
	  --custom-compile-command "make lock" --quiet -o requirements.lock

# The whole suite against real PostgreSQL and Redis, plus the migration and system checks, ruff
# and mypy (0 errors: a new one fails the run, as a failing test does).
test: venv
	DEBUG=0 SECRET_KEY=test-only-secret-key-not-for-production SECURE_SSL_REDIRECT=0 \
	  SITE_URL=http://testserver \
	  DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	  bash -c '$(PY) manage.py check && $(PY) manage.py makemigrations --check --dry-run && $(PY) -m ruff check . && $(PY) -m mypy && $(PY) -m pytest $(XDIST) --durations=15 $(PYTEST_ARGS)'

# Static types: mypy with the Django and DRF plugins (configuration in pyproject.toml; strict for
# services, selectors and models). Django's settings load as the suite loads them.
typecheck: venv
	DEBUG=0 SECRET_KEY=typecheck-only-secret-key SITE_URL=http://testserver $(PY) -m mypy

lint: venv
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

bench: venv
	@for script in bench/[!_]*.py; do echo "== $$script"; DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) SITE_URL=http://127.0.0.1 $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .mypy_cache
