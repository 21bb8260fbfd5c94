"""History entries read as sentences: field labels from the models, values a person understands,
and no change name (such as a CSV import's "items") can break the page."""

import pytest
from django.urls import reverse

from backlog import services as backlog_services
from feedback.services.imports import feedback_import_run, feedback_import_upload
from tests.backlog.factories import FeatureFactory
from tests.conftest import ROLES
from tests.pm.helpers import text_of
from tests.roadmap.factories import make_share_link

CSV = (
    "content,source,received_at,customer,segment,plan,arr,contact,sentiment\n"
    "Please add a Jira sync,support ticket,2026-10-01,Initech,,,,,negative\n"
    "The export is slow,email,2026-10-03,,,,,,\n"
    "Love the share link,sales_call,2026-10-02,Globex,,,,,positive\n"
)


def _history_text(cast, role="pm") -> str:
    response = cast.client(role).get(reverse("product_history", args=[cast.product.key]))
    assert response.status_code == 200
    return text_of(response.content)


@pytest.mark.parametrize("role", [r.value for r in ROLES])
def test_history_page_renders_after_a_feedback_csv_import(cast, role):
    batch = feedback_import_upload(
        product=cast.product, raw=CSV.encode(), filename="f.csv", encoding="utf-8", actor=cast.pm
    )
    feedback_import_run(batch=batch, skip_invalid=False, actor=cast.pm)

    response = cast.client(role).get(reverse("product_history", args=[cast.product.key]))

    assert response.status_code == 200
    if role != "stakeholder":
        assert "Items 3" in text_of(response.content)


def test_history_uses_field_names_and_readable_values(cast):
    cast.pm.first_name, cast.pm.last_name = "Petra", "Manning"
    cast.pm.save()
    feature = backlog_services.feature_create(
        product=cast.product,
        data={"title": "Jira sync", "moscow": "must", "roi_horizon_months": 12},
        actor=cast.admin,
    )
    backlog_services.feature_update(
        feature=feature, data={"owner": cast.pm}, expected_version=1, actor=cast.admin
    )
    backlog_services.story_create(
        feature=feature, data={"title": "Map statuses", "acceptance_criteria": []}, actor=cast.pm
    )
    make_share_link(cast.product, cast.pm, label="Board")

    text = _history_text(cast)

    assert "MoSCoW Must have" in text and "Moscow" not in text
    assert "ROI horizon (months) 12" in text and "Roi horizon months" not in text
    assert "Owner Susan → Petra Manning" in text.replace(cast.admin.first_name, "Susan")
    assert "Owner pm" not in text
    assert "Acceptance criteria none" in text and "[]" not in text
    assert "Rank" not in text
    assert "share link “Board”" in text and "“Share link" not in text


def test_feature_history_lists_a_move_as_a_position_not_a_rank_key(cast):
    first, second = FeatureFactory(product=cast.product), FeatureFactory(product=cast.product)
    backlog_services.feature_move(feature=second, above=None, below=first, actor=cast.pm)

    text = _history_text(cast)

    assert f"Position moved above “{first.title}”" in text
