"""The fetch between merge and rank (lrr_es.sources): which candidates need a source, the cache, one mget."""
from dataclasses import replace

import pytest

from lrr_es import sources as src
from lrr_es.decide import PlanItem
from lrr_es.execute import IDS, build_msearch, parse_msearch
from lrr_es.merge import Candidate, Provenance
from lrr_es.sources import SourceCache, fill_sources, wanted_positions, with_sources


def _pool(n):
    return tuple(Candidate(f"d{i}", {}, (Provenance("lexical", i + 1, 1.0 / (i + 1)),), 1.0 / (i + 1), "music-1")
                 for i in range(n))


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize("n, head, from_, size, expected", [
    (50, 0, 0, 10, list(range(10))),  # RRF, nothing logged: the page
    (50, 30, 0, 10, list(range(30))),  # the logged head covers the page
    (50, 5, 20, 3, [0, 1, 2, 3, 4, 20, 21, 22]),  # a later page below the head
    (8, 200, 0, 10, list(range(8))),  # a head longer than the pool
    (8, 0, 10, 10, []),  # a page beyond the pool
])
def test_wanted_positions_are_the_head_and_the_page(n, head, from_, size, expected):
    assert wanted_positions(n, head, from_, size) == expected


def test_with_sources_fills_only_the_positions_and_leaves_the_pool_alone():
    pool = _pool(3)
    out = with_sources(pool, [0, 2], {"d0": {"title": "a"}})
    assert [c.source for c in out] == [{"title": "a"}, {}, {}]  # d2 not found: empty
    assert [c.id for c in out] == ["d0", "d1", "d2"] and out[0].provenance == pool[0].provenance
    assert all(c.source == {} for c in pool)


def test_without_a_version_the_cache_serves_within_its_ttl_and_forgets_after():
    clock = Clock()
    cache = SourceCache(ttl_s=60, clock=clock)
    cache.put_many("music", {"a": ((7, 1), {"title": "A"})})
    clock.now += 59
    assert cache.get_many("music", [("a", None, None), ("b", None, None)]) == {"a": {"title": "A"}}
    clock.now += 2
    assert cache.get_many("music", [("a", None, None)]) == {}


def test_with_a_version_the_cache_serves_that_version_only_and_for_as_long_as_it_is_found():
    clock = Clock()
    cache = SourceCache(ttl_s=60, clock=clock)
    cache.put_many("music-1", {"a": ((7, 1), {"title": "A"})})
    clock.now += 3600
    assert cache.get_many("music", [("a", "music-1", (7, 1))]) == {"a": {"title": "A"}}
    assert cache.get_many("music", [("a", "music-1", (8, 1))]) == {}  # edited since: fetch again
    assert cache.get_many("music", [("a", "music-1", (7, 2))]) == {}  # another primary's history
    assert cache.get_many("music", [("a", "music-2", (7, 1))]) == {}  # same id in another concrete index


def test_a_reader_that_changes_a_cached_source_changes_nothing_the_next_reader_gets():
    cache = SourceCache()
    cache.put_many("music", {"a": ((1, 1), {"title": "A", "genre": ["rock"]})})
    first = cache.get_many("music", [("a", None, (1, 1))])["a"]
    first["genre"].append("pop")
    first["title"] = "changed"
    assert cache.get_many("music", [("a", None, (1, 1))]) == {"a": {"title": "A", "genre": ["rock"]}}


def test_a_zero_ttl_caches_nothing_and_a_full_cache_drops_the_least_recently_used():
    off = SourceCache(ttl_s=0)
    off.put_many("music", {"a": (None, {})})
    assert off.get_many("music", [("a", None, None)]) == {}
    small = SourceCache(max_entries=2)
    small.put_many("music", {"a": (None, {"t": "a"}), "b": (None, {"t": "b"})})
    assert small.get_many("music", [("a", None, None)]) == {"a": {"t": "a"}}  # a used: b is the oldest now
    small.put_many("music", {"c": (None, {"t": "c"})})
    assert small.get_many("music", [(i, None, None) for i in "abc"]) == {"a": {"t": "a"}, "c": {"t": "c"}}


