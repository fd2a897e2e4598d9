"""A reindex migration while the app keeps writing and searching (issue 15).

One thread indexes new documents and updates existing ones through the alias (retrying the writes
the migration's write block refuses, as an app must: Elasticsearch answers them 403
``cluster_block_exception``), another searches through the engine. After ``migrate(...,
force_reindex=True)`` the new version holds every document the app wrote with its last value, the
searches never saw an empty page for a query that matches before and after (the alias swap is
atomic), and ``rollback`` points the alias back at the old version, which takes writes again.
"""
from __future__ import annotations

import threading
import time

import pytest
from elasticsearch.exceptions import AuthorizationException

from lrr_es import es as esio
from lrr_es.decide import PlanItem
from lrr_es.engine import LrrEngine
from lrr_es.migrate import migrate, rollback

pytestmark = pytest.mark.integration
DOCS, ANCHORS = 1500, 20
LEXICAL = [PlanItem("lexical", 50)]
QUIET = lambda _: None  # noqa: E731


class AppWriter(threading.Thread):
    """The app's writes through the alias: new documents, and updates of existing ones (a play count)."""

    def __init__(self, es, alias: str) -> None:
        super().__init__(daemon=True)
        self.es, self.alias = es, alias
        self.stop = threading.Event()
        self.written: set[str] = set()
        self.plays: dict[str, int] = {}  # document -> the last play count written
        self.blocked = 0  # writes the migration's write block refused (then retried)
        self.errors: list[str] = []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            doc = f"new{n}"
            self._write(lambda: self.es.index(index=self.alias, id=doc, body={"title": f"Fresh Tune {n}"}))
            self.written.add(doc)
            target = f"d{(n * 7) % DOCS}"
            self._write(lambda: self.es.update(index=self.alias, id=target, body={"doc": {"plays": n}}))
            self.plays[target] = n
            n += 1

    def _write(self, request) -> None:
        while True:
            try:
                request()
                return
            except AuthorizationException as exc:  # 403: the index is write-blocked while it is copied
                if "cluster_block_exception" not in str(exc):
                    raise
                self.blocked += 1
                time.sleep(0.02)
            except Exception as exc:  # noqa: BLE001 - recorded, the test fails on it
                self.errors.append(f"{type(exc).__name__}: {exc}"[:300])
                return


class AppSearcher(threading.Thread):
    """Searches through the engine (the lexical strategy alone, so that the page holds exactly the matches)
    for a text that only the anchor documents match."""

    def __init__(self, engine: LrrEngine, alias: str) -> None:
        super().__init__(daemon=True)
        self.engine, self.alias = engine, alias
        self.stop = threading.Event()
        self.pages: list[int] = []  # hits per page
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.pages.append(len(self.engine.search(self.alias, "anchor hymn", size=50, plan=LEXICAL).hits))
            except Exception as exc:  # noqa: BLE001 - recorded, the test fails on it
                self.errors.append(f"{type(exc).__name__}: {exc}"[:300])


def wait_until(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.02)


def test_a_reindex_under_concurrent_writes_and_searches_keeps_everything_and_rolls_back(es, alias, make_config):
    config = make_config(alias)
    migrate(es, config, alias, progress=False, echo=QUIET)
    actions = ({"_op_type": "index", "_index": alias, "_id": f"d{i}",
                "_source": {"title": f"Anchor Hymn {i}" if i < ANCHORS else f"Song {i}", "artist": ["Band"]}}
               for i in range(DOCS))
    assert all(ok for ok, _ in esio.bulk(es, actions))
    esio.refresh(es, alias)
    engine = LrrEngine(es, config, decisions=False)
    writer, searcher = AppWriter(es, alias), AppSearcher(engine, alias)
    writer.start()
    searcher.start()
    try:
        wait_until(lambda: len(writer.written) >= 20 and len(searcher.pages) >= 5)
        [plan] = migrate(es, config, alias, force_reindex=True, progress=False, echo=QUIET)
        swapped_at = (len(writer.written), len(searcher.pages))
        wait_until(lambda: len(writer.written) >= swapped_at[0] + 20 and len(searcher.pages) >= swapped_at[1] + 5)
    finally:
        writer.stop.set()
        searcher.stop.set()
        writer.join(60)
        searcher.join(60)
    assert writer.errors == [] and searcher.errors == []
    assert (plan.action, plan.source, plan.target) == ("reindex", f"{alias}-v1", f"{alias}-v2")
    assert esio.alias_targets(es, alias) == [f"{alias}-v2"]
    print(f"\nmigration: {plan.copied} copied in {plan.seconds:.1f}s, {writer.blocked} app writes refused by the "
          f"write block and retried, {len(searcher.pages)} searches")

    # the searches: never an empty page, before, during or after the swap
    assert set(searcher.pages) == {ANCHORS} and len(searcher.pages) > swapped_at[1]

    # the counts: every document the app ever wrote is in v2, with the last value it wrote
    esio.refresh(es, alias)
    expected = {f"d{i}" for i in range(DOCS)} | writer.written
    assert esio.count(es, f"{alias}-v2") == len(expected)
    ids = {h["_id"] for h in esio.scan(es, f"{alias}-v2", {"match_all": {}})}
    assert ids == expected
    plays = {h["_id"]: h["_source"].get("plays") for h in esio.scan(es, f"{alias}-v2", {"exists": {"field": "plays"}})}
    assert plays == writer.plays

    # rollback: the alias points at v1 again, which takes writes; v2 is kept, write-blocked
    assert rollback(es, alias, echo=QUIET) == (f"{alias}-v2", f"{alias}-v1")
    assert esio.alias_targets(es, alias) == [f"{alias}-v1"]
    es.index(index=alias, id="after-rollback", body={"title": "Anchor Hymn late"}, refresh="wait_for")
    assert esio.get_source(es, f"{alias}-v1", "after-rollback") is not None
    with pytest.raises(AuthorizationException, match="cluster_block_exception"):
        es.index(index=f"{alias}-v2", id="refused", body={"title": "x"})
    assert len(engine.search(alias, "anchor hymn", size=50, plan=LEXICAL).hits) == ANCHORS + 1
