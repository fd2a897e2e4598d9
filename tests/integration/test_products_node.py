"""A catalog from another domain on a real node: a generated products catalog (tests/integration/products.py)
with a configuration that names only its own fields loads, migrates, is understood, searched and learns
from feedback; strategies that cannot differ from another are left out; unlogged and baseline searches;
locale-scoped memory. Runs on the session's node ($LRR_TEST_PORT), no node of its own."""
import json
import time

import pytest
import yaml
from click.testing import CliRunner

from lrr_es import es as esio
from lrr_es.bandit import make_policy
from lrr_es.bandit.store import MODELS_INDEX, delete_policies, load_policy, policy_record, save_policy
from lrr_es.cli import cli
from lrr_es.client import LrrClient
from lrr_es.config import config_from_dict
from lrr_es.context import CONTEXT_DIM
from lrr_es.decide import COLD_START, PlanItem
from lrr_es.decisions import DECISIONS_INDEX
from lrr_es.engine import LrrEngine
from lrr_es.learn import learn
from lrr_es.q2e import q2e_key
from lrr_es.qu.store import model_id as gazetteer_id
from lrr_es.templates import LRR_FIELDS

from .products import BRANDS, PRODUCTS_FIELDS, products_catalog

pytestmark = pytest.mark.integration
NAME = "test-products-fixed"
MUSIC_FIELDS = {"artist", "genre", "main_genre", "year", "decade", "explicit", "followers", "song_type", "billboard",
                "title", "popularity", "added_at", "entity_type"}


def products_config(**index):
    return {"indices": {NAME: {"fields": PRODUCTS_FIELDS, "context": {"memory_key": ["locale"]}, **index}},
            "feedback": {"flush_ms": 20}}


