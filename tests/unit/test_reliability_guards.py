"""Issue 15, items 6, 8 and 9: feedback writes only configured catalogs, editorial edits survive a
concurrent feedback update, a strategy that cannot run says why, the decision log's queue holds only
what records need within a bound in bytes (pure, no node)."""
import json
import logging
import threading
from dataclasses import replace
from functools import partial

import elasticsearch
import numpy as np
import pytest

from lrr_es.config import FieldMap, config_from_dict
from lrr_es.context import CONTEXT_SCHEMA
from lrr_es.decide import PlanItem
from lrr_es.decisions import DecisionLog, decision_document, log_input
from lrr_es.errors import EsUnavailableError, FeedbackError
from lrr_es.feedback import FeedbackWriter, editorial, make_event
from lrr_es.feedback.spool import write_spool
from lrr_es.execute import Hit, StrategyResult
from lrr_es.merge import merge
from lrr_es.parse import parse_query
from lrr_es.rank.features import candidate_features, feature_schema
from lrr_es.rank.logged import logged_features
from lrr_es.respond import SearchResult
from lrr_es.strategies import get_strategy, unavailable

NOW = 1_700_000_000_000


class NoClient:
    """Stands for Elasticsearch where no request may be sent."""

    def __getattr__(self, name):
        raise AssertionError(f"no request expected, got {name}")


@pytest.fixture
def writer(tmp_path):
    config = config_from_dict({"indices": {"music": {}, "podcasts": {}}})
    made = FeedbackWriter(NoClient(), config, spool_path=tmp_path / "spool.jsonl")
    yield made
    made.close(timeout=0.1)


# --- item 6: feedback writes Q2E fields only into configured catalogs ----------------------------------

@pytest.mark.parametrize("index", ["orders", "music-v1", "lrr-events", "Music"])
def test_feedback_naming_an_index_that_is_not_a_configured_alias_is_refused_at_the_call(writer, index):
    with pytest.raises(FeedbackError, match=rf"index '{index}' is not a configured catalog alias "
                                            r"\(configured: music, podcasts\)"):
        writer.feedback(None, "d1", "click", query="love", index=index)
    with pytest.raises(FeedbackError, match=rf"event #1: index '{index}' is not a configured"):
        writer.feedback_many([{"search_id": "s1", "doc_id": "d1", "action": "click", "index": "music", "query": "x"},
                              {"search_id": "s1", "doc_id": "d2", "action": "click", "index": index}])
    assert writer.stats.accepted == 0 and writer.pending == 0  # nothing reached the batch


def test_a_spooled_event_for_an_index_no_longer_configured_is_dead_lettered_not_replayed(tmp_path):
    spool = tmp_path / "spool.jsonl"
    gone = make_event("s1", "d1", "click", query="love", index="retired", now_ms=NOW)
    write_spool(spool, [(gone, True)])
    config = config_from_dict({"indices": {"music": {}}})
    writer = FeedbackWriter(NoClient(), config, spool_path=spool)
    try:
        assert writer.flush(5) and writer.pending == 0 and writer.stats.rejected == 1
        [line] = (tmp_path / "spool.jsonl.rejected").read_text().splitlines()
        assert json.loads(line)["event_id"] == gone.event_id
        assert "index 'retired' is not a configured catalog alias (configured: music)" in json.loads(line)["reason"]
    finally:
        writer.close(timeout=0.1)


# --- item 9: an editorial edit survives a concurrent feedback update ------------------------------------

class BusyDocument:
    """Answers an update like Elasticsearch while the feedback writer changes the document ``changes`` times
    between the edit's read and its write: a 409 unless ``retry_on_conflict`` re-applies it often enough."""

    def __init__(self, changes):
        self.changes, self.requests = changes, []

    def update(self, index, id, refresh=False, retry_on_conflict=0, **body):
        self.requests.append({"index": index, "id": id, "retry_on_conflict": retry_on_conflict, **body})
        if retry_on_conflict < self.changes:
            raise elasticsearch.ConflictError(409, "version_conflict_engine_exception",
                                              {"error": {"type": "version_conflict_engine_exception"}})
        return {"result": "updated"}


def test_pin_is_reapplied_when_feedback_updates_the_document_meanwhile():
    es = BusyDocument(changes=3)
    assert editorial.pin(es, "music", "d1", "Blue Sky", score=2.0) == "updated"
    assert editorial.unpin(es, "music", "d1", "Blue Sky") == "updated"
    assert [r["retry_on_conflict"] for r in es.requests] == [editorial.RETRY_ON_CONFLICT] * 2


def test_a_document_that_keeps_changing_is_an_lrr_error_naming_it_never_a_raw_409():
    with pytest.raises(EsUnavailableError, match=r"pin of 'blue_sky' on music/d1: the document kept changing"):
        editorial.pin(BusyDocument(changes=99), "music", "d1", "Blue Sky")


