"""Hostile input never gets a server error. The cases are generated, so a new route or API field
is covered without touching this file:

- from the URL configuration (every route of the role matrix, tests/*/routes.py): a NUL byte in
  each URL argument (404), `?q=%00` (400), a NUL in a form field (400), and every form field of
  the apps' forms, as a query string and as a POST, filled with far dates (years 1 and 9999) and
  huge numbers (no 5xx);
- from the API schema (/api/schema/): a NUL in each path (404) and query parameter (400, naming
  it), a JSON body nested 10,000 deep (400), and in each body field a NUL, far dates and huge
  numbers (400).

Every request is made by a user the route lets in (the workspace's admin; anonymous for public
routes), so the hostile value reaches the view rather than the permission check."""

import contextlib
import importlib
import json
from datetime import date

import pytest
from django import forms
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from pm.api.tokens import api_token_create
from pm.models import ApiToken
from tests.api import data
from tests.metrics.factories import KPIFactory
from tests.routing import PUBLIC
from tests.test_role_matrix import ROUTES

APPS = ("pm", "backlog", "roadmap", "feedback", "metrics")
FAR = ("0001-01-01", "9999-12-31")
HUGE = ("9" * 40, "-1e400")
DEEP = 10_000


def _client(cast, route):
    return cast.client("anonymous" if route.need == PUBLIC else "admin")


def _headers(route):
    return {"HX-Request": "true"} if route.htmx else {}


def _form_classes():
    for app in APPS:
        try:
            module = importlib.import_module(f"{app}.forms")
        except ModuleNotFoundError:
            continue
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, forms.BaseForm):
                yield value


def _hostile_values(variant: int) -> dict[str, str]:
    """Every field name of every form, filled by its type: variant 0 the far past and huge
    numbers, variant 1 the far future and huge negative numbers; text fields get plain text so
    that the form gets as far as the dates and numbers."""
    values: dict[str, str] = {}
    for form in _form_classes():
        for name, field in form.base_fields.items():
            if isinstance(field, forms.DateTimeField):
                values[name] = f"{FAR[variant]}T12:00"
            elif isinstance(field, forms.DateField):
                values[name] = FAR[variant]
            elif isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
                values[name] = HUGE[variant]
            elif isinstance(field, forms.CharField):
                values.setdefault(name, "Hostile input")
    return values


def _query_values(variant: int) -> dict[str, str]:
    """Query parameters the list and chart pages read outside forms."""
    day, number = FAR[variant], HUGE[variant]
    names = ("page", "offset", "capacity", "theme", "feature", "sprint", "customer")
    return {
        **dict.fromkeys(names, number),
        **dict.fromkeys(("since", "start", "end", "from", "to", "date", "updated_since"), day),
        "month": day[:7],
        "quarter": f"{day[:4]} Q1",
        "g": "week",
        "scale": "quarters",
    }


def _with_nul(kwargs: dict) -> list[dict]:
    return [
        {**kwargs, name: f"{value}\x00"} for name, value in kwargs.items() if isinstance(value, str)
    ]


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_hostile_input_on_a_route_gets_no_server_error(cast, name):
    route = ROUTES[name]
    client = _client(cast, route)
    kwargs = route.kwargs(cast)
    url = reverse(name, kwargs=kwargs)
    failures = []

    def check(method, target, expected=None, **extra):
        response = getattr(client, method)(target, headers=_headers(route), **extra)
        if response.status_code >= 500 or (expected and response.status_code != expected):
            failures.append(
                f"{method.upper()} {target!r} {extra.get('data', '')!r:.80}: {response.status_code}"
            )

    for bad in _with_nul(kwargs):
        # A converter that refuses it already (e.g. <int:pk>) needs no check.
        with contextlib.suppress(NoReverseMatch):
            check("get", reverse(name, kwargs=bad), 404)
    # /healthz answers before any input is read (container health checks).
    refused = None if name == "healthz" else 400
    for method in route.methods:
        check(method, f"{url}?q=%00", refused)
        check(method, f"{url}?page=1&status%00=1", refused)
    if "get" in route.methods:
        # Filters and pagination: every form field's name, and the parameters views read.
        for variant in (0, 1):
            query = {**_hostile_values(variant), **_query_values(variant)}
            check("get", f"{url}?{urlencode(query)}")
    if "post" in route.methods:
        check("post", url, 400, data={"title": "A\x00B", "name": "x", "content": "\x00"})
        for variant in (0, 1):
            check("post", url, data=_hostile_values(variant))
    assert not failures, "\n".join(failures)


def test_nul_in_an_anonymous_portal_url_is_a_404(client, cast):
    response = client.get("/portal/LOD%00/")
    assert response.status_code == 404
    assert b"nothing here" in response.content


def test_nul_in_a_list_search_is_a_400_naming_the_parameter(cast):
    response = cast.client("pm").get(reverse("feedback_inbox", kwargs={"key": "LOD"}) + "?q=%00")
    assert response.status_code == 400
    assert b"q: Remove the NUL character" in response.content


