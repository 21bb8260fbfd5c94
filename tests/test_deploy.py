"""Production configuration: the settings fail loudly on bad or missing values, `check --deploy`
is clean with production-like variables, and docker-compose.yml runs the whole stack."""

import os
import secrets
import subprocess
import sys
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


def _load_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "pm.settings"},
        capture_output=True,
        text=True,
        timeout=60,
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


APP_SERVICES = ["web", "worker", "beat"]


def test_compose_runs_web_worker_beat_postgres_and_redis(compose):
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    assert "gunicorn pm.wsgi" in _command(services["web"])
    assert "celery -A pm worker" in _command(services["worker"])
    assert "celery -A pm beat" in _command(services["beat"])
    assert services["postgres"]["image"].startswith("postgres")
    assert services["redis"]["image"].startswith("redis")


@pytest.mark.parametrize("name", ["web", "worker", "beat", "postgres", "redis"])
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
    assert "@postgres:" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:")
    assert "DEBUG" not in env or env["DEBUG"] in ("0", "false", "False")
