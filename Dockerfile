# Lodestar production image: gunicorn for the web, the same image for Celery worker and beat.
# tests/test_production_smoke.py runs this file's ENV, COPY and RUN steps (all but `useradd`) in a
# fresh virtualenv on every `make test`, so what is built here is what CI has checked.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

RUN useradd --create-home --uid 1000 lodestar
# Exact versions with their hashes (`make lock` writes the file), in a layer of its own.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY . .
# Lodestar itself, not editable; setuptools comes from the lock file, so nothing unpinned is fetched.
RUN pip install --no-deps --no-build-isolation . && rm -rf build lodestar.egg-info
# collectstatic needs settings; build-only values are used here and never at run time.
RUN SECRET_KEY=build-only-not-secret SITE_URL=http://build.invalid \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --noinput

USER lodestar
EXPOSE 8000
# Port, workers and request timeout: gunicorn.conf.py (PORT, WEB_CONCURRENCY, GUNICORN_TIMEOUT).
CMD ["gunicorn", "pm.wsgi:application"]
