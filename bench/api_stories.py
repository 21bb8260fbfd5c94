"""How much does the API cost over the database? Fills 10,000 stories in a throwaway database,
then prints the median time of `GET /api/v1/stories/?page_size=100` served in-process (token
authentication, throttling, filters, cursor pagination, serialization, JSON), the median time
of the equivalent raw SQL plus JSON encoding, their ratio, and where the rest of the time goes.

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/api_stories.py

It creates and drops its own database (`bench_<name>_<pid>`, bench/_common.py), so it never
touches real data. `--stories 50000` for a big customer's volume.
"""

import argparse
import json
import statistics
import time
from datetime import UTC, timedelta

import _common
import django
from django.db import connection

STORIES = 10_000  # --stories
PAGE = 100
RUNS = 60
URL = f"/api/v1/stories/?page_size={PAGE}"

# The floor does what the API must do, in raw SQL and json.dumps: the token lookup (by key
# hash, with its user), the caller's memberships, and the page in rank order, by the same index
# (story_rank_order), encoded to the very bytes the API sends (checked).
TOKEN_SQL = """
SELECT t.id, t.expires_at, t.revoked_at, u.is_active
FROM pm_apitoken t JOIN auth_user u ON u.id = t.user_id WHERE t.key_hash = %s
"""
MEMBERSHIP_SQL = "SELECT workspace_id, role FROM pm_membership WHERE user_id = %s"
RAW_SQL = """
SELECT s.id, p.key, s.number, s.title, s.as_a, s.i_want, s.so_that, s.acceptance_criteria,
       s.points, s.status, s.assignee_id, s.sprint_id, s.feature_id, s.persona_id,
       s.created_at, s.updated_at, s.version
FROM backlog_userstory s JOIN pm_product p ON p.id = s.product_id
WHERE p.workspace_id = ANY(%s)
ORDER BY s.rank, s.id
LIMIT %s
"""


def _iso(moment) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


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
    _common.analyze()
    return user, workspace


def median_ms(fn, runs: int = RUNS) -> float:
    return _common.median_ms(fn, runs, warmup=5)


def interleaved(fns: dict, runs: int = RUNS) -> dict[str, float]:
    return _common.interleaved(fns, runs, warmup=5)


def main() -> None:
    from rest_framework.test import APIClient

    from pm.api.tokens import api_token_create
    from pm.models import ApiToken

    user, workspace = fill()
    _token, key = api_token_create(user=user, name="bench", actor=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    sent = {}

    def api_call():
        response = client.get(URL)
        assert response.status_code == 200, response.content
        sent["body"] = response.content

    def raw_call() -> bytes:
        with connection.cursor() as cursor:
            cursor.execute(TOKEN_SQL, [ApiToken.hash_key(key)])
            token = cursor.fetchone()
            assert token is not None and token[3]
            cursor.execute(MEMBERSHIP_SQL, [user.pk])
            workspaces = [ws for ws, _role in cursor.fetchall()]
            cursor.execute(RAW_SQL, [workspaces, PAGE + 1])
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
                "acceptance_criteria": [
                    {"text": c["text"], "done": c["done"]} for c in json.loads(r[7])
                ],  # Django's psycopg loads jsonb as text in raw cursors
                "points": r[8],
                "status": r[9],
                "assignee": r[10],
                "sprint": r[11],
                "feature": r[12],
                "persona": r[13],
                "created_at": _iso(r[14]),
                "updated_at": _iso(r[15]),
                "version": r[16],
            }
            for r in rows[:PAGE]
        ]
        page = {"next": next_link, "previous": None, "results": results}
        return json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode()

    api_call()
    next_link = json.loads(sent["body"])["next"]  # the cursor link, as the API computed it
    same = raw_call() == sent["body"]
    medians = interleaved({"api": api_call, "raw": raw_call})
    api_ms, raw_ms = medians["api"], medians["raw"]
    print(f"stories in the database:                 {STORIES:,}")
    print(f"GET {URL} in-process:  median {api_ms:6.2f} ms  (goal ≤ 15 ms)")
    print(f"raw SQL + json.dumps of the same page:    median {raw_ms:6.2f} ms")
    print(f"  (token + memberships + page by the same index; same JSON bytes: {same})")
    print(f"ratio:                                    {api_ms / raw_ms:6.2f}×  (aim: ≤ 3)")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF) " + RAW_SQL, [[workspace.pk], PAGE + 1])
        plan = [row[0] for row in cursor.fetchall()]
    print("the page's plan:\n    " + "\n    ".join(plan))
    breakdown(client, api_ms)


def breakdown(client, api_ms: float) -> None:
    """Where the API's time goes: SQL timed around each query of real requests; rendering and
    JSON encoding timed on the same page of stories; the rest is Django and DRF around them."""
    from rest_framework.renderers import JSONRenderer

    from backlog.api import STORY_ROW, datetime_renderer, story_json
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

    page = list(UserStory.objects.order_by("rank", "id").values(*STORY_ROW)[:PAGE])

    def render() -> list:
        when = datetime_renderer()
        return [story_json(row, when) for row in page]

    render_ms = median_ms(render)
    data = {"next": "x", "previous": None, "results": render()}
    json_ms = median_ms(lambda: JSONRenderer().render(data))
    rest = api_ms - sql_ms - render_ms - json_ms
    print("where the API request's time goes (medians):")
    print(f"  SQL, {queries:.0f} queries (token, memberships, the page)   {sql_ms:6.2f} ms")
    print(f"  rendering {PAGE} stories (story_json of the rows)     {render_ms:6.2f} ms")
    print(f"  JSON encoding (DRF JSONRenderer)                    {json_ms:6.2f} ms")
    print(f"  the rest: Django + DRF request cycle, middleware,    {rest:6.2f} ms")
    print("  token check, throttle counters in the cache, pagination links")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=STORIES)
    STORIES = parser.parse_args().stories
    with _common.throwaway_database():
        main()
