"""The vote confirmation e-mail goes through the real broker and a real Celery worker, and the
link in it confirms the vote."""

import re

import pytest
from django.test import Client

from feedback.models import PortalPost, PortalSettings
from feedback.services.portal import portal_post_publish, portal_vote_request
from tests.feedback.factories import make_idea
from tests.worker import mailed, running_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
SITE = "https://lodestar.example"


def test_a_real_worker_emails_the_signed_link_that_confirms_a_vote(cast, tmp_path):
    PortalSettings.objects.create(product=cast.product, enabled=True)
    idea = make_idea(cast.product, "Calendar view", actor=cast.pm)
    post = portal_post_publish(idea=idea, title="Calendar", description="", actor=cast.pm)
    env = {"EMAIL_HOST": None, "EMAIL_FILE_PATH": str(tmp_path), "SITE_URL": SITE}
    with running_worker(env=env) as worker:
        portal_vote_request(post=post, email="Fan@Example.com")  # enqueued on commit
        worker.wait_for_log("feedback.tasks.send_vote_confirmation[")
        (message,) = mailed(tmp_path)
    assert message["To"] == "fan@example.com"
    assert message["Subject"] == "Confirm your vote for “Calendar”"
    body = message.get_body(("plain",)).get_content()
    link = re.search(rf"{re.escape(SITE)}(/portal/LOD/votes/[^/\s]+/)", body).group(1)
    assert f'href="{SITE}{link}"' in message.get_body(("html",)).get_content()
    Client().post(link)
    assert PortalPost.objects.get(pk=post.pk).votes == 1
