"""The join of logged decisions with feedback events: rewards per search, labels per candidate.

:func:`join_events` is pure (decision dicts and event dicts in, :class:`SearchFeedback` out).
:func:`read_logs` streams both from Elasticsearch for a time range: decisions in (timestamp,
search_id) order, a page at a time, each page with the events of its own searches (a ``terms``
lookup on ``search_id``), so memory holds one page whatever the window's size. The decisions are
read in consecutive time slices of about a page each (a ``range`` on ``timestamp``, paged with
``search_after`` inside the slice): a sorted ``search_after`` over the whole window would make
Elasticsearch visit every remaining decision for every page, quadratic in the log's size;
:func:`join_pages` joins page by page and :func:`join_feedback` yields the joined searches. The
bandit learner reads ``engaged``/``reward`` per search, LTR training reads ``labels`` (grade and
shown position per candidate, with the strategies that found it).

Decision documents (lrr-decisions): ``search_id``, ``timestamp``, ``index``, ``query``, ``q2e_key``,
``plan`` ([{strategy, quota, propensity}]), ``bandit`` (the policy's Decision as a dict, or null),
``shown`` (doc ids in shown order), ``candidates`` (a list of doc ids, or of dicts with ``id`` or
``_id`` and optionally ``strategies`` or ``found`` (strategy -> [rank, score], as the engine logs)).
"""
from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable, Iterator, Mapping  # not typing.Mapping: its isinstance is ~10x slower
from typing import Any

from elasticsearch import Elasticsearch

from .. import es as esio
from ..errors import ConfigError
from ..names import DECISIONS_INDEX, EVENTS_INDEX
from ..timestamps import epoch_ms

DECISION_ORDER = [{"timestamp": "asc"}, {"search_id": "asc"}]  # search_id is unique: search_after skips nothing
EVENT_ORDER = [{"event_id": "asc"}]
PAGE = 1000  # decisions per page (and search ids per events lookup)
EVENTS_PAGE = 10_000  # Elasticsearch's default result window


@dataclass(frozen=True)
class Engagement:
    """What one user did with one document of one search."""

    doc_id: str
    grade: float  # the strongest action's weight (0 when only non-positive actions)
    actions: tuple[str, ...]  # distinct actions, in time order
    position: int | None  # the shown position the event reported, else the one logged


@dataclass(frozen=True)
class CandidateLabel:
    """One candidate of a logged search, labelled for learning to rank."""

    doc_id: str
    grade: float
    shown_position: int | None  # 1-based rank on the page, None when the candidate was not shown
    strategies: tuple[str, ...]


@dataclass(frozen=True)
class SearchFeedback:
    """One logged search with the feedback it received."""

    search_id: str
    index: str | None
    query: str | None
    timestamp: Any
    plan: tuple[Mapping, ...]
    engaged: tuple[Engagement, ...]
    labels: tuple[CandidateLabel, ...]
    bandit: Mapping | None = None  # the logged lrr_es.bandit Decision (Decision.to_dict()), None without one
    failed: tuple[str, ...] = ()  # strategies whose sub-search failed (they observed no reward)
    subsearches: Mapping[str, Mapping] | None = None  # strategy -> {took (ms), status}; None in older logs

    @property
    def reward(self) -> float:
        """1.0 when some document was positively engaged with, else 0.0 (the bandit's page reward)."""
        return 1.0 if any(e.grade > 0 for e in self.engaged) else 0.0


def join_events(decisions: Iterable[Mapping], events: Iterable[Mapping],
                grades: Mapping[str, float]) -> list[SearchFeedback]:
    """Match ``events`` to ``decisions`` by search_id; one SearchFeedback per decision, in decision order.

    ``grades`` maps action -> grade (usually FeedbackConfig.weights); a document's grade is the
    largest positive grade among its actions, else 0. Events without a decision are left out.
    """
    return [feedback for _, feedback in joined_decisions(decisions, events, grades)]


def joined_decisions(decisions: Iterable[Mapping], events: Iterable[Mapping],
                     grades: Mapping[str, float]) -> Iterator[tuple[Mapping, SearchFeedback]]:
    """(decision document, its SearchFeedback) for each decision with a search_id, in decision order
    (:func:`join_events`, keeping the document: LTR training reads its features)."""
    by_search: dict[str, list[Mapping]] = {}
    for event in events:
        sid = event.get("search_id")
        if isinstance(sid, str):
            by_search.setdefault(sid, []).append(event)
    for decision in decisions:
        if isinstance(decision.get("search_id"), str):
            yield decision, _one(decision, by_search.get(decision["search_id"], []), grades)