# --- the API, from its schema ----------------------------------------------------------------


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _operations():
    schema = _schema()
    for path, operations in sorted(schema["paths"].items()):
        for method, operation in sorted(operations.items()):
            yield pytest.param(path, method, id=f"{method.upper()} {path}")


# Rules the schema cannot state (one of two fields), filled in for the valid body.
ONE_OF_REQUIRED = {
    "/api/v1/events/": {
        "events": [
            {"id": "once-1", "event": "signed_up", "user_id": "u1",
             "timestamp": "2026-01-01T12:00:00Z"}
        ]
    },
}  # fmt: skip


def _baseline(properties: dict, required: list[str], schema: dict | None = None) -> dict:
    """A valid body from the schema: required fields with ordinary values (and, for a list that
    must not be empty, one ordinary item)."""
    body: dict[str, object] = {}
    for name in required:
        spec = properties[name]
        if name == "product":
            body[name] = "LOD"
        elif "enum" in spec:
            body[name] = spec["enum"][0]
        elif spec.get("format") == "date":
            body[name] = date.today().isoformat()
        elif spec.get("format") == "date-time":
            body[name] = "2026-01-01T12:00:00Z"
        elif spec.get("type") in ("integer", "number") or spec.get("format") == "decimal":
            body[name] = 1
        elif spec.get("type") == "boolean":
            body[name] = True
        elif spec.get("type") == "array" and spec.get("minItems") and schema is not None:
            item = _resolve(schema, spec["items"])
            inner = {k: _resolve(schema, v) for k, v in item.get("properties", {}).items()}
            body[name] = [_baseline(inner, item.get("required", []), schema)]
        elif spec.get("type") == "array":
            body[name] = []
        else:
            body[name] = "Hostile input"
    return body


def _hostile(spec: dict) -> list:
    kind, fmt = spec.get("type"), spec.get("format")
    if fmt in ("date", "date-time"):
        suffix = "" if fmt == "date" else "T00:00:00Z"
        return [f"{far}{suffix}" for far in FAR] + ["\x00"]
    if kind in ("integer", "number") or fmt == "decimal":
        return [10**40, -(10**40), 1e308, "9" * 5000, "\x00"]
    if kind == "string":
        return ["A\x00B"]
    if kind == "object":
        return [{"a\x00": "b"}, {"a": "\x00"}]
    if kind == "array":
        return [["\x00"], [10**40]]
    return ["\x00"]


def _known_ids(cast) -> dict[str, object]:
    """Rows for the path parameters of every operation: {URL prefix: id}, and a story key."""
    from roadmap import services as roadmap

    feature = data.feature(cast.product, cast.pm)
    story = data.story(feature, cast.pm)
    return {
        "/kpis/": KPIFactory.create(product=cast.product).pk,
        "/features/": feature.pk,
        "/ideas/": data.idea(cast.product, cast.pm).pk,
        "/initiatives/": roadmap.initiative_create(
            product=cast.product, data={"title": "I"}, actor=cast.pm
        ).pk,
        "/releases/": roadmap.release_create(
            product=cast.product, data={"name": "R", "target_date": date.today()}, actor=cast.pm
        ).pk,
        "{key}": story.key,
    }


def _with_ids(path: str, known: dict[str, object]) -> str:
    """`path` with `{id}` the row of its resource (1 when none is known) and `{key}` a story's
    key; `{token}` is any text."""
    row = next((pk for prefix, pk in known.items() if prefix in path), 1)
    return (
        path.replace("{id}", str(row)).replace("{key}", str(known["{key}"])).replace("{token}", "x")
    )


