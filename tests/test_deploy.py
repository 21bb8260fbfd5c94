"""Production configuration: the settings fail loudly on bad or missing values, `check --deploy`
is clean with production-like variables, and docker-compose.yml runs the whole stack."""

import os
import re
import secrets
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

# Variables a developer's or CI's shell may carry that would change what is being tested.
_SETTINGS_VARS = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_HOST",
    "EMAIL_FILE_PATH",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "LOGIN_FAILURE_LIMIT",
    "SITE_URL",
    "PORT",
    "EMAIL_PORT",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "DJANGO_SETTINGS_MODULE",
    # Set by tests/browser/conftest.py for Playwright in this process; never in production.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def _production_env(**overrides: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SETTINGS_VARS}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="lodestar.example.com",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://lodestar@127.0.0.1:5432/lodestar"),
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        EMAIL_HOST="smtp.example.com",
        SITE_URL="https://lodestar.example.com",
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _setting(env: dict[str, str], expression: str) -> subprocess.CompletedProcess:
    """Load pm.settings with `env` in a fresh process and print `expression`."""
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "pm.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _load_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    return _setting(
        env,
        "settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS",
    )


def test_check_deploy_passes_with_production_variables():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_a_production_install_without_an_smtp_server():
    # E-mail printed to a console nobody reads is not a working production install.
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env=_production_env(EMAIL_HOST=None)
    )
    assert result.returncode != 0
    # Production without EMAIL_HOST refuses to send (pm.mail), and the deploy check says so.
    assert "lodestar.E001" in result.stdout + result.stderr
    assert "Set EMAIL_HOST" in result.stdout + result.stderr


def test_production_defaults_are_secure_and_trial_mode_relaxes_them():
    production = _load_settings(_production_env())
    assert production.returncode == 0, production.stderr
    assert production.stdout.split() == ["False", "True", "True", "True", "31536000"]

    trial = _load_settings(_production_env(DEBUG="1", SECRET_KEY=None))
    assert trial.returncode == 0, trial.stderr
    assert trial.stdout.split() == ["True", "False", "False", "False", "0"]
    assert "development SECRET_KEY" in trial.stderr  # said out loud, not silent


