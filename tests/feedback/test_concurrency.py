"""Demand stays right when PMs link feedback to the same feature at the same time: the feature
is locked before its demand is recomputed, so the last to commit counts everyone."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from backlog.models import Feature
from feedback.services.insights import insight_create
from tests.feedback.factories import CustomerFactory, FeedbackItemFactory, make_feature

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_links_to_one_feature_count_every_customer(cast):
    feature = make_feature(cast.product, "Jira sync", actor=cast.pm)
    items = [
        FeedbackItemFactory(
            product=cast.product,
            customer=CustomerFactory(workspace=cast.workspace, arr=Decimal(1000 * (n + 1))),
        )
        for n in range(8)
    ]
    barrier = threading.Barrier(len(items))
    errors = []

    def link(item):
        try:
            barrier.wait(timeout=10)
            insight_create(item=item, feature=feature, actor=cast.pm)
        except Exception as exc:  # reported below, with the thread's own error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=link, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    feature = Feature.objects.get(pk=feature.pk)
    assert feature.demand_customers == 8
    assert feature.demand_arr == Decimal(sum(1000 * (n + 1) for n in range(8)))
