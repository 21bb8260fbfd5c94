"""Imports from other tools, with the sample exports in tests/imports/samples/: upload, mapping
pre-filled, preview, import (all or nothing), and the same export again updating or skipping."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from backlog.models import Feature, Idea, UserStory
from feedback.models import Customer, FeedbackItem
from imports.models import ImportedRecord, ToolImport
from tests.feedback.factories import make_feature
from tests.pm.helpers import form_data, text_of


def upload(client, product, tool, raw, *, name="export.csv", encoding="utf-8"):
    return client.post(
        reverse("tool_import", args=[product.key]),
        {
            "tool": tool,
            "file": SimpleUploadedFile(name, raw, content_type="text/csv"),
            "encoding": encoding,
        },
    )


def uploaded(client, product, tool, raw, **kwargs) -> ToolImport:
    response = upload(client, product, tool, raw, **kwargs)
    assert response.status_code == 302, text_of(response.content)
    return ToolImport.objects.latest("pk")


def preview(client, product, batch) -> str:
    response = client.get(reverse("tool_import_preview", args=[product.key, batch.pk]))
    assert response.status_code == 200
    return text_of(response.content)


def save_mapping(client, product, batch, **changes):
    """Submit the mapping form as the page shows it, with `changes`."""
    url = reverse("tool_import_preview", args=[product.key, batch.pk])
    data = form_data(client.get(url).content, having="mapping")
    data.update({name: [value] for name, value in changes.items()})
    response = client.post(url, data)
    assert response.status_code == 302, text_of(response.content)
    batch.refresh_from_db()
    return batch


def run(client, product, batch):
    return client.post(reverse("tool_import_run", args=[product.key, batch.pk]))


def counts(text: str) -> tuple[str, ...]:
    """The preview's new / updated / unchanged figures, as the page words them."""
    import re

    found = re.search(r"(\d+) new (\d+) imported before, changed since: updated (\d+)", text)
    assert found, text[:2000]
    return found.groups()


@pytest.fixture
def client(cast):
    return cast.client("pm")


def test_a_jira_export_lands_as_features_and_stories_under_their_epics(cast, client, sample):
    batch = uploaded(client, cast.product, "jira", sample("jira_issues.csv"))
    assert Feature.objects.count() == 0  # nothing before the PM confirms
    page = preview(client, cast.product, batch)
    # 2 epics, 4 issues and the feature for the bug with no epic; the sub-task is left out.
    assert counts(page) == ("7", "0", "0")
    assert "Sub-tasks are not imported" in page
    assert "Selected for Development" in page  # their status, mapped on the page

    response = run(client, cast.product, batch)
    assert response.status_code == 302
    sso = Feature.objects.get(title="Single sign-on for enterprise workspaces")
    assert sso.status == "in_progress"
    assert "SAML 2.0 (Okta, Azure AD)" in sso.description  # the multi-line cell, whole
    billing = Feature.objects.get(title="Usage-based billing")
    assert billing.status == "backlog"
    okta = UserStory.objects.get(title="SAML login with Okta")
    assert (okta.feature, okta.status, okta.points) == (sso, "in_review", 5)
    assert 'the "Sign in with SSO" button' in okta.i_want
    # Jira Cloud writes the epic's numeric id as the parent; it is resolved to the epic.
    seats = UserStory.objects.get(title="Seat count shown in the billing page")
    assert (seats.feature, seats.status) == (billing, "ready")
    bug = UserStory.objects.get(title="Invoice PDF shows the wrong VAT number")
    assert bug.feature.title == "Imported from Jira"  # hooks.jira's feature for loose issues
    assert not UserStory.objects.filter(title__contains="metadata parser").exists()
    assert FeedbackItem.objects.count() == 0  # comments only when asked for
    batch.refresh_from_db()
    assert (batch.created_count, batch.status) == (7, "done")
    assert ImportedRecord.objects.filter(tool="jira").count() == 6  # the fallback by its title


