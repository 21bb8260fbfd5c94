"""Backlog page benchmark on PostgreSQL, in a throwaway database of its own.

Prints the median server time (the whole Django request: middleware, permission check,
queries, template) and the number of SQL queries of the backlog page, in rank order and
sorted by score, for a product with 1,000 and then 5,000 scored features (one story for every
other feature). The page shows the first 100 rows and loads more on demand, so the time
should barely move with the size of the backlog.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything python bench/backlog_page.py
       [--requests 25] [--keep]
The bench creates and drops its own database (bench/_common.py).
"""

import argparse
import statistics
import sys
import time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--requests", type=int, default=25, help="timed requests per case")
parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
args = parser.parse_args()

import _common  # noqa: E402  (sets up Django: after argparse, so --help stays quick)


def main() -> int:
    from decimal import Decimal

    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from backlog import ranking, scoring
    from backlog.models import BacklogSettings, Feature, UserStory
    from pm.choices import Role
    from pm.models import Membership, Product, StrategicTheme, Workspace

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    workspace = Workspace.objects.create(name="Bench", slug="bench")
    pm = User.objects.create(username="bench-pm")
    Membership.objects.create(workspace=workspace, user=pm, role=Role.PM)
    product = Product.objects.create(workspace=workspace, name="Bench", key="BENCH")
    BacklogSettings.objects.create(product=product)
    themes = [
        StrategicTheme.objects.create(product=product, name=f"Theme {i}", colour="#4f46e5")
        for i in range(5)
    ]
    client = Client()
    client.force_login(pm)

    def grow_to(size: int) -> None:
        have = Feature.objects.filter(product=product).count()
        last = Feature.objects.filter(product=product).order_by("-rank").first()
        keys = ranking.keys_between(last.rank if last else None, None, size - have)
        rows = []
        for i, key in enumerate(keys, start=have):
            f = Feature(
                product=product,
                title=f"Feature {i}",
                rank=key,
                theme=themes[i % 5],
                reach=Decimal(100 + i % 900),
                impact=Decimal(1 + i % 3),
                confidence=Decimal(50 + i % 50),
                effort=Decimal(1 + i % 5),
                moscow="should",
            )
            f.score = scoring.score_feature(f, "rice").value
            rows.append(f)
        created = Feature.objects.bulk_create(rows, batch_size=2000)
        number = UserStory.objects.filter(product=product).count()
        last_story = UserStory.objects.filter(product=product).order_by("-rank").first()
        halves = created[::2]
        story_keys = ranking.keys_between(
            last_story.rank if last_story else None, None, len(halves)
        )
        stories = []
        for f, key in zip(halves, story_keys, strict=True):
            number += 1
            stories.append(
                UserStory(
                    product=product, feature=f, number=number, title="Story", points=3, rank=key
                )
            )
        UserStory.objects.bulk_create(stories, batch_size=2000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE backlog_feature; ANALYZE backlog_userstory")

    def measure(path: str) -> tuple[float, int]:
        for _ in range(3):  # warm-up
            assert client.get(path).status_code == 200
        times = []
        for _ in range(args.requests):
            start = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        return statistics.median(times) * 1000, len(queries)

    base = f"/p/{product.key}/backlog/"
    print(f"Backlog page, median of {args.requests} requests (server time: full Django request)")
    print(f"{'features':>9} {'order':>7} {'median':>10} {'queries':>8}")
    medians = {}
    for size in (1_000, 5_000):
        grow_to(size)
        for label, path in (("rank", base), ("score", base + "?sort=score")):
            median, count = measure(path)
            medians[(size, label)] = median
            print(f"{size:>9,} {label:>7} {median:>8.1f}ms {count:>8}")
    ratio = medians[(5_000, "rank")] / medians[(1_000, "rank")]
    print(f"median time ratio, 5,000 vs 1,000 features (rank order): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    status = 1
    with _common.throwaway_database(keep=args.keep):
        status = main()
    sys.exit(status)
