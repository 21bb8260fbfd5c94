"""Shared fixtures: the permission cast (admin, pm, engineer, stakeholder, outsider), a product in
their workspace, and test-wide toggles."""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from pm.celery import app as celery_app
from pm.choices import Role
from pm.models import Product, Workspace
from tests.factories import MembershipFactory, ProductFactory, UserFactory, WorkspaceFactory

ROLES = [Role.ADMIN, Role.PM, Role.ENGINEER, Role.STAKEHOLDER]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: under pytest-xdist the long ones (the production smoke, schemathesis)
    then start while the other worker still has hundreds of short tests to take, instead of
    being the tail that one worker runs alone at the end. A stable sort, so pytest-django's
    order and each module's tests stay together."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _test_toggles(settings):
    # Templates resolve {% static %} without a collectstatic manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tasks run in-process unless a test starts a real worker (see tests/pm/test_celery.py).
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    cache.clear()
    yield
    cache.clear()


@dataclass
class Cast:
    workspace: Workspace
    product: Product
    admin: User
    pm: User
    engineer: User
    stakeholder: User
    outsider: User

    def user(self, role: str) -> User:
        return getattr(self, role)

    def share_with_stakeholders(self, *sections: str) -> None:
        """The workspace setting that lets stakeholders browse more sections (pm.visibility)."""
        self.workspace.stakeholder_sections = list(sections)
        self.workspace.save(update_fields=["stakeholder_sections"])

    def client(self, role: str) -> Client:
        client = Client()
        if role != "anonymous":
            client.force_login(self.user(role))
        return client


@pytest.fixture
def cast(db) -> Cast:
    workspace = WorkspaceFactory.create(name="Acme", slug="acme")
    product = ProductFactory.create(workspace=workspace, name="Lodestar Cloud", key="LOD")
    members = {
        role: MembershipFactory.create(workspace=workspace, role=role, user__username=role).user
        for role in ROLES
    }
    outsider = UserFactory.create(username="outsider")
    # The outsider belongs to a workspace of their own, so "no access" is not "no workspace".
    MembershipFactory(user=outsider, role=Role.ADMIN)
    return Cast(workspace=workspace, product=product, outsider=outsider, **members)


@pytest.fixture
def pm_client(cast) -> Client:
    return cast.client("pm")


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """The one Playwright session of the whole run: Playwright's sync API refuses a second one
    while the first is alive, so every browser test (tests/browser and the production smoke)
    shares this Chromium."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; install Debian's chromium package.")
    # Playwright's sync API runs an event loop in this thread; the ORM calls tests make to set
    # up data are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
