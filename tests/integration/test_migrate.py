"""Migrations on a real node: templates and scripts, create, reindex with transform, swap, rollback, adopt."""
import pytest

from lrr_es import es as esio
from lrr_es.errors import MigrationError
from lrr_es.migrate import MigrationPlan, _copy_and_swap, migrate, plan, rollback, setup_steps
from lrr_es.templates import LRR_FIELDS, catalog_analysis, script_id, template_version

pytestmark = pytest.mark.integration
QUIET = dict(progress=False, echo=lambda _: None)
SONGS = [
    {"title": "Love Story", "artist": ["Taylor Swift"], "genre": ["country", "pop"], "popularity": 80},
    {"title": "Home", "artist": ["Zoë Q"], "genre": ["folk"]},
    {"title": "Love", "artist": ["Kendrick Lamar"], "genre": ["hip hop"], "popularity": 65},
]


def index_songs(es, target, docs=SONGS):
    for i, doc in enumerate(docs):
        es.index(index=target, id=f"s{i}", body=doc)
    esio.refresh(es, target)


def test_setup_is_idempotent_and_installs_scripts(es, alias, make_config):
    config = make_config(alias)
    migrate(es, config, alias, **QUIET)
    assert setup_steps(es, config) == []  # a second run has nothing left to do
    assert esio.get_stored_script(es, script_id("q2e-update")) is not None
    for name in ("lrr-events", "lrr-decisions", "lrr-models"):
        assert esio.index_exists(es, name)
    changed = [text for text, _ in setup_steps(es, make_config(alias, shards=2))]
    assert changed == [f"update index template lrr-catalog-{alias} (version 3)"]
    assert esio.get_index_template(es, f"lrr-catalog-{alias}")["index_patterns"] == [f"{alias}-v*"]


