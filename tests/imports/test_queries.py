"""The import pages run a constant number of queries whatever the size of the file and of the
backlog: each measured at two sizes against the same ceiling."""

import pytest
from django.urls import reverse

from imports import services
from imports.models import ToolImport
from tests.feedback.factories import make_feature
from tests.pm.helpers import HX

SIZES = [3, 60]


def _linear(n: int) -> bytes:
    rows = [f"ENG-{i},Story {i},Todo,Project {i % 5},{i % 4}" for i in range(n)]
    return ("ID,Title,Status,Project,Estimate\n" + "\n".join(rows) + "\n").encode()


@pytest.fixture
def filled(cast, request):
    """An export of `n` issues imported once (so the next upload of it is all "unchanged"),
    uploaded again, and `n` other features in the backlog."""
    n = request.param
    for i in range(n):
        make_feature(cast.product, f"Feature {i}", actor=cast.pm)
    first = services.tool_import_upload(
        product=cast.product,
        tool="linear",
        raw=_linear(n),
        filename="l.csv",
        encoding="utf-8",
        actor=cast.pm,
    )
    services.tool_import_start(batch=first, actor=cast.pm)
    again = services.tool_import_upload(
        product=cast.product,
        tool="linear",
        raw=_linear(n),
        filename="l.csv",
        encoding="utf-8",
        actor=cast.pm,
    )
    return {"n": n, "batch": again}


# Session and user (2), product and membership (2); the recent imports with their uploaders
# (1); the layout: memberships, unread notifications, workspace products (3).
INDEX_QUERIES = 10


@pytest.mark.parametrize("filled", SIZES, indirect=True)
def test_the_import_page_runs_a_constant_number_of_queries(
    cast, filled, django_assert_max_num_queries
):
    client = cast.client("pm")
    url = reverse("tool_import", args=[cast.product.key])
    client.get(url)
    with django_assert_max_num_queries(INDEX_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("l.csv") == 2


# Session and user (2), product and membership (2); the upload (1); the plan: what was
# imported before from this tool (1); the earlier import of the same file (1); the layout (3).
PREVIEW_QUERIES = 11


@pytest.mark.parametrize("filled", SIZES, indirect=True)
def test_the_preview_runs_a_constant_number_of_queries(cast, filled, django_assert_max_num_queries):
    client = cast.client("pm")
    url = reverse("tool_import_preview", args=[cast.product.key, filled["batch"].pk])
    client.get(url)
    with django_assert_max_num_queries(PREVIEW_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    n = filled["n"]
    text = response.content.decode()
    assert f'data-testid="count-unchanged">{n + min(n, 5)}<' in text  # issues and projects


# Session and user (2), product and membership (2), the import (1).
PROGRESS_QUERIES = 5


@pytest.mark.parametrize("filled", SIZES, indirect=True)
def test_the_progress_poll_runs_a_constant_number_of_queries(
    cast, filled, django_assert_max_num_queries
):
    client = cast.client("pm")
    batch = ToolImport.objects.filter(imported_at__isnull=False).get()
    url = reverse("tool_import_progress", args=[cast.product.key, batch.pk])
    with django_assert_max_num_queries(PROGRESS_QUERIES):
        response = client.get(url, headers=HX)
    assert response.status_code == 200
    assert 'data-testid="import-done"' in response.content.decode()
