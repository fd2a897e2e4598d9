"""Catalog loading on a real node: the sample catalog, bad rows, and the real MusicOSet data."""
import json

import pytest

from lrr_es import es as esio
from lrr_es.catalog import read_catalog, read_musicoset, sample_catalog, sample_rows
from lrr_es.errors import LoadError
from lrr_es.load import load_rows
from lrr_es.migrate import migrate
from lrr_es.q2e import q2e_key

pytestmark = pytest.mark.integration


@pytest.fixture
def index(es, alias, make_config):
    config = make_config(alias)
    migrate(es, config, alias, progress=False, echo=lambda _: None)
    return config.index(alias)


def test_sample_catalog_loads_completely_with_seeds(es, index):
    docs = sample_catalog(300, seed=3)
    report = load_rows(es, index, sample_rows(300, seed=3), progress=False)
    assert (report.indexed, report.bad_rows, report.rejected) == (len(docs), [], [])
    assert esio.count(es, index.name) == len(docs)
    song = next(d for d in docs if d["entity_type"] == "song" and d["popularity"] > 0)
    hits = esio.search(es, index.name, {"size": 50, "query": {"rank_feature": {"field": f"q2e.{q2e_key(song['title'])}"}}})
    assert song["id"] in [h["_id"] for h in hits["hits"]["hits"]]
    zero = [d["id"] for d in docs if not d["popularity"]]
    if zero:
        assert "popularity" not in esio.get_source(es, index.name, zero[0])


def test_bad_rows_are_reported_with_line_and_reason_and_skipped(es, index, tmp_path):
    path = tmp_path / "catalog.jsonl"
    path.write_text("\n".join([
        json.dumps({"id": "a", "title": "Good", "artist": ["X"], "popularity": 5}),
        "{not json",
        json.dumps({"title": "no id"}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "b", "title": "Also good", "year": "nineteen"}),  # the node refuses a non-numeric year
    ]) + "\n")
    report = load_rows(es, index, read_catalog(path, "jsonl"), progress=False)
    assert report.indexed == 1
    assert [(line, src.endswith("catalog.jsonl")) for src, line, _ in report.bad_rows] == [(2, True), (3, True), (4, True)]
    assert [doc_id for doc_id, _ in report.rejected] == ["b"]
    assert "mapper_parsing_exception" in report.rejected[0][1]
    summary = report.summary()
    assert "indexed 1 documents" in summary and "3 bad rows skipped; 1 rejected" in summary and ":2: " in summary


def test_loading_into_an_unmigrated_alias_is_refused(es, make_config):
    config = make_config("test-never-migrated")
    with pytest.raises(LoadError, match="is not a migrated alias yet: run `lrr-es migrate --index test-never-migrated`"):
        load_rows(es, config.index("test-never-migrated"), iter(()), progress=False)


def test_musicoset_loads_every_parsed_row(es, index, musicoset):
    good = sum(1 for row in read_musicoset(musicoset) if row.doc is not None)
    report = load_rows(es, index, read_musicoset(musicoset), progress=False)
    assert report.rejected == [] and report.indexed == good and len(report.bad_rows) < 0.01 * good
    assert esio.count(es, index.name) == good
    hits = esio.search(es, index.name, {"query": {"bool": {
        "must": {"match": {"title": "thank u next"}}, "filter": {"term": {"entity_type": "song"}}}}})["hits"]["hits"]
    assert hits[0]["_source"]["artist"] == ["Ariana Grande"] and "dance pop" in hits[0]["_source"]["genre"]