@pytest.mark.parametrize("debug", ["0", None], ids=["debug-off", "debug-unset"])
def test_settings_refuse_to_load_without_a_secret_key_when_debug_is_off(debug):
    result = _load_settings(_production_env(DEBUG=debug, SECRET_KEY=None))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("SECURE_SSL_REDIRECT", "sometimes"),
        ("SECURE_HSTS_SECONDS", "a year"),
        ("LOGIN_FAILURE_LIMIT", "five"),
    ],
)
def test_bad_values_raise_improperly_configured(name, value):
    result = _load_settings(_production_env(**{name: value}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name}={value!r}" in result.stderr  # the message names the variable


# --- docker-compose.yml -------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else " ".join(command.split())


_COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
# Every service that runs a Celery worker (one per group of queues).
WORKER_SERVICES = sorted(
    name
    for name, spec in _COMPOSE["services"].items()
    if "celery -A pm worker" in " ".join(str(spec.get("command", "")).split())
)
APP_SERVICES = ["web", *WORKER_SERVICES, "beat"]


def test_compose_runs_web_worker_beat_postgres_and_redis(compose):
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    assert "gunicorn pm.wsgi" in _command(services["web"])
    assert "celery -A pm worker" in _command(services["worker"])
    assert "celery -A pm beat" in _command(services["beat"])
    assert services["postgres"]["image"].startswith("postgres")
    assert services["redis"]["image"].startswith("redis")


@pytest.mark.parametrize("name", [*APP_SERVICES, "postgres", "redis"])
def test_every_compose_service_has_a_healthcheck(compose, name):
    healthcheck = compose["services"][name].get("healthcheck")
    assert healthcheck and healthcheck.get("test"), f"{name} has no healthcheck"
    assert not healthcheck.get("disable")


def test_web_healthcheck_uses_healthz(compose):
    assert "/healthz" in str(compose["services"]["web"]["healthcheck"]["test"])


def test_postgres_keeps_its_data_in_a_named_volume(compose):
    mounts = compose["services"]["postgres"]["volumes"]
    named = [m.split(":")[0] for m in mounts if isinstance(m, str) and ":" in m]
    named += [m["source"] for m in mounts if isinstance(m, dict) and m.get("type") == "volume"]
    volumes = [v for v in named if v in (compose.get("volumes") or {})]
    assert volumes, f"postgres data is not in a declared named volume: {mounts}"
    assert any("/var/lib/postgresql" in str(m) for m in mounts)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_postgres_and_redis(compose, name):
    depends = compose["services"][name]["depends_on"]
    assert isinstance(depends, dict), "depends_on needs conditions, not a bare list"
    for dependency in ("postgres", "redis"):
        assert depends[dependency]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_are_configured_through_the_environment(compose, name):
    env = compose["services"][name]["environment"]
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= set(env)
    # They point at the compose services, not at localhost.
    assert "@postgres:" in _interpolate(env["DATABASE_URL"], {"POSTGRES_PASSWORD": "pw"})
    assert env["REDIS_URL"].startswith("redis://redis:")
    assert "DEBUG" not in env or env["DEBUG"] in ("0", "false", "False")


# --- SITE_URL, PORT and the SMTP transport --------------------------------------------------------


@pytest.mark.parametrize(
    "value", [None, "", "lodestar.example.com"], ids=["unset", "empty", "bare"]
)
def test_production_refuses_to_start_without_a_site_url(value):
    # Invitation and digest links are built from it: a placeholder would send them elsewhere.
    result = _setting(_production_env(SITE_URL=value), "settings.SITE_URL")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SITE_URL" in result.stderr


def test_site_url_is_used_as_given_without_a_trailing_slash():
    result = _setting(_production_env(SITE_URL="https://pm.acme.test/"), "settings.SITE_URL")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "https://pm.acme.test"


def test_trial_site_url_follows_port():
    trial = _production_env(DEBUG="1", SECRET_KEY=None, SITE_URL=None, PORT="8123")
    result = _setting(trial, "settings.SITE_URL")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://127.0.0.1:8123"


_TRANSPORT = "settings.MAILERS['default']['OPTIONS']['use_tls'], settings.MAILERS['default']['OPTIONS']['use_ssl']"  # noqa: E501


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "True False"),  # 587, STARTTLS
        ({"EMAIL_PORT": "465"}, "False True"),  # implicit TLS, without setting anything else
        ({"EMAIL_PORT": "2465", "EMAIL_USE_SSL": "1"}, "False True"),
        ({"EMAIL_PORT": "25", "EMAIL_USE_TLS": "0"}, "False False"),  # a relay without STARTTLS
    ],
    ids=["default", "port-465", "ssl", "plain-relay"],
)
def test_smtp_transport_follows_port_and_switches(overrides, expected):
    result = _setting(_production_env(**overrides), _TRANSPORT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_tls_and_ssl_together_fail_at_start_up_with_advice():
    result = _setting(_production_env(EMAIL_USE_TLS="1", EMAIL_USE_SSL="1"), _TRANSPORT)
    assert result.returncode != 0
    assert "EMAIL_USE_TLS=1 and EMAIL_USE_SSL=1" in result.stderr


# --- docker-compose.yml passes every documented variable ----------------------------------------

# Set by compose itself to its own services (the README says so), not taken from .env.
COMPOSE_DECIDES = {"DATABASE_URL", "REDIS_URL", "PORT"}


def _documented_variables() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("### Configuration (environment variables)") :]
    table = table[: table.index("\n\n", table.index("| variable"))]
    names = []
    for row in table.splitlines()[2:]:
        first_cell = row.split("|")[1]
        names += re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell)
    return names


_INTERPOLATION = re.compile(r"\$\$|\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}|\$([A-Z0-9_]+)")