@pytest.fixture(scope="module")
def catalog(es, es_url, drop_catalog, tmp_path_factory):
    """The generated catalog written as JSON Lines, migrated and loaded through the CLI, its gazetteer built."""
    drop_catalog(NAME)
    delete_policies(es, NAME)
    es.delete(index=MODELS_INDEX, id=gazetteer_id(NAME), ignore=[404], refresh=True)
    folder = tmp_path_factory.mktemp("products")
    docs = products_catalog(300, seed=11)
    (folder / "products.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    (folder / "lrr-es.yaml").write_text(yaml.safe_dump({**products_config(), "elasticsearch": {"url": es_url}}))
    runner = CliRunner()
    base = ["--config", str(folder / "lrr-es.yaml")]
    for args in (["migrate", "--index", NAME, "--no-progress"],
                 ["load", str(folder / "products.jsonl"), "--index", NAME, "--format", "jsonl", "--no-progress"],
                 ["gazetteer", "rebuild", "--index", NAME]):
        result = runner.invoke(cli, base + args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    yield config_from_dict(products_config()), {d["id"]: d for d in docs}
    delete_policies(es, NAME)
    es.delete(index=MODELS_INDEX, id=gazetteer_id(NAME), ignore=[404], refresh=True)
    drop_catalog(NAME)


@pytest.fixture(scope="module")
def engine(es, catalog):
    config, _ = catalog
    engine = LrrEngine(es, config, refresh_s=0)
    yield engine
    engine.close()


def test_the_index_maps_only_the_configured_fields_and_lrr_es_own(es, catalog):
    target = esio.alias_targets(es, NAME)[0]
    mapped = set(esio.get_mapping(es, target)["properties"])
    named = {"name", "aliases", "brand", "description", "category", "colour", "price", "sold", "released", "kind"}
    assert mapped == named | set(LRR_FIELDS) - {"lrr_emb"} | ({"lrr_emb"} & mapped)
    assert not mapped & (MUSIC_FIELDS - named)
    props = esio.get_mapping(es, target)["properties"]
    assert props["sold"]["type"] == "rank_feature" and props["sold"]["fields"]["value"]["type"] == "double"
    assert props["released"]["type"] == "date"
    assert props["price"]["type"] == "double" and props["category"]["type"] == "keyword"
    assert set(props["name"]["fields"]) == {"keyword", "prefix", "shingles"}
    assert esio.count(es, NAME) == 300 + len(BRANDS)


def test_cold_start_seeds_use_the_title_and_people_roles(es, catalog):
    _, docs = catalog
    source = esio.get_source(es, NAME, "p0000")
    doc = docs["p0000"]
    assert q2e_key(doc["name"]) in source["q2e"] and q2e_key(doc["brand"]) in source["q2e"]
    assert q2e_key(f"{doc['brand']} {doc['category']}") in source["q2e"]  # people + category attribute


def test_query_understanding_reads_the_configured_attributes(es, engine):
    result = engine.search(NAME, "red lamps", size=10, log=False)
    top = result.query.interpretations[0]
    assert {(s.role, s.value) for s in top.slots} == {("colour", "red"), ("category", "lamps")}
    gazetteer = engine.resources(NAME)["gazetteer"]
    assert set(gazetteer.counts) == {"category", "colour", "price", "entity_type", "people"}
    assert {"acme", "north fjord"} <= set(gazetteer.counts["people"])


def test_a_brand_read_as_a_filter_keeps_the_page_named_by_it(es, engine):
    """"north fjord" reads as the people slot, near certainly, so the structured strategy filters on it;
    the filter must not remove the North Fjord brand page, which has no brand field of its own."""
    result = engine.search(NAME, "north fjord", size=50, plan=[PlanItem("structured", 50)], log=False)
    top = result.query.interpretations[0]
    assert [(s.role, s.value) for s in top.slots] == [("people", "north fjord")] and top.likelihood >= 0.85
    ids = [h["_id"] for h in result.hits]
    assert "brand-north-fjord" in ids and len(ids) > 10
    assert all(h["_source"].get("brand") in ("North Fjord", None) for h in result.hits)


def test_text_roles_search_aliases_and_descriptions(es, engine, catalog):
    _, docs = catalog
    doc = docs["p0042"]
    by_alias = engine.baseline(NAME, doc["aliases"][0], size=3)
    assert by_alias.hits[0]["_id"] == "p0042"
    by_description = engine.baseline(NAME, "vintage lantern for reading", size=50)
    assert any("lantern" in h["_source"]["description"] for h in by_description.hits[:5])


def test_every_strategy_with_its_inputs_runs_at_cold_start(es, engine):
    result = engine.search(NAME, "quiet kettle", size=10, log=False)
    ran = {item.strategy for item in result.plan}
    assert ran == {"lexical", "popular", "structured", "memory", "fuzzy", "explore"}
    assert set(result.skipped) == {"semantic"} and "lrr-es semantic build" in result.skipped["semantic"]


def test_strategies_without_their_inputs_are_not_offered(es, catalog):
    """No popularity, no attributes, no people, no entity type: popular would be lexical, structured
    would be lexical; neither runs, and both say why."""
    fields = {"title": ["name", "name.prefix"], "description": "description"}
    config = config_from_dict({"indices": {NAME: {"fields": fields}}})
    engine = LrrEngine(es, config, refresh_s=0, decisions=False)
    result = engine.search(NAME, "quiet kettle", size=10)
    assert {item.strategy for item in result.plan} == {"lexical", "memory", "fuzzy", "explore"}
    assert "no popularity field: its search would be lexical's" in result.skipped["popular"]
    assert "no attributes, entity type or people field" in result.skipped["structured"]
    assert result.decision.arms == tuple(item.strategy for item in result.plan)  # the log's offered arms
    assert set(result.decision.costs) == {"lexical", "memory", "fuzzy", "explore"}


def test_an_unlogged_search_leaves_no_decision(es, catalog):
    config, _ = catalog
    engine = LrrEngine(es, config, refresh_s=0)
    quiet = engine.search(NAME, "rugged tent", size=5, log=False)
    logged = engine.search(NAME, "rugged tent", size=5)
    engine.decisions.flush()
    esio.refresh(es, DECISIONS_INDEX)
    assert esio.get_source(es, DECISIONS_INDEX, logged.search_id) is not None
    assert esio.get_source(es, DECISIONS_INDEX, quiet.search_id) is None
    assert engine.recent_searches.get(quiet.search_id) is None
    engine.close()


def test_the_baseline_is_elasticsearch_bm25_over_the_text_roles(es, engine):
    body = {"size": 10, "query": {"multi_match": {"query": "compact backpack", "type": "best_fields", "tie_breaker": 0.3,
                                                  "fields": ["name^3", "name.prefix^3", "aliases^2", "brand^1.5",
                                                             "description^0.5"]}}}
    expected = [h["_id"] for h in esio.search(es, NAME, body)["hits"]["hits"]]
    result = engine.baseline(NAME, "compact backpack", size=10)
    assert [h["_id"] for h in result.hits] == expected
    assert [i.strategy for i in result.plan] == ["lexical"] and result.versions["ranker"] == "rrf"


def test_clicks_are_remembered_per_locale_and_the_bandit_learns(es, catalog):
    """Searches in two locales with clicks on the wanted product: the memory key of each search is
    scoped by its locale, the memory strategy then finds the product for that locale only, and
    ``learn`` publishes a policy from the logged decisions."""
    config, docs = catalog
    engine = LrrEngine(es, config, refresh_s=0)
    since = int(time.time() * 1000) - 1
    wanted = {"pt-BR": "p0007", "en": "p0150"}
    query = "birthday present dad"  # matches no product's text: only memory can bring them
    for locale, doc_id in wanted.items():
        for n in range(3):
            result = engine.search(NAME, f"{docs[doc_id]['brand']} {docs[doc_id]['category']}", size=10,
                                   context={"locale": locale})
            engine.feedback(result.search_id, doc_id, "click", position=1 + n, session_id=f"{locale}-{n}")
            remembered = engine.search(NAME, query, size=10, context={"locale": locale})
            engine.feedback(remembered.search_id, doc_id, "play", position=1, session_id=f"{locale}-{n}")
    assert engine.feedback_writer.flush()
    esio.refresh(es, NAME)
    for locale, doc_id in wanted.items():
        source = esio.get_source(es, NAME, doc_id)
        scope = locale.lower().replace("-", "_")
        assert f"{q2e_key(query)}__{scope}" in source["q2e"]
        assert q2e_key(query) not in source["q2e"]
        found = engine.search(NAME, query, size=5, plan=[PlanItem("memory", 20)], context={"locale": locale}, log=False)
        assert [h["_id"] for h in found.hits][:1] == [doc_id]
    engine.decisions.flush()
    esio.refresh(es, "lrr-events")
    esio.refresh(es, DECISIONS_INDEX)
    report = learn(es, config, NAME, since=since, batch=10, echo=lambda _: None)
    assert report.decisions == 12 and report.engaged >= 6 and report.version == 1
    assert policy_record(es, NAME)["version"] == 1
    engine.close()


def test_a_policy_of_an_earlier_context_version_is_not_served_and_is_relearned(es, catalog):
    """A policy published before the context grew (version 1: 32 features) cannot read today's
    contexts: searches run the cold-start plan, and ``learn`` starts a fresh policy."""
    config, _ = catalog
    save_policy(es, NAME, make_policy("thompson", dim=32, seed=7))
    engine = LrrEngine(es, config, refresh_s=0)
    result = engine.search(NAME, "bright watch", size=5, context={"locale": "en"})
    assert result.versions["policy"] == COLD_START and {i.strategy for i in result.plan} >= {"lexical", "popular"}
    engine.decisions.flush()
    esio.refresh(es, DECISIONS_INDEX)
    report = learn(es, config, NAME, batch=10, echo=lambda _: None)
    assert report.base_version is None and report.decisions >= 1
    assert load_policy(es, NAME).dim == CONTEXT_DIM
    engine.close()


def test_the_search_command_prints_a_baseline_and_leaves_no_trace(es, es_url, engine, catalog, tmp_path):
    path = tmp_path / "lrr-es.yaml"
    path.write_text(yaml.safe_dump({**products_config(), "elasticsearch": {"url": es_url}}))
    runner = CliRunner()
    before = esio.count(es, DECISIONS_INDEX)
    baseline = runner.invoke(cli, ["--config", str(path), "search", "compact backpack", "--index", NAME, "--baseline",
                                   "--size", "3"], catch_exceptions=False)
    assert baseline.exit_code == 0, baseline.output
    expected = engine.baseline(NAME, "compact backpack", size=3).hits
    assert "plan: lexical:3; order: rrf" in baseline.output
    printed = [line.split() for line in baseline.output.splitlines()]
    assert [words[2] for words in printed if words[0].endswith(".") and words[0][:-1].isdigit()] == [h["_id"] for h in expected]
    learned = runner.invoke(cli, ["--config", str(path), "search", "north fjord lamp", "--index", NAME,
                                  "--locale", "pt-BR"], catch_exceptions=False)
    assert learned.exit_code == 0 and "semantic: needs semantic" in learned.output
    esio.refresh(es, DECISIONS_INDEX)
    assert esio.count(es, DECISIONS_INDEX) == before


def test_the_wrapper_serves_the_catalog_and_can_leave_no_trace(es, catalog):
    """Through LrrClient an app's match on a text role is served by the engine; lrr={"log": False}
    leaves no decision, lrr={"rank": False} says the fused order served."""
    config, _ = catalog
    client = LrrClient(es, config)
    body = {"query": {"bool": {"must": [{"match": {"description": "kettle"}}],
                               "filter": [{"term": {"colour": "red"}}]}}, "size": 5}
    quiet = client.search(index=NAME, body=body, lrr={"log": False, "rank": False, "context": {"locale": "en"}})
    logged = client.search(index=NAME, body=body)
    assert quiet["lrr"]["ranker"] == "rrf" and quiet["hits"]["hits"]
    assert all(h["_source"]["colour"] == "red" for h in quiet["hits"]["hits"])
    assert client.passthrough.snapshot() == {}
    client.lrr.decisions.flush()
    esio.refresh(es, DECISIONS_INDEX)
    assert esio.get_source(es, DECISIONS_INDEX, logged["lrr"]["search_id"]) is not None
    assert esio.get_source(es, DECISIONS_INDEX, quiet["lrr"]["search_id"]) is None
    client.lrr.close()
