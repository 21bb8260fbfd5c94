"""Re-ranking benchmark on PostgreSQL, in a throwaway database of its own.

A move writes O(1) rows thanks to fractional rank keys. This prints, for backlogs of 100 and
10,000 features, the rows written per move (feature rows, plus the one activity-log entry) and
the median time of a move through ``backlog.services.feature_move`` (its own transaction, as in
a request), and the ratio of the two medians (the target is under 2). It then repeats the
worst case — always dropping into the same gap — to show the bounded rebalance at work.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/anything python bench/backlog_rank.py
       [--moves 500] [--keep]
The bench creates and drops its own database (bench/_common.py).
"""

import argparse
import random
import statistics
import sys
import time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--moves", type=int, default=500, help="timed moves per backlog size")
parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
args = parser.parse_args()

import _common  # noqa: E402  (sets up Django: after argparse, so --help stays quick)


def main() -> int:
    from django.contrib.auth.models import User

    from backlog import ranking, services
    from backlog.models import Feature
    from pm.choices import Role
    from pm.models import ActivityLog, Membership, Product, Workspace

    workspace = Workspace.objects.create(name="Bench", slug="bench")
    pm = User.objects.create(username="bench-pm")
    Membership.objects.create(workspace=workspace, user=pm, role=Role.PM)

    written: list[int] = []
    real_move = ranking.move

    def counting_move(*a, **kw):
        rows = real_move(*a, **kw)
        written.append(rows)
        return rows

    ranking.move = counting_move  # services call ranking.move: count the feature rows written

    def backlog(size: int, key: str):
        product = Product.objects.create(workspace=workspace, name=f"Bench {size}", key=key)
        keys = ranking.keys_between(None, None, size)
        Feature.objects.bulk_create(
            (Feature(product=product, title=f"F{i}", rank=k) for i, k in enumerate(keys)),
            batch_size=2000,
        )
        features = {f.pk: f for f in Feature.objects.filter(product=product)}
        for f in features.values():
            f.product = product
        return product, features, list(features)

    def run(size: int, key: str, pattern: str):
        product, features, order = backlog(size, key)
        rng = random.Random(size)
        times, written[:] = [], []
        logs_before = ActivityLog.objects.count()
        for step in range(args.moves + 20):
            if pattern == "random":
                src, dst = rng.randrange(size), rng.randrange(size)
            else:  # the worst case for key length: always just below the top feature
                src, dst = size - 1, 1
            pk = order.pop(src)
            order.insert(dst, pk)
            above = features[order[dst - 1]] if dst > 0 else None
            below = features[order[dst + 1]] if dst + 1 < size else None
            start = time.perf_counter()
            services.feature_move(feature=features[pk], above=above, below=below, actor=pm)
            elapsed = time.perf_counter() - start
            if step >= 20:  # warm-up excluded
                times.append(elapsed)
        moves = args.moves + 20
        assert list(Feature.objects.filter(product=product).values_list("pk", flat=True)) == order
        logs = ActivityLog.objects.count() - logs_before
        longest = max(
            len(r) for r in Feature.objects.filter(product=product).values_list("rank", flat=True)
        )
        return {
            "median_ms": statistics.median(times) * 1000,
            "p95_ms": statistics.quantiles(times, n=20)[-1] * 1000,
            "rows_mean": sum(written) / moves,
            "rows_max": max(written),
            "logs_per_move": logs / moves,
            "longest_key": longest,
        }

    print(f"Re-ranking through backlog.services.feature_move, {args.moves} timed moves each")
    print(
        f"{'features':>9} {'pattern':>9} {'median':>9} {'p95':>9} {'rows/move':>10} "
        f"{'max rows':>9} {'log rows':>9} {'key len':>8}"
    )
    results = {}
    for size, key, pattern in [
        (100, "RA", "random"),
        (10_000, "RB", "random"),
        (100, "RC", "same-gap"),
        (10_000, "RD", "same-gap"),
    ]:
        r = run(size, key, pattern)
        results[(size, pattern)] = r
        print(
            f"{size:>9,} {pattern:>9} {r['median_ms']:>7.2f}ms {r['p95_ms']:>7.2f}ms "
            f"{r['rows_mean']:>10.2f} {r['rows_max']:>9} {r['logs_per_move']:>9.2f} "
            f"{r['longest_key']:>8}"
        )
    ratio = results[(10_000, "random")]["median_ms"] / results[(100, "random")]["median_ms"]
    print(f"median move time ratio, 10,000 vs 100 features: {ratio:.2f} (target < 2)")
    print(
        f"rows written per move: 1 feature row and 1 activity-log row; a rebalance rewrites at "
        f"most {2 * ranking.WINDOW + 1} feature rows (keys longer than {ranking.REBALANCE_AT})"
    )
    return 0 if ratio < 2 else 1


if __name__ == "__main__":
    status = 1
    with _common.throwaway_database(keep=args.keep):
        status = main()
    sys.exit(status)
