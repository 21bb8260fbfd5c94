"""gunicorn's settings for Lodestar, read from the working directory by `gunicorn pm.wsgi`.

The image, docker-compose.yml and the production smoke test all start the web with exactly
`gunicorn pm.wsgi:application`, so these values hold everywhere. Each can be changed through
the environment (see README, "Configuration")."""

import os

# The port inside the container; compose publishes it.
bind = f"{os.environ.get('GUNICORN_BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
# gunicorn also reads WEB_CONCURRENCY itself; this is the same default, spelled out.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# A request that takes longer than this is aborted and its worker replaced, so a hung request
# cannot hold a worker forever (gunicorn's default is 30 s; CSV previews and exports can be slow).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
