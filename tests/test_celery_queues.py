"""Queues by kind with real workers: a task waits in its own queue until a worker that consumes
that queue (as docker-compose.yml runs them) takes it, and the other workers leave it alone."""

from contextlib import ExitStack

import pytest
import redis
from django.conf import settings

from pm.celery import app
from pm.tasks import ping, schedule_digests
from tests.test_celery_config import compose_worker_queues
from tests.worker import running_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker() -> redis.Redis:
    """The test broker, with every declared queue emptied (left-overs of earlier tests)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for queue in settings.CELERY_TASK_QUEUES:
        client.delete(queue.name)
    return client


def _service_consuming(queue: str) -> str:
    (service,) = [name for name, queues in compose_worker_queues().items() if queue in queues]
    return service


def test_a_digest_run_waits_in_its_queue_while_the_e_mail_worker_runs_and_the_batch_worker_takes_it(
    broker,
):
    workers = compose_worker_queues()
    email_service, digest_service = _service_consuming("celery"), _service_consuming("digests")
    assert email_service != digest_service

    with running_worker(queues=workers[email_service]) as email_worker:
        run = schedule_digests.delay()
        assert broker.llen("digests") == 1  # routed by name, not to the default queue
        # The e-mail worker answers its own queue, and leaves the digest run where it is.
        assert ping.delay("here").get(timeout=30)["echo"] == "here"
        assert broker.llen("digests") == 1
        assert run.id not in email_worker.log()

    with running_worker(queues=workers[digest_service]) as digest_worker:
        assert run.get(timeout=30) == 0  # nobody subscribed: nothing to send
        assert f"pm.tasks.schedule_digests[{run.id}] succeeded" in digest_worker.log()
    assert broker.llen("digests") == 0


def test_every_queue_is_answered_by_the_compose_worker_that_consumes_it(broker):
    workers = compose_worker_queues()
    with ExitStack() as stack:
        running = {
            service: stack.enter_context(running_worker(queues=queues))
            for service, queues in workers.items()
        }
        sent = {}
        for queue in settings.CELERY_TASK_QUEUES:
            sent[queue.name] = ping.apply_async((queue.name,), queue=queue.name)
        for queue, result in sent.items():
            assert result.get(timeout=30)["echo"] == queue
        for queue, result in sent.items():
            service = _service_consuming(queue)
            assert f"pm.tasks.ping[{result.id}] succeeded" in running[service].log(), queue
            others = [w for name, w in running.items() if name != service]
            assert all(result.id not in w.log() for w in others), queue
    assert app.conf.task_always_eager  # eager again for the rest of the suite
