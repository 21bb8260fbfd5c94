"""`manage.py export_workspace` / `import_workspace`: every record of a workspace, moved whole."""

import io
import json

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import models

from pm import workspace_io
from pm.models import Workspace
from pm.registry import registry
from tests.test_tenant_columns import GLOBAL, _project_models, _tenant_path

# Integer fields named like ids that are not row references (so need no remapping), and why.
NOT_ROW_IDS = {
    ("metrics.Rollup", "run_id"): "a recalculation run's counter, not a row",
    ("metrics.HourRollup", "run_id"): "a recalculation run's counter, not a row",
}


def _empty_the_instance() -> None:
    """Every workspace table emptied (users stay): the instance a workspace moves to. (Not
    Workspace.delete(): customers with feedback are protected from deletion.)"""
    from django.db import connection

    tenant: list[type[models.Model]] = [Workspace, *workspace_io.tenant_models()]
    tables = [m._meta.db_table for m in tenant]
    tables += [
        workspace_io._through(f)._meta.db_table
        for m in workspace_io.tenant_models()
        for f in m._meta.local_many_to_many
    ]
    with connection.cursor() as cursor:
        # Deferred foreign-key checks of this test's own writes go first (PostgreSQL refuses
        # to truncate a table with pending trigger events).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


def _export(slug: str) -> str:
    out = io.StringIO()
    call_command("export_workspace", slug, stdout=out)
    return out.getvalue()


def test_every_tenant_model_is_exported_or_excluded_with_a_reason():
    """A model added later (found by the tenant-column rule) is in the document by itself;
    this fails if the exporter's rule and the tenant rule ever part."""
    tenant = {
        m._meta.label
        for m in _project_models()
        if m._meta.label not in GLOBAL and _tenant_path(m) is not None
    }
    exported = set(workspace_io.labels(workspace_io.tenant_models()))
    assert tenant - exported - set(workspace_io.EXCLUDED) == set()


def test_every_id_held_outside_a_foreign_key_is_remapped():
    """A field holding another row's id without a foreign key (history entries, comments,
    embeddings) must be declared with registry.add_generic_ref, or the copy points at the
    wrong rows."""
    declared = {(r.model, r.id_field) for r in registry.generic_refs}
    undeclared = [
        (model._meta.label, field.name)
        for model in workspace_io.tenant_models()
        for field in model._meta.concrete_fields
        if not field.is_relation
        and isinstance(field, models.IntegerField)
        and field.name.endswith("_id")
        and (model._meta.label, field.name) not in declared
        and (model._meta.label, field.name) not in NOT_ROW_IDS
    ]
    assert undeclared == []
    for model, _field in declared:
        apps.get_model(model)


@pytest.mark.slow
def test_the_demo_workspace_round_trips_into_an_empty_instance(db):
    """Export, drop the workspace (the instance keeps only its users), import, export again:
    the same document, byte for byte."""
    call_command("load_demo", stdout=io.StringIO())
    first = _export("acme")
    document = json.loads(first)
    counts = workspace_io.counts(document)
    for label in ("backlog.Feature", "pm.ActivityLog", "metrics.DataPoint", "roadmap.Initiative"):
        assert counts.get(label), label
    _empty_the_instance()
    workspace = workspace_io.import_workspace(document)
    assert workspace.slug == "acme"
    assert _export("acme") == first


def test_import_next_to_the_original_gets_a_new_address_and_fresh_tokens(cast, tmp_path):
    from roadmap.services import share_link_create

    share_link_create(product=cast.product, label="Board", expires_at=None, actor=cast.pm)
    file = tmp_path / "acme.json"
    call_command("export_workspace", "acme", output=str(file))
    with pytest.raises(CommandError, match="exists"):
        call_command("import_workspace", str(file), stdout=io.StringIO())
    call_command("import_workspace", str(file), slug="acme-copy", stdout=io.StringIO())
    copy = Workspace.objects.get(slug="acme-copy")
    assert copy.products.get().key == "LOD"
    hashes = set(apps.get_model("roadmap.ShareLink").objects.values_list("token_hash", flat=True))
    assert len(hashes) == 2
    # Members are the same people, found by e-mail.
    assert set(copy.memberships.values_list("user__username", "role")) == set(
        cast.workspace.memberships.values_list("user__username", "role")
    )


