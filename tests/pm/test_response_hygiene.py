"""Refusals log one line (no traceback) and signed-in responses are never stored by caches."""

import logging

from django.test import Client
from django.urls import reverse

from tests.api.conftest import token_client


def test_a_403_logs_one_warning_line_without_a_traceback(cast, caplog):
    caplog.set_level(logging.WARNING, logger="django.request")
    # The stakeholder may not open Members (admin only): PermissionDenied in the view.
    response = cast.client("stakeholder").get(reverse("members", args=["acme"]))
    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None and not record.exc_text
    formatted = logging.Formatter("%(levelname)s %(message)s").format(record)
    assert "\n" not in formatted
    assert formatted.startswith("WARNING Forbidden (Permission denied): /w/acme/members/")
    assert "does not allow this" in formatted  # the reason, on the same line


def test_a_server_error_still_logs_its_traceback():
    import sys

    from pm.logfilters import ClientErrorsOneLine

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error: %s",
            ("/x",),
            sys.exc_info(),
        )
    record.status_code = 500
    assert ClientErrorsOneLine().filter(record)
    assert record.exc_info is not None


def test_signed_in_pages_fragments_and_json_are_private_no_store(cast):
    client = cast.client("pm")
    for url in (
        reverse("home"),
        reverse("product_overview", args=["LOD"]),
        reverse("notification_menu"),
        "/api/v1/products/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url


def test_token_authenticated_api_responses_are_private_no_store(cast):
    response = token_client(cast.engineer).get("/api/v1/products/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    refused = Client(HTTP_AUTHORIZATION="Token not-a-token").get("/api/v1/products/")
    assert refused.status_code == 401
    assert refused["Cache-Control"] == "private, no-store"


def test_a_view_that_sets_its_own_cache_control_keeps_it(cast):
    # The health check is never_cache; the sign-in page, for signed-out visitors, is left alone.
    response = cast.client("pm").get("/healthz")
    assert "no-cache" in response["Cache-Control"]
    assert response["Cache-Control"] != "private, no-store"
    login_page = Client().get(reverse("login"))
    assert login_page.get("Cache-Control") != "private, no-store"
