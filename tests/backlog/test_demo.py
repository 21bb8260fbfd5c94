"""`load_demo` builds a realistic backlog, and a second run changes nothing."""

import io

from django.core.management import call_command
from django.utils import timezone

from backlog import selectors
from backlog.models import Feature, Idea, Sprint, UserStory
from pm.models import ActivityLog, Product


def _counts():
    return (
        Feature.objects.count(),
        UserStory.objects.count(),
        Sprint.objects.count(),
        Idea.objects.count(),
        ActivityLog.objects.filter(object_type__startswith="backlog.").count(),
    )


def test_demo_backlog_is_realistic_and_idempotent(db):
    call_command("load_demo", stdout=io.StringIO())
    product = Product.objects.get(key="LOD")
    features, stories, sprints, ideas, _ = first = _counts()
    assert 35 <= features <= 45 and stories >= 25 and ideas >= 10
    assert Feature.objects.filter(score__isnull=False).count() >= 35
    velocity = selectors.velocity(product)
    assert len(velocity) == 3 and all(p.done > 0 for p in velocity)
    current = selectors.current_sprint(product)
    assert current.start <= timezone.localdate() <= current.end
    assert UserStory.objects.filter(sprint=current).exclude(status="done").exists()
    keys = list(UserStory.objects.values_list("number", flat=True))
    assert len(set(keys)) == len(keys)

    call_command("load_demo", stdout=io.StringIO())
    assert _counts() == first
