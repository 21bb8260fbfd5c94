"""Every tenant table can be sharded by workspace (a later move to Citus, docs/scaling.md): it
has a `workspace_id` column, or a non-null `product_id` (a product never changes workspace, so
the column is one join away and fixed). Global tables are listed here by name, with why.

A new model of the project apps fails this test until it says which workspace its rows belong
to: add `workspace = models.ForeignKey(Workspace, …)` and fill it in the service that creates
the rows (see metrics.services, feedback.services)."""

import pytest
from django.apps import apps
from django.db import connection, models

from pm.models import Product, Workspace

PROJECT_APPS = ("pm", "backlog", "roadmap", "feedback", "metrics", "hooks")

# Tables with no workspace: they belong to a user or to the whole installation.
GLOBAL = {
    "pm.Workspace": "the tenant itself (its id is the distribution column)",
    "pm.ApiToken": "a user's personal token, valid in every workspace the user belongs to",
    "pm.IdempotentRequest": "a user's API retry record, keyed by user and key",
    "pm.NotificationSettings": "a user's e-mail choices, the same in every workspace",
    "pm.MentionReminder": "a user's daily e-mail of unread mentions, across their workspaces",
    "pm.SsoIdentity": "a user's account at the identity provider, the same in every workspace",
}

# Django's own tables (users, groups, sessions, content types, admin log) are global: they are
# not in PROJECT_APPS. Many-to-many link tables of the project apps are reached through their
# owner (both sides carry the product); they are listed so that a new one is a decision.
THROUGH_OWNER = {
    "roadmap_initiative_objectives": "roadmap.Initiative",
    "roadmap_initiative_features": "roadmap.Initiative",
    "roadmap_release_features": "roadmap.Release",
    "feedback_researchstudy_participants": "feedback.ResearchStudy",
    "backlog_retroitem_voters": "backlog.RetroItem",
    "backlog_idea_voters": "backlog.Idea",
    "metrics_priceplan_features": "metrics.PricePlan",
}


def _tenant_path(model: type[models.Model]) -> str | None:
    """How the model's table reaches its workspace, or None."""
    for field in model._meta.concrete_fields:
        if not isinstance(field, models.ForeignKey) or field.null:
            continue
        if field.related_model is Workspace and field.column == "workspace_id":
            return "workspace_id"
        if field.related_model is Product and field.column == "product_id":
            return "product_id → pm_product.workspace_id"
    return None


def _project_models() -> list[type[models.Model]]:
    return [
        m
        for label in PROJECT_APPS
        for m in apps.get_app_config(label).get_models()
        if m._meta.managed and not m._meta.proxy
    ]


def test_every_tenant_table_reaches_its_workspace_in_one_column():
    missing = [
        m._meta.label
        for m in _project_models()
        if m._meta.label not in GLOBAL and _tenant_path(m) is None
    ]
    assert missing == [], (
        f"{missing} have no workspace_id column (nor a required product): add a workspace "
        "foreign key filled by the creating service, or list the model in GLOBAL with why"
    )


def test_every_many_to_many_table_of_the_project_is_accounted_for():
    tables = {
        field.remote_field.through._meta.db_table: model._meta.label
        for model in _project_models()
        for field in model._meta.local_many_to_many
        if field.remote_field.through._meta.auto_created
    }
    assert tables == THROUGH_OWNER


def test_the_allowlist_names_real_models_only():
    labels = {m._meta.label for m in _project_models()}
    assert set(GLOBAL) <= labels


@pytest.mark.django_db
def test_the_workspace_columns_exist_in_the_database_and_are_indexed():
    """What the migrations built, not only what the models say: NOT NULL and an index leading
    with the column (a later distribution key must not scan)."""
    with connection.cursor() as cursor:
        for model in _project_models():
            if _tenant_path(model) != "workspace_id":
                continue
            table = model._meta.db_table
            cursor.execute(
                "SELECT is_nullable FROM information_schema.columns "
                "WHERE table_name = %s AND column_name = 'workspace_id'",
                [table],
            )
            assert cursor.fetchall() == [("NO",)], table
            cursor.execute(
                "SELECT count(*) FROM pg_index i JOIN pg_attribute a "
                "ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
                "WHERE i.indrelid = %s::regclass AND a.attname = 'workspace_id'",
                [table],
            )
            assert cursor.fetchone()[0] >= 1, f"{table}.workspace_id has no index"
