"""Text matching for triage: which ideas and features a piece of feedback is probably about, and
which earlier feedback says the same thing.

On PostgreSQL this is full-text search with ranking (to_tsvector / to_tsquery / ts_rank, English
stemming, titles weighted above descriptions). The feedback text becomes an OR query of its
words, so a feature matches on any shared word and ranks by how many, how rare and where.
SQLite (the trial mode) gets a simpler word-overlap score computed in Python.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

MAX_TERMS = 48

# Words that carry no topic; PostgreSQL's English configuration drops its own list too.
STOPWORDS = frozenset(
    """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can cannot could did do does doing down during each few for
    from further had has have having he her here hers him his how i if in into is it its itself
    just let me more most my no nor not now of off on once only or other our ours out over own
    really same she should so some such than that the their them then there these they this
    those through to too under until up very was we were what when where which while who whom
    why will with would you your yours please thanks thank hi hello would like want wish need
    needs love great good bad still always never every get got make makes use using used lot
    lots way ways thing things something anything able because since maybe also us
    """.split()  # noqa: SIM905 - a word list reads better as text
)

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    """Lower-case topic words of `text`, in order, without stop words or very short words."""
    return [w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in STOPWORDS]


def tsquery_text(text: str) -> str:
    """An OR query for to_tsquery(): only [a-z0-9] words, so it can never be a syntax error."""
    unique = list(dict.fromkeys(words(text)))[:MAX_TERMS]
    return " | ".join(unique)


def stem(word: str) -> str:
    """A crude English stemmer for the SQLite fallback (exports → export, syncing → sync)."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ers", "ed", "es", "er", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


@dataclass
class Candidate[T]:
    """Something a text may match: an idea, a feature or another feedback item."""

    obj: T
    title: str
    body: str = ""


def rank_by_overlap[T](
    text: str, candidates: Iterable[Candidate[T]], *, limit: int = 5
) -> list[tuple[T, float]]:
    """Score candidates by the query words they share, weighted by rarity among the candidates
    (idf) and counted three times in titles. Used where PostgreSQL full-text search is not."""
    query = set(stems(text))
    if not query:
        return []
    docs = []
    for c in candidates:
        title = set(stems(c.title))
        body = set(stems(c.body))
        docs.append((c, title, body))
    if not docs:
        return []
    df: Counter[str] = Counter()
    for _c, title, body in docs:
        df.update(title | body)
    n = len(docs)
    scored: list[tuple[T, float]] = []
    for c, title, body in docs:
        score = 0.0
        for term in query:
            if term in title or term in body:
                idf = math.log(1 + n / df[term])
                score += idf * (3.0 if term in title else 1.0)
        if score > 0:
            length = len(title) + len(body)
            scored.append((c.obj, score / math.log(2 + length)))
    scored.sort(key=lambda pair: -pair[1])
    return scored[:limit]