def test_create_then_reindex_then_rollback(es, alias, make_config):
    config = make_config(alias)
    [created] = migrate(es, config, alias, **QUIET)
    assert created.action == "create" and esio.alias_targets(es, alias) == [f"{alias}-v1"]
    index_songs(es, alias)  # the app writes through the alias
    assert plan(es, config.index(alias)).action == "up-to-date"

    [moved] = migrate(es, config, alias, force_reindex=True, **QUIET)
    assert (moved.action, moved.source, moved.target, moved.copied) == ("reindex", f"{alias}-v1", f"{alias}-v2", 3)
    assert esio.alias_targets(es, alias) == [f"{alias}-v2"]
    assert esio.count(es, f"{alias}-v1") == esio.count(es, f"{alias}-v2") == 3
    love_story = esio.get_source(es, alias, "s0")
    assert love_story["popularity"] == 80.0 and love_story["q2e"]["love_story_swift_taylor"] == pytest.approx(2.6)
    hits = esio.search(es, alias, {"query": {"rank_feature": {"field": "q2e.love_story"}}})["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["s0"]
    meta = esio.get_mapping(es, f"{alias}-v2")["_meta"]["lrr"]
    assert meta["source"] == f"{alias}-v1" and meta["version"] == 2

    assert rollback(es, alias, echo=lambda _: None) == (f"{alias}-v2", f"{alias}-v1")
    assert esio.alias_targets(es, alias) == [f"{alias}-v1"]
    es.index(index=alias, id="new", body={"title": "After rollback"}, refresh=True)  # v1 is writable again
    assert esio.count(es, alias) == 4 and esio.count(es, f"{alias}-v2") == 3
    with pytest.raises(MigrationError, match="no version of .* older than"):
        rollback(es, alias, echo=lambda _: None)


def test_dry_run_changes_nothing(es, alias, make_config):
    lines = []
    [p] = migrate(es, make_config(alias), alias, dry_run=True, progress=False, echo=lines.append)
    assert p.action == "create" and not esio.index_exists(es, alias) and not esio.list_indices(es, f"{alias}-v*")
    assert any(line.startswith("plan ") and f"create {alias}-v1" in line for line in lines)


def test_a_count_mismatch_refuses_the_swap(es, alias, make_config):
    config = make_config(alias)
    migrate(es, config, alias, **QUIET)
    index_songs(es, alias)
    esio.create_index(es, f"{alias}-v2")
    es.index(index=f"{alias}-v2", id="stray", body={"title": "stray"}, refresh=True)
    p = MigrationPlan(alias, "reindex", f"{alias}-v1", f"{alias}-v2")
    with pytest.raises(MigrationError, match=f"{alias}-v2 holds 4 documents but {alias}-v1 holds 3; alias {alias} not swapped"):
        _copy_and_swap(es, config.index(alias), p, "popularity", [{"remove": {"index": f"{alias}-v1", "alias": alias}}],
                       False)
    assert esio.alias_targets(es, alias) == [f"{alias}-v1"]


def test_a_failed_adoption_leaves_the_apps_index_writable(es, alias, make_config):
    esio.create_index(es, alias, {"mappings": {"properties": {"name": {"type": "text"}, "plays": {"type": "keyword"}}}})
    config = make_config(alias, fields={"title": "name", "popularity": "plays"})
    with pytest.raises(MigrationError, match="plays \\(popularity\\) is mapped as keyword"):
        migrate(es, config, alias, **QUIET)
    assert not esio.is_alias(es, alias)
    es.index(index=alias, id="after", body={"name": "still writable"}, refresh=True)
    assert esio.count(es, alias) == 1


def test_adopting_an_apps_index_keeps_its_name_fields_and_a_backup(es, alias, make_config):
    app_mapping = {"properties": {"name": {"type": "text"}, "performer": {"type": "keyword"}, "plays": {"type": "long"}}}
    esio.create_index(es, alias, {"mappings": app_mapping})
    docs = [{"name": "Love Story", "performer": "Taylor Swift", "plays": 120}, {"name": "Home", "performer": "Zoë", "plays": 0}]
    index_songs(es, alias, docs)
    config = make_config(alias, fields={"title": "name", "artist": "performer", "popularity": "plays"})
    assert plan(es, config.index(alias)).action == "adopt"

    [adopted] = migrate(es, config, alias, **QUIET)
    assert adopted.action == "adopt" and esio.is_alias(es, alias)
    assert esio.alias_targets(es, alias) == [f"{alias}-v1"] and esio.count(es, f"{alias}-v0") == 2
    mapping = esio.get_mapping(es, f"{alias}-v1")["properties"]
    assert mapping["plays"]["type"] == "long" and mapping["lrr_popularity"]["type"] == "rank_feature"
    assert mapping["q2e"]["type"] == "rank_features" and mapping["q2e_window"] == {"type": "object", "enabled": False}
    assert esio.get_settings(es, f"{alias}-v1")["merge"]["policy"]["deletes_pct_allowed"] == "20"
    doc = esio.get_source(es, alias, "s0")
    assert doc["plays"] == 120 and doc["lrr_popularity"] == 120.0 and "love_story_swift_taylor" in doc["q2e"]
    hits = esio.search(es, alias, {"query": {"rank_feature": {"field": "lrr_popularity"}}})["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["s0"]
    es.index(index=alias, id="s2", body={"name": "New", "plays": 1}, refresh=True)  # the app keeps writing
    assert esio.count(es, alias) == 3

    [again] = migrate(es, config, alias, force_reindex=True, **QUIET)  # a later reindex keeps the app's mapping
    assert (again.action, again.target) == ("reindex", f"{alias}-v2")
    mapping = esio.get_mapping(es, f"{alias}-v2")["properties"]
    assert mapping["plays"]["type"] == "long" and mapping["performer"]["type"] == "keyword"
    assert mapping["lrr_popularity"]["type"] == "rank_feature" and esio.count(es, alias) == 3

    assert rollback(es, alias, echo=lambda _: None) == (f"{alias}-v2", f"{alias}-v1")
    assert rollback(es, alias, echo=lambda _: None) == (f"{alias}-v1", f"{alias}-v0")
    assert esio.count(es, alias) == 2  # the app's original documents, as they were


def test_a_live_catalog_gets_new_lrr_fields_and_the_merge_settings_in_place(es, alias, make_config):
    older = {"_meta": {"lrr": {"schema_version": template_version("catalog"), "alias": alias}},
             "properties": {"title": {"type": "text"}, "q2e": {"type": "rank_features"}}}
    # as lrr-es made it before q2e_window and the merge settings existed
    esio.create_index(es, f"{alias}-v1", {"settings": {"analysis": catalog_analysis()}, "mappings": older})
    esio.update_aliases(es, [{"add": {"index": f"{alias}-v1", "alias": alias, "is_write_index": True}}])
    config = make_config(alias)
    steps = [text for text, _ in setup_steps(es, config) if alias in text and "template" not in text]
    assert steps == [f"add fields {', '.join(sorted(set(LRR_FIELDS) - {'q2e'}))} to catalog index {alias}-v1",
                     f"set index.merge.policy.deletes_pct_allowed=20 on catalog index {alias}-v1"]
    [up] = migrate(es, config, alias, **QUIET)
    assert up.action == "up-to-date" and esio.alias_targets(es, alias) == [f"{alias}-v1"]  # no reindex
    mapping = esio.get_mapping(es, f"{alias}-v1")["properties"]
    assert mapping["q2e_window"] == {"type": "object", "enabled": False}
    assert esio.get_settings(es, f"{alias}-v1")["merge"]["policy"]["deletes_pct_allowed"] == "20"
    assert setup_steps(es, config) == []


def test_an_alias_over_several_indices_is_refused(es, alias, make_config):
    esio.create_index(es, f"{alias}-a")
    esio.create_index(es, f"{alias}-b")
    esio.update_aliases(es, [{"add": {"index": f"{alias}-a", "alias": alias}}, {"add": {"index": f"{alias}-b", "alias": alias}}])
    with pytest.raises(MigrationError, match="points at 2 indices"):
        plan(es, make_config(alias).index(alias))


def test_creating_an_index_that_won_a_race_is_fine_only_when_asked(es, alias):
    """Two migrations (or a writer's first write) racing: the step that found the index missing runs
    after the other side created it."""
    name = f"{alias}-race"
    esio.create_index(es, name)
    esio.create_index(es, name, exist_ok=True)  # the loser of the race
    assert esio.index_exists(es, name)
    with pytest.raises(Exception, match="resource_already_exists"):
        esio.create_index(es, name)
