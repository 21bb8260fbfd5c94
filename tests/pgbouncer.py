"""A real PgBouncer (the Debian package) in transaction pooling in front of the test database.

`running_pgbouncer(database)` writes a pgbouncer.ini into a temporary directory (the pool mode
taken from docker-compose.yml's pgbouncer service, so the test runs what compose runs), starts
`pgbouncer` on a free loopback port and stops it on exit. `pool_size=1` (the default) makes every
client share one server connection: whatever one transaction leaves on it, the next one sees,
which is what `Bouncer.server_session()` inspects.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import yaml

ROOT = Path(__file__).resolve().parent.parent
PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
# Parameters PgBouncer itself tracks per client and sets again on whichever server connection the
# client gets (its "varcache"): a session-level change of these is safe behind it.
TRACKED = (
    "client_encoding",
    "DateStyle",
    "TimeZone",
    "standard_conforming_strings",
    "application_name",
)


def compose_pool_mode() -> str:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]["pgbouncer"]["environment"]["POOL_MODE"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Bouncer:
    port: int
    user: str
    password: str
    database: str
    log_path: Path
    process: subprocess.Popen

    def url(self, database: str | None = None) -> str:
        credentials = f"{self.user}:{self.password}" if self.password else self.user
        return f"postgres://{credentials}@127.0.0.1:{self.port}/{database or self.database}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def admin(self, command: str) -> list[dict]:
        """A command of PgBouncer's admin console (SHOW POOLS, SHOW STATS…), rows as dicts."""
        with psycopg.connect(self.url("pgbouncer"), autocommit=True) as conn:
            cursor = conn.execute(command)
            names = [c.name for c in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def server_session(self) -> dict:
        """What is left on the (single) server connection, seen from a fresh client."""
        with psycopg.connect(self.url(), autocommit=True, prepare_threshold=None) as conn:

            def rows(sql: str) -> list:
                return [row[0] for row in conn.execute(sql).fetchall()]

            return {
                "backend": rows("SELECT pg_backend_pid()")[0],
                "prepared statements": rows("SELECT name FROM pg_prepared_statements"),
                "cursors": rows("SELECT name FROM pg_cursors"),
                "advisory locks": rows(
                    "SELECT objid FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid()"
                ),
                "settings": rows(
                    "SELECT name || '=' || setting FROM pg_settings WHERE source = 'session' "
                    f"AND name NOT IN ({', '.join(repr(n) for n in TRACKED)})"
                ),
            }


@contextmanager
def running_pgbouncer(database: Mapping, *, pool_size: int = 1) -> Iterator[Bouncer]:
    """PgBouncer in front of `database` (a Django DATABASES entry on PostgreSQL)."""
    if not os.path.exists(PGBOUNCER):
        raise RuntimeError(
            "pgbouncer is not installed: `apt-get install pgbouncer` (.ci/run does it in CI)."
        )
    user, password = database.get("USER") or "postgres", database.get("PASSWORD") or ""
    port = _free_port()
    directory = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    directory.chmod(0o755)  # pgbouncer drops root privileges (user = nobody) and reads from here
    (directory / "userlist.txt").write_text(f'"{user}" "{password}"\n')
    auth = "md5" if password else "trust"
    ini = f"""
[databases]
* = host={database.get("HOST") or "127.0.0.1"} port={database.get("PORT") or 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = {auth}
auth_file = {directory / "userlist.txt"}
admin_users = {user}
pool_mode = {compose_pool_mode()}
default_pool_size = {pool_size}
max_client_conn = 200
query_wait_timeout = 60
"""
    if os.geteuid() == 0:
        ini += "user = nobody\n"
    (directory / "pgbouncer.ini").write_text(ini)
    for path in directory.iterdir():
        path.chmod(0o644)
    log_path = directory / "pgbouncer.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [PGBOUNCER, str(directory / "pgbouncer.ini")], stdout=log, stderr=subprocess.STDOUT
        )
    bouncer = Bouncer(port, user, password, database["NAME"], log_path, process)
    try:
        deadline = time.monotonic() + 20
        while "listening on 127.0.0.1" not in bouncer.log():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pgbouncer did not start:\n{bouncer.log()}")
            time.sleep(0.05)
        yield bouncer
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        shutil.rmtree(directory, ignore_errors=True)