def test_users_are_matched_by_email_and_missing_ones_created_without_password(cast):
    cast.pm.email = "Pat@Example.com"
    cast.pm.save()
    document = workspace_io.export_workspace(cast.workspace)
    _empty_the_instance()
    cast.engineer.delete()
    User.objects.filter(pk=cast.pm.pk).update(username="renamed", email="pat@example.com")
    workspace = workspace_io.import_workspace(document)
    members = {m.user.username: m for m in workspace.memberships.select_related("user")}
    assert "renamed" in members  # the same e-mail, another username: the same person
    engineer = User.objects.get(username="engineer")
    assert not engineer.has_usable_password()


@pytest.mark.parametrize(
    "document",
    [{"format": "something"}, [], {"format": workspace_io.FORMAT, "version": 99}],
)
def test_a_file_that_is_not_an_export_is_refused(db, document):
    with pytest.raises(workspace_io.ImportRefused):
        workspace_io.import_workspace(document)
    assert not Workspace.objects.exists()


def test_an_unknown_workspace_is_a_command_error(db):
    with pytest.raises(CommandError, match="No workspace"):
        _export("nope")


# --- the members page's buttons ---------------------------------------------------------------


@pytest.mark.parametrize("role", ["pm", "engineer", "stakeholder"])
def test_only_admins_download_or_import_the_workspace(cast, role):
    client = cast.client(role)
    assert client.get("/w/acme/export/").status_code == 403
    assert client.post("/w/acme/import/").status_code == 403
    assert cast.client("outsider").get("/w/acme/export/").status_code == 404


def test_the_members_page_offers_the_download_and_the_import(cast):
    html = cast.client("admin").get("/w/acme/members/").content.decode()
    assert 'href="/w/acme/export/"' in html
    assert 'action="/w/acme/import/"' in html


@pytest.mark.parametrize("n", [2, 20])
def test_the_download_queries_do_not_grow_with_rows(cast, django_assert_max_num_queries, n):
    from tests.backlog.factories import FeatureFactory, StoryFactory

    for _ in range(n):
        StoryFactory(feature=FeatureFactory(product=cast.product))
    client = cast.client("admin")
    # session, user, workspace, membership; content types; per tenant model its ids and its
    # rows (and its many-to-many links); the users referenced
    budget = 6 + 2 * len(workspace_io.tenant_models()) + 10
    with django_assert_max_num_queries(budget):
        response = client.get("/w/acme/export/")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert len(document["models"]["backlog.UserStory"]) == n


def test_an_admin_imports_a_download_as_a_new_workspace(cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = cast.client("admin")
    data = client.get("/w/acme/export/").content
    upload = SimpleUploadedFile("acme.json", data, content_type="application/json")
    response = client.post("/w/acme/import/", {"file": upload, "slug": "acme-two"})
    assert response.status_code == 302
    assert response["Location"] == "/w/acme-two/"
    copy = Workspace.objects.get(slug="acme-two")
    assert copy.memberships.get(user=cast.admin).role == "admin"


def test_a_damaged_upload_imports_nothing_and_says_why(cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = cast.client("admin")
    document = json.loads(client.get("/w/acme/export/").content)
    document["models"]["pm.Product"][0]["key"] = None  # a required value missing
    upload = SimpleUploadedFile("bad.json", json.dumps(document).encode())
    response = client.post("/w/acme/import/", {"file": upload, "slug": "acme-bad"})
    assert response.status_code == 200
    assert "damaged" in response.content.decode()
    assert not Workspace.objects.filter(slug="acme-bad").exists()
    not_json = SimpleUploadedFile("x.json", b"\x00\xff nope")
    response = client.post("/w/acme/import/", {"file": not_json})
    assert "not JSON" in response.content.decode()


def test_times_keep_their_microseconds(cast):
    """A time a few microseconds past the second comes back exactly (JSON with milliseconds
    would restore it as a different time and change its export)."""
    from datetime import UTC, datetime

    exact = datetime(2026, 3, 1, 9, 30, 15, 123, tzinfo=UTC)
    Workspace.objects.filter(pk=cast.workspace.pk).update(created_at=exact)
    document = json.loads(_export("acme"))
    _empty_the_instance()
    assert workspace_io.import_workspace(document).created_at == exact
