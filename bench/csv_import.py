"""How long does a large CSV import take, and how long does the web request wait for it?
Generates a 17,735-row feedback file (the size that took 11 s inside the request before imports
moved to a worker) and a 10,000-row KPI file (the most one upload may hold), then times:

- the upload request (read, check every row, keep the file for the preview),
- the import request (now: hand the file to the worker and answer),
- the import task itself (all rows in one transaction), as the worker runs it.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/csv_import.py

It creates and drops its own database (`bench_<name>_<pid>`, bench/_common.py), so it never
touches real data.
"""

import time
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import _common
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

FEEDBACK_ROWS = 17_735
KPI_ROWS = 10_000


def feedback_csv() -> bytes:
    header = "content,source,received_at,customer,segment,plan,arr,contact,sentiment\n"
    rows = "".join(
        f'"Feedback number {n}: the export to CSV is slow, please make it faster",survey,'
        f"2026-09-{1 + n % 28:02d},Customer {n % 400},SMB,Starter,{1000 + n % 300},,neutral\n"
        for n in range(FEEDBACK_ROWS)
    )
    return (header + rows).encode()


def kpi_csv() -> bytes:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = "".join(
        f"{(start + timedelta(minutes=37 * n)).isoformat()},{n % 97}\n" for n in range(KPI_ROWS)
    )
    return ("timestamp,value\n" + rows).encode()


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main() -> None:
    from django.conf import settings
    from django.contrib.auth.models import User

    from feedback.models import FeedbackImport, FeedbackItem
    from feedback.tasks import import_feedback_file
    from metrics.models import KPI, DataPoint, PointsUpload
    from metrics.tasks import import_points_file
    from pm.celery import app
    from pm.models import Membership, Product, Workspace

    settings.ALLOWED_HOSTS = ["testserver"]
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    product = Product.objects.create(workspace=workspace, name="Bench", key="BEN")
    pm = User.objects.create_user("pm", email="pm@bench.example", password="x")  # noqa: S106
    Membership.objects.create(workspace=workspace, user=pm, role="pm")
    kpi = KPI.objects.create(product=product, name="Signups", aggregation="sum")
    client = Client()
    client.force_login(pm)

    # A worker is there: the requests only queue (the broker is not read by anyone here, so
    # the queued tasks are run below by hand, exactly as the worker would run them).
    app.conf.task_always_eager = False
    sent: list = []
    queued = [
        patch.object(task, "delay", lambda *a, task=task: sent.append((task, a)))
        for task in (import_feedback_file, import_points_file)
    ]
    for queue in queued:
        queue.start()

    raw = feedback_csv()
    response, upload_s = timed(
        lambda: client.post(
            f"/p/{product.key}/feedback/import/",
            {"file": SimpleUploadedFile("big.csv", raw), "encoding": "utf-8"},
        )
    )
    assert response.status_code == 302, response.status_code
    batch = FeedbackImport.objects.get()
    response, run_s = timed(
        lambda: client.post(f"/p/{product.key}/feedback/import/{batch.pk}/run/", {})
    )
    assert response.status_code == 302 and len(sent) == 1, (response.status_code, sent)
    task, args = sent.pop()
    _, task_s = timed(lambda: task.apply(args=args, throw=True))
    assert FeedbackItem.objects.count() == FEEDBACK_ROWS

    raw_points = kpi_csv()
    response, kpi_request_s = timed(
        lambda: client.post(
            f"/p/{product.key}/kpis/{kpi.pk}/upload/",
            {"file": SimpleUploadedFile("points.csv", raw_points)},
            headers={"HX-Request": "true"},
        )
    )
    assert response.status_code == 200 and len(sent) == 1
    task, args = sent.pop()
    _, kpi_task_s = timed(lambda: task.apply(args=args, throw=True))
    assert PointsUpload.objects.get().status == "done"
    assert DataPoint.objects.count() == KPI_ROWS
    for queue in queued:
        queue.stop()

    print(f"feedback CSV, {FEEDBACK_ROWS:,} rows ({len(raw) // 1024:,} KiB)")
    print(f"  upload request (check rows, keep file)  {upload_s * 1000:8.0f} ms")
    print(f"  import request (hand to the worker)     {run_s * 1000:8.0f} ms")
    print(f"  import task (all rows, one transaction) {task_s * 1000:8.0f} ms")
    print(f"KPI CSV, {KPI_ROWS:,} rows")
    print(f"  upload request (keep file, queue)       {kpi_request_s * 1000:8.0f} ms")
    print(f"  import task (parse, store, dirty range) {kpi_task_s * 1000:8.0f} ms")


if __name__ == "__main__":
    with _common.throwaway_database():
        main()
