"""Semantic strategy benchmark on MusicOSet: build time, recall of the cluster-probe path, latency.

- build: scan + fit + write of clusters and vectors + store (``build_semantic``), seconds per stage;
- recall@10 and @100 of the cluster-probe search on Elasticsearch against exact brute-force numpy
  nearest neighbours over every embedded document, for several nprobe values, on --queries song
  "title artist" texts sampled with a fixed seed;
- self-retrieval: how often a song's own "title artist" text puts it in the top 10;
- latency: server ``took`` and client wall time of the semantic search (default nprobe) against a
  plain lexical multi_match, same queries, same run, after one warm-up pass.

Run: .venv/bin/python -m benchmarks.bench_semantic [--es-url URL | --port 9252] [--queries 200]
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

import numpy as np

from lrr_es import es as esio
from lrr_es.catalog import read_musicoset
from lrr_es.config import config_from_dict
from lrr_es.folding import query_tokens
from lrr_es.load import load_rows
from lrr_es.migrate import migrate
from lrr_es.semantic import build_semantic, document_tokens, load_semantic
from lrr_es.semantic.linalg import top_k
from lrr_es.parse import parse_query
from lrr_es.strategies import get_strategy
from lrr_es.strategies.semantic import DEFAULT_NPROBE, semantic_clause

from .node import bench_node

DEFAULT_MUSICOSET = Path(__file__).resolve().parents[2] / "shared" / "data" / "musicoset"
QUIET = lambda _: None  # noqa: E731
ALIAS = "bench-semantic"


def corpus(es) -> tuple[list[str], list[dict]]:
    hits = list(esio.scan(es, ALIAS, source=["title", "artist", "genre", "entity_type"]))
    return [h["_id"] for h in hits], [h["_source"] for h in hits]


def search_ids(es, body: dict) -> tuple[list[str], int, float]:
    started = time.perf_counter()
    result = esio.search(es, ALIAS, {**body, "_source": False})
    return [h["_id"] for h in result["hits"]["hits"]], result["took"], (time.perf_counter() - started) * 1000


def run(es, musicoset: Path, queries: int, nprobes: list[int]) -> dict:
    config = config_from_dict({"indices": {ALIAS: {}}})
    if not esio.alias_targets(es, ALIAS):
        migrate(es, config, ALIAS, progress=False, echo=QUIET)
        load_rows(es, config.index(ALIAS), read_musicoset(musicoset), progress=False)
    build = build_semantic(es, config.index(ALIAS), progress=False, echo=QUIET)
    model = load_semantic(es, ALIAS)
    ids, sources = corpus(es)
    vectors = model.embed_many([document_tokens(s) for s in sources])
    embedded = vectors.any(axis=1)
    songs = [i for i, s in enumerate(sources) if s.get("entity_type") == "song"]
    sample = random.Random(11).sample(songs, queries)
    texts = [f"{sources[i]['title']} {' '.join(sources[i].get('artist', []))}" for i in sample]
    qvecs = [model.embed(query_tokens(t)) for t in texts]
    exact = [None if q is None else [ids[j] for j in top_k(np.where(embedded, vectors @ q, -np.inf), 100)] for q in qvecs]
    recall = {}
    for nprobe in nprobes:
        r10, r100 = [], []
        for text, truth in zip(texts, exact):
            if truth is None:
                continue
            got, _, _ = search_ids(es, {"size": 100, "query": semantic_clause(model, query_tokens(text), nprobe)})
            r10.append(len(set(got[:10]) & set(truth[:10])) / 10)
            r100.append(len(set(got) & set(truth)) / 100)
        recall[nprobe] = {"recall@10": round(statistics.mean(r10), 4), "recall@100": round(statistics.mean(r100), 4)}
    semantic, lexical = get_strategy("semantic", resources={"semantic": model}), get_strategy("lexical")
    for text in texts:  # warm-up
        search_ids(es, semantic.build(parse_query(text), 10))
        search_ids(es, lexical.build(parse_query(text), 10))
    lat = {"semantic": ([], []), "lexical": ([], [])}
    self_hits = 0
    for i, text in zip(sample, texts):
        got, took, wall = search_ids(es, semantic.build(parse_query(text), 10))
        self_hits += ids[i] in got
        lat["semantic"][0].append(took), lat["semantic"][1].append(wall)
        _, took, wall = search_ids(es, lexical.build(parse_query(text), 10))
        lat["lexical"][0].append(took), lat["lexical"][1].append(wall)
    exact_self = sum(truth is not None and ids[i] in truth[:10] for i, truth in zip(sample, exact))
    genre = {}
    for word in ("rap", "country", "rock", "jazz", "soul"):
        got, _, _ = search_ids(es, semantic.build(parse_query(word), 20))
        by_id = dict(zip(ids, sources))
        genre[word] = sum(any(word in g for g in by_id[d].get("genre", [])) for d in got) / max(1, len(got))
    return {
        "documents": build.documents, "embedded": build.embedded, "params": {k: v for k, v in build.params.items() if k != "singular_values"},
        "build_seconds": {k: round(v, 2) for k, v in build.seconds.items()},
        "recall_vs_exact": recall, "queries": queries, "queries_with_known_tokens": sum(e is not None for e in exact),
        "self_retrieval@10": {"probe(nprobe=%d)" % DEFAULT_NPROBE: self_hits / queries, "exact": exact_self / queries},
        "genre_precision@20": genre,
        "latency_ms": {name: {"took_median": statistics.median(t), "took_p90": sorted(t)[int(0.9 * len(t))],
                              "wall_median": round(statistics.median(w), 2), "wall_p90": round(sorted(w)[int(0.9 * len(w))], 2)}
                       for name, (t, w) in lat.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--musicoset", type=Path, default=DEFAULT_MUSICOSET)
    parser.add_argument("--es-url", default=None, help="Use this cluster instead of starting a node.")
    parser.add_argument("--port", type=int, default=9252)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[1, 4, 8, 16, 32, 64])
    args = parser.parse_args()
    with bench_node(args.es_url, args.port, heap_mb=0, timeout=30) as es:
        print(json.dumps(run(es, args.musicoset, args.queries, args.nprobe), indent=2))


if __name__ == "__main__":
    main()
