"""Fractional rank keys: a move writes one row, never renumbers the list.

Keys are strings over the base-62 alphabet ``0-9A-Za-z``, which is in ASCII (byte) order, so
comparing keys as bytes orders the list. (The column uses the "C" collation in PostgreSQL: see
``pm.fields.RankField``.) The scheme is David Greenspan's "fractional indexing" (as used by
Figma and rocicorp): a key is an *integer part* whose first character encodes its length
(``a0``, ``a1`` … ``az``, ``b00`` …), so appending at the end keeps keys short, followed by an
optional *fraction* that never ends in ``0``, so there is always room between two keys.

Inserting many times into the same gap lengthens keys by about one character per six moves.
When a new key would exceed ``REBALANCE_AT`` characters, :func:`move` re-spaces a bounded
window of neighbours (at most ``2 × WINDOW + 1`` rows) instead; only if even that window has no
room left (practically never) does it re-space the whole list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from django.db import models, transaction
from django.utils import timezone


class Ranked(Protocol):
    """A row ordered by a rank key (a feature, a story, an initiative)."""

    pk: Any
    rank: str


DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ZERO = DIGITS[0]
_INDEX = {d: i for i, d in enumerate(DIGITS)}
_SMALLEST_INTEGER = "A" + ZERO * 26

# Keys longer than this trigger a window rebalance (the column holds 64 characters).
REBALANCE_AT = 32
# Neighbours on each side that a rebalance may rewrite.
WINDOW = 32
# A prefix that sorts after every valid key, used to park keys during a two-step rewrite so the
# (product, rank) unique constraint never sees two rows with the same key mid-update.
_PARKED = "~"


class RankError(ValueError):
    """A key is malformed, or the two keys are not in order."""


def _midpoint(a: str, b: str | None) -> str:
    """A fraction strictly between fractions `a` and `b` (b None = 1.0); neither ends in 0."""
    if b is not None and a >= b:
        raise RankError(f"{a!r} is not below {b!r}")
    if a.endswith(ZERO) or (b is not None and b.endswith(ZERO)):
        raise RankError("fractions never end in the zero digit")
    if b:
        # Shared prefix: recurse on what follows it.
        n = 0
        while (a[n] if n < len(a) else ZERO) == b[n]:
            n += 1
        if n > 0:
            return b[:n] + _midpoint(a[n:], b[n:])
    digit_a = _INDEX[a[0]] if a else 0
    digit_b = _INDEX[b[0]] if b is not None else len(DIGITS)
    if digit_b - digit_a > 1:
        return DIGITS[round((digit_a + digit_b) / 2)]
    # Adjacent first digits: keep a's first digit and go one level deeper.
    if b is not None and len(b) > 1:
        return b[0]
    return DIGITS[digit_a] + _midpoint(a[1:], None)


def _integer_length(head: str) -> int:
    if "a" <= head <= "z":
        return ord(head) - ord("a") + 2
    if "A" <= head <= "Z":
        return ord("Z") - ord(head) + 2
    raise RankError(f"invalid key head {head!r}")


def _integer_part(key: str) -> str:
    length = _integer_length(key[0])
    if length > len(key):
        raise RankError(f"key {key!r} is too short for its head")
    return key[:length]


def validate_key(key: str) -> None:
    """Raise RankError unless `key` is a well-formed rank key."""
    if not key:
        raise RankError("empty key")
    if key == _SMALLEST_INTEGER:
        raise RankError("the smallest integer is reserved")
    integer = _integer_part(key)
    if any(c not in _INDEX for c in key):
        raise RankError(f"key {key!r} has characters outside the alphabet")
    if key[len(integer) :].endswith(ZERO):
        raise RankError(f"key {key!r} ends in the zero digit")


def _increment_integer(x: str) -> str | None:
    head, digits = x[0], list(x[1:])
    for i in reversed(range(len(digits))):
        d = _INDEX[digits[i]] + 1
        if d < len(DIGITS):
            digits[i] = DIGITS[d]
            return head + "".join(digits)
        digits[i] = ZERO
    # Carried out of every digit: the integer gets longer (or leaves the negative range).
    if head == "Z":
        return "a" + ZERO
    if head == "z":
        return None
    new_head = chr(ord(head) + 1)
    if new_head > "a":
        digits.append(ZERO)
    else:
        digits.pop()
    return new_head + "".join(digits)


def _decrement_integer(x: str) -> str | None:
    head, digits = x[0], list(x[1:])
    for i in reversed(range(len(digits))):
        d = _INDEX[digits[i]] - 1
        if d >= 0:
            digits[i] = DIGITS[d]
            return head + "".join(digits)
        digits[i] = DIGITS[-1]
    if head == "a":
        return "Z" + DIGITS[-1]
    if head == "A":
        return None
    new_head = chr(ord(head) - 1)
    if new_head < "Z":
        digits.append(DIGITS[-1])
    else:
        digits.pop()
    return new_head + "".join(digits)


def key_between(a: str | None, b: str | None) -> str:
    """A key that sorts strictly between `a` and `b`; None means the start or the end."""
    if a is not None:
        validate_key(a)
    if b is not None:
        validate_key(b)
    if a is not None and b is not None and a >= b:
        raise RankError(f"{a!r} is not below {b!r}")
    if a is None:
        if b is None:
            return "a" + ZERO
        int_b = _integer_part(b)
        frac_b = b[len(int_b) :]
        if int_b == _SMALLEST_INTEGER:
            return int_b + _midpoint("", frac_b)
        if int_b < b:
            return int_b
        lower = _decrement_integer(int_b)
        if lower is None:
            raise RankError("cannot go below the smallest key")
        return lower
    int_a = _integer_part(a)
    frac_a = a[len(int_a) :]
    if b is None:
        higher = _increment_integer(int_a)
        return int_a + _midpoint(frac_a, None) if higher is None else higher
    int_b = _integer_part(b)
    frac_b = b[len(int_b) :]
    if int_a == int_b:
        return int_a + _midpoint(frac_a, frac_b)
    higher = _increment_integer(int_a)
    if higher is None:
        raise RankError("cannot go above the largest key")
    if higher < b:
        return higher
    return int_a + _midpoint(frac_a, None)


def keys_between(a: str | None, b: str | None, n: int) -> list[str]:
    """`n` ascending keys strictly between `a` and `b`, spread out (short keys)."""
    if n <= 0:
        return []
    if n == 1:
        return [key_between(a, b)]
    if b is None:
        keys = [key_between(a, None)]
        for _ in range(n - 1):
            keys.append(key_between(keys[-1], None))
        return keys
    if a is None:
        keys = [key_between(None, b)]
        for _ in range(n - 1):
            keys.append(key_between(None, keys[-1]))
        return keys[::-1]
    mid = n // 2
    c = key_between(a, b)
    return [*keys_between(a, c, mid), c, *keys_between(c, b, n - mid - 1)]


def is_between(key: str, a: str | None, b: str | None) -> bool:
    return (a is None or a < key) and (b is None or key < b)


# --- moves against the database -----------------------------------------------------------


def _respace(scope: models.QuerySet, ordered_pks: Sequence[int], keys: Sequence[str]) -> None:
    """Give `ordered_pks` the new `keys` in two statements: park them under a prefix no real
    key uses, then write the final keys, so no intermediate state breaks uniqueness."""
    model = scope.model
    rows = [model(pk=pk, rank=_PARKED + key) for pk, key in zip(ordered_pks, keys, strict=True)]
    model.objects.bulk_update(rows, ["rank"], batch_size=500)
    fields = ["rank"]
    if _has_updated_at(model):
        fields.append("updated_at")  # a new position is a change API pollers must see
    now = timezone.now()
    for row, key in zip(rows, keys, strict=True):
        row.rank = key
        row.updated_at = now
    model.objects.bulk_update(rows, fields, batch_size=500)


def _has_updated_at(model: type[models.Model]) -> bool:
    return any(f.name == "updated_at" for f in model._meta.concrete_fields)


def move(
    scope: models.QuerySet,
    obj: Ranked,
    *,
    above: models.Model | None,
    below: models.Model | None,
) -> int:
    """Move `obj` within `scope` so that it sits just below `above` (None: the top) — or, when
    `above` is None, just above `below` (None as well: the bottom). Returns rows written, and
    sets `obj.rank` to its new key.

    The caller holds a lock that serialises moves within the scope (two moves into the same gap
    would otherwise compute the same key). Neighbour ranks are read fresh from the database,
    and the gap is the real one in the full list, so a move made from a filtered or stale view
    still lands right next to the neighbour the user dropped it on.
    """
    others = scope.exclude(pk=obj.pk)
    ranks = others.order_by("rank").values_list("rank", flat=True)
    current = scope.filter(pk=obj.pk).values_list("rank", flat=True).get()
    if above is not None:
        lo = others.filter(pk=above.pk).values_list("rank", flat=True).get()
        hi = ranks.filter(rank__gt=lo).first()
    elif below is not None:
        hi = others.filter(pk=below.pk).values_list("rank", flat=True).get()
        lo = ranks.filter(rank__lt=hi).order_by("-rank").first()
    else:
        lo, hi = ranks.order_by("-rank").first(), None
    if is_between(current, lo, hi):
        return 0
    key = key_between(lo, hi)
    if len(key) <= REBALANCE_AT:
        changes: dict[str, object] = {"rank": key}
        if _has_updated_at(scope.model):
            # The moved row is what changed for API pollers (`?updated_since=`).
            changes["updated_at"] = timezone.now()
        scope.model.objects.filter(pk=obj.pk).update(**changes)
        for name, value in changes.items():
            setattr(obj, name, value)
        return 1
    return _rebalance_around(scope, obj, lo, hi)


def _rebalance_around(scope: models.QuerySet, obj: Ranked, lo: str | None, hi: str | None) -> int:
    """Re-space up to WINDOW neighbours on each side of the gap (lo, hi) with `obj` in it."""
    others = scope.exclude(pk=obj.pk).order_by("rank").values_list("pk", "rank")
    below = list(others.filter(rank__lte=lo).order_by("-rank")[: WINDOW + 1]) if lo else []
    above = list(others.filter(rank__gte=hi)[: WINDOW + 1]) if hi else []
    outer_lo = below.pop()[1] if len(below) > WINDOW else None
    outer_hi = above.pop()[1] if len(above) > WINDOW else None
    window = [pk for pk, _ in reversed(below)] + [obj.pk] + [pk for pk, _ in above]
    keys = keys_between(outer_lo, outer_hi, len(window))
    if max(len(k) for k in keys) > REBALANCE_AT:
        # The whole neighbourhood is crowded: re-space everything (rare, still correct).
        ordered = list(scope.exclude(pk=obj.pk).order_by("rank").values_list("pk", flat=True))
        at = ordered.index(below[0][0]) + 1 if below else 0
        window = [*ordered[:at], obj.pk, *ordered[at:]]
        keys = keys_between(None, None, len(window))
    _respace(scope, window, keys)
    obj.rank = keys[window.index(obj.pk)]
    return len(window)


@transaction.atomic
def respace_all(scope: models.QuerySet, ordered_pks: Sequence[int]) -> int:
    """Give the rows of `scope` fresh, evenly spread keys in the order `ordered_pks`."""
    keys = keys_between(None, None, len(ordered_pks))
    _respace(scope, ordered_pks, keys)
    return len(ordered_pks)


def next_key_at_end(scope: models.QuerySet) -> str:
    last = scope.order_by("-rank").values_list("rank", flat=True).first()
    return key_between(last, None)