def test_fill_sources_fetches_the_uncached_in_one_mget_that_reads_what_searches_see(monkeypatch):
    calls = []

    def mget(es, index, ids, excludes=None, realtime=True):
        calls.append((index, list(ids), excludes, realtime))
        return {i: ((1, 1), {"title": i.upper()}) for i in ids if i != "d3"}  # d3 deleted since the search

    monkeypatch.setattr(src.esio, "mget_versioned", mget)
    cache = SourceCache()
    cache.put_many("music-1", {"d1": ((1, 1), {"title": "cached"})})
    pool = [replace(c, seq=(1, 1)) for c in _pool(5)]
    pool, fetched = fill_sources(None, "music", pool, [0, 1, 3], cache, ["lrr_emb"])
    assert calls == [("music-1", ["d0", "d3"], ["lrr_emb"], False)] and fetched == 2
    assert [c.source for c in pool] == [{"title": "D0"}, {"title": "cached"}, {}, {}, {}]
    pool, fetched = fill_sources(None, "music", pool, [0, 1], cache, ["lrr_emb"])
    assert fetched == 0 and len(calls) == 1 and pool[0].source == {"title": "D0"}
    edited = [replace(c, seq=(2, 1)) if c.id == "d0" else c for c in pool]
    _, fetched = fill_sources(None, "music", edited, [0, 1], cache, ["lrr_emb"])
    assert fetched == 1 and calls[-1][1] == ["d0"]


def test_the_engine_sub_searches_can_ask_for_no_source():
    line = build_msearch("music", [(PlanItem("lexical", 5), {"size": 5, "query": {"match_all": {}}})], False)[1]
    assert line["_source"] is False


def test_ids_mode_reads_no_stored_field_and_parses_the_id_from_doc_values():
    item = PlanItem("lexical", 5, timeout_ms=250)
    line = build_msearch("music", [(item, {"size": 5, "query": {"match_all": {}}})], IDS)[1]
    assert line == {"size": 5, "query": {"match_all": {}}, "timeout": "250ms", "stored_fields": "_none_",
                    "docvalue_fields": ["_id"], "seq_no_primary_term": True}
    answer = {"responses": [{"took": 2, "hits": {"hits": [
        {"_index": "music-1", "_type": "_doc", "_score": 2.5, "fields": {"_id": ["song:1"]}, "_seq_no": 4,
         "_primary_term": 1},
        {"_index": "music-1", "_id": "song:2", "_score": 1.0}]}}]}
    hits = parse_msearch([item], answer)[0].hits
    assert [(h.id, h.score, h.source, h.index, h.seq) for h in hits] == [
        ("song:1", 2.5, {}, "music-1", (4, 1)), ("song:2", 1.0, {}, "music-1", None)]


def test_candidates_of_two_concrete_indices_are_fetched_from_each(monkeypatch):
    calls = []
    monkeypatch.setattr(src.esio, "mget_versioned", lambda es, index, ids, excludes=None, realtime=True:
                        calls.append((index, ids)) or {i: (None, {"i": index}) for i in ids})
    pool = _pool(3)
    pool = (pool[0], Candidate("d1", {}, pool[1].provenance, pool[1].fused, "music-2"), Candidate("d2", {}, (), 0.1))
    out, fetched = fill_sources(None, "music", pool, [0, 1, 2], SourceCache(), [])
    assert calls == [("music-1", ["d0"]), ("music-2", ["d1"]), ("music", ["d2"])] and fetched == 3
    assert [c.source for c in out] == [{"i": "music-1"}, {"i": "music-2"}, {"i": "music"}]


