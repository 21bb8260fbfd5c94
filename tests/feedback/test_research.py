"""Research studies: goal, participants, findings — and findings link to features like any
feedback, counting towards demand."""

from decimal import Decimal

from django.urls import reverse

from backlog.models import Feature
from feedback.models import FeedbackItem, ResearchStudy
from feedback.services.insights import insight_create
from feedback.services.studies import study_create
from tests.feedback.factories import CustomerFactory, make_feature
from tests.pm.helpers import HX, field_errors, text_of


def test_a_pm_creates_a_study_with_participants(cast):
    ada = CustomerFactory(workspace=cast.workspace, name="Ada Corp")
    response = cast.client("pm").post(
        reverse("study_new", args=[cast.product.key]),
        {
            "title": "Onboarding interviews",
            "kind": "interview",
            "status": "running",
            "goal": "Learn where setup stalls",
            "participants": [ada.pk],
            "participant_notes": "Six PMs",
            "started_on": "2026-10-01",
        },
    )
    study = ResearchStudy.objects.get()
    assert response["Location"] == reverse("study_detail", args=[cast.product.key, study.pk])
    assert list(study.participants.all()) == [ada]
    page = text_of(cast.client("engineer").get(response["Location"]).content)
    assert "Learn where setup stalls" in page and "Ada Corp" in page


def test_a_study_cannot_end_before_it_starts(cast):
    response = cast.client("pm").post(
        reverse("study_new", args=[cast.product.key]),
        {
            "title": "Survey",
            "kind": "survey",
            "status": "planned",
            "goal": "Measure",
            "started_on": "2026-10-10",
            "ended_on": "2026-10-01",
        },
    )
    assert response.status_code == 200
    assert field_errors(response.content, "ended_on") == ["A study cannot end before it starts."]
    assert not ResearchStudy.objects.exists()


def test_a_finding_is_feedback_in_the_inbox_and_links_to_a_feature(cast):
    study = study_create(
        product=cast.product,
        data={"title": "Usability test", "kind": "usability_test", "goal": "Find friction"},
        actor=cast.pm,
    )
    response = cast.client("pm").post(
        reverse("study_finding_new", args=[cast.product.key, study.pk]),
        {
            "content": "Could not find the export button",
            "customer_name": "Globex",
            "sentiment": "negative",
        },
        headers=HX,
    )
    assert response.status_code == 200
    assert "Could not find the export button" in text_of(response.content)
    finding = FeedbackItem.objects.select_related("customer").get()
    assert (finding.study, finding.source, finding.status) == (study, "usability_test", "new")
    assert finding.customer.name == "Globex"
    inbox = cast.client("pm").get(reverse("feedback_inbox", args=[cast.product.key]))
    assert f'id="fb-row-{finding.pk}"' in inbox.content.decode()

    finding.customer.arr = Decimal("30000")
    finding.customer.save()
    feature = make_feature(cast.product, "Export", actor=cast.pm)
    insight_create(item=finding, feature=feature, actor=cast.pm)
    feature = Feature.objects.get(pk=feature.pk)
    assert (feature.demand_customers, feature.demand_arr) == (1, Decimal("30000"))


def test_stakeholders_read_studies_without_participant_names(cast):
    ada = CustomerFactory(workspace=cast.workspace, name="Ada Corp")
    study = study_create(
        product=cast.product,
        data={"title": "Interviews", "kind": "interview", "goal": "Learn"},
        participants=[ada],
        actor=cast.pm,
    )
    page = cast.client("stakeholder").get(
        reverse("study_detail", args=[cast.product.key, study.pk])
    )
    assert page.status_code == 200
    assert "Ada Corp" not in page.content.decode()
    assert "Add a finding" not in page.content.decode()
