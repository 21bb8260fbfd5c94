"""The triage inbox: new items first, htmx actions to link (with a quote and importance), archive
and mark triaged, and the demand those links put on features."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from backlog.models import BacklogSettings, Feature
from feedback.models import FeedbackItem, Insight
from feedback.services.customers import customer_update
from feedback.services.insights import insight_create, insight_delete
from feedback.services.items import feedback_create, feedback_set_status, feedback_update
from pm.models import ActivityLog
from tests.feedback.factories import CustomerFactory, FeedbackItemFactory, make_feature
from tests.pm.helpers import HX, text_of


def inbox_order(response) -> list[int]:
    import re

    return [int(pk) for pk in re.findall(r'id="fb-row-(\d+)"', response.content.decode())]


def _row_out_of_band(page: str, item) -> bool:
    """The acted-on row comes back fresh, for htmx to swap in out of band."""
    import re

    row = re.search(rf'<li [^>]*id="fb-row-{item.pk}"[^>]*>', page)
    return row is not None and 'hx-swap-oob="true"' in row.group(0)


def test_the_inbox_lists_new_items_first_then_the_rest_newest_first(cast):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    old_new = FeedbackItemFactory(product=cast.product, received_at=now - timedelta(days=9))
    triaged = FeedbackItemFactory(product=cast.product, status="triaged", received_at=now)
    fresh_new = FeedbackItemFactory(product=cast.product, received_at=now - timedelta(days=1))
    archived = FeedbackItemFactory(product=cast.product, status="archived", received_at=now)
    FeedbackItemFactory()  # another product's feedback never shows

    response = cast.client("pm").get(reverse("feedback_inbox", args=[cast.product.key]))
    assert inbox_order(response) == [fresh_new.pk, old_new.pk, triaged.pk]
    # The first item is open for triage straight away.
    assert f'data-item-id="{fresh_new.pk}"' in response.content.decode()

    response = cast.client("pm").get(
        reverse("feedback_inbox", args=[cast.product.key]), {"status": "all"}, headers=HX
    )
    assert inbox_order(response) == [fresh_new.pk, old_new.pk, triaged.pk, archived.pk]
    response = cast.client("pm").get(
        reverse("feedback_inbox", args=[cast.product.key]), {"status": "archived"}, headers=HX
    )
    assert inbox_order(response) == [archived.pk]


def test_search_and_source_filters_narrow_the_inbox(cast):
    a = FeedbackItemFactory(product=cast.product, content="Jira sync please", source="email")
    FeedbackItemFactory(product=cast.product, content="Jira is slow", source="survey")
    FeedbackItemFactory(product=cast.product, content="Dark mode", source="email")
    response = cast.client("pm").get(
        reverse("feedback_inbox", args=[cast.product.key]),
        {"q": "jira", "source": "email"},
        headers=HX,
    )
    assert inbox_order(response) == [a.pk]


def link(client, item, target, *, quote="", importance="important", in_inbox=True):
    data = {"target": target, "quote": quote, "importance": importance}
    if in_inbox:
        data["in_inbox"] = "1"
    return client.post(reverse("feedback_link", args=[item.product.key, item.pk]), data, headers=HX)


def test_linking_to_a_feature_keeps_the_quote_and_importance_and_stores_demand(cast, backlog):
    acme = CustomerFactory(workspace=cast.workspace, arr=Decimal("50000"))
    item = FeedbackItemFactory(
        product=cast.product,
        customer=acme,
        content="We copy statuses by hand. A Jira sync would save us hours.",
    )
    response = link(
        cast.client("pm"),
        item,
        f"feature:{backlog['jira'].pk}",
        quote="A Jira sync would save us hours",
        importance="critical",
    )
    assert response.status_code == 200
    insight = Insight.objects.get()
    assert (insight.feature, insight.quote, insight.importance) == (
        backlog["jira"],
        "A Jira sync would save us hours",
        "critical",
    )
    item.refresh_from_db()
    assert item.status == "linked"
    page = response.content.decode()
    # The panel shows the link and marks the quote in the text; the row is refreshed too.
    assert '<mark class="quote-mark">A Jira sync would save us hours</mark>' in page
    assert _row_out_of_band(page, item)
    assert 'id="status-count-linked" hx-swap-oob="true">1<' in page
    toast = json.loads(response["HX-Trigger"])["toast"]
    assert toast["message"] == "Linked to feature “Two-way Jira sync”."
    jira = Feature.objects.get(pk=backlog["jira"].pk)
    assert (jira.demand_customers, jira.demand_arr) == (1, Decimal("50000"))


def test_demand_counts_each_customer_once_and_follows_unlinks_archives_and_arr(cast, backlog):
    big = CustomerFactory(workspace=cast.workspace, arr=Decimal("100000"))
    small = CustomerFactory(workspace=cast.workspace, arr=Decimal("5000"))
    jira = backlog["jira"]
    items = [
        FeedbackItemFactory(product=cast.product, customer=big),
        FeedbackItemFactory(product=cast.product, customer=big),
        FeedbackItemFactory(product=cast.product, customer=small),
        FeedbackItemFactory(product=cast.product, customer=None),
    ]
    insights = [insight_create(item=i, feature=jira, actor=cast.pm) for i in items]

    def demand():
        jira.refresh_from_db()
        return jira.demand_customers, jira.demand_arr

    assert demand() == (2, Decimal("105000"))
    insight_delete(insight=insights[0], actor=cast.pm)
    assert demand() == (2, Decimal("105000"))  # big still asks through another item
    feedback_set_status(item=items[2], status="archived", actor=cast.pm)
    assert demand() == (1, Decimal("100000"))
    customer_update(
        customer=big, data={"arr": Decimal("120000")}, expected_version=big.version, actor=cast.pm
    )
    assert demand() == (1, Decimal("120000"))
    feedback_update(
        item=items[1],
        data={"customer": small},
        expected_version=items[1].version,
        actor=cast.pm,
    )
    # Big no longer asks at all; small asks through the moved item (its own is archived).
    assert demand() == (1, Decimal("5000"))


def test_demand_becomes_rice_reach_when_the_product_says_so(cast, backlog):
    BacklogSettings.objects.update_or_create(
        product=cast.product, defaults={"reach_source": BacklogSettings.ReachSource.ARR}
    )
    customer = CustomerFactory(workspace=cast.workspace, arr=Decimal("42000"))
    item = FeedbackItemFactory(product=cast.product, customer=customer)
    insight_create(item=item, feature=backlog["sso"], actor=cast.pm)
    sso = Feature.objects.get(pk=backlog["sso"].pk)
    assert sso.reach == Decimal("42000")


def test_linking_to_an_idea_from_the_picker_and_unlinking_again(cast, backlog):
    item = FeedbackItemFactory(product=cast.product, content="Please, a darker theme")
    client = cast.client("pm")
    response = client.post(
        reverse("feedback_link", args=[cast.product.key, item.pk]),
        {"target": "other", "other": f"idea:{backlog['dark'].pk}", "importance": "nice_to_have"},
        headers=HX,
    )
    assert response.status_code == 200
    insight = Insight.objects.get()
    assert insight.idea == backlog["dark"] and insight.feature is None
    response = client.post(
        reverse("insight_unlink", args=[cast.product.key, insight.pk]), headers=HX
    )
    assert response.status_code == 200
    assert not Insight.objects.exists()
    item.refresh_from_db()
    assert item.status == "triaged"


def test_link_errors_are_shown_in_the_panel_not_as_a_server_error(cast, backlog):
    item = FeedbackItemFactory(product=cast.product)
    client = cast.client("pm")
    response = link(client, item, "other")
    assert response.status_code == 200
    assert "Choose an idea or a feature." in text_of(response.content)
    elsewhere = make_feature(FeedbackItemFactory().product, "Another product's feature")
    response = link(client, item, f"feature:{elsewhere.pk}")
    assert "That idea or feature no longer exists." in text_of(response.content)
    link(client, item, f"feature:{backlog['jira'].pk}")
    response = link(client, item, f"feature:{backlog['jira'].pk}")
    assert response.status_code == 200
    assert "already linked" in text_of(response.content)
    assert Insight.objects.count() == 1


@pytest.mark.parametrize("status", ["triaged", "archived"])
def test_marking_an_item_moves_the_panel_on_to_the_next_new_item(cast, status):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    first = FeedbackItemFactory(product=cast.product, received_at=now)
    second = FeedbackItemFactory(product=cast.product, received_at=now - timedelta(hours=1))
    response = cast.client("pm").post(
        reverse("feedback_status", args=[cast.product.key, first.pk]),
        {"status": status, "in_inbox": "1"},
        headers=HX,
    )
    first.refresh_from_db()
    assert first.status == status
    page = response.content.decode()
    assert f'id="triage-panel" class="card triage-panel" data-item-id="{second.pk}"' in page
    assert _row_out_of_band(page, first)
    entry = ActivityLog.objects.filter(object_type="feedback.feedbackitem").first()
    assert entry.changes["status"][1] == status.capitalize()


def test_a_linked_item_stays_linked_when_marked_triaged_and_can_be_reopened(cast, backlog):
    item = FeedbackItemFactory(product=cast.product)
    insight_create(item=item, feature=backlog["jira"], actor=cast.pm)
    feedback_set_status(item=item, status="triaged", actor=cast.pm)
    assert FeedbackItem.objects.get(pk=item.pk).status == "linked"
    other = FeedbackItemFactory(product=cast.product, status="archived")
    feedback_set_status(item=other, status="new", actor=cast.pm)
    assert FeedbackItem.objects.get(pk=other.pk).status == "new"


def test_the_panel_suggests_matching_features_and_similar_feedback(cast, backlog):
    earlier = FeedbackItemFactory(
        product=cast.product, content="Jira sync of story status in both directions, please"
    )
    item = FeedbackItemFactory(
        product=cast.product,
        content="Our engineers use Jira; we need story status to sync both ways.",
    )
    response = cast.client("pm").get(
        reverse("feedback_detail", args=[cast.product.key, item.pk]), headers=HX
    )
    page = response.content.decode()
    first_suggestion = page.index('data-testid="suggestion-link"')
    assert (
        f'value="feature:{backlog["jira"].pk}"' in page[first_suggestion - 200 : first_suggestion]
    )
    assert f"#{earlier.pk}" in text_of(page.split('data-testid="duplicates"')[1])


def test_stakeholders_read_the_item_without_triage_controls(cast, backlog):
    item = FeedbackItemFactory(product=cast.product)
    response = cast.client("stakeholder").get(
        reverse("feedback_detail", args=[cast.product.key, item.pk])
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="link-form"' not in page and 'data-key="a"' not in page
    response = cast.client("stakeholder").post(
        reverse("feedback_status", args=[cast.product.key, item.pk]), {"status": "archived"}
    )
    assert response.status_code == 403


def test_capture_from_the_form_with_a_new_customer(cast):
    client = cast.client("pm")
    response = client.post(
        reverse("feedback_new", args=[cast.product.key]),
        {
            "content": "Export to Excel please",
            "customer_name": "Vandelay Industries",
            "source": "sales_call",
            "sentiment": "neutral",
            "received_on": "2026-10-05",
            "new_segment": "SMB",
            "new_arr": "9000",
        },
    )
    assert response.status_code == 302
    item = FeedbackItem.objects.select_related("customer").get()
    assert item.customer.name == "Vandelay Industries" and item.customer.arr == 9000
    assert item.received_at.date().isoformat() == "2026-10-05"
    # The same name again reuses the customer.
    client.post(
        reverse("feedback_new", args=[cast.product.key]),
        {
            "content": "Also: CSV",
            "customer_name": "vandelay industries",
            "source": "email",
            "sentiment": "neutral",
            "received_on": "2026-10-06",
        },
    )
    assert FeedbackItem.objects.filter(customer=item.customer).count() == 2


def test_capture_errors_are_shown_beside_the_fields(cast):
    from tests.pm.helpers import field_errors

    response = cast.client("pm").post(
        reverse("feedback_new", args=[cast.product.key]),
        {"content": "   ", "source": "pigeon", "sentiment": "neutral", "received_on": "2099-01-01"},
    )
    assert response.status_code == 200
    assert field_errors(response.content, "content")
    assert field_errors(response.content, "source")
    assert field_errors(response.content, "received_on") == [
        "Feedback cannot be received in the future."
    ]
    assert not FeedbackItem.objects.exists()


def test_editing_a_stale_version_is_refused_and_explained(cast):
    from tests.pm.helpers import alert_text

    item = FeedbackItemFactory(product=cast.product, content="Original")
    feedback_update(
        item=item, data={"content": "Changed by someone"}, expected_version=1, actor=cast.admin
    )
    response = cast.client("pm").post(
        reverse("feedback_edit", args=[cast.product.key, item.pk]),
        {
            "version": "1",
            "content": "My edit",
            "source": "email",
            "sentiment": "neutral",
            "received_on": item.received_at.date().isoformat(),
        },
    )
    assert response.status_code == 200
    assert "Someone else saved this" in alert_text(response.content)
    assert FeedbackItem.objects.get(pk=item.pk).content == "Changed by someone"


def test_activity_entries_never_name_the_customer(cast, backlog):
    customer = CustomerFactory(workspace=cast.workspace, name="Zyxwv Secret Corp")
    item = feedback_create(
        product=cast.product, content="Hi", source="email", customer=customer, actor=cast.pm
    )
    feedback_update(item=item, data={"customer": None}, expected_version=1, actor=cast.pm)
    insight_create(item=item, feature=backlog["jira"], actor=cast.pm)
    entries = ActivityLog.objects.filter(product=cast.product)
    assert entries.exists()
    assert "Zyxwv" not in str(list(entries.values_list("object_repr", "changes")))