@pytest.fixture
def api_admin(cast):
    _token, key = api_token_create(
        user=cast.admin, name="hostile", scope=ApiToken.Scope.READ_WRITE, actor=cast.admin
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.mark.parametrize(("path", "method"), list(_operations()))
def test_hostile_input_on_an_api_operation_gets_no_server_error(cast, api_admin, path, method):
    schema = _schema()
    operation = schema["paths"][path][method]
    url = _with_ids(path, _known_ids(cast))
    failures = []

    def check(target, expected=None, **extra):
        response = getattr(api_admin, method)(target, **extra)
        if response.status_code >= 500 or (expected and response.status_code != expected):
            body = extra.get("data", "")
            failures.append(
                f"{method.upper()} {target!r} {str(body)[:80]!r}: {response.status_code}"
            )
        return response

    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            check(path.replace(f"{{{parameter['name']}}}", "1%00"), 404)
        elif parameter["in"] == "query":
            response = check(f"{url}?{parameter['name']}=%00", 400)
            if response.status_code == 400 and parameter["name"] not in response.json():
                failures.append(f"{parameter['name']}: the 400 does not name the parameter")

    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content:
        deep = "[" * DEEP + "]" * DEEP
        check(url, 400, data=deep, content_type="application/json")
        check(url, 400, data='{"a":' * DEEP + "1" + "}" * DEEP, content_type="application/json")
        body_schema = _resolve(schema, content["schema"])
        item = _resolve(schema, body_schema.get("items", {})) if "items" in body_schema else None
        target = item or body_schema
        properties = {k: _resolve(schema, v) for k, v in target.get("properties", {}).items()}
        baseline = _baseline(properties, target.get("required", []))
        for name, spec in properties.items():
            if spec.get("readOnly"):
                continue
            for value in _hostile(spec):
                body = {**baseline, name: value}
                payload = json.dumps([body] if item else body)
                # Far dates, huge numbers and NULs are all refused, each with a 400.
                check(url, 400, data=payload, content_type="application/json")
    assert not failures, "\n".join(failures)


# --- far dates get a field error, not a stored year 9999 --------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
@pytest.mark.parametrize(
    ("route", "data", "field_label"),
    [
        ("release_new", {"name": "R", "target_date": "{day}", "visibility": "internal"}, "target"),
        ("sprint_new", {"name": "S", "start": "{day}", "end": "{day}"}, "end"),
        (
            "feedback_new",
            {"content": "Hi", "source": "email", "sentiment": "neutral", "received_on": "{day}"},
            "received",
        ),
    ],
)
def test_a_far_date_in_a_form_gets_an_error_beside_the_field(cast, route, data, field_label, day):
    from backlog.models import Sprint
    from feedback.models import FeedbackItem
    from roadmap.models import Release

    data = {k: v.format(day=day) for k, v in data.items()}
    response = cast.client("pm").post(reverse(route, kwargs={"key": "LOD"}), data)
    assert response.status_code == 200
    assert "Enter a date between 1900 and 2199." in response.content.decode()
    assert not (
        Release.objects.exists() or Sprint.objects.exists() or FeedbackItem.objects.exists()
    )


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/releases/",
            {"name": "R", "target_date": "9999-12-31", "features": []},
            "target_date",
        ),
        (
            "/api/v1/feedback/",
            {"content": "Hi", "source": "email", "received_at": "0001-01-01T00:00:00Z"},
            "received_at",
        ),
        ("/api/v1/initiatives/", {"title": "I", "horizon": "now", "start": "9999-12-31"}, "start"),
        (
            "/api/v1/share-links/",
            {"label": "Board", "expires_at": "9999-12-31T00:00:00Z"},
            "expires_at",
        ),
        ("/api/v1/kpis/", {"name": "K", "target_date": "0001-01-01"}, "target_date"),
    ],
)
def test_a_far_date_in_the_api_gets_400_naming_the_field(cast, api_admin, path, body, field):
    response = api_admin.post(path, {"product": "LOD", **body}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_far_dates_in_a_feedback_csv_are_row_errors(cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from feedback.models import FeedbackImport

    csv = (
        "content,source,received_at\n"
        "Old,email,0001-01-01\nLater,email,9999-12-31\nOk,email,2026-01-02\n"
    )
    response = cast.client("pm").post(
        reverse("feedback_import", kwargs={"key": "LOD"}),
        {
            "file": SimpleUploadedFile("f.csv", csv.encode(), content_type="text/csv"),
            "encoding": "utf-8",
        },
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Use a date from 1900 on." in html and "The date is in the future." in html
    assert FeedbackImport.objects.get().invalid_count == 2


# --- Idempotency-Key on every POST of the schema ----------------------------------------------


def _post_operations():
    schema = _schema()
    for path, operations in sorted(schema["paths"].items()):
        if "post" in operations:
            yield pytest.param(path, id=path)


@pytest.mark.parametrize("path", list(_post_operations()))
def test_every_api_post_with_a_key_twice_does_its_work_once(cast, api_admin, path):
    from pm.models import ActivityLog

    schema = _schema()
    operation = schema["paths"][path]["post"]
    body_schema = _resolve(
        schema, operation["requestBody"]["content"]["application/json"]["schema"]
    )
    item = _resolve(schema, body_schema["items"]) if "items" in body_schema else None
    target = item or body_schema
    properties = {k: _resolve(schema, v) for k, v in target.get("properties", {}).items()}
    known = _known_ids(cast)
    url = _with_ids(path, known)
    body = _baseline(properties, target.get("required", []), schema)
    body.update(ONE_OF_REQUIRED.get(path, {}))
    if "feature" in body:  # a row of the caller's product, not id 1
        body["feature"] = known["/features/"]
    payload = json.dumps([body] if item else body)
    headers = {"Idempotency-Key": f"once:{path}"}

    first = api_admin.post(url, payload, content_type="application/json", headers=headers)
    assert 200 <= first.status_code < 300, first.content  # the generated body is valid
    logged = ActivityLog.objects.count()
    again = api_admin.post(url, payload, content_type="application/json", headers=headers)
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again["Idempotent-Replayed"] == "true"
    assert ActivityLog.objects.count() == logged  # nothing created or recorded twice
