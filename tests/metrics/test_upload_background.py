"""KPI CSV uploads as background work: the same file uploaded again is recognised, and a real
worker stores the points while the page polls the upload's progress."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from metrics.models import DataPoint, PointsUpload
from tests.metrics.factories import KPIFactory
from tests.pm.helpers import text_of
from tests.worker import running_worker

CSV = "date,value\n2026-01-01,10\n2026-01-02,12.5\n"


def post(client, kpi, text, *, again=False, htmx=True):
    data = {"file": SimpleUploadedFile("numbers.csv", text.encode(), content_type="text/csv")}
    if again:
        data["again"] = "on"
    return client.post(
        f"/p/LOD/kpis/{kpi.pk}/upload/", data, headers={"HX-Request": "true"} if htmx else {}
    )


def test_the_same_file_uploaded_again_is_recognised_and_stored_again_only_when_asked(cast):
    kpi = KPIFactory(product=cast.product)
    client = cast.client("pm")
    assert "2 points stored" in text_of(post(client, kpi, CSV).content)
    again = text_of(post(client, kpi, CSV).content)
    assert "This file was already imported on" in again and "(2 points)" in again
    assert "Import it again anyway" in again
    assert DataPoint.objects.filter(kpi=kpi).count() == 2
    # Without htmx the flash message says the same.
    response = post(client, kpi, CSV, htmx=False)
    assert "already imported on" in client.get(response["Location"]).content.decode()
    assert DataPoint.objects.filter(kpi=kpi).count() == 2
    # Asked to, it imports it once more: the points at the same times replace the stored ones.
    assert "0 points stored, 2 replaced" in text_of(post(client, kpi, CSV, again=True).content)
    assert DataPoint.objects.filter(kpi=kpi).count() == 2
    assert PointsUpload.objects.filter(kpi=kpi, status="done").count() == 2
    # Another KPI, or another file, is not confused with it.
    other = KPIFactory(product=cast.product)
    assert "2 points stored" in text_of(post(client, other, CSV).content)
    assert "1 point stored" in text_of(post(client, kpi, "date,value\n2026-01-03,1\n").content)


def test_a_refused_file_is_marked_failed_and_can_be_fixed_and_uploaded_again(cast):
    kpi = KPIFactory(product=cast.product)
    client = cast.client("pm")
    html = text_of(post(client, kpi, "date,value\n2026-01-01,lots\n").content)
    assert "Nothing was stored" in html
    assert PointsUpload.objects.get().status == "failed"
    # A failed file was not imported: uploading it again is not "already imported".
    assert "already imported" not in text_of(
        post(client, kpi, "date,value\n2026-01-01,lots\n").content
    )


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_stores_the_upload_and_the_page_polls_until_it_is_done(cast):
    kpi = KPIFactory(product=cast.product)
    client = cast.client("pm")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = "".join(f"{(start + timedelta(hours=i)).isoformat()},{i % 50}\n" for i in range(9000))
    with running_worker():
        response = post(client, kpi, "timestamp,value\n" + rows)
        html = response.content.decode()
        upload = PointsUpload.objects.get()
        url = f"/p/LOD/kpis/{kpi.pk}/upload/{upload.pk}/"
        # The request only kept the file; the fragment polls the upload until it is done.
        assert f'hx-get="{url}"' in html and "upload-progress-bar" in html
        # The KPI page shows the running upload too (after a reload, or without htmx).
        detail = client.get(f"/p/LOD/kpis/{kpi.pk}/").content.decode()
        assert "upload-status" in detail or PointsUpload.objects.get().status == "done"
        deadline = time.monotonic() + 120
        while "points stored" not in (
            fragment := text_of(client.get(url, headers={"HX-Request": "true"}).content)
        ):
            assert "Nothing was stored" not in fragment, fragment
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert "9,000 points stored" in fragment or "9000 points stored" in fragment
    assert DataPoint.objects.filter(kpi=kpi).count() == 9000
