"""Property-based tests of the whole API against its own OpenAPI schema (schemathesis, in
process through WSGI): for every operation, with a token of each role and an outsider's,
generated valid and invalid requests never get a server error, and every response — status
code, content type, headers and body — is what /api/schema/ says."""

import contextlib

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from pm.api.tokens import api_token_create

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,  # the same request without the token must get 401
    unsupported_method,  # methods an operation lacks get 405, in the error shape
]
EXAMPLES = 25


@pytest.fixture
def app(settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    # Thousands of requests: lift the rate limits (tests/api/test_errors.py covers them).
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": None, "user": None, "anon": None},
    }
    # As Django's test client does: keep the test's connection (and transaction) open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _run(operation, headers, *, mode, path_parameters=None) -> list[str]:
    failures: list[str] = []
    checks = CHECKS + ([negative_data_rejection] if mode is GenerationMode.NEGATIVE else [])

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        try:
            # A savepoint per request, as each request has its own transaction in production.
            with transaction.atomic():
                case.call_and_validate(headers=headers, checks=checks)
        except (Exception, BaseExceptionGroup) as exc:  # report every operation's failures
            failures.append(f"{operation.label} ({mode.value}): {exc}")
            raise

    with contextlib.suppress(Exception, BaseExceptionGroup):  # its text was collected above
        run()
    return failures[-1:]


# Each operation is tested under the app that owns it, so a failure names its owner.
OWNERS = {
    "products": "pm",
    "stories": "backlog",
    "sprints": "backlog",
    "features": "backlog",
    "ideas": "backlog",
    "feedback": "feedback",
    "kpis": "metrics",
    "roadmap": "roadmap",
    "initiatives": "roadmap",
    "releases": "roadmap",
    "share-links": "roadmap",
}


def _owner(path: str) -> str:
    return OWNERS.get(path.removeprefix("/api/v1/").split("/")[0], "other")


@pytest.mark.parametrize("app_label", sorted(set(OWNERS.values())))
@pytest.mark.parametrize("role", ["admin", "pm", "engineer", "stakeholder", "outsider"])
def test_every_operation_conforms_to_the_schema(cast, backlog, app, role, app_label):
    user = cast.user(role)
    _token, key = api_token_create(user=user, name="schemathesis", actor=user)
    headers = {"Authorization": f"Token {key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app)
    known = {"key": backlog.stories[0].key, "id": backlog.feature.pk}
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if _owner(operation.path) != app_label:
            continue
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += _run(operation, headers, mode=mode)
        # Again on real items, so that detail reads and writes get past the lookup.
        names = {p.name for p in operation.path_parameters}
        if app_label == "backlog" and names and names <= set(known):
            fixed = {name: known[name] for name in names}
            if "/ideas/" in operation.path:
                fixed = {"id": backlog.idea.pk}
            failures += _run(
                operation, headers, mode=GenerationMode.POSITIVE, path_parameters=fixed
            )
    assert operations or app_label not in ("pm", "backlog")
    assert not failures, "\n\n".join(failures)
