"""Fractional rank keys: ordering properties, O(1) writes per move, bounded rebalance, and
10,000 random moves through the service matching a plain Python list moved the same way."""

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backlog import ranking, services
from backlog.models import Feature
from backlog.ranking import RankError, key_between, keys_between, validate_key
from tests.backlog.factories import FeatureFactory
from tests.factories import ProductFactory


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=300))
def test_inserting_anywhere_keeps_keys_valid_and_ordered(positions):
    keys: list[str] = []
    for p in positions:
        at = p % (len(keys) + 1)
        lo = keys[at - 1] if at else None
        hi = keys[at] if at < len(keys) else None
        key = key_between(lo, hi)
        validate_key(key)
        assert (lo is None or lo < key) and (hi is None or key < hi)
        keys.insert(at, key)
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


@given(st.integers(min_value=0, max_value=3000))
def test_spread_keys_are_short_sorted_and_distinct(n):
    keys = keys_between(None, None, n)
    assert keys == sorted(keys)
    assert len(set(keys)) == n
    assert all(len(k) <= 4 for k in keys)


def test_appending_ten_thousand_keeps_keys_short():
    key, longest = None, 0
    for _ in range(10_000):
        key = key_between(key, None)
        longest = max(longest, len(key))
    assert longest <= 4


@pytest.mark.parametrize(("a", "b"), [("a1", "a0"), ("a0", "a0"), ("a10", None), ("!", None)])
def test_bad_or_misordered_keys_are_refused(a, b):
    with pytest.raises(RankError):
        key_between(a, b)


def test_keys_sort_bytewise_in_postgresql(cast):
    """A locale collation would put "aZ" after "aa" (case-insensitive first pass); the
    column's "C" collation keeps ASCII order, the order the keys are generated for."""
    ranks = ["a0", "aA", "aZ", "aa", "az", "b0A", "b0a"]
    for rank in reversed(ranks):
        FeatureFactory(product=cast.product, rank=rank)
    assert list(Feature.objects.filter(product=cast.product).values_list("rank", flat=True)) == (
        ranks
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT collation_name FROM information_schema.columns "
                "WHERE table_name = 'backlog_feature' AND column_name = 'rank'"
            )
            assert cursor.fetchone()[0] == "C"


def _features(product, n):
    keys = keys_between(None, None, n)
    return Feature.objects.bulk_create(
        Feature(product=product, title=f"F{i}", rank=k) for i, k in enumerate(keys)
    )


def _ranked(product):
    return list(Feature.objects.filter(product=product).values_list("pk", flat=True))


def test_a_move_writes_one_row(cast, django_assert_max_num_queries):
    features = _features(cast.product, 50)
    scope = Feature.objects.filter(product=cast.product)
    # Read the moved row and its new neighbours (3 queries), then one UPDATE.
    with django_assert_max_num_queries(4):
        written = ranking.move(scope, features[40], above=features[3], below=features[4])
    assert written == 1
    order = _ranked(cast.product)
    assert order.index(features[40].pk) == 4


def test_moving_into_the_same_gap_rebalances_a_bounded_window(cast):
    features = _features(cast.product, 200)
    scope = Feature.objects.filter(product=cast.product)
    expected = [f.pk for f in features]
    top = features[0]
    writes = []
    # Always drop the last feature just below the first: the worst case for key length.
    for _ in range(300):
        mover = Feature(pk=expected[-1], product=cast.product)
        writes.append(ranking.move(scope, mover, above=top, below=None))
        expected.insert(1, expected.pop())
    assert _ranked(cast.product) == expected
    assert max(writes) <= 2 * ranking.WINDOW + 1
    assert sum(writes) < 300 * 2  # amortised O(1) rows per move
    longest = max(len(r) for r in scope.values_list("rank", flat=True))
    assert longest <= ranking.REBALANCE_AT


def _moves(n_items, size):
    # Hypothesis favours small and boundary indices, so drops at the top and bottom (the
    # crowded gaps) come up often next to uniformly random ones.
    index = st.integers(min_value=0, max_value=n_items - 1)
    return st.lists(st.tuples(index, index), min_size=size, max_size=size)


N_FEATURES = 30
MOVES_PER_EXAMPLE = 200
EXAMPLES = 50  # 50 × 200 = 10,000 moves


def _apply_moves(cast, moves):
    product = ProductFactory(workspace=cast.workspace)
    features = {f.pk: f for f in _features(product, N_FEATURES)}
    expected = list(features)
    for step, (src, dst) in enumerate(moves):
        pk = expected.pop(src)
        expected.insert(dst, pk)
        above = features[expected[dst - 1]] if dst > 0 else None
        below = features[expected[dst + 1]] if dst + 1 < len(expected) else None
        services.feature_move(feature=features[pk], above=above, below=below, actor=cast.pm)
        if step % 50 == 49:
            assert _ranked(product) == expected
    assert _ranked(product) == expected


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(moves=_moves(N_FEATURES, MOVES_PER_EXAMPLE))
def test_ten_thousand_random_moves_match_a_python_list(cast, moves):
    _apply_moves(cast, moves)


@pytest.mark.slow
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(moves=_moves(N_FEATURES, MOVES_PER_EXAMPLE))
def test_random_moves_with_tiny_keys_rebalance_constantly_and_still_match(cast, moves):
    # Rebalance after a single extra character, in windows of 2: exercises the window and
    # the whole-list fallback on almost every move.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ranking, "REBALANCE_AT", 3)
        mp.setattr(ranking, "WINDOW", 2)
        _apply_moves(cast, moves)
