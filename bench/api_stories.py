"""How much does the API cost over the database? Fills 10,000 stories in a throwaway database,
then prints the median time of `GET /api/v1/stories/?page_size=100` served in-process (token
authentication, throttling, filters, cursor pagination, serialization, JSON), the median time
of the equivalent raw SQL plus JSON encoding, their ratio, and where the rest of the time goes.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/api_stories.py

It creates and drops its own database (`bench_<name>`), so it never touches real data.
"""

import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pm.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
os.environ.setdefault("SITE_URL", "http://127.0.0.1")  # required in production settings
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

STORIES = 10_000
PAGE = 100
RUNS = 60
URL = f"/api/v1/stories/?page_size={PAGE}"

RAW_SQL = """
SELECT s.id, p.key, s.number, s.title, s.as_a, s.i_want, s.so_that, s.acceptance_criteria,
       s.points, s.status, s.assignee_id, s.sprint_id, s.feature_id, s.persona_id,
       s.created_at, s.updated_at, s.version
FROM backlog_userstory s JOIN pm_product p ON p.id = s.product_id
WHERE p.workspace_id = ANY(%s)
ORDER BY s.rank, s.id
LIMIT %s
"""


def fill():
    from django.contrib.auth.models import User

    from backlog.models import BacklogSettings, Feature, Sprint, UserStory
    from backlog.ranking import keys_between
    from pm.models import Membership, Product, Workspace

    workspace = Workspace.objects.create(name="Bench", slug="bench")
    product = Product.objects.create(workspace=workspace, name="Bench", key="BEN")
    user = User.objects.create_user("engineer", password="x")  # noqa: S106
    Membership.objects.create(workspace=workspace, user=user, role="engineer")
    feature = Feature.objects.create(product=product, title="Everything", rank="a0")
    today = django.utils.timezone.localdate()
    sprint = Sprint.objects.create(
        product=product, name="Now", start=today, end=today + timedelta(days=13), capacity=40
    )
    criteria = [
        {"text": "Given a saved search, when I open it, then it runs", "done": True},
        {"text": "Given no results, when I search, then I see a hint", "done": False},
    ]
    UserStory.objects.bulk_create(
        (
            UserStory(
                product=product,
                feature=feature,
                number=i + 1,
                title=f"Story number {i + 1} about saved searches",
                as_a="product manager",
                i_want="to save a search and run it again later",
                so_that="I do not rebuild the same filters every morning",
                acceptance_criteria=criteria,
                points=(1, 2, 3, 5, 8)[i % 5],
                status=("todo", "ready", "in_progress", "in_review", "done")[i % 5],
                assignee=user if i % 2 else None,
                sprint=sprint if i % 4 == 0 else None,
                rank=key,
            )
            for i, key in enumerate(keys_between(None, None, STORIES))
        ),
        batch_size=2000,
    )
    BacklogSettings.objects.create(product=product, last_story_number=STORIES)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return user, workspace


def median_ms(fn, runs: int = RUNS) -> float:
    return interleaved({"fn": fn}, runs)["fn"]


def interleaved(fns: dict, runs: int = RUNS) -> dict[str, float]:
    """Median milliseconds of each function, run in turns so that load from other processes
    on the machine weighs on all of them alike."""
    for fn in fns.values():
        for _ in range(5):  # warm up
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) * 1000 for name, t in times.items()}


def main() -> None:
    from rest_framework.test import APIClient

    from pm.api.tokens import api_token_create

    user, workspace = fill()
    _token, key = api_token_create(user=user, name="bench", actor=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    def api_call():
        response = client.get(URL)
        assert response.status_code == 200, response.content
        assert len(json.loads(response.content)["results"]) == PAGE

    def raw_call():
        with connection.cursor() as cursor:
            cursor.execute(RAW_SQL, [[workspace.pk], PAGE + 1])
            rows = cursor.fetchall()
        results = [
            {
                "id": r[0],
                "key": f"{r[1]}-{r[2]}",
                "product": r[1],
                "title": r[3],
                "as_a": r[4],
                "i_want": r[5],
                "so_that": r[6],
                "acceptance_criteria": r[7],
                "points": r[8],
                "status": r[9],
                "assignee": r[10],
                "sprint": r[11],
                "feature": r[12],
                "persona": r[13],
                "created_at": r[14].isoformat(),
                "updated_at": r[15].isoformat(),
                "version": r[16],
            }
            for r in rows[:PAGE]
        ]
        json.dumps({"next": None, "previous": None, "results": results}).encode()

    medians = interleaved({"api": api_call, "raw": raw_call})
    api_ms, raw_ms = medians["api"], medians["raw"]
    print(f"stories in the database:                 {STORIES:,}")
    print(f"GET {URL} in-process:  median {api_ms:6.2f} ms")
    print(f"raw SQL + json.dumps of the same page:    median {raw_ms:6.2f} ms")
    print(f"ratio:                                    {api_ms / raw_ms:6.2f}×  (aim: < 3)")
    breakdown(client, api_ms)


def breakdown(client, api_ms: float) -> None:
    """Where the API's time goes: SQL timed around each query of real requests; rendering and
    JSON encoding timed on the same page of stories; the rest is Django and DRF around them."""
    from rest_framework.renderers import JSONRenderer

    from backlog.api import StorySerializer
    from backlog.models import UserStory

    per_request: list[tuple[float, int]] = []

    def timed(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            per_request[-1] = (
                per_request[-1][0] + time.perf_counter() - start,
                per_request[-1][1] + 1,
            )

    with connection.execute_wrapper(timed):
        for _ in range(RUNS):
            per_request.append((0.0, 0))
            client.get(URL)
    sql_ms = statistics.median(t for t, _ in per_request) * 1000
    queries = statistics.median(n for _, n in per_request)

    page = list(UserStory.objects.select_related("product").order_by("rank", "id")[:PAGE])
    render_ms = median_ms(lambda: StorySerializer(page, many=True).data)
    data = {"next": "x", "previous": None, "results": StorySerializer(page, many=True).data}
    json_ms = median_ms(lambda: JSONRenderer().render(data))
    rest = api_ms - sql_ms - render_ms - json_ms
    print("where the API request's time goes (medians):")
    print(f"  SQL, {queries:.0f} queries (token, memberships, the page)   {sql_ms:6.2f} ms")
    print(f"  rendering {PAGE} stories (StorySerializer)            {render_ms:6.2f} ms")
    print(f"  JSON encoding (DRF JSONRenderer)                    {json_ms:6.2f} ms")
    print(f"  the rest: Django + DRF request cycle, middleware,    {rest:6.2f} ms")
    print("  token check, throttle counters in the cache, pagination links")


if __name__ == "__main__":
    setup_test_environment()
    connection.settings_dict.setdefault("TEST", {})
    connection.settings_dict["TEST"]["NAME"] = f"bench_{connection.settings_dict['NAME']}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        main()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
