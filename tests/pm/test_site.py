"""Health check, workspaces and the switcher, the demo data, markdown sanitising and the
Content-Security-Policy."""

import json
import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse

from pm.choices import Role
from pm.models import Membership, Product, Workspace
from tests.factories import MembershipFactory, ProductFactory, WorkspaceFactory
from tests.pm.helpers import text_of

ROOT = Path(__file__).resolve().parents[2]

# --- health -------------------------------------------------------------------------------


def test_healthz_answers_ok_when_the_database_answers(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["checks"]["database"] == "ok"
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_whatever_the_host_header(db, client):
    # Container health checks call 127.0.0.1, which is not in ALLOWED_HOSTS in production.
    assert client.get("/healthz", HTTP_HOST="10.1.2.3:8000").status_code == 200
    assert client.get(reverse("login"), HTTP_HOST="10.1.2.3:8000").status_code == 400


def test_healthz_is_503_when_the_database_is_down():
    code = (
        "import django, json; django.setup()\n"
        "from django.test import Client\n"
        "r = Client().get('/healthz')\n"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/nothing",  # nothing listens on port 1
        "DJANGO_SETTINGS_MODULE": "pm.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 503
    assert outcome["body"]["status"] == "error"
    assert outcome["body"]["checks"]["database"] == "unavailable"
    assert "Error" not in json.dumps(outcome["body"])  # no exception class names


# --- workspaces ---------------------------------------------------------------------------


@pytest.fixture
def second_workspace(cast):
    workspace = WorkspaceFactory(name="Zenith Labs", slug="zenith")
    MembershipFactory(workspace=workspace, user=cast.pm, role=Role.STAKEHOLDER)
    ProductFactory(workspace=workspace, name="Zenith App", key="ZEN")
    return workspace


def test_home_lists_only_the_users_workspaces_with_their_role(cast, second_workspace):
    html = cast.client("pm").get(reverse("home")).content.decode()
    assert html.count('data-testid="workspace-card"') == 2
    text = text_of(html)
    assert "Acme" in text and "Zenith Labs" in text
    assert "Product manager" in text and "Stakeholder" in text
    outsider_text = text_of(cast.client("outsider").get(reverse("home")).content)
    assert "Zenith Labs" not in outsider_text and "Acme" not in outsider_text


def _switcher(html: str) -> str:
    match = re.search(r'data-testid="workspace-switcher">\s*<summary>(.*?)</summary>', html, re.S)
    assert match, "the page has no workspace switcher"
    return text_of(match.group(1))


def test_workspace_switcher_changes_the_current_workspace(cast, second_workspace):
    client = cast.client("pm")
    home = client.get(reverse("home")).content.decode()
    assert _switcher(home) == "Workspace Acme"
    assert reverse("workspace_switch", args=["zenith"]) in home

    response = client.post(reverse("workspace_switch", args=["zenith"]))

    assert response.status_code == 302
    assert response["Location"] == reverse("workspace_detail", args=["zenith"])
    home = client.get(reverse("home")).content.decode()
    assert _switcher(home) == "Workspace Zenith Labs"
    # The sidebar lists the current workspace's products.
    assert reverse("product_overview", args=["ZEN"]) in home
    assert reverse("product_overview", args=["LOD"]) not in home


def test_opening_a_product_makes_its_workspace_current(cast, second_workspace):
    client = cast.client("pm")
    client.post(reverse("workspace_switch", args=["zenith"]))
    page = client.get(reverse("product_overview", args=["LOD"])).content.decode()
    assert _switcher(page) == "Workspace Acme"


def test_switching_to_a_workspace_one_is_not_in_is_404(cast, second_workspace):
    client = cast.client("engineer")
    assert client.post(reverse("workspace_switch", args=["zenith"])).status_code == 404
    assert _switcher(client.get(reverse("home")).content.decode()) == "Workspace Acme"


def test_signing_in_user_creates_a_workspace_and_becomes_its_admin(cast):
    client = cast.client("outsider")
    response = client.post(reverse("home"), {"name": "Orbit Inc", "time_zone": "UTC"})
    workspace = Workspace.objects.get(name="Orbit Inc")
    assert response["Location"] == reverse("product_create", args=[workspace.slug])
    assert Membership.objects.get(workspace=workspace, user=cast.outsider).role == Role.ADMIN


def test_a_user_without_workspaces_sees_a_helpful_empty_state(db, client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    text = text_of(client.get(reverse("home")).content)
    assert "You're not in a workspace yet." in text


# --- demo data ----------------------------------------------------------------------------


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if not model._meta.label.startswith(("sessions.", "admin."))
    }


def test_load_demo_builds_acme_and_prints_the_logins(db):
    out = StringIO()
    call_command("load_demo", stdout=out)
    product = Product.objects.get(key="LOD")
    assert product.workspace.name == "Acme"
    assert 3 <= product.themes.count() <= 4
    assert product.objectives.filter(key_results__isnull=False).exists()
    assert product.personas.exists() and product.competitors.exists()
    roles = dict(
        Membership.objects.filter(workspace__slug="acme").values_list("user__username", "role")
    )
    assert roles == {
        "admin": "admin",
        "pm": "pm",
        "engineer": "engineer",
        "stakeholder": "stakeholder",
    }
    output = out.getvalue()
    assert "lodestar-demo" in output
    for username in roles:
        assert re.search(rf"^\s+{username}\s", output, re.M), output


def test_load_demo_is_idempotent(db):
    call_command("load_demo", stdout=StringIO())
    before = _row_counts()
    call_command("load_demo", stdout=StringIO())
    after = _row_counts()
    changed = {
        label: (before[label], after[label]) for label in before if before[label] != after[label]
    }
    assert not changed, f"a second load_demo changed row counts: {changed}"


def test_demo_users_sign_in_with_the_demo_password(db, client):
    call_command("load_demo", stdout=StringIO())
    response = client.post(
        reverse("login"), {"username": "stakeholder", "password": "lodestar-demo"}
    )
    assert response.status_code == 302
    assert client.get(reverse("product_overview", args=["LOD"])).status_code == 200


# --- markdown and CSP ---------------------------------------------------------------------

PAYLOAD = (
    "Our **vision**.\n\n<script>alert('xss')</script>\n\n"
    "<img src=x onerror=\"alert('img')\">\n\n[click me](javascript:alert('link'))\n\n"
    '<a href="https://example.com" onclick="alert(1)">ok link</a>'
)


@pytest.mark.parametrize("page", ["strategy", "product_overview"])
def test_markdown_in_the_vision_is_rendered_and_sanitised(cast, page):
    Product.objects.filter(pk=cast.product.pk).update(vision=PAYLOAD)
    html = cast.client("stakeholder").get(reverse(page, args=[cast.product.key])).content.decode()

    assert "<strong>vision</strong>" in html
    assert "alert(" not in html
    assert "javascript:" not in html
    assert "onerror" not in html and "onclick" not in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok link</a>' in html
    # The only scripts are our static files.
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []


def test_pages_send_a_strict_content_security_policy(cast):
    response = cast.client("pm").get(reverse("strategy", args=[cast.product.key]))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY"


CORE_PAGES = [
    ("home", lambda c: []),
    ("workspace_detail", lambda c: [c.workspace.slug]),
    ("members", lambda c: [c.workspace.slug]),
    ("product_create", lambda c: [c.workspace.slug]),
    ("product_overview", lambda c: [c.product.key]),
    ("strategy", lambda c: [c.product.key]),
    ("product_history", lambda c: [c.product.key]),
]


@pytest.mark.parametrize(("name", "args"), CORE_PAGES, ids=[n for n, _ in CORE_PAGES])
def test_core_pages_have_no_inline_script_style_or_handlers(cast, name, args):
    """What the CSP would block in the browser: inline scripts, style attributes, on* handlers,
    and htmx's eval-based attributes."""
    from tests.factories import KeyResultFactory, PersonaFactory, ThemeFactory

    KeyResultFactory(objective__product=cast.product)
    ThemeFactory(product=cast.product)
    PersonaFactory(product=cast.product, quote="Ship it")
    html = cast.client("admin").get(reverse(name, args=args(cast))).content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert re.findall(r"<[^>]+\sstyle=", html) == []
    assert re.findall(r"<[^>]+\son[a-z]+=", html) == []
    assert "hx-on" not in html and "js:" not in html


def test_a_workspace_needs_a_real_time_zone(cast):
    # Digests and KPI rollups build ZoneInfo(workspace.time_zone): a typo would break them later.
    client = cast.client("outsider")
    response = client.post(reverse("home"), {"name": "Orbit Inc", "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    from tests.pm.helpers import field_errors

    assert field_errors(response.content, "time_zone") == [
        "Unknown time zone. Use an IANA name such as Europe/Amsterdam or UTC."
    ]
    assert not Workspace.objects.filter(name="Orbit Inc").exists()
    client.post(reverse("home"), {"name": "Orbit Inc", "time_zone": "Europe/Amsterdam"})
    assert Workspace.objects.get(name="Orbit Inc").time_zone == "Europe/Amsterdam"


def test_the_workspace_service_refuses_an_unknown_time_zone(cast):
    from django.core.exceptions import ValidationError

    from pm import services

    with pytest.raises(ValidationError):
        services.workspace_create(name="Orbit", time_zone="../etc/passwd", actor=cast.outsider)
    assert not Workspace.objects.filter(name="Orbit").exists()
