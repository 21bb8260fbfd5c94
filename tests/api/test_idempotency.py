"""`Idempotency-Key` on API POSTs: a retried request is answered with the first response and
does its work once, also when the two copies arrive at the same time."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from backlog import services as backlog_services
from backlog.models import Feature
from pm.models import IdempotentRequest
from pm.tasks import purge_idempotency_keys
from tests.api.conftest import token_client

FEATURES = "/api/v1/features/"


def _post(client, body, key="retry-1"):
    return client.post(FEATURES, body, format="json", headers={"Idempotency-Key": key})


def test_the_same_post_with_the_same_key_twice_makes_one_object_and_the_same_response(cast, api):
    client = api("pm")
    first = _post(client, {"product": "LOD", "title": "Offline mode"})
    again = _post(client, {"product": "LOD", "title": "Offline mode"})
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["ETag"] == first["ETag"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Feature.objects.filter(title="Offline mode").count() == 1


def test_without_a_key_a_retry_does_the_work_again(cast, api):
    client = api("pm")
    client.post(FEATURES, {"product": "LOD", "title": "Twice"}, format="json")
    client.post(FEATURES, {"product": "LOD", "title": "Twice"}, format="json")
    assert Feature.objects.filter(title="Twice").count() == 2


def test_the_same_key_with_another_body_is_refused_with_422(cast, api):
    client = api("pm")
    assert _post(client, {"product": "LOD", "title": "First"}).status_code == 201
    response = _post(client, {"product": "LOD", "title": "Second"})
    assert response.status_code == 422
    message = response.json()["Idempotency-Key"][0]
    assert "already used for a different request" in message
    assert FEATURES in message
    assert not Feature.objects.filter(title="Second").exists()


def test_keys_belong_to_their_user(cast, api):
    assert _post(api("pm"), {"product": "LOD", "title": "Mine"}).status_code == 201
    response = _post(api("admin"), {"product": "LOD", "title": "Mine"})
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Feature.objects.filter(title="Mine").count() == 2


def test_a_refused_request_keeps_no_response_so_the_key_can_be_retried(cast, api):
    client = api("pm")
    assert _post(client, {"product": "LOD"}).status_code == 400
    assert not IdempotentRequest.objects.exists()
    assert _post(client, {"product": "LOD", "title": "Fixed"}).status_code == 201


def test_a_malformed_key_gets_400(cast, api):
    response = _post(api("pm"), {"product": "LOD", "title": "X"}, key="x" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert not Feature.objects.filter(title="X").exists()


def test_stored_responses_are_forgotten_after_a_day(cast, api):
    client = api("pm")
    _post(client, {"product": "LOD", "title": "Old"})
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    # An expired key is a new key: the request runs again.
    response = _post(client, {"product": "LOD", "title": "Old"})
    assert "Idempotent-Replayed" not in response
    assert Feature.objects.filter(title="Old").count() == 2
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))
    _post(client, {"product": "LOD", "title": "Fresh"}, key="fresh")
    assert purge_idempotency_keys() == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["fresh"]


@pytest.mark.django_db(transaction=True)
def test_two_copies_sent_at_once_run_once_and_get_the_same_response(cast, monkeypatch):
    started = threading.Event()
    real_create = backlog_services.feature_create

    def slow_create(**kwargs):
        started.set()
        time.sleep(1)  # the first copy is still inside its transaction when the second arrives
        return real_create(**kwargs)

    monkeypatch.setattr(backlog_services, "feature_create", slow_create)
    responses = {}

    def send(name):
        try:
            responses[name] = _post(token_client(cast.pm), {"product": "LOD", "title": "Race"})
        finally:
            connection.close()  # this thread's own connection

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=send, args=("second",))
    second.start()
    first.join(20)
    second.join(20)
    assert responses["first"].status_code == responses["second"].status_code == 201
    assert responses["second"].content == responses["first"].content
    assert responses["second"]["Idempotent-Replayed"] == "true"
    assert Feature.objects.filter(title="Race").count() == 1