def test_the_same_jira_export_again_adds_nothing_and_a_changed_issue_is_updated(
    cast, client, sample
):
    first = uploaded(client, cast.product, "jira", sample("jira_issues.csv"))
    run(client, cast.product, first)
    okta = UserStory.objects.get(title="SAML login with Okta")

    again = uploaded(client, cast.product, "jira", sample("jira_issues.csv"))
    page = preview(client, cast.product, again)
    assert counts(page) == ("0", "0", "7")
    assert "This file was imported before" in page
    run(client, cast.product, again)
    assert Feature.objects.count() == 3 and UserStory.objects.count() == 4

    changed = sample("jira_issues.csv").replace(
        b'"SAML login with Okta",ACME-110,10110,Story,In Review',
        b'"SAML login with Okta",ACME-110,10110,Story,Done',
    )
    third = uploaded(client, cast.product, "jira", changed)
    assert counts(preview(client, cast.product, third)) == ("0", "1", "6")
    run(client, cast.product, third)
    okta.refresh_from_db()
    assert okta.status == "done" and okta.version == 2
    assert UserStory.objects.count() == 4


def test_jira_comments_become_feedback_when_the_mapping_says_so(cast, client, sample):
    batch = uploaded(client, cast.product, "jira", sample("jira_issues.csv"))
    save_mapping(
        client,
        cast.product,
        batch,
        comments="on",
        source="sales_call",
        jira_site="https://acme.atlassian.net",
    )
    page = preview(client, cast.product, batch)
    assert counts(page) == ("10", "0", "0")  # three comments more
    run(client, cast.product, batch)
    comments = FeedbackItem.objects.order_by("received_at")
    assert [c.source for c in comments] == ["sales_call"] * 3
    assert comments[0].content.startswith("Hooli reported this twice")
    assert comments[0].received_at.strftime("%Y-%m-%d %H:%M") == "2026-10-22 09:12"
    assert '"blocking" for them' in comments[1].content  # a ; inside the comment is kept
    story = UserStory.objects.get(title="SAML login with Okta")
    assert story.jira_url == "https://acme.atlassian.net/browse/ACME-110"


def test_issues_linked_by_the_jira_json_import_are_recognised_not_added_again(cast, client, sample):
    epic = make_feature(cast.product, "SSO (from the Jira link)", actor=cast.pm)
    Feature.objects.filter(pk=epic.pk).update(jira_url="https://acme.atlassian.net/browse/ACME-101")
    batch = uploaded(client, cast.product, "jira", sample("jira_issues.csv"))
    assert counts(preview(client, cast.product, batch)) == ("6", "0", "1")
    run(client, cast.product, batch)
    assert not Feature.objects.filter(title="Single sign-on for enterprise workspaces").exists()
    assert UserStory.objects.get(title="SAML login with Okta").feature == epic
    # Now remembered: the next import of a changed epic updates it.
    assert ImportedRecord.objects.get(external_key="ACME-101").feature == epic


def test_a_trello_board_lands_as_features_with_lists_as_statuses(cast, client, sample):
    batch = uploaded(client, cast.product, "trello", sample("trello_board.json"), name="b.json")
    page = preview(client, cast.product, batch)
    assert counts(page) == ("5", "0", "0")
    run(client, cast.product, batch)
    statuses = dict(Feature.objects.values_list("title", "status"))
    assert statuses == {
        "Dark mode": "backlog",
        "CSV export of the backlog": "planned",
        "Faster search": "in_progress",
        "Slack notifications": "shipped",
        "Gantt chart": "archived",  # a closed card
    }
    export = Feature.objects.get(title="CSV export of the backlog")
    assert "- [x] Title and status\n- [ ] Score and its inputs" in export.description
    again = uploaded(client, cast.product, "trello", sample("trello_board.json"), name="b.json")
    assert counts(preview(client, cast.product, again)) == ("0", "0", "5")


def test_trello_cards_can_become_ideas_with_their_lists_mapped_to_idea_statuses(
    cast, client, sample
):
    batch = uploaded(client, cast.product, "trello", sample("trello_board.json"), name="b.json")
    save_mapping(client, cast.product, batch, target="idea")
    assert batch.mapping["statuses"]["idea:(archived cards)"] == "declined"
    run(client, cast.product, batch)
    assert Feature.objects.count() == 0
    assert dict(Idea.objects.values_list("title", "status"))["Gantt chart"] == "declined"
    assert Idea.objects.count() == 5


