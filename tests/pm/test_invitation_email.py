"""The invitation e-mail's status on Members (queued, sent, failed with the reason), resending,
and a production server without a mail server (a banner, the link shown once to the admin,
nothing printed to stdout). SMTP failures are real: a mail server address where nothing listens."""

import re
import socket

import pytest
from django.urls import reverse

from pm import services
from pm.choices import EmailStatus, Role
from pm.models import ActivityLog, Invitation
from tests.pm.helpers import HX, text_of


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_down(settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": _closed_port(), "timeout": 2},
        }
    }


@pytest.fixture
def no_mail_server(settings):
    settings.MAILERS = {"default": {"BACKEND": "pm.mail.UnconfiguredBackend"}}


def _invite(cast, capture, email="new.person@example.com", execute=True):
    with capture(execute=execute):
        response = cast.client("admin").post(
            reverse("invitation_create", args=[cast.workspace.slug]),
            {"email": email, "role": Role.PM},
            headers=HX,
        )
    assert response.status_code == 200
    return Invitation.objects.get(email=email, revoked_at=None), response


def _members(cast) -> str:
    return cast.client("admin").get(reverse("members", args=[cast.workspace.slug])).content.decode()


def _status_of(page: str, invitation: Invitation) -> str:
    item = re.search(rf'data-testid="invitation-{invitation.pk}">(.*?)</li>', page, re.S)
    assert item, f"invitation {invitation.pk} is not listed"
    return text_of(item.group(1))


def test_a_new_invitation_is_queued_then_sent(cast, mailoutbox, django_capture_on_commit_callbacks):
    invitation, response = _invite(cast, django_capture_on_commit_callbacks, execute=False)
    assert invitation.email_status == EmailStatus.QUEUED
    assert "queued for e-mailing" in response["HX-Trigger"]
    assert "sent" not in response["HX-Trigger"]
    assert "e-mail queued" in _status_of(_members(cast), invitation)
    assert 'hx-trigger="every 5s"' in _members(cast)  # the list refreshes itself meanwhile

    services._invitation_email_enqueue(invitation.pk, "not-the-token")  # a stale link: skipped
    assert mailoutbox == []

    invitation, _ = _invite(cast, django_capture_on_commit_callbacks, email="b@example.com")
    invitation.refresh_from_db()
    assert invitation.email_status == EmailStatus.SENT and invitation.email_sent_at
    assert len(mailoutbox) == 1
    assert "e-mail sent" in _status_of(_members(cast), invitation)


def test_a_mail_server_that_does_not_answer_shows_failed_with_the_reason(
    cast, smtp_down, django_capture_on_commit_callbacks, caplog
):
    invitation, _ = _invite(cast, django_capture_on_commit_callbacks)
    invitation.refresh_from_db()
    assert invitation.email_status == EmailStatus.FAILED  # in-process: no worker to retry later
    assert "refused the connection" in invitation.email_error
    status = _status_of(_members(cast), invitation)
    assert "e-mail failed" in status
    assert "The mail server refused the connection (check EMAIL_HOST and EMAIL_PORT)." in status
    assert "Resend" in status
    # The token is not in any log line.
    assert not any("/invite/" in r.getMessage() for r in caplog.records)


def test_the_admin_resends_a_failed_invitation_with_a_new_link(
    cast, smtp_down, settings, mailoutbox, django_capture_on_commit_callbacks, client
):
    invitation, _ = _invite(cast, django_capture_on_commit_callbacks)
    old_hash = Invitation.objects.get(pk=invitation.pk).token_hash
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    settings.SITE_URL = "https://pm.example"

    with django_capture_on_commit_callbacks(execute=True):
        response = cast.client("admin").post(
            reverse("invitation_resend", args=[cast.workspace.slug, invitation.pk]), headers=HX
        )

    assert response.status_code == 200
    invitation.refresh_from_db()
    assert invitation.email_status == EmailStatus.SENT
    assert invitation.email_error == ""
    assert invitation.token_hash != old_hash
    [token] = re.findall(r"https://pm\.example/invite/([\w-]+)/", mailoutbox[-1].body)
    assert client.get(reverse("invitation_accept", args=[token])).status_code == 200
    assert "e-mail sent" in _status_of(_members(cast), invitation)
    assert ActivityLog.objects.filter(
        object_type="pm.invitation", object_id=invitation.pk, action="updated"
    ).exists()


