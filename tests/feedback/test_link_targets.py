"""The triage panel's "another idea or feature" picker at a big customer's size: the panel never
embeds the backlog; a combobox fetches a short list from a search endpoint as the PM types."""

import json
import re

from django.urls import reverse

from feedback.models import Insight
from tests.feedback.factories import FeedbackItemFactory, make_feature, make_idea
from tests.pm.helpers import HX, text_of


def targets(client, product, q=""):
    response = client.get(
        reverse("feedback_link_targets", args=[product.key]), {"q": q}, headers=HX
    )
    assert response.status_code == 200
    return re.findall(r'data-value="((?:feature|idea):\d+)"', response.content.decode()), response


def test_the_search_offers_open_features_and_ideas_of_the_product_prefix_matches_first(
    cast, backlog
):
    single = make_feature(cast.product, "Sync calendars", actor=cast.pm)
    make_feature(cast.product, "Sync to the archive", status="archived", actor=cast.pm)
    idea = make_idea(cast.product, "Sync with Linear", actor=cast.pm)
    make_feature(FeedbackItemFactory().product, "Sync elsewhere")  # another product
    found, response = targets(cast.client("pm"), cast.product, "sync")
    # Titles starting with the words first (alphabetically), then containing them; features,
    # then ideas; archived features and other products' never.
    assert found == [f"feature:{single.pk}", f"feature:{backlog['jira'].pk}", f"idea:{idea.pk}"]
    assert "Sync calendars" in text_of(response.content)
    found, response = targets(cast.client("pm"), cast.product, "nothing like it")
    assert found == []
    assert "No open idea or feature matches “nothing like it”." in text_of(response.content)
    # Without words: the most recently changed.
    found, _ = targets(cast.client("pm"), cast.product)
    assert found[0] == f"feature:{single.pk}" and f"idea:{idea.pk}" in found


def test_the_search_runs_the_same_queries_for_a_small_and_a_big_backlog(
    cast, django_assert_max_num_queries
):
    client = cast.client("pm")
    targets(client, cast.product, "feature")  # warm the session and caches
    sizes = []
    made = 0
    for n in (3, 40):
        for i in range(made, n):
            make_feature(cast.product, f"Feature {i}", actor=cast.pm)
            make_idea(cast.product, f"Feature idea {i}", actor=cast.pm)
        made = n
        with django_assert_max_num_queries(8) as captured:
            found, _ = targets(client, cast.product, "feature")
        sizes.append(len(captured.captured_queries))
        assert len(found) == min(n, 12) * 2
    assert sizes[0] == sizes[1]


def test_the_panel_embeds_no_list_of_the_backlog(cast, backlog):
    for i in range(30):
        make_feature(cast.product, f"Zeppelin mooring {i}", actor=cast.pm)
    FeedbackItemFactory(product=cast.product, content="Please make exports faster")
    page = cast.client("pm").get(reverse("feedback_inbox", args=[cast.product.key])).content
    assert b"Zeppelin" not in page
    assert b'role="combobox"' in page and b"<select" not in page.split(b'id="triage-panel"')[1]


def test_a_target_chosen_in_the_combobox_is_linked_and_a_wrong_one_keeps_the_words(cast, backlog):
    item = FeedbackItemFactory(product=cast.product, content="Our SAML provider is Okta")
    client = cast.client("pm")
    url = reverse("feedback_link", args=[cast.product.key, item.pk])
    data = {"target": "other", "q": "Single", "importance": "important", "in_inbox": "1"}
    response = client.post(url, {**data, "other": "feature:999999"}, headers=HX)
    assert response.status_code == 200
    assert "That idea or feature no longer exists." in text_of(response.content)
    assert not Insight.objects.exists()
    response = client.post(url, {**data, "other": f"feature:{backlog['sso'].pk}"}, headers=HX)
    assert Insight.objects.get().feature == backlog["sso"]
    toast = json.loads(response["HX-Trigger"])["toast"]["message"]
    assert toast == "Linked to feature “Single sign-on with SAML and Okta”."


def test_only_pms_search_the_link_targets(cast):
    url = reverse("feedback_link_targets", args=[cast.product.key])
    for role in ("engineer", "stakeholder"):
        assert cast.client(role).get(url, {"q": "x"}, headers=HX).status_code in (403, 404)
