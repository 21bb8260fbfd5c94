"""gunicorn's settings for Lodestar, read from the working directory by `gunicorn pm.wsgi`.

The image, docker-compose.yml and the production smoke test all start the web with exactly
`gunicorn pm.wsgi:application`, so these values hold everywhere. Each can be changed through
the environment (see README, "Configuration")."""

import os

# The port inside the container; compose publishes it.
bind = f"{os.environ.get('GUNICORN_BIND_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104
# Threaded workers (gthread): each worker process serves GUNICORN_THREADS requests at once, so a
# sign-in's password hash (about half a second of CPU; hashlib lets other threads run meanwhile)
# or a slow page holds one thread, not a whole worker and the requests queued behind it.
# bench/load.py compared sync and gthread at 50 users on 2 cores (figures in docs/scaling.md).
# One process per CPU; each thread holds a database connection (workers x threads in total).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("WEB_CONCURRENCY", str(max(2, os.cpu_count() or 2))))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A request that takes longer than this is aborted and its worker replaced, so a hung request
# cannot hold a worker forever (gunicorn's default is 30 s; CSV previews and exports can be slow).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
accesslog = "-"
errorlog = "-"
