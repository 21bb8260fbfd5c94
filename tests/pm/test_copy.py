"""Copy a new user reads: whole sentences, right plurals, names spelled as people write them,
dates in the workspace's time zone (issue 14 item 10; History labels: test_history_entries)."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backlog import services as backlog_services
from backlog.choices import Framework
from backlog.models import BacklogSettings
from feedback.models import FeedbackImport, FeedbackItem
from pm import services as pm_services
from pm.models import Invitation
from tests.metrics.factories import KPIFactory
from tests.pm.helpers import form_data, text_of


def test_a_used_invitation_says_it_was_used_in_a_sentence(cast):
    invitation, token = pm_services.invitation_create(
        workspace=cast.workspace, email="n@example.com", role="pm", actor=cast.admin
    )
    Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())

    page = Client().get(reverse("invitation_accept", args=[token]))

    assert page.status_code == 410
    text = text_of(page.content)
    assert "It has already been used to join." in text
    assert "It has accepted" not in text


def _upload_kpi(cast, kpi, csv: str, htmx=True):
    return cast.client("pm").post(
        reverse("kpi_upload", args=[cast.product.key, kpi.pk]),
        {"file": SimpleUploadedFile("data.csv", csv.encode(), content_type="text/csv")},
        headers={"HX-Request": "true"} if htmx else {},
    )


def test_the_kpi_upload_message_counts_one_point_and_dates_it_in_the_workspace_zone(
    cast, django_capture_on_commit_callbacks
):
    cast.workspace.time_zone = "Europe/Amsterdam"
    cast.workspace.save()
    kpi = KPIFactory(product=cast.product)
    with django_capture_on_commit_callbacks(execute=True):
        # 00:30 in Amsterdam on 2 November is 23:30 UTC on 1 November.
        response = _upload_kpi(cast, kpi, "timestamp,value\n2025-11-02 00:30,5\n")

    text = text_of(response.content)
    assert "1 point stored from data.csv (2 Nov 2025)" in text
    assert "1 points" not in text and "1 Nov 2025" not in text
    assert "1 point stored (2 Nov 2025)" in response.headers["HX-Trigger"]


def test_a_csv_row_with_an_arr_but_no_customer_names_the_arr_properly(cast):
    client = cast.client("pm")
    csv = "content,source,received_at,customer,arr\nSlow export,email,2025-10-01,,120000\n"
    client.post(
        reverse("feedback_import", args=[cast.product.key]),
        {"file": SimpleUploadedFile("f.csv", csv.encode()), "encoding": "utf-8"},
    )
    batch = FeedbackImport.objects.get()
    preview = client.get(reverse("feedback_import_preview", args=[cast.product.key, batch.pk]))

    text = text_of(preview.content)
    assert "An ARR needs a customer name." in text
    assert "A arr" not in text


def test_the_import_button_with_invalid_rows_says_it_skips_them_and_does(cast):
    client = cast.client("pm")
    csv = (
        "content,source,received_at\nGood one,email,2025-10-01\nGood two,email,2025-10-02\n"
        "Bad,carrier pigeon,2025-10-03\n"
    )
    client.post(
        reverse("feedback_import", args=[cast.product.key]),
        {"file": SimpleUploadedFile("f.csv", csv.encode()), "encoding": "utf-8"},
    )
    batch = FeedbackImport.objects.get()
    preview = client.get(reverse("feedback_import_preview", args=[cast.product.key, batch.pk]))
    html = preview.content.decode()
    assert "Skip 1 invalid row and import 2" in text_of(html)
    assert 'type="checkbox" name="skip_invalid"' not in html

    # What the browser posts when that button is pressed: its name and value.
    data = form_data(html, having="csrfmiddlewaretoken")
    data["skip_invalid"] = ["1"]
    done = client.post(reverse("feedback_import_run", args=[cast.product.key, batch.pk]), data)

    assert done.status_code == 302
    assert FeedbackItem.objects.count() == 2
    flash = client.get(done["Location"]).content.decode()  # shown as a toast
    assert 'data-flash="Imported 2 feedback items. 1 invalid row was skipped."' in flash


def test_the_backlog_names_where_reach_comes_from_as_written(cast):
    backlog_services.backlog_settings_update(
        product=cast.product,
        framework=Framework.RICE,
        reach_source=BacklogSettings.ReachSource.ARR,
        actor=cast.pm,
    )
    text = text_of(cast.client("pm").get(reverse("backlog", args=[cast.product.key])).content)
    assert "Reach: Summed ARR of customers in linked feedback" in text
    assert "summed arr" not in text
