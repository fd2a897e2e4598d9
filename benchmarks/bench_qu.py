"""Query-understanding benchmark on MusicOSet: gazetteer build, storage, interpret() speed, and how
often the structured strategy's top 20 satisfy a decade + genre query, next to lexical's.

Run: .venv/bin/python -m benchmarks.bench_qu [--musicoset DIR] [--port 9291 | --es-url URL]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from lrr_es import es as esio
from lrr_es.catalog import read_musicoset
from lrr_es.config import config_from_dict
from lrr_es.load import load_rows
from lrr_es.migrate import migrate
from lrr_es.qu import interpret, understand
from lrr_es.qu.store import build_gazetteer, load_gazetteer, save_gazetteer
from lrr_es.parse import parse_query
from lrr_es.strategies import get_strategy

from .node import bench_node

DEFAULT_MUSICOSET = Path(__file__).resolve().parents[2] / "shared" / "data" / "musicoset"
QUERIES = ["80s rock", "eighties rock", "90s hip hop", "70s soul", "2000s pop", "tayler swift", "love story taylor swift",
           "queen bohemian rhapsody", "beyonce halo", "dance pop songs", "rock 'n' roll", "x" * 256]
SLOTTED = {"80s rock": ("1980s", "rock"), "90s hip hop": ("1990s", "hip hop"), "70s soul": ("1970s", "soul"),
           "2000s pop": ("2000s", "pop")}


def run(es, musicoset: Path, repeats: int) -> dict:
    config = config_from_dict({"indices": {"bench-qu": {}}})
    migrate(es, config, "bench-qu", progress=False, echo=lambda _: None)
    index = config.index("bench-qu")
    load_rows(es, index, read_musicoset(musicoset), progress=False)
    builds = []
    for _ in range(repeats):
        t = time.monotonic(); gazetteer = build_gazetteer(es, index); builds.append(time.monotonic() - t)
    t = time.monotonic(); stored = save_gazetteer(es, gazetteer); save_s = time.monotonic() - t
    t = time.monotonic(); load_gazetteer(es, index.name); load_s = time.monotonic() - t
    per_query = {}
    for text in QUERIES:
        times = []
        for _ in range(50):
            t = time.perf_counter(); interpret(text, gazetteer); times.append(time.perf_counter() - t)
        per_query[text[:30]] = round(statistics.median(times) * 1000, 3)
    shares = {text: {name: _share(es, index.name, name, understand(parse_query(text), gazetteer), want)
                     for name in ("structured", "lexical")} for text, want in SLOTTED.items()}
    return {"values": gazetteer.slot_sizes(), "total_docs": gazetteer.total,
            "build_s_median": round(statistics.median(builds), 3), "save_s": round(save_s, 3),
            "load_s": round(load_s, 3), "artifact_kb": round(len(stored.to_artifact()) / 1024, 1),
            "interpret_ms_median": per_query, "top20_share_matching_decade_and_genre": shares}


def _share(es, index: str, name: str, query, want: tuple[str, str]) -> float:
    body = get_strategy(name).build(query, 20)
    body["_source"] = ["decade", "genre"]
    hits = esio.search(es, index, body)["hits"]["hits"]
    ok = sum(h["_source"].get("decade") == want[0] and want[1] in h["_source"].get("genre", []) for h in hits)
    return round(ok / max(len(hits), 1), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--musicoset", type=Path, default=DEFAULT_MUSICOSET)
    parser.add_argument("--port", type=int, default=9291)
    parser.add_argument("--es-url", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with bench_node(args.es_url, args.port, heap_mb=0, timeout=30) as es:
        print(json.dumps(run(es, args.musicoset, args.repeats), indent=2))


if __name__ == "__main__":
    main()
