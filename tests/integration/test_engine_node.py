"""The request path end to end on a real node with MusicOSet: one _msearch, merge, degradation."""
import pytest

from lrr_es import es as esio
from lrr_es.catalog import sample_rows
from lrr_es.config import config_from_dict
from lrr_es.engine import LrrEngine
from lrr_es.errors import QueryError
from lrr_es.decide import PlanItem
from lrr_es.execute import execute
from lrr_es.load import load_rows
from lrr_es.migrate import migrate
from lrr_es.parse import parse_query
from lrr_es.rank.logged import logged_features
from lrr_es.strategies import get_strategy
from lrr_es.strategies.text import LexicalStrategy

pytestmark = pytest.mark.integration
PLAN = (PlanItem("lexical", 20), PlanItem("popular", 20), PlanItem("fuzzy", 20), PlanItem("memory", 20))


@pytest.fixture(scope="module")
def engine(es, music_index):
    return LrrEngine(es, config_from_dict({"indices": {music_index: {}}}))


def test_a_plan_runs_as_one_msearch_and_merges_with_provenance(engine, music_index):
    result = engine.search(music_index, "tayler swift love story", size=30, plan=PLAN)
    assert [r.strategy for r in result.results] == ["lexical", "popular", "fuzzy", "memory"]
    assert all(r.status == "ok" for r in result.results) and not result.failed
    ids = [h["_id"] for h in result.hits]
    assert len(ids) == len(set(ids)) == 30
    union = {h.id for r in result.results for h in r.hits}
    assert result.pool_size == len(union)
    for hit in result.hits:  # provenance matches what each sub-search returned
        for name, prov in hit["lrr"]["strategies"].items():
            sub = next(r for r in result.results if r.strategy == name)
            assert sub.hits[prov["rank"] - 1].id == hit["_id"]
    fused = [h["_score"] for h in result.hits]
    assert fused == sorted(fused, reverse=True)
    top = result.hits[0]["_source"]
    assert "Taylor Swift" in top["artist"] and "love story" in top["title"].lower()


def test_a_misspelled_artist_reaches_the_page_through_fuzzy(engine, music_index):
    result = engine.search(music_index, "beyonse", size=10, plan=PLAN, source=["artist", "title"])
    beyonce = [h for h in result.hits if "Beyoncé" in h["_source"].get("artist", [])]
    assert beyonce and all(set(h["lrr"]["strategies"]) <= {"fuzzy", "popular", "memory"} for h in beyonce)
    assert not any("Beyoncé" in h.source.get("artist", []) for h in result.results[0].hits)  # not lexical


def test_app_filters_apply_to_every_sub_search(engine, music_index):
    result = engine.search(music_index, "love", size=50, plan=PLAN, filters={"term": {"entity_type": "artist"}},
                           source=["entity_type"])
    assert result.hits and all(h["_source"]["entity_type"] == "artist" for h in result.hits)
    assert all(h.source["entity_type"] == "artist" for r in result.results for h in r.hits)


class FailingStrategy(LexicalStrategy):
    """A strategy whose sub-search Elasticsearch rejects at run time (a Painless exception)."""

    name = "broken"

    def _query(self, query):
        return {"script_score": {"query": {"match_all": {}},
                                 "script": {"source": "throw new IllegalStateException('broken on purpose')"}}}


def test_a_failing_sub_search_is_reported_and_the_others_are_served(es, music_index):
    engine = LrrEngine(es, config_from_dict({"indices": {music_index: {}}}))
    engine.strategies(music_index)["broken"] = FailingStrategy()
    plan = (PlanItem("lexical", 10), PlanItem("broken", 10), PlanItem("fuzzy", 10))
    result = engine.search(music_index, "hello", size=10, plan=plan)
    assert set(result.failed) == {"broken"} and "broken on purpose" in result.failed["broken"]
    assert len(result.hits) == 10
    assert all(set(h["lrr"]["strategies"]) <= {"lexical", "fuzzy"} for h in result.hits)
    assert result.to_response()["lrr"]["failed"] == result.failed


@pytest.mark.parametrize("bad", [
    {"size": 5, "query": {"range": {"title.keyword": {"gte": "a", "format": "nonsense"}}}},  # rejects the request
    {"size": 5, "query": {"script_score": {"query": {"match_all": {}}, "script": {"source": "1/0"}}}},  # fails in run
], ids=["unparsable", "runtime"])
def test_execute_isolates_a_bad_body_of_a_real_msearch(es, music_index, bad):
    query = parse_query("yesterday")
    lexical = (PlanItem("lexical", 5), get_strategy("lexical").build(query, 5))
    results, elapsed = execute(es, music_index, [lexical, (PlanItem("x", 5), bad), lexical])
    assert [r.status for r in results] == ["ok", "failed", "ok"]
    assert len(results[0].hits) == 5 and results[0].hits == results[2].hits
    assert results[1].error and elapsed > 0