def test_resending_an_accepted_or_revoked_invitation_is_refused(cast):
    invitation, _token = services.invitation_create(
        workspace=cast.workspace, email="x@example.com", role=Role.PM, actor=cast.admin
    )
    services.invitation_revoke(invitation=invitation, actor=cast.admin)
    response = cast.client("admin").post(
        reverse("invitation_resend", args=[cast.workspace.slug, invitation.pk]), headers=HX
    )
    assert response.status_code == 200
    assert "already revoked" in response["HX-Trigger"]
    assert '"level": "error"' in response["HX-Trigger"]


@pytest.mark.parametrize("role", ["pm", "engineer", "stakeholder"])
def test_only_admins_may_resend(cast, role, mailoutbox, django_capture_on_commit_callbacks):
    invitation, _token = services.invitation_create(
        workspace=cast.workspace, email="x@example.com", role=Role.PM, actor=cast.admin
    )
    before = Invitation.objects.get(pk=invitation.pk).token_hash
    with django_capture_on_commit_callbacks(execute=True):
        response = cast.client(role).post(
            reverse("invitation_resend", args=[cast.workspace.slug, invitation.pk])
        )
    assert response.status_code == 403
    assert Invitation.objects.get(pk=invitation.pk).token_hash == before
    outsider = cast.client("outsider").post(
        reverse("invitation_resend", args=[cast.workspace.slug, invitation.pk])
    )
    assert outsider.status_code == 404


def test_without_a_mail_server_admins_see_a_banner_and_the_link_once(
    cast, no_mail_server, django_capture_on_commit_callbacks, capfd, client
):
    page = _members(cast)
    assert "E-mail is not set up on this server" in page
    assert "EMAIL_HOST" in page

    invitation, response = _invite(cast, django_capture_on_commit_callbacks)

    panel = response.content.decode()
    [url] = re.findall(r'<code id="invitation-link-url">([^<]+)</code>', panel)
    token = url.rstrip("/").rsplit("/", 1)[-1]
    invitation.refresh_from_db()
    assert invitation.token_hash == Invitation.hash_token(token)
    assert invitation.email_status == EmailStatus.FAILED
    assert "E-mail is not set up" in invitation.email_error
    assert client.get(reverse("invitation_accept", args=[token])).status_code == 200
    # Shown once: the members page afterwards does not carry it, and nothing went to stdout.
    assert token not in _members(cast)
    out, err = capfd.readouterr()
    assert token not in out and token not in err


def test_with_a_mail_server_there_is_no_banner_and_no_link_on_the_page(
    cast, mailoutbox, django_capture_on_commit_callbacks
):
    assert "E-mail is not set up" not in _members(cast)
    _invitation, response = _invite(cast, django_capture_on_commit_callbacks)
    assert "invitation-link-url" not in response.content.decode()


def test_production_without_email_host_uses_the_refusing_backend():
    import os
    import subprocess
    import sys

    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "print(settings.MAILERS['default']['BACKEND'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("EMAIL_HOST", "EMAIL_FILE_PATH")}
    env.update(DJANGO_SETTINGS_MODULE="pm.settings", DEBUG="0", SECRET_KEY="x" * 50)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "pm.mail.UnconfiguredBackend", result.stderr
    trial = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert trial.stdout.strip() == "pm.mail.ConsoleBackend"  # readable, links whole


def test_an_unreachable_task_queue_marks_the_invitation_failed_not_the_page(
    cast, django_capture_on_commit_callbacks
):
    from pm.celery import app as celery_app

    conf = celery_app.conf
    saved = conf.task_always_eager, conf.broker_url, conf.broker_transport_options
    conf.task_always_eager = False
    conf.broker_url = f"redis://127.0.0.1:{_closed_port()}/0"
    conf.broker_transport_options = {"max_retries": 1}
    celery_app._pool = celery_app.amqp._producer_pool = None  # connect afresh, to the closed port
    try:
        invitation, response = _invite(cast, django_capture_on_commit_callbacks)
    finally:
        conf.task_always_eager, conf.broker_url, conf.broker_transport_options = saved
        celery_app._pool = celery_app.amqp._producer_pool = None
    invitation.refresh_from_db()
    assert invitation.email_status == EmailStatus.FAILED
    assert "task queue could not be reached" in invitation.email_error
    assert "Resend" in _status_of(_members(cast), invitation)