def _interpolate(value: str, dotenv: dict[str, str]) -> str:
    """Compose's variable substitution: ${X}, ${X:-default}, ${X-default}, ${X:?error}, $$."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2), match.group(3)
        present = name in dotenv and (dotenv[name] != "" or operator in ("-", "?"))
        if operator in (":?", "?") and not present:
            raise LookupError(argument or f"{name} is required")
        if operator in (":-", "-") and not present:
            return argument
        return dotenv.get(name, "")

    return _INTERPOLATION.sub(replace, str(value))


def _container_environment(compose: dict, service: str, dotenv: dict[str, str]) -> dict:
    """What the container sees: env_file's variables, then `environment` on top (compose's order),
    with substitution from the .env file next to docker-compose.yml."""
    spec = compose["services"][service]
    env_files = spec.get("env_file") or []
    env_files = [env_files] if isinstance(env_files, str | dict) else env_files
    result = {}
    for item in env_files:
        path = item["path"] if isinstance(item, dict) else item
        if path == ".env":
            result.update(dotenv)
    environment = spec.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    for name, value in environment.items():
        result[name] = _interpolate("" if value is None else value, dotenv)
    return result


def test_the_readme_documents_the_variables_the_settings_read():
    documented = set(_documented_variables())
    sources = " ".join(p.read_text() for p in (ROOT / "pm").glob("settings.py"))
    read = set(re.findall(r'env(?:str|bool|int|list)\("([A-Z0-9_]+)"', sources))
    read -= {"CACHE_KEY_PREFIX", "DB_CONN_MAX_AGE", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"}
    read -= {"CELERY_TASK_TIME_LIMIT", "CELERY_TASK_SOFT_TIME_LIMIT", "EMAIL_FILE_PATH"}
    read -= {"WHITENOISE_USE_FINDERS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD"}
    missing = sorted(read - documented)
    assert not missing, f"settings read variables the README does not document: {missing}"
    assert {"EMAIL_USE_TLS", "EMAIL_USE_SSL", "EMAIL_TIMEOUT", "LOG_LEVEL", "PORT"} <= documented


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_documented_variable_reaches_the_app_containers(compose, service):
    documented = _documented_variables()
    dotenv = {name: f"value-of-{name.lower()}" for name in documented}
    dotenv["POSTGRES_PASSWORD"] = "pw"
    env = _container_environment(compose, service, dotenv)
    lost = [n for n in documented if n not in COMPOSE_DECIDES and env.get(n) != dotenv[n]]
    assert not lost, f"{service} does not get these .env values: {lost}"
    # What compose decides points at its own services.
    assert env["DATABASE_URL"] == "postgres://lodestar:pw@postgres:5432/lodestar"
    assert env["REDIS_URL"].startswith("redis://redis:6379/")


@pytest.mark.parametrize("service", APP_SERVICES)
@pytest.mark.parametrize("name", ["SITE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "POSTGRES_PASSWORD"])
def test_compose_refuses_to_start_without_the_values_that_have_no_safe_default(
    compose, service, name
):
    dotenv = {n: "x" for n in ("SITE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "POSTGRES_PASSWORD")}
    del dotenv[name]
    with pytest.raises(LookupError):
        _container_environment(compose, service, dotenv)


def test_compose_has_no_placeholder_defaults(compose):
    # A forgotten SITE_URL must stop compose, not send invitation links to example.com.
    text = (ROOT / "docker-compose.yml").read_text()
    assert "example.com" not in text
    assert re.search(r"SITE_URL: \$\{SITE_URL:\?", text)


# --- web, beat and the image ------------------------------------------------------------------


def test_gunicorn_runs_with_a_request_timeout_from_its_config_file():
    env = {**_production_env(), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "--print-config", "pm.wsgi:application"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    config = dict(re.findall(r"^(\w+)\s+= (.*)$", result.stdout, re.M))
    assert config["timeout"].strip() == "60"
    assert config["bind"].strip() == "['0.0.0.0:8000']"
    assert config["accesslog"].strip() == "-"
    # Threaded workers by default: a sign-in's password hash holds one thread, not a worker.
    assert config["worker_class"].strip() == "gthread"
    assert config["threads"].strip() == "4"
    assert int(config["workers"]) >= 2
    tuned = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "--print-config", "pm.wsgi:application"],
        cwd=ROOT,
        env={
            **env,
            "GUNICORN_TIMEOUT": "15",
            "PORT": "9001",
            "GUNICORN_WORKER_CLASS": "sync",
            "WEB_CONCURRENCY": "5",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    tuned_config = dict(re.findall(r"^(\w+)\s+= (.*)$", tuned.stdout, re.M))
    assert tuned_config["timeout"].strip() == "15"
    assert tuned_config["bind"].strip() == "['0.0.0.0:9001']"
    assert (tuned_config["worker_class"].strip(), tuned_config["workers"].strip()) == ("sync", "5")


def test_web_and_image_start_gunicorn_without_overriding_its_config(compose):
    from tests.imagebuild import instructions

    cmd = [args for name, args in instructions() if name == "CMD"]
    assert cmd == ['["gunicorn", "pm.wsgi:application"]']
    web = _command(compose["services"]["web"])
    assert web.endswith('gunicorn pm.wsgi:application"')


def test_beat_health_check_reads_the_heartbeat_not_the_schedule_file(compose):
    beat = compose["services"]["beat"]
    assert "--scheduler pm.beat:HeartbeatScheduler" in _command(beat)
    assert beat["healthcheck"]["test"] == ["CMD", "python", "-m", "pm.beat", "check"]


def test_beat_check_fails_without_or_with_a_stale_heartbeat_and_passes_with_a_fresh_one(tmp_path):
    heartbeat = tmp_path / "heartbeat"
    env = {**os.environ, "BEAT_HEARTBEAT_FILE": str(heartbeat), "BEAT_HEARTBEAT_MAX_AGE": "60"}

    def check() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pm.beat", "check"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    missing = check()
    assert missing.returncode == 1 and "no heartbeat" in missing.stderr
    heartbeat.write_text("x")
    old = time.time() - 61
    os.utime(heartbeat, (old, old))
    stale = check()
    assert stale.returncode == 1
    assert re.search(r"last heartbeat 6\d s ago \(limit 60 s\)", stale.stderr)
    heartbeat.touch()
    assert check().returncode == 0


def test_dockerignore_keeps_tests_benchmarks_ci_and_secrets_out_of_the_image():
    from tests.imagebuild import context_files

    files = context_files()
    tops = {f.split("/")[0] for f in files}
    for absent in (
        "tests",
        "bench",
        ".ci",
        ".git",
        ".venv",
        "Makefile",
        "bin",
        "docker-compose.yml",
    ):
        assert absent not in tops, absent
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    for present in ("manage.py", "pyproject.toml", "README.md", "requirements.lock"):
        assert present in files
    assert {"pm", "backlog", "roadmap", "feedback", "metrics", "templates", "static"} <= tops


def test_the_lock_file_pins_every_dependency_with_hashes():
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lock = (ROOT / "requirements.lock").read_text()
    pins = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", lock, re.M))
    blocks = re.split(r"\n(?=[a-z0-9])", lock)
    for block in blocks:
        if re.match(r"[a-z0-9]", block):
            assert "--hash=sha256:" in block, f"no hash: {block.splitlines()[0]}"
    wanted = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    for spec in wanted:
        requirement = Requirement(spec)
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        assert name in pins, f"{name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock has {name}=={pins[name]}, pyproject wants {requirement}: "
            "run `make lock`"
        )


def test_every_source_map_a_static_file_names_is_vendored_next_to_it():
    # The manifest storage rewrites these references and aborts collectstatic on a missing file.
    referenced = 0
    for path in (ROOT / "static").rglob("*"):
        if path.suffix not in (".js", ".css"):
            continue
        for name in re.findall(r"sourceMappingURL=([^\s*]+)", path.read_text(errors="replace")):
            referenced += 1
            assert (path.parent / name).is_file(), f"{path.relative_to(ROOT)} names missing {name}"
    assert referenced  # Chart.js names its map


def test_the_readme_restore_stops_every_service_that_writes(compose):
    # A worker left running during pg_restore writes into a half-restored database.
    readme = (ROOT / "README.md").read_text()
    (stop,) = re.findall(r"^docker compose stop (.+)$", readme, flags=re.MULTILINE)
    assert set(stop.split()) == set(APP_SERVICES)


# --- the pgbouncer profile -----------------------------------------------------------------


def test_pgbouncer_is_an_opt_in_profile_in_transaction_pooling(compose):
    pgbouncer = compose["services"]["pgbouncer"]
    assert pgbouncer["profiles"] == ["pgbouncer"]  # `docker compose up` alone does not start it
    assert pgbouncer["environment"]["POOL_MODE"] == "transaction"
    assert pgbouncer["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert pgbouncer["healthcheck"]["test"]
    for service in APP_SERVICES:  # wait for it when it is on, ignore it when it is off
        assert compose["services"][service]["depends_on"]["pgbouncer"] == {
            "condition": "service_healthy",
            "required": False,
        }


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_pgbouncer_lines_of_the_scaling_guide_send_the_app_through_pgbouncer(compose, service):
    guide = (ROOT / "docs" / "scaling.md").read_text()
    block = guide[guide.index("COMPOSE_PROFILES=pgbouncer") :].split("```")[0]
    dotenv = dict(line.split("=", 1) for line in block.strip().splitlines())
    dotenv |= {n: "x" for n in ("SITE_URL", "SECRET_KEY", "ALLOWED_HOSTS")}
    dotenv["POSTGRES_PASSWORD"] = "pw"
    env = _container_environment(compose, service, dotenv)
    assert env["DATABASE_URL"] == "postgres://lodestar:pw@pgbouncer:5432/lodestar"
    assert env["DISABLE_SERVER_SIDE_CURSORS"] == "1"
    pgbouncer = _container_environment(compose, "pgbouncer", dotenv)
    assert (pgbouncer["DB_HOST"], pgbouncer["DB_PASSWORD"]) == ("postgres", "pw")
