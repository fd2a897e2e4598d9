"""Plan execution: one ``_msearch`` with one sub-search per chosen strategy.

Building the request and reading the response are pure functions; ``execute`` is the one call
that goes to Elasticsearch (through ``lrr_es.es``). Every sub-search carries its own ``timeout``:
Elasticsearch stops collecting on the shards when it expires and answers with what it found
(``timed_out: true``), so one slow strategy cannot hold the page. A sub-search that fails is
reported in its result and the others are served.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from elasticsearch import Elasticsearch

from . import es as esio
from .decide import PlanItem
from .errors import EsUnavailableError, QueryError

STATUSES = ("ok", "timed_out", "failed")
# lrr-es's bookkeeping fields are large (a 64-float vector, Q2E maps, event ids) and no concern of the
# app's page: left out of every candidate's _source unless the caller asks for specific fields
INTERNAL_SOURCE = ["lrr_emb", "q2e", "q2e_events", "q2e_seeded", "q2e_queries", "q2e_ts", "lrr_phonetic",
                   "lrr_sem_cluster"]
# only what parse_msearch reads comes back over the wire
FILTER_PATH = ",".join(f"responses.{p}" for p in (
    "took", "timed_out", "error", "status", "_shards", "hits.total", "hits.max_score", "aggregations",
    "hits.hits._index", "hits.hits._type", "hits.hits._id", "hits.hits._score", "hits.hits._source",
    "hits.hits.fields", "hits.hits._seq_no", "hits.hits._primary_term"))
# source="ids": no stored field is read at all, the id comes from the _id field's doc values. On 7.10
# the fetch phase otherwise decompresses every hit's stored fields to read _id, even with
# _source: false (docs/benchmarks.md, "Where a search's time goes on 7.10"). Loading _id's field data
# costs heap (about the ids' size per segment) and is off by default from 8.0
# (indices.id_field_data.enabled): the engine asks for it on 7.x only.
IDS = "ids"
ID_FIELD_DATA_REFUSED = "id_field_data"  # in the error of a node that does not load _id's field data


@dataclass(frozen=True)
class DocValueSource:
    """A source mode like IDS that also reads some fields' doc values (no stored field either) and
    gives each hit a ``_source`` made of them: ``columns`` are (doc-values field, source key, single),
    e.g. ("title.keyword", "title", True); ``single`` keeps the first value, else the list. A field
    without a value in a document is left out of its source. What the ranking features read comes
    this way (lrr_es.sources.doc_value_columns says which fields and when)."""

    columns: tuple[tuple[str, str, bool], ...]
    formats: tuple[tuple[str, str], ...] = ()  # (doc-values field, format): dates as ISO text, as sources hold them
    ids: bool = True  # the id from doc values too (7.x, see IDS); False: ``_source: false``, the id as usual

    def docvalue_fields(self) -> list[str | dict]:
        formats = dict(self.formats)
        columns = [{"field": name, "format": formats[name]} if name in formats else name for name, _, _ in self.columns]
        return ["_id", *columns] if self.ids else columns

    def source(self, fields: dict) -> dict:
        """The ``_source`` of a hit whose doc values are ``fields``; pure."""
        source = {}
        for name, key, single in self.columns:  # a loop, not a comprehension: this runs for every hit
            value = fields.get(name)
            if value:
                source[key] = value[0] if single else value
        return source


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    source: dict = field(default_factory=dict, compare=False)
    index: str | None = field(default=None, compare=False)  # the concrete index, as Elasticsearch gives it
    type: str | None = field(default=None, compare=False)  # "_doc" on 7.x servers, absent on 8.x
    # (sequence number, primary term) of the version found, when the search asked (sources read later
    # are cached under it: lrr_es.sources.SourceCache)
    seq: tuple[int, int] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class StrategyResult:
    """What one sub-search returned: its hits in rank order, or why it has none."""

    strategy: str
    hits: tuple[Hit, ...] = ()
    status: str = "ok"  # one of STATUSES; timed_out still carries the hits found in time
    error: str | None = None
    took_ms: int | None = None
    refused: bool = False  # Elasticsearch refused the body itself (400): a filter it cannot use, ...

    @property
    def served(self) -> bool:
        return self.status != "failed"


def build_msearch(index: str, bodies: Sequence[tuple[PlanItem, dict]], source: list[str] | bool | str | DocValueSource | None = None,
                  cached: frozenset[str] | set[str] = frozenset()) -> list[dict]:
    """The ``_msearch`` lines (header, body, header, body, ...) for one plan; pure.

    ``bodies`` pairs every plan item with the body its strategy built. The item's timeout and the
    ``_source`` filter (by default: everything but lrr-es's internal fields; ``IDS``: ids and scores
    only, see IDS) are added to a copy of each body. The sub-searches of the strategies in ``cached``
    ask for the shard request cache (``request_cache: true`` in their header: Elasticsearch caches a
    search with hits only when asked; an entry lives until the shard refreshes with changes).
    """
    if not bodies:
        raise QueryError("a plan needs at least one strategy")
    lines: list[dict] = []
    for item, body in bodies:
        if not isinstance(item.timeout_ms, int) or item.timeout_ms < 1:
            raise QueryError(f"{item.strategy}: timeout_ms must be a positive integer, got {item.timeout_ms!r}")
        sub = dict(body, timeout=f"{item.timeout_ms}ms")
        if source == IDS:
            sub.update(stored_fields="_none_", docvalue_fields=["_id"], seq_no_primary_term=True)
        elif isinstance(source, DocValueSource):
            sub.update({"stored_fields": "_none_"} if source.ids else {"_source": False},
                       docvalue_fields=source.docvalue_fields(), seq_no_primary_term=True)
        else:
            sub["_source"] = {"excludes": INTERNAL_SOURCE} if source is None else source
        lines += [{"index": index, "request_cache": True} if item.strategy in cached else {"index": index}, sub]
    return lines


def parse_msearch(items: Sequence[PlanItem], response: dict, source: Any = None) -> list[StrategyResult]:
    """One StrategyResult per plan item, in plan order, from an ``_msearch`` response; pure. With a
    DocValueSource ``source`` each hit's ``_source`` is made from its doc values."""
    responses = response.get("responses") or []
    if len(responses) != len(items):
        raise EsUnavailableError(f"_msearch answered {len(responses)} of {len(items)} sub-searches")
    from_doc_values = source.source if isinstance(source, DocValueSource) else None
    return [_result(item.strategy, sub, from_doc_values) for item, sub in zip(items, responses)]