def _one(decision: Mapping, events: list[Mapping], grades: Mapping[str, float]) -> SearchFeedback:
    shown = [str(x) for x in decision.get("shown") or []]
    positions = {doc: n for n, doc in reversed(list(enumerate(shown, 1)))}
    engaged = _engagements(events, grades, positions)
    grade_of = {e.doc_id: e.grade for e in engaged}
    labels = []
    for candidate in decision.get("candidates") or []:
        doc_id, strategies = _candidate(candidate)
        if doc_id is not None:
            labels.append(CandidateLabel(doc_id, grade_of.get(doc_id, 0.0), positions.get(doc_id), strategies))
    return SearchFeedback(decision["search_id"], decision.get("index"), decision.get("query"), decision.get("timestamp"),
                          tuple(decision.get("plan") or ()), tuple(engaged), tuple(labels),
                          decision.get("bandit") if isinstance(decision.get("bandit"), Mapping) else None,
                          tuple(str(s) for s in decision.get("failed_strategies") or ()),
                          decision.get("subsearches") if isinstance(decision.get("subsearches"), Mapping) else None)


def _engagements(events: list[Mapping], grades: Mapping[str, float], positions: Mapping[str, int]) -> list[Engagement]:
    per_doc: dict[str, list[Mapping]] = {}
    for event in sorted(events, key=lambda e: (_sortable(e.get("timestamp")), str(e.get("event_id", "")))):
        if isinstance(event.get("doc_id"), str) and isinstance(event.get("action"), str):
            per_doc.setdefault(event["doc_id"], []).append(event)
    out = []
    for doc_id, doc_events in per_doc.items():
        actions = tuple(dict.fromkeys(e["action"] for e in doc_events))
        grade = max([0.0] + [float(grades.get(a, 0.0)) for a in actions])
        reported = [e["position"] for e in doc_events if isinstance(e.get("position"), int)]
        out.append(Engagement(doc_id, grade, actions, reported[0] if reported else positions.get(doc_id)))
    return out


def _candidate(candidate: Any) -> tuple[str | None, tuple[str, ...]]:
    if isinstance(candidate, str):
        return candidate, ()
    if isinstance(candidate, dict) or isinstance(candidate, Mapping):  # dict first: the common case, fast
        doc_id = candidate.get("id")
        if doc_id is None:
            doc_id = candidate.get("_id")
        strategies = candidate.get("strategies") or candidate.get("found") or ()
        names = tuple(strategies) if isinstance(strategies, (dict, list, tuple, Mapping)) else ()
        if not all(type(n) is str for n in names):
            names = tuple(str(n) for n in names)
        return (str(doc_id) if doc_id is not None else None), names
    return None, ()


def _sortable(value: Any) -> str:
    return f"{value:020d}" if isinstance(value, int) else str(value or "")


def join_feedback(es: Elasticsearch, since: Any = None, until: Any = None, grades: Mapping[str, float] | None = None,
                  grace_ms: int = 86_400_000, where: list[dict] | None = None,
                  page: int = PAGE) -> Iterator[SearchFeedback]:
    """Decisions logged in [since, until) joined with their events (events up to ``grace_ms`` later
    count), yielded in (timestamp, search_id) order; memory holds one page of ``page`` decisions.

    ``since``/``until``: anything Elasticsearch reads as a date (epoch ms, ISO 8601); None is open.
    ``where``: further filter clauses on the decisions (e.g. ``{"term": {"index": alias}}``).
    """
    from ..config import FeedbackConfig
    pages = read_logs(es, since, until, grace_ms, where, page)
    for _, feedback in join_pages(pages, grades if grades is not None else FeedbackConfig().weights):
        yield feedback


def join_pages(pages: Iterable[tuple[list[dict], list[dict]]],
               grades: Mapping[str, float]) -> Iterator[tuple[Mapping, SearchFeedback]]:
    """(decision, SearchFeedback) for every decision of ``pages`` (from :func:`read_logs`), page by page."""
    for decisions, events in pages:
        yield from joined_decisions(decisions, events, grades)


