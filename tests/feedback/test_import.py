"""CSV import: upload, preview with per-row errors, then import — all rows or none."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse

from feedback import csvimport
from feedback.models import Customer, FeedbackImport, FeedbackItem
from feedback.services.imports import feedback_import_run, feedback_import_upload
from tests.feedback.factories import CustomerFactory
from tests.pm.helpers import field_errors, text_of

HEADER = "content,source,received_at,customer,segment,plan,arr,contact,sentiment\n"
GOOD = (
    HEADER + '"Please add a Jira sync, we copy statuses by hand",support ticket,2026-10-01,'
    "Initech,Enterprise,Business,120000,cto@initech.test,negative\n"
    + "Love the roadmap share link,sales_call,2026-10-02 14:05,Globex,,,,,positive\n"
    + "The export is slow,E-mail,2026-10-03,,,,,,\n"
)
MIXED = (
    HEADER
    + "Good row one,interview,2026-10-01,Initech,,,,,\n"
    + ",survey,2026-10-01,Initech,,,,,\n"  # no content
    + "Bad source,carrier pigeon,2026-10-01,,,,,,\n"
    + "Bad date,email,01/10/2026,,,,,,\n"
    + "Bad ARR,email,2026-10-01,Hooli,,,lots,,\n"
    + "Good row two,email,2026-10-04,Hooli,,,,,\n"
)


def upload(client, product, content, *, name="feedback.csv", encoding="utf-8"):
    raw = content.encode(encoding) if isinstance(content, str) else content
    return client.post(
        reverse("feedback_import", args=[product.key]),
        {"file": SimpleUploadedFile(name, raw, content_type="text/csv"), "encoding": encoding},
    )


def run(client, product, batch, skip=False):
    data = {"skip_invalid": "1"} if skip else {}
    return client.post(reverse("feedback_import_run", args=[product.key, batch.pk]), data)


@pytest.fixture
def client(cast):
    return cast.client("pm")


def test_a_good_file_previews_then_imports_every_row_with_new_customers(cast, client):
    response = upload(client, cast.product, GOOD)
    batch = FeedbackImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "feedback_import_preview", args=[cast.product.key, batch.pk]
    )
    assert FeedbackItem.objects.count() == 0  # nothing before the PM confirms

    preview = client.get(response["Location"])
    page = text_of(preview.content)
    assert "3 rows" in page and "0 with errors" in page and "2 new customers" in page
    assert "Please add a Jira sync" in page

    response = run(client, cast.product, batch)
    assert response.status_code == 302
    items = {i.content: i for i in FeedbackItem.objects.select_related("customer")}
    assert len(items) == 3
    jira = items["Please add a Jira sync, we copy statuses by hand"]
    assert jira.source == "support_ticket" and jira.sentiment == "negative"
    assert jira.customer.name == "Initech" and jira.customer.arr == 120000
    assert jira.customer.contact == "cto@initech.test"
    assert items["Love the roadmap share link"].received_at.hour == 14
    assert items["The export is slow"].customer is None
    assert items["The export is slow"].source == "email"
    assert all(i.status == "new" and i.import_batch_id == batch.pk for i in items.values())


def test_existing_customers_are_matched_by_name_ignoring_case_and_not_changed(cast, client):
    initech = CustomerFactory(workspace=cast.workspace, name="INITECH", arr=5)
    upload(client, cast.product, GOOD)
    run(client, cast.product, FeedbackImport.objects.get())
    initech.refresh_from_db()
    assert initech.arr == 5  # the file's ARR is for new customers only
    assert Customer.objects.filter(workspace=cast.workspace, name__iexact="initech").count() == 1
    assert FeedbackItem.objects.filter(customer=initech).count() == 1


def test_a_mixed_file_lists_each_bad_row_and_imports_nothing_until_told(cast, client):
    upload(client, cast.product, MIXED)
    batch = FeedbackImport.objects.get()
    assert (batch.row_count, batch.invalid_count) == (6, 4)
    page = text_of(
        client.get(reverse("feedback_import_preview", args=[cast.product.key, batch.pk])).content
    )
    assert "4 with errors" in page
    for line, message in [
        (3, "The feedback text is empty."),
        (4, "Use one of: interview, survey"),
        (5, "Use a date such as 2026-11-30"),
        (6, "Use a positive amount such as 12000."),
    ]:
        assert re.search(rf"\b{line} \w+ {re.escape(message)}", page), (line, message)

    # Importing without choosing to skip: refused, nothing written.
    response = run(client, cast.product, batch)
    assert response.status_code == 200
    assert "4 rows have errors" in text_of(response.content)
    assert FeedbackItem.objects.count() == 0
    assert not Customer.objects.exists()
    batch.refresh_from_db()
    assert batch.imported_at is None  # the refusal left the file importable

    # Explicitly skipping the bad rows imports the good ones, once.
    response = run(client, cast.product, batch, skip=True)
    assert response.status_code == 302
    assert sorted(FeedbackItem.objects.values_list("content", flat=True)) == [
        "Good row one",
        "Good row two",
    ]
    batch.refresh_from_db()
    assert (batch.imported_count, batch.skipped_count) == (2, 4)
    # Hooli only appears on a bad row and on a good one: created once, for the good one.
    assert set(Customer.objects.values_list("name", flat=True)) == {"Initech", "Hooli"}


def test_a_file_is_imported_at_most_once(cast, client):
    upload(client, cast.product, GOOD)
    batch = FeedbackImport.objects.get()
    run(client, cast.product, batch)
    response = run(client, cast.product, batch)
    assert "already imported" in text_of(response.content)
    assert FeedbackItem.objects.count() == 3


def test_a_failure_halfway_through_the_insert_leaves_nothing_behind(cast, monkeypatch):
    rows = "".join(f"Row {n},email,2026-10-01,Customer {n % 7},,,,,\n" for n in range(2500))
    batch = feedback_import_upload(
        product=cast.product,
        raw=(HEADER + rows).encode(),
        filename="big.csv",
        encoding="utf-8",
        actor=cast.pm,
    )
    real_bulk_create = FeedbackItem.objects.bulk_create
    calls = []

    def failing_third_batch(objs, *args, **kwargs):
        calls.append(len(objs))
        if len(calls) == 3:
            raise IntegrityError("simulated failure in the third batch")
        return real_bulk_create(objs, *args, **kwargs)

    monkeypatch.setattr(FeedbackItem.objects, "bulk_create", failing_third_batch)
    with pytest.raises(IntegrityError):
        feedback_import_run(batch=batch, skip_invalid=False, actor=cast.pm)
    assert calls == [1000, 1000, 500]
    assert FeedbackItem.objects.count() == 0
    assert not Customer.objects.exists()
    batch.refresh_from_db()
    assert batch.imported_at is None


def test_a_file_in_windows_encoding_is_refused_with_advice_then_read_when_chosen(cast, client):
    content = HEADER + "Le café est trop lent,email,2026-10-01,Société Générale,,,,,\n"
    response = upload(client, cast.product, content.encode("cp1252"), encoding="utf-8")
    assert response.status_code == 200
    message = " ".join(field_errors(response.content, "file"))
    assert "not valid UTF-8" in message and "line 2" in message and "Windows" in message
    assert not FeedbackImport.objects.exists()

    response = upload(client, cast.product, content.encode("cp1252"), encoding="cp1252")
    batch = FeedbackImport.objects.get()
    run(client, cast.product, batch)
    item = FeedbackItem.objects.select_related("customer").get()
    assert item.content == "Le café est trop lent"
    assert item.customer.name == "Société Générale"


def test_utf8_with_a_byte_order_mark_and_semicolons_is_read(cast, client):
    content = "content;source;received_at\nÜber gut;survey;2026-10-01\n"
    upload(client, cast.product, "\ufeff" + content)
    run(client, cast.product, FeedbackImport.objects.get())
    assert FeedbackItem.objects.get().content == "Über gut"


def test_missing_columns_are_named_and_nothing_is_kept(cast, client):
    response = upload(client, cast.product, "text,customer\nHello,Initech\n")
    message = " ".join(field_errors(response.content, "file"))
    assert response.status_code == 200
    assert "Missing columns: source, received_at" in message
    assert "found: content, customer" in message  # "text" is read as content
    assert not FeedbackImport.objects.exists()


def test_a_spreadsheet_or_an_empty_file_is_refused_clearly(cast, client):
    response = upload(client, cast.product, b"PK\x03\x04binary", name="f.xlsx")
    assert "spreadsheet (Excel) file, not CSV" in " ".join(field_errors(response.content, "file"))
    response = upload(client, cast.product, b"")
    assert response.status_code == 200
    assert not FeedbackImport.objects.exists()


def test_ten_thousand_rows_import_in_one_go(cast, client, django_assert_max_num_queries):
    rows = "".join(
        f"Feedback number {n} about exports,survey,2026-09-{1 + n % 28:02d},Customer {n % 300},"
        f"SMB,Starter,{1000 + n % 300},,neutral\n"
        for n in range(10_000)
    )
    response = upload(client, cast.product, HEADER + rows)
    batch = FeedbackImport.objects.get()
    assert batch.row_count == 10_000 and batch.invalid_count == 0
    preview = client.get(response["Location"])
    assert "10000 rows" in text_of(preview.content).replace(",", "")
    # The import runs a bounded number of queries however many rows: ten INSERTs of 1,000
    # items, the customers in bulk, and a handful of lookups and the activity entry.
    with django_assert_max_num_queries(40):
        run(client, cast.product, batch)
    assert FeedbackItem.objects.count() == 10_000
    assert Customer.objects.count() == 300


def test_parse_reports_every_problem_of_a_row_with_its_line():
    result = csvimport.parse(
        'content,source,received_at,arr\n"multi\nline text",email,2026-10-01,\n,nope,yesterday,12\n'
    )
    assert result.row_count == 2
    assert [r.line for r in result.rows] == [2]
    assert {(e.line, e.column) for e in result.errors} == {
        (4, "content"),
        (4, "source"),
        (4, "received_at"),
        (4, "arr"),  # ARR without a customer
    }


def test_engineers_cannot_import(cast):
    response = upload(cast.client("engineer"), cast.product, GOOD)
    assert response.status_code == 403
    assert not FeedbackImport.objects.exists()