def _result(strategy: str, sub: dict, from_doc_values: Any = None) -> StrategyResult:
    if "error" in sub:
        return StrategyResult(strategy, status="failed", error=_error_text(sub["error"]), refused=sub.get("status") == 400)
    hits = tuple(_hits((sub.get("hits") or {}).get("hits", []), from_doc_values))
    shards = sub.get("_shards") or {}
    if sub.get("timed_out"):
        return StrategyResult(strategy, hits, "timed_out", "timed out; partial results", sub.get("took"))
    if shards.get("failed") and not hits:
        reasons = [_error_text(f.get("reason", {})) for f in shards.get("failures", [])]
        return StrategyResult(strategy, status="failed", error="; ".join(reasons[:2]) or "shard failure",
                              took_ms=sub.get("took"))
    return StrategyResult(strategy, hits, "ok", None, sub.get("took"))


def _hits(raw: list[dict], from_doc_values: Any = None) -> list[Hit]:
    """The Hits of a sub-search's ``hits.hits``, in order (a plain loop: it runs for every hit of every search)."""
    hits = []
    for h in raw:
        fields = h.get("fields")
        seq = (h["_seq_no"], h["_primary_term"]) if "_seq_no" in h and "_primary_term" in h else None
        hits.append(Hit(h["_id"] if "_id" in h else fields["_id"][0], float(h.get("_score") or 0.0),
                        from_doc_values(fields or {}) if from_doc_values else h.get("_source") or {},
                        h.get("_index"), h.get("_type"), seq))
    return hits


