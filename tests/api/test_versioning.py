"""The API says which version it is, how it retires things, and its schema is one a client
generator can trust (issue 17: summaries, servers, `security: []`, nullable fields, bounds)."""

from datetime import UTC, datetime

import pytest
from django.http import HttpResponse
from rest_framework.test import APIClient

from pm.api.versioning import API_VERSION, Deprecation, mark_deprecated


@pytest.fixture
def schema(db) -> dict:
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_every_api_answer_names_the_api_version(cast, api, schema):
    assert api("engineer").get("/api/v1/products/")["API-Version"] == API_VERSION
    assert api("anonymous").get("/api/v1/products/")["API-Version"] == API_VERSION  # 401 too
    assert APIClient().get("/api/v1/nowhere/")["API-Version"] == API_VERSION
    assert schema["info"]["version"] == API_VERSION
    assert "API-Version" not in cast.client("engineer").get("/").headers


def test_a_deprecated_endpoint_says_when_it_goes():
    response = mark_deprecated(
        HttpResponse(),
        Deprecation(
            since=datetime(2027, 1, 1, tzinfo=UTC), sunset=datetime(2027, 7, 1, tzinfo=UTC)
        ),
    )
    assert response["Deprecation"] == "@1798761600"
    assert response["Sunset"] == "Thu, 01 Jul 2027 00:00:00 GMT"
    assert 'rel="deprecation"' in response["Link"]


def test_the_schema_names_its_server_and_summarises_every_operation(schema):
    assert schema["servers"][0]["url"] == "http://testserver"
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)


def test_the_public_roadmap_needs_no_credentials_in_the_schema(schema):
    assert schema["paths"]["/api/v1/roadmap/{token}/"]["get"]["security"] == []
    assert schema["paths"]["/api/v1/stories/"]["get"]["security"] != []


def test_nullable_fields_are_typed_nullable(schema):
    components = schema["components"]["schemas"]
    feedback = components["FeedbackOut"]["properties"]
    assert feedback["study"].get("nullable") is True
    assert feedback["customer"].get("nullable") is True
    assert "$ref" in str(feedback["customer"])  # the customer object, not an empty one
    insight = components["InsightOut"]["properties"]
    assert insight["feature"].get("nullable") and insight["idea"].get("nullable")


def test_the_feedback_create_body_and_list_filters_are_documented(schema):
    body = schema["paths"]["/api/v1/feedback/"]["post"]["requestBody"]["content"]
    ref = body["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = set(schema["components"]["schemas"][ref]["properties"])
    assert {"customer", "customer_id", "content", "source"} <= fields and "status" not in fields
    listed = {p["name"] for p in schema["paths"]["/api/v1/feedback/"]["get"]["parameters"]}
    assert {"product", "status", "source", "customer", "updated_since", "search"} <= listed


def test_every_list_documents_search_ordering_and_a_bounded_page(schema):
    for path in ("/api/v1/features/", "/api/v1/ideas/", "/api/v1/kpis/", "/api/v1/sprints/"):
        parameters = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert {"search", "ordering", "updated_since", "If-None-Match"} <= set(parameters), path
        assert parameters["page"]["schema"]["maximum"] == 2**31 - 1


def test_the_datapoints_example_is_one_list_of_points(schema):
    operation = schema["paths"]["/api/v1/kpis/{id}/datapoints/"]["post"]
    example = next(
        iter(operation["requestBody"]["content"]["application/json"]["examples"].values())
    )
    assert isinstance(example["value"], list) and isinstance(example["value"][0], dict)
