"""A misspelt filter is an error, not a silent "everything": every list answers an unknown query
parameter with 400 naming it (issue 17). And `Authorization: Bearer <key>` works like `Token`."""

import pytest
from django.urls import get_resolver, reverse

from pm.api.tokens import api_token_create


def _list_paths() -> list[str]:
    """Every API list route (router names ending in -list), from the URLconf."""
    names = [
        name
        for name in get_resolver().reverse_dict
        if isinstance(name, str) and name.startswith("api-") and name.endswith("-list")
    ]
    return sorted({reverse(name) for name in names})


def test_a_misspelt_story_filter_is_refused_by_name(cast, backlog, api):
    response = api("engineer").get("/api/v1/stories/", {"asignee": "me"})
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["asignee"]
    assert "assignee" in body["asignee"][0]  # the message lists what the endpoint takes


@pytest.mark.parametrize("path", _list_paths())
def test_every_list_refuses_a_parameter_it_does_not_know(cast, api, path):
    assert len(_list_paths()) >= 12  # the URLconf walk found the lists
    client = api("admin")
    response = client.get(path, {"no_such_filter": "1"})
    assert response.status_code == 400, (path, response.content)
    assert "no_such_filter" in response.json()
    assert client.get(path, {"page_size": "5"}).status_code == 200


def test_the_feedback_list_documents_and_checks_its_filters(cast, api):
    client = api("engineer")
    assert client.get("/api/v1/feedback/", {"customer": "x"}).status_code == 400
    assert client.get("/api/v1/feedback/", {"custmer": "1"}).json() == {
        "custmer": [
            "Unknown query parameter. This endpoint takes: customer, ordering, page, "
            "page_size, product, search, source, status, updated_since."
        ]
    }


def test_the_forecast_and_datapoint_deletion_refuse_unknown_parameters(cast, api):
    assert "bogus" in api("engineer").get("/api/v1/forecast/?product=LOD&bogus=1").json()
    from tests.metrics.factories import KPIFactory

    kpi = KPIFactory(product=cast.product)
    response = api("pm").delete(
        f"/api/v1/kpis/{kpi.pk}/datapoints/?start=2026-01-01&end=2026-01-02&dry_run=1"
    )
    assert response.status_code == 400 and "dry_run" in response.json()


def test_a_bearer_token_is_accepted_like_a_token(cast, client):
    _token, key = api_token_create(user=cast.engineer, name="CI", actor=cast.engineer)
    response = client.get("/api/v1/products/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert [p["key"] for p in response.json()["results"]] == ["LOD"]


def test_a_bad_bearer_token_is_refused_with_401(cast, client):
    response = client.get("/api/v1/products/", HTTP_AUTHORIZATION="Bearer lod_nonsense")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