def test_a_page_beyond_the_pool_falls_back_to_lexical(engine, music_index):
    plan = (PlanItem("lexical", 5), PlanItem("memory", 5))
    first = engine.search(music_index, "love", size=5, plan=plan)
    beyond = engine.search(music_index, "love", size=5, from_=first.pool_size + 5, plan=plan)
    assert len(beyond.hits) == 5 and all(h["lrr"].get("fallback") for h in beyond.hits)
    lexical = esio.search(engine.es, music_index, dict(get_strategy("lexical").build(parse_query("love"), 5),
                                                       **{"from": first.pool_size + 5}))
    assert [h["_id"] for h in beyond.hits] == [h["_id"] for h in lexical["hits"]["hits"]]


HOSTILE = ['"quoted" \\back\\slash', "title:(love OR hate) AND -x~2 /re.*gex/ [a TO z] {b} ^3 && || !",
           "𝄞 Beyoncé 東京 עברית \u200b", "x" * 10_000, "params.x; ctx._source.q2e = null", "!!!"]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_is_served_by_every_default_strategy(engine, music_index, text):
    result = engine.search(music_index, text, size=10)
    assert not result.failed, result.failed
    assert result.query.truncated == (len(text) > 256)


@pytest.mark.parametrize("kwargs", [{"text": "   "}, {"text": None}, {"text": "a", "size": -1},
                                    {"text": "a", "filters": "entity_type:song"},
                                    {"text": "a", "plan": (PlanItem("nope", 5),)}])
def test_bad_requests_get_a_clear_error(engine, music_index, kwargs):
    with pytest.raises(QueryError):
        engine.search(music_index, **kwargs)


def test_the_engine_picks_up_a_stored_gazetteer_for_structured(es, music_index):
    from lrr_es.qu.store import MODELS_INDEX, model_id, rebuild_gazetteer
    config = config_from_dict({"indices": {music_index: {}}})
    es.delete(index=MODELS_INDEX, id=model_id(music_index), ignore=[404], refresh=True)
    engine = LrrEngine(es, config, refresh_s=0)
    plan = (PlanItem("lexical", 10), PlanItem("structured", 10))
    before = engine.search(music_index, "80s rock", plan=plan)
    assert "structured" in before.skipped and not before.query.interpretations
    rebuild_gazetteer(es, config.index(music_index))
    after = engine.search(music_index, "80s rock", size=20, plan=plan, source=["decade"])
    assert not after.skipped and after.query.interpretations[0].slots
    structured = next(r for r in after.results if r.strategy == "structured")
    assert all(h.source["decade"] == "1980s" for h in structured.hits)


def test_without_a_plan_a_published_policy_decides_and_the_decision_is_logged(es, music_index):
    from lrr_es.bandit import make_policy
    from lrr_es.bandit.store import delete_policies, save_policy
    from lrr_es.context import CONTEXT_DIM
    engine = LrrEngine(es, config_from_dict({"indices": {music_index: {}}, "bandit": {"budget": 2.5}}), refresh_s=0)
    delete_policies(es, music_index)
    cold = engine.search(music_index, "yesterday beatles", size=5)
    assert cold.versions["policy"] == "cold-start" and cold.plan == engine.default_plan(music_index)
    try:
        save_policy(es, music_index, make_policy("thompson", dim=CONTEXT_DIM, seed=7))
        result = engine.search(music_index, "yesterday beatles", size=5, context={"device": "mobile"})
    finally:
        delete_policies(es, music_index)
    names = [i.strategy for i in result.plan]
    assert names[0] == "lexical" and len(names) == len(set(names)) >= 1
    costs = {n: s.cost for n, s in engine.strategies(music_index).items()}
    assert sum(costs[n] for n in names) <= 2.5
    assert all(0 < i.propensity <= 1 for i in result.plan)
    assert result.versions["policy"].startswith("thompson-s7-u0") and len(result.context) > 10
    engine.decisions.flush()
    logged = esio.get_source(es, "lrr-decisions", result.search_id)
    assert logged["context"] == pytest.approx(list(result.context)) and logged["policy_version"] == result.versions["policy"]


def test_a_published_policy_is_picked_up_and_a_damaged_one_is_survived(es, music_index, caplog):
    from lrr_es.bandit import make_policy
    from lrr_es.bandit.store import MODELS_INDEX, delete_policies, model_id, save_policy
    from lrr_es.context import CONTEXT_DIM
    engine = LrrEngine(es, config_from_dict({"indices": {music_index: {}}}), refresh_s=0)
    trained = make_policy("linucb", dim=CONTEXT_DIM, seed=3)
    try:
        save_policy(es, music_index, trained)
        assert engine.search(music_index, "home", size=3).versions["policy"] == trained.version
        esio.put_document(es, MODELS_INDEX, model_id(music_index), {"kind": "policy", "artifact": "bm90IGpzb24="},
                          refresh=True)
        result = engine.search(music_index, "home", size=3)
        assert result.hits and result.versions["policy"] == trained.version  # kept the last good one
        assert "policy of" in caplog.text and "damaged" in caplog.text
    finally:
        delete_policies(es, music_index)


