"""Files that are not what they claim, or not readable at all: a clear message on the upload form
(200), never a server error, and nothing kept."""

import json

import pytest
from django.urls import reverse

from imports.models import ToolImport
from tests.imports.test_round_trip import upload
from tests.pm.helpers import text_of


@pytest.fixture
def client(cast):
    return cast.client("pm")


def refused(client, cast, tool, raw, message, *, encoding="utf-8", name="x.csv"):
    response = upload(client, cast.product, tool, raw, encoding=encoding, name=name)
    assert response.status_code == 200
    text = text_of(response.content)
    assert message in text, text[:3000]
    assert not ToolImport.objects.exists()


def test_nul_bytes_are_refused(cast, client, sample):
    refused(client, cast, "jira", b"Summary,Issue key\x00\x00,Issue Type\n", "NUL bytes")


def test_a_file_in_another_encoding_says_which_byte_and_what_to_do(cast, client, sample):
    raw = sample("linear_issues.csv").replace(b"Cache the", "Caché the".encode("cp1252"))
    refused(client, cast, "linear", raw, "not valid UTF-8 text (unreadable byte 0xe9 on line 2)")
    # The same file, uploaded with the encoding it was saved in, is read.
    response = upload(client, cast.product, "linear", raw, encoding="cp1252")
    assert response.status_code == 302


def test_an_excel_workbook_is_refused_with_how_to_save_it_as_csv(cast, client):
    refused(client, cast, "pb_notes", b"PK\x03\x04" + b"\x00" * 200, "spreadsheet (Excel) file")


def test_a_trello_board_uploaded_as_jira_is_refused(cast, client, sample):
    refused(client, cast, "jira", sample("trello_board.json"), "This is a JSON file, not a Jira")


def test_a_jira_csv_uploaded_as_linear_names_the_missing_columns(cast, client, sample):
    refused(
        client,
        cast,
        "linear",
        sample("jira_issues.csv"),
        "does not look like a Linear issues export",
    )


def test_a_csv_uploaded_as_a_trello_board_is_refused(cast, client, sample):
    refused(client, cast, "trello", sample("linear_issues.csv"), "This file is not JSON")


def test_json_that_is_not_a_board_is_refused(cast, client):
    refused(client, cast, "trello", b'{"issues": []}', "no lists and cards")


def test_deeply_nested_json_is_refused(cast, client):
    refused(client, cast, "trello", b"[" * 100_000 + b"]" * 100_000, "not JSON")


def test_a_file_over_10_mb_is_refused_before_it_is_read(cast, client):
    refused(client, cast, "jira", b"a" * (10 * 1024 * 1024 + 1), "larger than 10 MB")


def test_an_empty_file_and_a_header_alone_are_refused(cast, client, sample):
    refused(client, cast, "linear", b"", "The submitted file is empty")
    header = sample("linear_issues.csv").split(b"\n", 1)[0] + b"\n"
    refused(client, cast, "linear", header, "header row but no records")


def test_odd_cards_in_a_board_are_row_errors_not_a_crash(cast, client):
    board = {
        "lists": [{"id": "l1", "name": "Doing"}, "not a list"],
        "cards": [
            {"id": "c1", "name": "Fine", "idList": "l1"},
            "not a card",
            {"id": "c1", "name": "Same id", "idList": "l1"},
            {"id": "c3", "name": "", "idList": "nowhere"},
            {"id": "c4", "name": {"deep": [1, 2]}, "idList": "l1"},
        ],
        "checklists": [{"idCard": "c1", "checkItems": [None, {"name": "x", "state": "complete"}]}],
    }
    response = upload(client, cast.product, "trello", json.dumps(board).encode(), name="b.json")
    assert response.status_code == 302
    batch = ToolImport.objects.get()
    page = client.get(reverse("tool_import_preview", args=[cast.product.key, batch.pk]))
    assert page.status_code == 200
    assert "rows have errors" in text_of(page.content)
    run = client.post(reverse("tool_import_run", args=[cast.product.key, batch.pk]))
    assert run.status_code == 200
    assert "Nothing is imported" in text_of(run.content)


def test_an_unknown_tool_is_a_form_error(cast, client, sample):
    response = upload(client, cast.product, "asana", sample("linear_issues.csv"))
    assert response.status_code == 200
    assert "Select a valid choice" in text_of(response.content)


def test_a_mapping_that_names_columns_the_file_lacks_is_a_form_error(cast, client, sample):
    upload(client, cast.product, "linear", sample("linear_issues.csv"))
    batch = ToolImport.objects.get()
    url = reverse("tool_import_preview", args=[cast.product.key, batch.pk])
    response = client.post(url, {"mapping": "1", "col_key": "No such column", "col_title": ""})
    assert response.status_code == 200
    assert "Select a valid choice" in text_of(response.content)
    batch.refresh_from_db()
    assert batch.mapping["columns"]["key"] == "ID"