def read_logs(es: Elasticsearch, since: Any = None, until: Any = None, grace_ms: int = 86_400_000,
              where: list[dict] | None = None, page: int = PAGE) -> Iterator[tuple[list[dict], list[dict]]]:
    """Pages of (decision documents, the events of those decisions), decisions in (timestamp, search_id) order.

    The decisions are those logged in [since, until) (epoch ms or ISO 8601; filtered by ``where``),
    about ``page`` at a time; each page's events are the events of its searches logged in the same
    window extended by ``grace_ms`` (the events a whole-window read would have matched to them).
    Whole documents: a ``_source`` filter (e.g. without the feature rows) costs Elasticsearch more
    than sending them along costs here. Nothing when the decision log does not exist.
    """
    since_ms, until_ms = check_time("since", since), check_time("until", until)
    if not esio.index_exists(es, DECISIONS_INDEX):
        return
    with_events = esio.index_exists(es, EVENTS_INDEX)
    event_window = _window(since_ms, None if until_ms is None else until_ms + grace_ms)
    for hits in _decision_pages(es, since_ms, until_ms, where, page):
        decisions = [h["_source"] for h in hits]
        ids = [d["search_id"] for d in decisions if isinstance(d.get("search_id"), str)]
        yield decisions, (_events_of(es, ids, event_window) if with_events and ids else [])


def _decision_pages(es: Elasticsearch, since: int | None, until: int | None, where: list[dict] | None,
                    page: int) -> Iterator[list[dict]]:
    """The decision hits of [since, until) in (timestamp, search_id) order, in consecutive time slices
    whose width adapts so that each holds about ``page`` decisions."""
    span = _span(es, since, until, where)
    if span is None:
        return
    start, end, total = span
    width = max(1, (end - start) * page // max(total, 1))
    while start < end:
        stop = min(start + width, end)
        found = 0
        for hits in esio.search_pages(es, DECISIONS_INDEX, DECISION_ORDER, decision_query(start, stop, where), page):
            found += len(hits)
            yield hits
        width = max(1, int(width * min(max(page / max(found, 1), 0.25), 4.0)))
        start = stop


def _span(es: Elasticsearch, since: int | None, until: int | None,
          where: list[dict] | None) -> tuple[int, int, int] | None:
    """(first timestamp, last timestamp + 1, count) of the decisions of the window; None when there are none."""
    body = {"size": 0, "track_total_hits": True, "query": decision_query(since, until, where) or {"match_all": {}},
            "aggs": {"first": {"min": {"field": "timestamp"}}, "last": {"max": {"field": "timestamp"}}}}
    answer = esio.search(es, DECISIONS_INDEX, body)
    total = answer["hits"]["total"]["value"]
    first, last = answer["aggregations"]["first"]["value"], answer["aggregations"]["last"]["value"]
    if not total or first is None or last is None:
        return None
    return int(first), int(last) + 1, int(total)


def decision_query(since: Any = None, until: Any = None, where: list[dict] | None = None) -> dict | None:
    """The query of the decisions logged in [since, until) that match the ``where`` clauses (None: all)."""
    window = _window(since, until)
    clauses = ([{"range": {"timestamp": window}}] if window else []) + list(where or [])
    return {"bool": {"filter": clauses}} if clauses else None


def count_decisions(es: Elasticsearch, since: Any = None, until: Any = None, where: list[dict] | None = None) -> int:
    """How many decisions :func:`read_logs` reads for the same window (0 without a decision log)."""
    if not esio.index_exists(es, DECISIONS_INDEX):
        return 0
    return esio.count(es, DECISIONS_INDEX, decision_query(check_time("since", since), check_time("until", until), where))


def _events_of(es: Elasticsearch, search_ids: list[str], window: dict) -> list[dict]:
    clauses: list[dict] = [{"terms": {"search_id": search_ids}}]
    if window:
        clauses.append({"range": {"timestamp": window}})
    query = {"bool": {"filter": clauses}}
    return [h["_source"] for hits in esio.search_pages(es, EVENTS_INDEX, EVENT_ORDER, query, EVENTS_PAGE) for h in hits]


def _window(since: Any, until: Any) -> dict:
    return {k: v for k, v in (("gte", since), ("lt", until)) if v is not None}


def check_time(name: str, value: Any) -> int | None:
    """``since``/``until`` as epoch ms (None stays None); ConfigError naming the bad value."""
    if value is None:
        return None
    ms = epoch_ms(value)
    if ms is None:
        raise ConfigError(f"{name} must be epoch milliseconds or an ISO 8601 date, got {value!r}")
    return ms
