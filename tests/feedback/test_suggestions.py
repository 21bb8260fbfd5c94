"""Suggestion quality on a small fixed set: for hand-made feedback, the feature it is about
ranks first — with PostgreSQL full-text search, and with the simpler word-overlap match the
SQLite trial mode uses."""

import pytest
from django.db import connection

from feedback import matching, selectors
from tests.feedback.factories import FeedbackItemFactory, make_feature, make_idea

FEATURES = [
    ("Two-way Jira sync", "Keep stories and their status in sync with Jira issues, both ways."),
    ("Export backlog to CSV and Excel", "Download the backlog and scores as a spreadsheet."),
    ("Single sign-on with SAML and Okta", "Log in through your identity provider (Okta, Azure)."),
    ("Dark mode", "A dark colour theme for the whole app, following the system setting."),
    ("Slack notifications", "Post roadmap changes and new feedback to a Slack channel."),
    ("Public roadmap embed", "Embed the public roadmap on a marketing website as a widget."),
    ("Mobile app for iOS and Android", "Review and triage feedback from a phone."),
    ("Custom fields on features", "Add your own fields (text, number, select) and filter by them."),
    ("Faster backlog loading", "The backlog page is slow with thousands of features."),
    ("Audit log export for compliance", "Export the activity history for SOC 2 auditors."),
    ("Sprint velocity chart", "Show points completed per sprint over time."),
    ("Two-factor authentication", "Require a second factor (TOTP app) when people sign in."),
]

# (feedback as a customer would say it, the index of the feature it is about)
CASES = [
    ("We track our engineering work in Jira and copy the status back and forth by hand.", 0),
    ("Our CFO wants the prioritised list in a spreadsheet every month; let me download it.", 1),
    ("Security won't approve the tool unless people log in with Okta.", 2),
    ("Is there a dark theme? The bright white screen hurts my eyes at night.", 3),
    ("I'd like a message in our Slack channel whenever the roadmap changes.", 4),
    ("Can we put the roadmap on our website so customers see what's coming?", 5),
    ("I do most of my triage on the train; a phone app would be amazing.", 6),
    ("We need to tag features with our own customer segment field and filter on it.", 7),
    ("Opening the backlog takes 20 seconds now that we have 3,000 features. So slow.", 8),
    ("Our SOC 2 auditor asked for a history of every change; we need to export it.", 9),
]

REQUIRED = 8  # of 10


@pytest.fixture
def features(cast):
    made = [make_feature(cast.product, t, d, actor=cast.pm) for t, d in FEATURES]
    # Ideas compete with features for the top spot; an unrelated one must not win.
    make_idea(cast.product, "Gantt chart of initiatives", "Bars over months.", actor=cast.pm)
    return made


def test_postgres_full_text_search_ranks_the_right_feature_first(cast, features):
    assert connection.vendor == "postgresql"
    hits, misses = 0, []
    for text, want in CASES:
        ranked = selectors.suggest_targets(product=cast.product, text=text)
        if ranked and ranked[0].kind == "feature" and ranked[0].obj.pk == features[want].pk:
            hits += 1
        else:
            misses.append((text, [s.obj.title for s in ranked[:3]]))
    assert hits >= REQUIRED, misses


def test_the_trial_mode_word_overlap_ranks_the_right_feature_first():
    candidates = [matching.Candidate(index, t, d) for index, (t, d) in enumerate(FEATURES)]
    hits = sum(
        1
        for text, want in CASES
        if (ranked := matching.rank_by_overlap(text, candidates)) and ranked[0][0] == want
    )
    assert hits >= REQUIRED


def test_unrelated_text_suggests_nothing(cast, features):
    assert selectors.suggest_targets(product=cast.product, text="Thanks, all good!") == []
    assert selectors.suggest_targets(product=cast.product, text="") == []


def test_hostile_text_cannot_break_the_search_query(cast, features):
    text = "Jira & | ! ( ) :* 'sync' <-> \\ \"quote\" -- ; DROP TABLE"
    ranked = selectors.suggest_targets(product=cast.product, text=text)
    assert ranked[0].obj.pk == features[0].pk


def test_archived_features_and_other_products_are_never_suggested(cast, features):
    other = make_feature(FeedbackItemFactory().product, "Two-way Jira sync elsewhere")
    ranked = selectors.suggest_targets(product=cast.product, text="Jira sync", limit=10)
    assert other.pk not in {s.obj.pk for s in ranked}


def test_likely_duplicates_are_similar_feedback_of_the_same_product(cast):
    twin = FeedbackItemFactory(
        product=cast.product, content="Please add two-way Jira sync for story status."
    )
    FeedbackItemFactory(product=cast.product, content="Dark mode would be lovely.")
    FeedbackItemFactory(content="Please add two-way Jira sync for story status.")  # elsewhere
    item = FeedbackItemFactory(
        product=cast.product, content="We need the Jira sync to update story status both ways."
    )
    found = [other.pk for other, _score in selectors.likely_duplicates(item=item)]
    assert found == [twin.pk]
