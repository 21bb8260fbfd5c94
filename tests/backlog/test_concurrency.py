"""Concurrent writes against real PostgreSQL: story keys, moves into the same gap, edits."""

import threading

import pytest
from django.db import connection, connections

from backlog import services
from backlog.models import Feature, UserStory
from pm.services import EditConflict
from tests.backlog.factories import FeatureFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's row locks"
)


def _run_together(workers):
    """Start every callable at the same instant in its own thread (own DB connection)."""
    barrier = threading.Barrier(len(workers))
    errors = []

    def run(fn):
        try:
            barrier.wait()
            fn()
        except Exception as exc:  # collected and re-raised in the test thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_two_stories_created_at_once_get_different_keys(cast, transactional_db):
    feature = FeatureFactory(product=cast.product)

    def create_many():
        for _ in range(15):
            services.story_create(feature=feature, data={"title": "Race"}, actor=cast.pm)

    errors = _run_together([create_many, create_many])
    assert errors == []
    numbers = sorted(
        UserStory.objects.filter(product=cast.product).values_list("number", flat=True)
    )
    assert numbers == list(range(1, 31))
    ranks = list(UserStory.objects.filter(product=cast.product).values_list("rank", flat=True))
    assert len(set(ranks)) == 30


def test_two_moves_into_the_same_gap_both_land(cast, transactional_db):
    a, b, c, d = (FeatureFactory(product=cast.product, title=t) for t in "abcd")

    def mover(feature):
        return lambda: services.feature_move(feature=feature, above=a, below=b, actor=cast.pm)

    errors = _run_together([mover(c), mover(d)])
    assert errors == []
    order = list(Feature.objects.filter(product=cast.product).values_list("title", flat=True))
    assert order[0] == "a" and order[-1] == "b"
    assert sorted(order[1:3]) == ["c", "d"]


def test_two_editors_saving_the_same_version_one_is_refused(cast, transactional_db):
    feature = FeatureFactory(product=cast.product, title="Original")
    outcomes = []

    def save(title, actor):
        def run():
            try:
                services.feature_update(
                    feature=feature, data={"title": title}, expected_version=1, actor=actor
                )
                outcomes.append(("saved", title))
            except EditConflict:
                outcomes.append(("refused", title))

        return run

    errors = _run_together([save("From PM", cast.pm), save("From admin", cast.admin)])
    assert errors == []
    assert sorted(o[0] for o in outcomes) == ["refused", "saved"]
    winner = next(title for outcome, title in outcomes if outcome == "saved")
    feature.refresh_from_db()
    assert (feature.title, feature.version) == (winner, 2)
