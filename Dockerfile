# Lodestar production image: gunicorn for the web, the same image for Celery worker and beat.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

RUN useradd --create-home --uid 1000 lodestar
COPY pyproject.toml README.md ./
COPY pm pm
COPY backlog backlog
COPY roadmap roadmap
COPY feedback feedback
COPY metrics metrics
RUN pip install .
COPY . .
# collectstatic needs settings; a build-only key is used here and never at run time.
RUN SECRET_KEY=build-only-not-secret DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput

USER lodestar
EXPOSE 8000
CMD ["gunicorn", "pm.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
