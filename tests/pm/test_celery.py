"""Background work through the real Redis broker and a real Celery worker process."""

import pytest
from django.db import transaction

from pm import services
from pm.choices import Role
from pm.tasks import ping
from tests.worker import mailed, running_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SITE = "https://lodestar.example"


def test_ping_round_trips_through_the_broker_and_a_real_worker():
    with running_worker() as worker:
        result = ping.delay("x")
        assert result.get(timeout=30)["echo"] == "x"
        # It really ran in the worker process, not eagerly in this one.
        worker.wait_for_log(f"pm.tasks.ping[{result.id}] succeeded")


def test_the_worker_emails_a_new_invitation_with_its_link(cast, tmp_path):
    env = {"EMAIL_HOST": None, "EMAIL_FILE_PATH": str(tmp_path), "SITE_URL": SITE}
    with running_worker(env=env) as worker:
        invitation, token = services.invitation_create(
            workspace=cast.workspace, email="New.Person@Example.com", role=Role.PM, actor=cast.admin
        )
        worker.wait_for_log("pm.tasks.send_invitation_email[")
        worker.wait_for_log("succeeded")
        messages = mailed(tmp_path)
    assert len(messages) == 1, worker.log()
    message = messages[0]
    assert message["To"] == "new.person@example.com"
    assert message["Subject"] == "You're invited to Acme on Lodestar"
    link = f"{SITE}/invite/{token}/"
    assert link in message.get_body(("plain",)).get_content()
    assert f'href="{link}"' in message.get_body(("html",)).get_content()
    assert invitation.token_hash != token  # only its hash is stored
    invitation.refresh_from_db()
    assert invitation.email_status == "sent" and invitation.email_sent_at  # recorded by the worker


def test_an_invitation_revoked_before_its_email_left_is_not_sent(cast, tmp_path):
    env = {"EMAIL_HOST": None, "EMAIL_FILE_PATH": str(tmp_path), "SITE_URL": SITE}
    with running_worker(env=env) as worker:
        # The e-mail is enqueued on commit, by which time the invitation is already revoked.
        with transaction.atomic():
            invitation, _token = services.invitation_create(
                workspace=cast.workspace, email="late@example.com", role=Role.PM, actor=cast.admin
            )
            services.invitation_revoke(invitation=invitation, actor=cast.admin)
        worker.wait_for_log("send_invitation_email")
        log = worker.wait_for_log("succeeded")
    assert "no longer pending" in log
    assert not list(tmp_path.iterdir())


def test_the_worker_retries_an_unreachable_mail_server_then_shows_failed(cast, tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    env = {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "0",
        "EMAIL_FILE_PATH": None,
        "INVITATION_EMAIL_RETRIES": "2",
        "INVITATION_EMAIL_RETRY_SECONDS": "1",
    }
    with running_worker(env=env) as worker:
        invitation, _token = services.invitation_create(
            workspace=cast.workspace, email="far@example.com", role=Role.PM, actor=cast.admin
        )
        worker.wait_for_log("retrying")
        invitation.refresh_from_db()
        assert invitation.email_status == "queued"  # still trying: not failed, not sent
        assert "Trying again" in invitation.email_error
        log = worker.wait_for_log("e-mail failed", timeout=60)
    invitation.refresh_from_db()
    assert invitation.email_status == "failed"
    assert invitation.email_error == (
        "The mail server refused the connection (check EMAIL_HOST and EMAIL_PORT)."
    )
    assert log.count("e-mail not sent, retrying") == 2
    assert "/invite/" not in log  # the link, a bearer token, is never logged
