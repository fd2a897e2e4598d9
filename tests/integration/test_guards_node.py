"""Guards on a real node (issue 15, items 6, 8 and 9): feedback never writes an index lrr-es does not
manage, a strategy the engine leaves out for want of a model is reported with the reason, and a
search's compact log input still makes its whole decision record."""
import uuid

import pytest

from lrr_es import es as esio
from lrr_es.config import config_from_dict
from lrr_es.decisions import DECISIONS_INDEX
from lrr_es.engine import LrrEngine
from lrr_es.errors import FeedbackError
from lrr_es.migrate import migrate
from lrr_es.names import MODELS_INDEX
from lrr_es.rank.features import feature_schema
from lrr_es.rank.logged import logged_rows
from lrr_es.semantic import model_id

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def catalog(es, drop_catalog):
    name = f"test-guard-{uuid.uuid4().hex[:8]}"
    migrate(es, config_from_dict({"indices": {name: {}}}), name, progress=False, echo=lambda _: None)
    for i in range(6):
        esio.put_document(es, name, f"d{i}", {"title": f"Love Song {i}", "artist": [f"Band {i % 2}"]})
    esio.refresh(es, name)
    yield name
    es.delete(index=MODELS_INDEX, id=model_id(name), ignore=[404], refresh=True)
    drop_catalog(name)


@pytest.fixture
def app_index(es, drop_catalog):
    """An index of the app's that lrr-es does not manage."""
    name = f"test-app-{uuid.uuid4().hex[:8]}"
    esio.put_document(es, name, "d1", {"title": "Love Song 1"})
    esio.refresh(es, name)
    yield name
    drop_catalog(name)


def test_feedback_into_an_index_that_is_not_configured_is_refused_and_writes_nothing(es, catalog, app_index,
                                                                                    tmp_path):
    config = config_from_dict({"indices": {catalog: {}}, "feedback": {"flush_ms": 20,
                                                                      "spool_path": str(tmp_path / "s.jsonl")}})
    engine = LrrEngine(es, config, decisions=False)
    try:
        concrete = esio.alias_targets(es, catalog)[0]
        for index in (app_index, concrete):
            with pytest.raises(FeedbackError, match=f"index '{index}' is not a configured catalog alias "
                                                    f"\\(configured: {catalog}\\)"):
                engine.feedback(None, "d1", "like", query="love", index=index)
        engine.feedback(None, "d1", "like", query="love", index=catalog)
        assert engine.feedback_writer.flush(30) and engine.feedback_writer.stats.accepted == 1
    finally:
        engine.close(timeout=5)
    assert "q2e" not in esio.get_source(es, app_index, "d1")
    assert esio.get_source(es, catalog, "d1")["q2e"]


def test_a_missing_or_damaged_semantic_model_is_reported_in_skipped(es, catalog):
    es.delete(index=MODELS_INDEX, id=model_id(catalog), ignore=[404], refresh=True)
    engine = LrrEngine(es, config_from_dict({"indices": {catalog: {}}}), refresh_s=0, decisions=False)
    missing = engine.search(catalog, "love song", size=3)
    assert missing.hits and "semantic" not in {r.strategy for r in missing.results}
    assert missing.skipped["semantic"] == (f"needs semantic, which {catalog} does not have yet "
                                           f"(`lrr-es semantic build --index {catalog}`)")
    assert missing.to_response()["lrr"]["skipped"]["semantic"] == missing.skipped["semantic"]
    esio.put_document(es, MODELS_INDEX, model_id(catalog), {
        "model_id": model_id(catalog), "kind": "semantic", "index": catalog, "version": 1, "status": "live",
        "artifact": "not base64 at all!"}, refresh="wait_for")
    damaged = engine.search(catalog, "love song", size=3)
    assert damaged.hits and "semantic" not in {r.strategy for r in damaged.results}
    assert damaged.skipped["semantic"].startswith(f"needs semantic, which {catalog} has but cannot load (")
    assert "damaged" in damaged.skipped["semantic"]


def test_a_search_logs_its_whole_record_from_the_compact_log_input(es, catalog):
    engine = LrrEngine(es, config_from_dict({"indices": {catalog: {}}}))
    try:
        result = engine.search(catalog, "love song", size=3)
        engine.decisions.flush()
        stored = esio.get_source(es, DECISIONS_INDEX, result.search_id)
    finally:
        engine.close(timeout=5)
    assert stored["shown"] == [h["_id"] for h in result.hits]
    assert [c["id"] for c in stored["candidates"]] == [c.id for c in result.pool]
    rows = logged_rows(stored["features"], len(feature_schema(tuple(engine.strategies(catalog)))))
    assert stored["features"]["ids"] == [c.id for c in result.pool[:30]] and rows.shape[0] == len(result.pool[:30]) and rows.any()
    assert 0 < engine.decisions.stats.peak_bytes and engine.decisions.stats.held_bytes == 0
