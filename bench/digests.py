"""How long does it take to render and send digests? Subscribes 1,000 users to one product with a
busy week of roadmap, backlog, feedback and strategy changes, then times `digests_send` over all of
them in batches of `pm.digests.BATCH_SIZE` (reserving the batch, building each section once per
role, rendering HTML and text per user, claiming each message, handing it to the locmem mailer
and marking it sent), and prints the time per 1,000 digests
and the queries per batch.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/digests.py

It creates and drops its own database (`bench_<name>_<pid>`, bench/_common.py), so it never
touches real data.
"""

import statistics
import time
from datetime import timedelta

import _common
import django
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

USERS = 1_000
ROUNDS = 3


def fill():
    from django.contrib.auth.models import User

    from backlog import services as backlog
    from feedback.services.insights import insight_create
    from feedback.services.items import feedback_create
    from pm.models import Membership, Product, Workspace
    from roadmap import services as roadmap

    workspace = Workspace.objects.create(name="Bench", slug="bench")
    product = Product.objects.create(workspace=workspace, name="Bench", key="BEN")
    pm = User.objects.create_user("pm", email="pm@bench.example", password="x")  # noqa: S106
    Membership.objects.create(workspace=workspace, user=pm, role="pm")
    users = User.objects.bulk_create(
        User(username=f"user{i}", email=f"user{i}@bench.example") for i in range(USERS)
    )
    roles = ["pm", "engineer", "stakeholder", "admin"]
    Membership.objects.bulk_create(
        Membership(workspace=workspace, user=u, role=roles[i % 4]) for i, u in enumerate(users)
    )
    for i in range(12):
        roadmap.initiative_create(
            product=product,
            data={"title": f"Initiative {i}", "visibility": ("public", "internal")[i % 2]},
            actor=pm,
        )
    for i in range(10):
        feature = backlog.feature_create(product=product, data={"title": f"Feature {i}"}, actor=pm)
        story = backlog.story_create(feature=feature, data={"title": f"Story {i}"}, actor=pm)
        backlog.story_update(
            story=story, data={"status": "done"}, expected_version=story.version, actor=pm
        )
        backlog.feature_ship(feature=feature, shipped_at=django.utils.timezone.now(), actor=pm)
        item = feedback_create(
            product=product, content=f"Please improve {i}", source="email", actor=pm
        )
        insight_create(item=item, feature=feature, actor=pm)
    return product, users


def deliveries(product, users, key):
    from pm.models import DigestDelivery

    start = django.utils.timezone.now() + timedelta(minutes=1)
    created = DigestDelivery.objects.bulk_create(
        DigestDelivery(
            user=u, product=product, frequency="weekly", period_key=key, period_start=start
        )
        for u in users
    )
    return [d.pk for d in created]


def main() -> None:
    from pm.digests import BATCH_SIZE, digests_send

    product, users = fill()
    timings, queries = [], []
    for round_ in range(ROUNDS):
        ids = deliveries(product, users, f"bench-{round_}")
        mail.outbox = []
        started = time.perf_counter()
        for start in range(0, len(ids), BATCH_SIZE):
            with CaptureQueriesContext(connection) as captured:
                result = digests_send(delivery_ids=ids[start : start + BATCH_SIZE])
            queries.append(len(captured.captured_queries))
            assert len(result["sent"]) == len(ids[start : start + BATCH_SIZE]), result
        timings.append(time.perf_counter() - started)
        assert len(mail.outbox) == USERS
    message = mail.outbox[0]
    assert isinstance(message, mail.EmailMultiAlternatives), "a digest has an HTML part"
    size = len(str(message.alternatives[0][0])) // 1024
    print(f"{USERS} digests in batches of {BATCH_SIZE} (HTML ≈ {size} KiB each), {ROUNDS} rounds")
    print(f"  time per 1,000 digests (median)   {statistics.median(timings) * 1000:8.0f} ms")
    print(f"  per digest                        {statistics.median(timings):8.2f} ms")
    print(f"  queries per batch                 {min(queries)}–{max(queries)}")
    print("  (a constant number, plus each message's claim and its mark as sent)")


if __name__ == "__main__":
    with _common.throwaway_database():
        main()
