"""Golden cold-start checks: before any feedback (no policy, no ranker, no learned fusion weights), the
top of each page satisfies what query understanding read from the query (decade, genre, artist)
whenever the catalog holds such documents, and explore's random picks stay off the top.

Checked on the demo catalog (the 2,000 sample songs of ``lrr-es demo``, with its gazetteer and
semantic model) and on MusicOSet. The queries are the demo's and others of the same kinds; a query
counts only when query understanding's top reading is confident (likelihood >= 0.5, the threshold
of the "lead" rule of lrr_es.fusion): an ambiguous query such as "latin pop" (0.32 against 0.31 for "pop"
with "latin" as text) has no single reading to check against. Whether a document satisfies the
slots is asked of Elasticsearch (term filters on decade, genre or main genre, artist.keyword), not
read from the engine's answer.
"""
import pytest

from lrr_es import es as esio
from lrr_es.catalog import sample_rows
from lrr_es.config import config_from_dict
from lrr_es.engine import LrrEngine
from lrr_es.load import load_rows
from lrr_es.migrate import migrate
from lrr_es.names import MODELS_INDEX
from lrr_es.qu.store import build_gazetteer, rebuild_gazetteer
from lrr_es.semantic import build_semantic

pytestmark = pytest.mark.integration
TOP = 3
ROLE_FILTERS = {"decade": lambda v: {"term": {"decade": v}},
                "genre": lambda v: {"bool": {"should": [{"term": {"genre": v}}, {"term": {"main_genre": v}}],
                                             "minimum_should_match": 1}},
                "artist": lambda v: {"term": {"artist.keyword": v}}}
DEMO_QUERIES = ("80s pop", "midnight rock", "90s hip hop", "70s rock", "2000s r&b", "jazz", "country",
                "80s rock songs", "pop 2010s", "love songs 90s", "electronic", "metal 80s", "soul 60s", "indie")
MUSICOSET_QUERIES = ("80s pop", "90s rock", "2000s hip hop", "70s soul", "country", "dance pop", "taylor swift",
                     "drake", "beyonce", "rihanna songs", "90s r&b", "60s rock")


def drop_models(es, alias):
    es.delete_by_query(index=MODELS_INDEX, body={"query": {"term": {"index": alias}}}, refresh=True,
                       ignore=[404], conflicts="proceed")


def golden_failures(es, engine, alias, queries):
    """(checked queries, failures): a failure names the query, the slots and the top hits that miss them."""
    checked, failures = [], []
    for text in queries:
        result = engine.search(alias, text, size=10)
        readings = result.query.interpretations
        if not readings or readings[0].likelihood < 0.5:
            continue
        slots = [s for s in readings[0].slots if s.role in ROLE_FILTERS]
        if not slots:
            continue
        filters = [ROLE_FILTERS[s.role](s.value) for s in slots]
        existing = es.count(index=alias, body={"query": {"bool": {"filter": filters}}})["count"]
        if not existing:
            continue
        checked.append(text)
        top = [h["_id"] for h in result.hits[:min(TOP, existing)]]
        answer = es.search(index=alias, body={"size": TOP, "_source": False,
                                              "query": {"bool": {"filter": filters + [{"ids": {"values": top}}]}}})
        satisfied = {h["_id"] for h in answer["hits"]["hits"]}
        missing = [doc for doc in top if doc not in satisfied]
        explore_only = [h["_id"] for h in result.hits[:TOP] if set(h["lrr"]["strategies"]) <= {"explore"}]
        if missing or explore_only:
            found_by = {h["_id"]: {k: v["rank"] for k, v in h["lrr"]["strategies"].items()} for h in result.hits[:TOP]}
            failures.append((text, [(s.role, s.value) for s in slots], existing, missing, explore_only,
                             [found_by[doc] for doc in missing],
                             [(h["_source"].get("decade"), h["_source"].get("genre")) for h in result.hits[:TOP]]))
    return checked, failures


@pytest.fixture(scope="module")
def demo_catalog(es, es_url, drop_catalog):
    name = "test-golden-demo"
    drop_catalog(name)
    drop_models(es, name)
    config = config_from_dict({"indices": {name: {}}, "retrieval": {"timeout_ms": 5000}})
    migrate(es, config, name, progress=False, echo=lambda _: None)
    load_rows(es, config.index(name), sample_rows(2000, seed=7), progress=False, threads=1)  # the demo's catalog
    esio.refresh(es, name)
    rebuild_gazetteer(es, config.index(name))
    patient = esio.connect(es_url, 180)  # writing 2,200 vectors: a busy shared machine needs more than 30 s
    build_semantic(patient, config.index(name), progress=False, echo=lambda _: None)
    yield name, config
    drop_models(es, name)
    drop_catalog(name)


def test_demo_catalog_pages_satisfy_what_query_understanding_read(es, demo_catalog):
    name, config = demo_catalog
    engine = LrrEngine(es, config, decisions=False)
    assert engine.policy(name) is None and engine.fusion(name) is None  # cold start
    checked, failures = golden_failures(es, engine, name, DEMO_QUERIES)
    assert "80s pop" in checked and len(checked) >= 12
    assert failures == []


def test_the_demo_page_for_80s_pop_leads_with_1980s_pop(es, demo_catalog):
    name, config = demo_catalog
    result = LrrEngine(es, config, decisions=False).search(name, "80s pop", size=5)
    for hit in result.hits[:TOP]:
        assert hit["_source"]["decade"] == "1980s" and "pop" in hit["_source"]["genre"]


def test_musicoset_pages_satisfy_what_query_understanding_read(es, music_index):
    for doc in (f"policy-{music_index}", f"fusion-{music_index}"):  # cold start: nothing learned
        es.delete(index=MODELS_INDEX, id=doc, ignore=[404], refresh=True)
    config = config_from_dict({"indices": {music_index: {}}, "retrieval": {"timeout_ms": 5000}})
    gazetteer = build_gazetteer(es, config.index(music_index))  # in memory: the shared index stays as it is
    engine = LrrEngine(es, config, resources={music_index: {"gazetteer": gazetteer, "semantic": None}},
                       decisions=False)
    checked, failures = golden_failures(es, engine, music_index, MUSICOSET_QUERIES)
    assert len(checked) >= 6, checked
    assert failures == []
