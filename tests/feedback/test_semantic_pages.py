"""The pages built on suggestions by meaning: "probably about"/"possible duplicates" while
typing, the portal's similar ideas, the duplicates review with merges, themes, suggestion
precision. Each page refuses the roles it must."""

import pytest
from django.urls import reverse

from backlog.choices import IdeaStatus
from backlog.models import Idea
from feedback import embeddings, themes
from feedback.models import (
    Embedding,
    FeedbackItem,
    FeedbackTheme,
    Insight,
    PortalPost,
    PortalSettings,
    SuggestionDecision,
)
from feedback.services.insights import insight_create
from pm.models import ActivityLog
from tests.feedback.factories import (
    CustomerFactory,
    FeedbackItemFactory,
    make_feature,
    make_idea,
)

DARK = "Light text on a black background please, the white screen hurts at night."


def _embed(kind, *objs):
    embeddings.refresh(kind, [o.pk for o in objs])


@pytest.fixture
def dark(cast):
    feature = make_feature(cast.product, "Dark mode", "A dark colour theme.", actor=cast.pm)
    other = make_feature(cast.product, "Audit log export", "CSV of the activity.", actor=cast.pm)
    _embed("feature", feature, other)
    return feature


# --- while typing -------------------------------------------------------------------------------


def test_the_team_sees_what_a_new_text_is_probably_about(cast, dark):
    url = reverse("feedback_similar", args=["LOD"])
    response = cast.client("pm").get(url, {"for": "feature", "title": "black background theme"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Possible duplicates" in html and "Dark mode" in html
    assert cast.client("pm").get(url, {"text": ""}).content.strip() == b""
    for role in ("engineer", "stakeholder", "outsider"):
        assert cast.client(role).get(url, {"text": DARK}).status_code in (403, 404)
    assert cast.client("anonymous").get(url).status_code == 302


def test_the_forms_ask_for_similar_while_typing(cast):
    for name in ("feedback_new", "idea_new", "feature_new"):
        html = cast.client("pm").get(reverse(name, args=["LOD"])).content.decode()
        assert reverse("feedback_similar", args=["LOD"]) in html, name


@pytest.fixture
def portal(cast):
    PortalSettings.objects.create(product=cast.product, enabled=True)
    published = []
    for title in ("Dark theme for the whole app", "Export the backlog to Excel"):
        idea = make_idea(cast.product, title, "Internal note: ACME asked twice.", actor=cast.pm)
        published.append(
            PortalPost.objects.create(
                product=cast.product, idea=idea, title=title, status="published", votes=3
            )
        )
    pending = PortalPost.objects.create(
        product=cast.product, title="Black background mode", status="pending"
    )
    _embed("post", *published, pending)
    return published


def test_portal_visitors_see_published_similar_ideas_only(cast, portal):
    url = reverse("portal_similar", args=["LOD"])
    response = cast.client("anonymous").get(url, {"title": "night mode with a black background"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Dark theme for the whole app" in html and "Vote for this" in html
    assert "Black background mode" not in html  # pending: not on the portal
    assert "ACME" not in html  # the idea's internal description never shows
    assert cast.client("anonymous").get(url, {"title": "zz"}).content.strip() == b""


def test_the_similar_ideas_of_a_closed_portal_are_not_found(cast, portal):
    PortalSettings.objects.filter(product=cast.product).update(enabled=False)
    url = reverse("portal_similar", args=["LOD"])
    assert cast.client("anonymous").get(url, {"title": "dark"}).status_code == 404


# --- duplicates ---------------------------------------------------------------------------------


def test_duplicate_ideas_are_proposed_and_merged_keeping_votes(cast):
    keep = make_idea(cast.product, "Dark mode", "A dark theme for the app.", actor=cast.pm)
    dupe = make_idea(cast.product, "Dark mode please", "A dark theme for the app!", actor=cast.pm)
    Idea.objects.filter(pk=keep.pk).update(votes=5)
    Idea.objects.filter(pk=dupe.pk).update(votes=2)
    _embed("idea", keep, dupe)
    page = reverse("feedback_duplicates", args=["LOD"])
    html = cast.client("pm").get(page).content.decode()
    assert "Dark mode please" in html and 'value="merge"' in html
    response = cast.client("pm").post(
        reverse("feedback_duplicates_decide", args=["LOD"]),
        {"kind": "idea", "source": dupe.pk, "target": keep.pk, "action": "merge"},
    )
    assert response.status_code == 302
    keep.refresh_from_db()
    dupe.refresh_from_db()
    assert dupe.status == IdeaStatus.MERGED and dupe.merged_into == keep and keep.votes == 7
    decision = SuggestionDecision.objects.get()
    assert decision.accepted and decision.kind == "duplicate"
    assert "Dark mode please" not in cast.client("pm").get(page).content.decode()


def test_duplicate_feedback_merges_keep_the_customer_and_links(cast, dark):
    older = FeedbackItemFactory(product=cast.product, content=DARK)
    customer = CustomerFactory(workspace=cast.workspace)
    newer = FeedbackItemFactory(product=cast.product, content=DARK + " Thanks!", customer=customer)

    insight_create(item=older, feature=dark, quote="black background", actor=cast.pm)
    _embed("feedback", older, newer)
    html = cast.client("pm").get(reverse("feedback_duplicates", args=["LOD"])).content.decode()
    assert f"Merge #{newer.pk}" in html
    cast.client("pm").post(
        reverse("feedback_duplicates_decide", args=["LOD"]),
        {"kind": "feedback", "source": newer.pk, "target": older.pk, "action": "merge"},
    )
    newer.refresh_from_db()
    assert newer.status == "archived" and newer.customer == customer
    assert Insight.objects.filter(feedback_item=newer, feature=dark).exists()
    assert ActivityLog.objects.filter(object_id=newer.pk).exists()


def test_a_rejected_pair_is_not_proposed_again(cast):
    a = make_idea(cast.product, "Dark mode", "A dark theme for the app.", actor=cast.pm)
    b = make_idea(cast.product, "Dark mode please", "A dark theme for the app!", actor=cast.pm)
    _embed("idea", a, b)
    cast.client("pm").post(
        reverse("feedback_duplicates_decide", args=["LOD"]),
        {"kind": "idea", "source": b.pk, "target": a.pk, "action": "reject"},
    )
    html = cast.client("pm").get(reverse("feedback_duplicates", args=["LOD"])).content.decode()
    assert "Dark mode please" not in html and "0%</strong> right (0 of 1" in html


def test_duplicates_are_for_pms(cast):
    page = reverse("feedback_duplicates", args=["LOD"])
    decide = reverse("feedback_duplicates_decide", args=["LOD"])
    for role in ("engineer", "stakeholder", "outsider"):
        assert cast.client(role).get(page).status_code in (403, 404)
        assert cast.client(role).post(decide, {"kind": "idea"}).status_code in (403, 404)
    assert cast.client("pm").post(decide, {"kind": "idea", "source": "x"}).status_code == 302


# --- precision ----------------------------------------------------------------------------------


def test_linking_or_dismissing_a_suggestion_is_counted(cast, dark):
    item = FeedbackItemFactory(product=cast.product, content=DARK)
    _embed("feedback", item)
    pm = cast.client("pm")
    html = pm.get(reverse("feedback_detail", args=["LOD", item.pk])).content.decode()
    assert "Dark mode" in html and 'data-testid="suggestion-dismiss"' in html
    pm.post(
        reverse("feedback_suggestion_dismiss", args=["LOD", item.pk]),
        {"dismiss": f"feature:{dark.pk}"},
    )
    html = pm.get(reverse("feedback_detail", args=["LOD", item.pk])).content.decode()
    assert f'value="feature:{dark.pk}"' not in html  # not suggested again
    other = FeedbackItemFactory(product=cast.product, content=DARK + " Again.")
    pm.post(
        reverse("feedback_link", args=["LOD", other.pk]),
        {"target": f"feature:{dark.pk}", "quote": "", "importance": "important"},
    )
    assert SuggestionDecision.objects.filter(accepted=True).count() == 1
    inbox = pm.get(reverse("feedback_inbox", args=["LOD"])).content.decode()
    assert "50%</strong> right (1 of 2 answered)" in inbox
    for role in ("engineer", "stakeholder"):
        url = reverse("feedback_suggestion_dismiss", args=["LOD", item.pk])
        assert cast.client(role).post(url, {"dismiss": "x"}).status_code in (403, 404)


# --- themes -------------------------------------------------------------------------------------


def test_feedback_gathers_into_themes_linkable_in_one_step(cast, dark):
    # Themes join items at a high similarity (feedback.themes.JOIN): the same request in
    # other words, not merely the same area.
    texts = [
        "Please add a dark mode; the bright white screen is hard on the eyes.",
        "Please add a dark mode, the white screen is hard on my eyes at night.",
        "Could you add dark mode? The bright white screen hurts the eyes.",
        "Export the backlog to Excel every month for finance.",
    ]
    items = [FeedbackItemFactory(product=cast.product, content=t) for t in texts]
    _embed("feedback", *items)
    assert FeedbackTheme.objects.filter(product=cast.product).exists()
    assert themes.recluster(cast.product.pk) >= 2
    biggest = FeedbackTheme.objects.filter(product=cast.product).order_by("-size").first()
    assert biggest.size == 3 and biggest.label
    html = cast.client("pm").get(reverse("feedback_themes", args=["LOD"])).content.decode()
    assert biggest.label in html
    cast.client("pm").post(
        reverse("feedback_theme_link", args=["LOD", biggest.pk]), {"feature": dark.pk}
    )
    assert Insight.objects.filter(feature=dark).count() == 3
    biggest.refresh_from_db()
    assert biggest.feature == dark
    # Stakeholders who browse feedback see themes without ARR; outsiders are refused.
    assert "ARR" in html
    assert cast.client("outsider").get(reverse("feedback_themes", args=["LOD"])).status_code == 404
    url = reverse("feedback_theme_link", args=["LOD", biggest.pk])
    for role in ("engineer", "stakeholder"):
        assert cast.client(role).post(url, {"feature": dark.pk}).status_code in (403, 404)


def test_a_changed_item_keeps_one_vector(cast):
    item = FeedbackItemFactory(product=cast.product, content=DARK)
    _embed("feedback", item)
    FeedbackItem.objects.filter(pk=item.pk).update(content="Export to Excel")
    _embed("feedback", item)
    assert Embedding.objects.filter(kind="feedback", object_id=item.pk).count() == 1