def _error_text(error: Any) -> str:
    """``type: reason`` of the first cause, with the innermost ``caused_by`` reason (a script's own message)."""
    if not isinstance(error, dict):
        return str(error)[:300]
    shards = error.get("failed_shards") or []
    cause = shards[0].get("reason", {}) if shards and isinstance(shards[0], dict) else (error.get("root_cause") or [error])[0]
    text = f"{cause.get('type', 'error')}: {cause.get('reason', '')}"
    inner = cause
    while isinstance(inner.get("caused_by"), dict):
        inner = inner["caused_by"]
    if inner is not cause and inner.get("reason"):
        text += f" ({inner.get('type', 'error')}: {inner['reason']})"
    return text[:300]


@dataclass(frozen=True)
class Executed:
    """What one plan's ``_msearch`` returned: a result per plan item, the raw answers of the extra
    searches that rode along (in order; an ``{"error": ...}`` dict for one that failed), the wall time."""

    results: list[StrategyResult]
    extra: tuple[dict, ...]
    es_ms: float


def execute(es: Elasticsearch, index: str, bodies: Sequence[tuple[PlanItem, dict]],
            source: list[str] | bool | str | DocValueSource | None = None) -> tuple[list[StrategyResult], float]:
    """Run one plan as a single ``_msearch``; returns the results and the wall time in ms (see run_plan)."""
    executed = run_plan(es, index, bodies, source)
    return executed.results, executed.es_ms


def run_plan(es: Elasticsearch, index: str, bodies: Sequence[tuple[PlanItem, dict]],
             source: list[str] | bool | str | DocValueSource | None = None, extra: Sequence[dict] = (),
             cached: frozenset[str] | set[str] = frozenset()) -> Executed:
    """Run one plan, and ``extra`` search bodies sent as they are (e.g. the app's own query at size 0
    for its total and aggregations), as a single ``_msearch``.

    The request's own timeout is the largest sub-search timeout plus a margin for the network and
    the fetch phase. A node that is down or does not answer in that time raises EsUnavailableError:
    then there is nothing to serve. When Elasticsearch rejects the whole request because one body
    does not parse, each search is retried alone, so only the bad one fails.
    """
    lines = build_msearch(index, bodies, source, cached) + [line for body in extra for line in ({"index": index}, body)]
    request_timeout = max(item.timeout_ms for item, _ in bodies) / 1000 + 5.0
    items = [item for item, _ in bodies]
    started = time.perf_counter()
    try:
        response = esio.msearch(es, lines, request_timeout=request_timeout, filter_path=FILTER_PATH)
        answers = list(response.get("responses") or [])
        results = parse_msearch(items, {"responses": answers[:len(items)]}, source)
        extras = tuple(answers[len(items):])
        if len(extras) != len(extra):
            raise EsUnavailableError(f"_msearch answered {len(extras)} of {len(extra)} extra searches")
    except QueryError:
        results = [_run_alone(es, item, lines[2 * i:2 * i + 2], request_timeout, source) for i, item in enumerate(items)]
        extras = tuple(_extra_alone(es, lines[2 * (len(items) + j):2 * (len(items) + j) + 2], request_timeout)
                       for j in range(len(extra)))
    return Executed(results, extras, (time.perf_counter() - started) * 1000)


def _extra_alone(es: Elasticsearch, lines: list[dict], request_timeout: float) -> dict:
    try:
        answers = esio.msearch(es, lines, request_timeout=request_timeout, filter_path=FILTER_PATH).get("responses")
        return answers[0] if answers else {"error": "no answer"}
    except QueryError as exc:
        return {"error": str(exc)}


def _run_alone(es: Elasticsearch, item: PlanItem, lines: list[dict], request_timeout: float,
              source: Any = None) -> StrategyResult:
    try:
        answer = esio.msearch(es, lines, request_timeout=request_timeout, filter_path=FILTER_PATH)
        return parse_msearch([item], answer, source)[0]
    except QueryError as exc:
        return StrategyResult(item.strategy, status="failed", error=str(exc), refused=True)
