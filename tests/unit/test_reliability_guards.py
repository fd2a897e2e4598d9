"""Issue 15, items 6 and 9: feedback writes only configured catalogs, editorial edits survive a
concurrent feedback update, a strategy that cannot run says why (pure, no node)."""
import json

import elasticsearch
import pytest

from lrr_es.config import config_from_dict
from lrr_es.errors import EsUnavailableError, FeedbackError
from lrr_es.feedback import FeedbackWriter, editorial, make_event
from lrr_es.feedback.spool import write_spool
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
        assert writer.pending == 0 and writer.stats.rejected == 1
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
