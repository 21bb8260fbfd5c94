"""CSV imports as background work: a re-uploaded file is recognised, the page shows the import's
progress while a real worker runs it, and a worker killed halfway imports nothing twice."""

import os
import signal
import time

import pytest
from django.urls import reverse

from feedback.models import FeedbackImport, FeedbackItem
from pm.background import progress_get
from tests.feedback.test_import import GOOD, HEADER, run, upload
from tests.pm.helpers import text_of
from tests.worker import running_worker


@pytest.fixture
def client(cast):
    return cast.client("pm")


def test_the_same_file_uploaded_again_is_recognised_and_imported_again_only_when_asked(
    cast, client
):
    upload(client, cast.product, GOOD)
    run(client, cast.product, FeedbackImport.objects.get())
    assert FeedbackItem.objects.count() == 3

    # Another PM uploads the very same file (another name, CRLF-free text identical).
    second = cast.client("admin")
    response = upload(second, cast.product, GOOD, name="copy of feedback.csv")
    batch = FeedbackImport.objects.latest("created_at")
    preview = text_of(second.get(response["Location"]).content)
    assert "This file was already imported on" in preview and "(3 items)" in preview

    refused = text_of(run(second, cast.product, batch).content)
    assert "already imported on" in refused and "import it again" in refused
    assert FeedbackItem.objects.count() == 3  # nothing doubled

    response = second.post(
        reverse("feedback_import_run", args=[cast.product.key, batch.pk]), {"again": "1"}
    )
    assert response.status_code == 302
    assert FeedbackItem.objects.count() == 6


def test_a_different_file_is_not_mistaken_for_an_earlier_one(cast, client):
    upload(client, cast.product, GOOD)
    run(client, cast.product, FeedbackImport.objects.get())
    response = upload(client, cast.product, GOOD + "One more row,email,2026-10-05,,,,,,\n")
    assert "already imported" not in text_of(client.get(response["Location"]).content)


def _rows(n):
    return HEADER + "".join(
        f"Feedback number {i} about exports,survey,2026-09-{1 + i % 28:02d},Customer {i % 300},"
        f"SMB,Starter,{1000 + i % 300},,neutral\n"
        for i in range(n)
    )


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_large_import_runs_in_a_worker_and_the_page_shows_its_progress(cast):
    client = cast.client("pm")
    upload(client, cast.product, _rows(6000))
    batch = FeedbackImport.objects.get()
    progress_url = reverse("feedback_import_progress", args=[cast.product.key, batch.pk])
    seen = []
    with running_worker():
        response = run(client, cast.product, batch)
        # The request only hands the file over: the page it leads to polls the progress.
        assert response.status_code == 302
        assert response["Location"].endswith(f"/import/{batch.pk}/")
        page = client.get(response["Location"]).content.decode()
        if "import-progress-bar" in page:
            assert f'hx-get="{progress_url}"' in page and 'hx-trigger="every 1s"' in page
        deadline = time.monotonic() + 120
        while True:
            fragment = client.get(progress_url, headers={"HX-Request": "true"}).content.decode()
            seen.append(fragment)
            if "import-done" in fragment:
                break
            assert "run-error" not in fragment, fragment
            assert time.monotonic() < deadline, "the import did not finish"
            time.sleep(0.2)
    # While it ran, the fragment showed a progress bar and kept polling; done, it stops.
    assert "import-progress-bar" in seen[0] and f'hx-get="{progress_url}"' in seen[0]
    assert "hx-get" not in seen[-1]
    assert "Imported 6000 items" in text_of(seen[-1]).replace(",", "")
    assert FeedbackItem.objects.count() == 6000
    batch.refresh_from_db()
    assert batch.status == "done"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_process_is_killed_halfway_is_imported_once(cast):
    client = cast.client("pm")
    upload(client, cast.product, _rows(17_000))
    batch = FeedbackImport.objects.get()
    with running_worker(pool="prefork") as worker:
        run(client, cast.product, batch)
        deadline = time.monotonic() + 120
        while progress_get("feedback", batch.pk)["done"] < 2000:  # rows written, uncommitted
            assert time.monotonic() < deadline, worker.log()[-3000:]
            time.sleep(0.02)
        assert FeedbackItem.objects.count() == 0  # all or nothing: not visible yet
        [child] = worker.children()
        os.kill(child, signal.SIGKILL)
        worker.wait_for_log("WorkerLostError")
        while FeedbackImport.objects.get(pk=batch.pk).status != "done":
            assert time.monotonic() < deadline + 120, worker.log()[-3000:]
            time.sleep(0.2)
    assert FeedbackItem.objects.count() == 17_000


def test_an_import_whose_worker_vanished_can_be_started_again_after_a_while(cast, client):
    from datetime import timedelta

    from django.utils import timezone

    upload(client, cast.product, GOOD)
    batch = FeedbackImport.objects.get()
    # Queued, and its worker was killed with it (its queue message not handed out again yet).
    FeedbackImport.objects.filter(pk=batch.pk).update(status="running", queued_at=timezone.now())
    page = client.get(reverse("feedback_import_preview", args=[cast.product.key, batch.pk]))
    assert "import-progress-bar" in page.content.decode()
    assert "This file is being imported already" in text_of(
        run(client, cast.product, batch).content
    )
    assert FeedbackItem.objects.count() == 0

    FeedbackImport.objects.filter(pk=batch.pk).update(
        queued_at=timezone.now() - timedelta(minutes=25)
    )
    page = client.get(reverse("feedback_import_preview", args=[cast.product.key, batch.pk]))
    html = page.content.decode()
    assert "import-stalled" in html and "every 1s" not in html
    assert "Start it again" in text_of(page.content)
    assert run(client, cast.product, batch).status_code == 302
    assert FeedbackItem.objects.count() == 3