CATALOG_PROPERTIES = {  # the catalog template's role fields, as the node reports them
    "title": {"type": "text", "fields": {"keyword": {"type": "keyword", "normalizer": "lrr_keyword"},
                                         "prefix": {"type": "text"}}},
    "artist": {"type": "text", "fields": {"keyword": {"type": "keyword", "normalizer": "lrr_keyword"}}},
    "popularity": {"type": "rank_feature", "fields": {"value": {"type": "double", "index": False}}},
    "added_at": {"type": "date"},
    "entity_type": {"type": "keyword"},
}


def test_the_features_fields_come_from_doc_values_of_the_catalog_mapping():
    from lrr_es.config import FieldMap
    from lrr_es.execute import DocValueSource
    found = src.feature_doc_values(CATALOG_PROPERTIES, FieldMap())
    assert found == DocValueSource(
        (("title.keyword", "title", True), ("artist.keyword", "artist", False), ("popularity.value", "popularity", True),
         ("added_at", "added_at", True), ("entity_type", "entity_type", True)),
        (("added_at", "strict_date_optional_time"),))


@pytest.mark.parametrize("change, expected", [
    ({"popularity": {"type": "rank_feature"}}, None),  # a rank_feature alone has no doc values
    ({"popularity": {"type": "float"}}, "popularity"),  # an adopted app's numeric popularity
    ({"entity_type": {"type": "keyword", "normalizer": "lrr_keyword"}}, None),  # folded values are not the source's
    ({"title": {"type": "text"}}, None),  # no keyword sub-field
    ({"added_at": {"type": "date", "doc_values": False}}, None),
])
def test_a_role_without_usable_doc_values_keeps_the_features_on_source(change, expected):
    from lrr_es.config import FieldMap
    found = src.feature_doc_values({**CATALOG_PROPERTIES, **change}, FieldMap())
    if expected is None:
        assert found is None
    else:
        assert ("popularity", "popularity", True) in found.columns


def test_a_role_the_index_does_not_map_is_left_out():
    from lrr_es.config import FieldMap
    properties = {k: v for k, v in CATALOG_PROPERTIES.items() if k != "added_at"}
    found = src.feature_doc_values(properties, FieldMap())
    assert [c[1] for c in found.columns] == ["title", "artist", "popularity", "entity_type"] and found.formats == ()


def test_doc_value_mode_reads_no_stored_field_and_makes_sources_of_the_doc_values():
    from lrr_es.execute import DocValueSource
    mode = DocValueSource((("title.keyword", "title", True), ("artist.keyword", "artist", False),
                           ("added_at", "added_at", True)), (("added_at", "strict_date_optional_time"),))
    item = PlanItem("lexical", 5, timeout_ms=250)
    line = build_msearch("music", [(item, {"size": 5})], mode)[1]
    assert line == {"size": 5, "timeout": "250ms", "stored_fields": "_none_", "seq_no_primary_term": True,
                    "docvalue_fields": ["_id", "title.keyword", "artist.keyword",
                                        {"field": "added_at", "format": "strict_date_optional_time"}]}
    answer = {"responses": [{"hits": {"hits": [
        {"_index": "music-1", "_score": 2.0, "fields": {"_id": ["s1"], "title.keyword": ["hello"],
                                                          "artist.keyword": ["a", "b"], "added_at": ["2019-03-01T00:00:00.000Z"]}},
        {"_index": "music-1", "_score": 1.0, "fields": {"_id": ["s2"]}}]}}]}
    hits = parse_msearch([item], answer, mode)[0].hits
    assert [(h.id, h.source) for h in hits] == [
        ("s1", {"title": "hello", "artist": ["a", "b"], "added_at": "2019-03-01T00:00:00.000Z"}), ("s2", {})]
    without_ids = build_msearch("music", [(item, {"size": 5})], DocValueSource(mode.columns[:1], (), ids=False))[1]
    assert without_ids["_source"] is False and without_ids["docvalue_fields"] == ["title.keyword"]
    assert "stored_fields" not in without_ids
