"""What a search meets when Elasticsearch cannot answer (issue 15, item 5): an lrr-es error, never the
client's own. ModelCache while lrr-models cannot be read: the copy read before keeps serving, stale,
and the store is tried again one refresh interval later; with nothing read before, EsUnavailableError.
The plan's _msearch answered 429/5xx: EsUnavailableError."""
import elasticsearch
import pytest

from lrr_es.errors import EsUnavailableError
from lrr_es.models import ModelCache


class Store:
    """lrr-models as the cache sees it: a version and an artifact, or an error for every read."""

    def __init__(self):
        self.version, self.artifact, self.error, self.reads, self.damaged = 1, object(), None, 0, False

    def read_version(self, es, alias):
        self.reads += 1
        if self.error is not None:
            raise self.error
        return self.version

    def load(self, es, alias):
        if self.error is not None:
            raise self.error
        if self.damaged:
            raise ValueError("damaged artifact")
        return self.artifact


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


DOWN = elasticsearch.ConnectionError("N/A", "connection refused", None)
CLOSED = elasticsearch.TransportError(400, "index_closed_exception", {"error": {"type": "index_closed_exception"}})


@pytest.mark.parametrize("error", [DOWN, CLOSED, EsUnavailableError("no answer")], ids=["down", "closed", "lrr"])
def test_the_copy_read_before_serves_while_the_store_cannot_be_read_and_is_retried_after_the_ttl(error):
    store, clock = Store(), Clock()
    cache = ModelCache(store.load, store.read_version, ttl=10, clock=clock)
    served = cache.get(None, "music")
    store.error, clock.now = error, 11.0
    assert cache.get(None, "music") is served and store.reads == 2
    clock.now = 15.0
    assert cache.get(None, "music") is served and store.reads == 2  # not retried within the ttl
    store.error, store.version, store.artifact, clock.now = None, 2, object(), 22.0
    assert cache.get(None, "music") is store.artifact and cache.loads == 2  # back: the new version is read


def test_with_nothing_read_before_an_unreadable_store_is_an_lrr_error():
    store = Store()
    store.error = DOWN
    cache = ModelCache(store.load, store.read_version, ttl=10, clock=Clock())
    with pytest.raises(EsUnavailableError, match="lrr-models could not be read for music .*ConnectionError"):
        cache.get(None, "music")
    store.error = None
    assert cache.get(None, "music") is store.artifact  # nothing cached from the failure


def test_a_damaged_artifact_is_not_mistaken_for_an_unreachable_store():
    store = Store()
    cache = ModelCache(store.load, store.read_version, ttl=0, clock=Clock())
    cache.get(None, "music")
    store.version, store.damaged = 2, True
    with pytest.raises(ValueError, match="damaged"):  # the reader's own error: the engine reports it
        cache.get(None, "music")


# --- the plan's _msearch: an answer that is neither a result nor the request's fault ----------------------

class Overloaded:
    """A client whose node answers every _msearch with ``status`` (search queue full, not recovered...)."""

    def __init__(self, status):
        self.status = status

    def msearch(self, body=None, searches=None, **_):
        raise elasticsearch.TransportError(self.status, "es_rejected_execution_exception",
                                           {"error": {"type": "es_rejected_execution_exception", "reason": "queue full"}})


@pytest.mark.parametrize("status", [429, 503, 500])
def test_an_msearch_the_node_cannot_take_is_an_lrr_error(status):
    from lrr_es import es as esio
    with pytest.raises(EsUnavailableError, match=f"_msearch answered {status}: es_rejected_execution_exception"):
        esio.msearch(Overloaded(status), [{"index": "music"}, {"query": {"match_all": {}}}])