def test_productboard_features_and_notes(cast, client, sample):
    features = uploaded(client, cast.product, "pb_features", sample("productboard_features.csv"))
    run(client, cast.product, features)
    statuses = dict(Feature.objects.values_list("title", "status"))
    assert statuses['Custom fields, "typed"'] == "refined"
    assert statuses["Gantt view"] == "archived"
    assert statuses["Weekly digest e-mail"] == "shipped"
    sharing = Feature.objects.get(title="Roadmap sharing with customers")
    assert sharing.description == (
        "Share a read-only roadmap link with a customer.\n\n- Expiring links\n- Only public items"
    )

    notes = uploaded(client, cast.product, "pb_notes", sample("productboard_notes.csv"))
    assert counts(preview(client, cast.product, notes)) == ("3", "0", "0")
    run(client, cast.product, notes)
    items = FeedbackItem.objects.select_related("customer").order_by("received_at")
    assert [i.customer.name if i.customer else None for i in items] == ["Initech", "Hooli", None]
    assert items[0].content.startswith("**Wants SSO before renewal**")
    assert '"non-negotiable"' in items[0].content
    assert items[1].received_at.isoformat() == "2026-11-20T08:05:31+00:00"
    assert Customer.objects.get(name="Initech").contact == "bill@initech.example"
    again = uploaded(client, cast.product, "pb_notes", sample("productboard_notes.csv"))
    run(client, cast.product, again)
    assert FeedbackItem.objects.count() == 3


def test_a_linear_export_lands_as_stories_under_a_feature_per_project(cast, client, sample):
    batch = uploaded(client, cast.product, "linear", sample("linear_issues.csv"))
    assert counts(preview(client, cast.product, batch)) == ("8", "0", "0")
    run(client, cast.product, batch)
    search = Feature.objects.get(title="Faster search")
    assert list(search.stories.values_list("title", flat=True)) == [
        "Cache the search index per workspace",
        'Highlight matches in "title" and description',
    ]
    slack = UserStory.objects.get(title="Slack message when a feature ships")
    assert (slack.feature.title, slack.status, slack.points) == ("Notifications", "done", 5)
    loose = UserStory.objects.get(title="Flaky login test on CI")
    assert loose.feature.title == "Imported from Linear"
    again = uploaded(client, cast.product, "linear", sample("linear_issues.csv"))
    assert counts(preview(client, cast.product, again)) == ("0", "0", "8")


def test_a_file_with_bad_rows_imports_nothing_and_says_which_rows(cast, client, sample):
    raw = sample("linear_issues.csv")
    raw = raw.replace(b"ENG-205,Engineering,", b"ENG-204,Engineering,")  # a duplicate key
    raw = raw.replace(b"Flaky login test on CI", b"")
    raw = raw.replace(b"Done,4,Low", b"Done,lots,Low")
    batch = uploaded(client, cast.product, "linear", raw)
    page = preview(client, cast.product, batch)
    assert "3 rows have errors" in page
    assert "The same key as line 2." in page
    assert "The title is empty." in page
    assert "Story points must be a number." in page
    response = run(client, cast.product, batch)
    assert response.status_code == 200
    assert "Nothing is imported until every row can be" in text_of(response.content)
    assert UserStory.objects.count() == 0 and Feature.objects.count() == 0


def test_changing_the_mapping_changes_the_preview(cast, client, sample):
    batch = uploaded(client, cast.product, "linear", sample("linear_issues.csv"))
    changes = {f"status_{n}": "todo" for n in range(len(batch.mapping["statuses"]))}
    save_mapping(client, cast.product, batch, col_project="", **changes)
    run(client, cast.product, batch)
    assert list(Feature.objects.values_list("title", flat=True)) == ["Imported from Linear"]
    assert set(UserStory.objects.values_list("status", flat=True)) == {"todo"}
