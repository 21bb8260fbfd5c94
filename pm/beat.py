"""Celery beat with a heartbeat, and the health check that reads it.

Beat's main loop calls `Scheduler.tick()`, sends what is due, then sleeps until the next tick.
`HeartbeatScheduler` touches a file after every tick and never sleeps longer than
BEAT_HEARTBEAT_SECONDS, so the file's age says whether the loop still turns. A beat that hangs
(stuck publishing to an unreachable broker, a frozen process) stops touching it, and
`python -m pm.beat check` (the compose health check) fails once it is older than
BEAT_HEARTBEAT_MAX_AGE seconds. The mere existence of the schedule file proved nothing.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from celery.beat import PersistentScheduler


def heartbeat_path() -> Path:
    return Path(os.environ.get("BEAT_HEARTBEAT_FILE", "/tmp/celerybeat-heartbeat"))  # noqa: S108


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a number of seconds.") from None
    if value <= 0:
        raise SystemExit(f"{name}={raw!r} must be positive.")
    return value


def heartbeat_seconds() -> float:
    return _seconds("BEAT_HEARTBEAT_SECONDS", 30)


def heartbeat_max_age() -> float:
    return _seconds("BEAT_HEARTBEAT_MAX_AGE", max(120, 4 * heartbeat_seconds()))


def beat() -> None:
    path = heartbeat_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{time.time():.3f}\n")


class HeartbeatScheduler(PersistentScheduler):
    """The default persistent scheduler, plus a heartbeat file touched after every tick."""

    def setup_schedule(self) -> None:
        super().setup_schedule()
        beat()

    def tick(self, *args, **kwargs) -> float:
        interval = super().tick(*args, **kwargs)
        beat()
        return min(interval, heartbeat_seconds())


def check() -> tuple[bool, str]:
    """(healthy, message) from the heartbeat file's age."""
    path = heartbeat_path()
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False, f"beat unhealthy: no heartbeat at {path} (not started yet?)"
    limit = heartbeat_max_age()
    if age > limit:
        return False, f"beat unhealthy: last heartbeat {age:.0f} s ago (limit {limit:.0f} s)"
    return True, f"beat ok: last heartbeat {age:.1f} s ago"


def main(argv: list[str]) -> int:
    if argv != ["check"]:
        print("usage: python -m pm.beat check", file=sys.stderr)
        return 2
    healthy, message = check()
    print(message, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