def test_simulate_traffic_command_searches_the_index(es_url, music_index, musicoset, tmp_path):
    from click.testing import CliRunner
    from lrr_es.cli import cli
    config = tmp_path / "lrr.yaml"
    config.write_text(f"elasticsearch: {{url: {es_url}}}\nindices: {{{music_index}: {{}}}}\n")
    result = CliRunner().invoke(cli, ["--config", str(config), "simulate", "traffic", "--index", music_index,
                                      "--source", str(musicoset), "--queries", "20", "--searches", "15",
                                      "--no-feedback", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("15 searches: ") and "sub-searches per search" in result.output


class CollectedDecisions:
    """A decision log that keeps what it is given (the engine then fetches the logged head's sources)."""

    def __init__(self):
        self.logged = []

    def log(self, build, size=0):
        self.logged.append(build)

    def close(self, timeout=None):
        pass


@pytest.mark.parametrize("text", ["tayler swift love story", "love", "beyonse halo", "the beatles", "80s rock"])
def test_sub_searches_without_source_serve_and_log_as_sources_in_every_hit(es, music_index, text):
    """The same plan and seed serve the same pages (ids, order, scores, sources) and log the same
    features whether the sub-searches carry sources or one mget fetches them after the merge."""
    config = config_from_dict({"indices": {music_index: {}}})
    deferred = LrrEngine(es, config, decisions=CollectedDecisions())
    inline = LrrEngine(es, config, decisions=CollectedDecisions(), deferred_source=False)
    plan = deferred.default_plan(music_index)
    names, fields = tuple(deferred.strategies(music_index)), config.index(music_index).fields
    for from_ in (0, 20):
        a = deferred.search(music_index, text, size=20, from_=from_, plan=plan, seed=5)
        b = inline.search(music_index, text, size=20, from_=from_, plan=plan, seed=5)
        assert [(h["_id"], h["_score"], h["_source"]) for h in a.hits] == \
            [(h["_id"], h["_score"], h["_source"]) for h in b.hits]
        assert a.hits and not any("lrr_emb" in h["_source"] for h in a.hits)
        assert [c.id for c in a.pool] == [c.id for c in b.pool]
        assert logged_features(a, names, fields, 30, 200, now=1.7e9) == logged_features(b, names, fields, 30, 200,
                                                                                         now=1.7e9)


def test_a_cached_source_is_served_for_the_version_found_and_an_edit_shows_at_once(es, alias, monkeypatch):
    config = config_from_dict({"indices": {alias: {}}})
    migrate(es, config, alias, progress=False, echo=lambda _: None)
    rows = sample_rows(200, seed=3)
    load_rows(es, config.index(alias), rows, progress=False)
    esio.refresh(es, alias)
    engine = LrrEngine(es, config, decisions=False, source_ttl_s=0.001)  # a TTL alone would refetch every time
    fetches = []
    real_mget = esio.mget_versioned
    monkeypatch.setattr(esio, "mget_versioned", lambda *a, **k: fetches.append(a[2]) or real_mget(*a, **k))
    plan = [PlanItem("lexical", 20)]
    first = engine.search(alias, "love", plan=plan, size=5)
    assert first.hits and fetches and all(h["_source"].get("title") for h in first.hits)
    fetches.clear()
    again = engine.search(alias, "love", plan=plan, size=5)
    assert fetches == [] and [h["_source"] for h in again.hits] == [h["_source"] for h in first.hits]
    top = first.hits[0]["_id"]
    es.update(index=alias, id=top, body={"doc": {"genre": ["edited-genre"]}}, refresh=True)
    edited = engine.search(alias, "love", plan=plan, size=5)
    assert fetches == [[top]]  # only the edited document is read again
    assert next(h for h in edited.hits if h["_id"] == top)["_source"]["genre"] == ["edited-genre"]


def test_repeated_sub_searches_come_from_the_request_cache_with_the_same_results(es, music_index):
    """retrieval.request_cache: a repeated query's repeatable sub-searches are answered from the shard
    request cache (its hit count grows), with the very results an uncached search gives; explore's
    sub-search (a new seed per search) never asks for it."""
    plan = [PlanItem("lexical", 20), PlanItem("memory", 20), PlanItem("explore", 20)]
    cached = LrrEngine(es, config_from_dict({"indices": {music_index: {}}}), decisions=False)
    plain = LrrEngine(es, config_from_dict({"indices": {music_index: {}}, "retrieval": {"request_cache": False}}),
                      decisions=False)

    def hits():
        stats = es.indices.stats(index=music_index, metric="request_cache")
        return esio.plain(stats)["_all"]["total"]["request_cache"]["hit_count"]

    def order(result):
        return [(r.strategy, [(h.id, h.score) for h in r.hits]) for r in result.results if r.strategy != "explore"]

    first = cached.search(music_index, "midnight love song", plan=plan, seed=1)
    before = hits()
    again = cached.search(music_index, "midnight love song", plan=plan, seed=2)
    assert hits() - before == 2  # lexical and memory, not explore
    uncached = plain.search(music_index, "midnight love song", plan=plan, seed=2)
    assert hits() - before == 2
    assert order(again) == order(first) == order(uncached) and order(again)[0][1]