# --- item 9: a strategy that cannot run is reported with the reason -----------------------------------

def test_unavailable_strategies_say_which_resource_is_missing_or_damaged():
    strategies = {name: get_strategy(name) for name in ("lexical", "structured", "semantic")}
    assert unavailable(strategies, "music") == {
        "structured": "needs gazetteer, which music does not have yet (`lrr-es gazetteer rebuild --index music`)",
        "semantic": "needs semantic, which music does not have yet (`lrr-es semantic build --index music`)"}
    damaged = unavailable(strategies, "music", {"semantic": "semantic model semantic-music in lrr-models is damaged"})
    assert damaged["semantic"] == ("needs semantic, which music has but cannot load "
                                   "(semantic model semantic-music in lrr-models is damaged)")
    ready = {"semantic": get_strategy("semantic", resources={"semantic": object()})}
    assert unavailable(ready, "music") == {}


# --- item 8: the decision log's queue holds what records need, within a bound in bytes ------------------

STRATEGIES = ("lexical", "popular", "structured", "memory", "fuzzy", "semantic", "explore")


def big_search(n):
    """A search like the music catalog's: 7 strategies x 50 hits of about 1.3 KB of _source each."""
    source = lambda i: {"title": f"Song {i}", "artist": [f"Band {i % 40}"], "genre": "rock", "popularity": i,
                        "lyrics_excerpt": "la " * 400, "q2e": {f"key_{k}": 1.0 for k in range(10)}}
    results = tuple(StrategyResult(s, tuple(Hit(f"d{(7 * j + k) % 300}", 10.0 - j / 10, source((7 * j + k) % 300))
                                            for j in range(50))) for k, s in enumerate(STRATEGIES))
    pool = merge(results, {}, 60)
    hits = [{"_id": c.id, "_score": c.fused, "_source": c.source} for c in pool[:10]]
    context = tuple(np.zeros(len(CONTEXT_SCHEMA)))
    return SearchResult(f"search-{n}", "music", parse_query("love song"), tuple(PlanItem(s, 50) for s in STRATEGIES),
                        hits, len(pool), results, pool=tuple(pool), context=context, extra=({"hits": hits},))


def record(result, depth=30):
    features = partial(logged_features, result, STRATEGIES, FieldMap(), depth, 200, 1e9)
    return decision_document(result, 1_700_000_000_000, features)


def test_the_log_input_makes_the_same_record_without_the_sources_it_does_not_need():
    full = big_search(0)
    compact, size = log_input(full, STRATEGIES, 30)
    assert record(compact) == record(full)
    full_bytes = len(json.dumps([c.source for c in full.pool] + [h.source for r in full.results for h in r.hits]))
    assert full_bytes > 400_000 and size < full_bytes / 5
    assert sum(1 for c in compact.pool if c.source) == 30 and not any(r.hits for r in compact.results)
    without, small = log_input(full, STRATEGIES, None)  # no features logged: no source at all
    assert not any(c.source for c in without.pool) and small < size
    assert decision_document(without, 1) == decision_document(full, 1)
    head = full.pool[:200]  # a live ranker served: its feature rows are logged, no source is needed
    rows = candidate_features(full.query, head, STRATEGIES, FieldMap(), np.asarray(full.context), 1e9)
    ranked = replace(full, features=rows, feature_schema=feature_schema(STRATEGIES))
    served, served_size = log_input(ranked, STRATEGIES, 30)
    assert record(served) == record(ranked) and not any(c.source for c in served.pool) and served_size < size


class SlowNode:
    """Accepts a _bulk only once ``go`` is set: Elasticsearch slower than the searches."""

    def __init__(self):
        self.go = threading.Event()

    def bulk(self, body, refresh=False, **_):
        self.go.wait(10)
        return {"items": [{"index": {"_id": a["index"]["_id"], "status": 201}} for a in body[::2]]}


def test_the_queue_holds_at_most_max_bytes_and_sheds_the_rest_counted_and_logged_once(caplog):
    inputs = [log_input(big_search(n), STRATEGIES, 30) for n in range(3)]
    size = inputs[0][1]
    node = SlowNode()
    decisions = DecisionLog(node, batch=5, flush_s=0.01, max_bytes=10 * size + size // 2)
    with caplog.at_level(logging.WARNING, logger="lrr_es.decisions"):
        accepted = [decisions.log(partial(decision_document, *inputs[n % 3][:1]), inputs[n % 3][1])
                    for n in range(500)]
    assert decisions.stats.peak_bytes <= decisions.max_bytes and decisions.stats.held_bytes <= decisions.max_bytes
    assert sum(accepted) == decisions.stats.queued == 10 and decisions.stats.shed == 490
    assert sum("decisions are shed" in r.getMessage() for r in caplog.records) == 1
    node.go.set()
    decisions.close(10)
    assert decisions.stats.written == 10 and decisions.stats.held_bytes == 0
