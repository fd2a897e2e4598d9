"""Decision logging on a real node: every search leaves one lrr-decisions record, off the hot path."""
import time

import pytest

from lrr_es import es as esio
from lrr_es.config import config_from_dict
from lrr_es.decisions import DECISIONS_INDEX, DecisionLog
from lrr_es.engine import LrrEngine
from lrr_es.decide import PlanItem

pytestmark = pytest.mark.integration


def test_each_search_is_logged_with_plan_candidates_and_shown_order(es, music_index):
    engine = LrrEngine(es, config_from_dict({"indices": {music_index: {}}}))
    plan = (PlanItem("lexical", 20, 1.0), PlanItem("fuzzy", 20, 0.5))
    results = [engine.search(music_index, text, size=5, plan=plan) for text in ("yesterday", "tayler swift")]
    engine.decisions.flush()
    for result in results:
        doc = esio.get_source(es, DECISIONS_INDEX, result.search_id)
        assert doc["query"] == result.query.text and doc["q2e_key"] == result.query.key
        assert doc["plan"] == [{"strategy": "lexical", "quota": 20, "propensity": 1.0},
                               {"strategy": "fuzzy", "quota": 20, "propensity": 0.5}]
        assert doc["shown"] == [h["_id"] for h in result.hits]
        assert [c["id"] for c in doc["candidates"]] == [c.id for c in result.pool]
        first = result.pool[0]
        assert doc["candidates"][0]["found"] == {p.strategy: [p.rank, round(p.score, 4)] for p in first.provenance}
    assert engine.decisions.stats.written >= 2 and engine.decisions.stats.failed == 0


def test_a_node_that_is_down_never_blocks_logging():
    dead = esio.Elasticsearch(["http://127.0.0.1:9"], timeout=0.5)  # nothing listens on port 9
    decisions = DecisionLog(dead, batch=10, flush_s=0.05, max_queue=5, retries=1)
    started = time.perf_counter()
    accepted = [decisions.log({"search_id": f"s{i}"}) for i in range(50)]
    assert time.perf_counter() - started < 0.5  # log() returns at once even with nothing to write to
    assert accepted.count(True) >= 5 and decisions.stats.dropped == accepted.count(False) > 0
    decisions.close(timeout=10)
    assert decisions.stats.written == 0
    assert decisions.stats.failed + decisions.stats.dropped == 50


def test_records_are_built_on_the_writer_thread_and_a_broken_one_is_counted(es):
    decisions = DecisionLog(es, batch=10, flush_s=0.05)
    built_on = []

    def record():
        import threading
        built_on.append(threading.current_thread().name)
        return {"search_id": "built-late"}

    assert decisions.log(record) and decisions.log(lambda: 1 / 0)
    decisions.flush()
    decisions.close()
    assert built_on == ["lrr-decision-log"]
    assert esio.get_source(es, DECISIONS_INDEX, "built-late") == {"search_id": "built-late"}
    assert (decisions.stats.written, decisions.stats.failed) == (1, 1)
    es.delete(index=DECISIONS_INDEX, id="built-late", refresh=True)
