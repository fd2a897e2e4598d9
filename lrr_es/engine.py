"""The engine: one search through the request path, stage by stage (DESIGN.md §2).

``LrrEngine.search`` only orchestrates, one module per stage in request order:
parse (lrr_es.parse) → context (lrr_es.context, with query understanding from lrr_es.qu) → decide
(lrr_es.decide) → build (lrr_es.strategies) → execute (lrr_es.execute) → merge (lrr_es.merge, fused by lrr_es.fusion) → rank
(lrr_es.rank.serve: the live learned ranker of lrr-models, or weighted RRF) → respond
(lrr_es.respond) → log (lrr_es.decisions). Only ``execute`` and the per-alias metadata talk to
Elasticsearch.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from dataclasses import replace
from functools import partial
from typing import Any, Mapping, Sequence

from elasticsearch import Elasticsearch

from . import es as esio
from .bandit import Policy
from .bandit.store import load_policy, policy_version
from .config import Config, IndexConfig
from .context import CONTEXT_DIM, check_caller, context_vector
from .decide import Decider, PlanItem, check_plan, default_plan
from .decisions import DecisionLog, decision_document, log_input
from .errors import EsUnavailableError, FeedbackError, LrrError, QueryError
from .execute import ID_FIELD_DATA_REFUSED, IDS, INTERNAL_SOURCE, DocValueSource, Executed, run_plan
from .feedback import FeedbackWriter, RecentSearches
from .fusion import FusionWeights, fuse, fusion_version, load_fusion
from .models import UNREACHABLE, ModelCache
from .parse import Query, check_filters, check_page, parse_query
from .q2e import scoped_key
from .qu import Readings
from .qu.store import GazetteerCache
from .rank.logged import logged_features
from .rank.interleave import coin, in_share
from .rank.registry import interleaved_version, live_version, read_interleaved, read_live
from .rank.serve import interleave_ranked, rank_pool
from .respond import SearchResult, fallback_hits, page_hits, randomized_swap
from .semantic import read_semantic, semantic_version
from .sources import SourceCache, feature_doc_values, fill_sources, wanted_positions
from .strategies import STRATEGIES, Strategy, build_plan, get_strategy, unavailable

log = logging.getLogger(__name__)


class LrrEngine:
    """Searches configured indices through the learned request path.

    Strategies get the resources they need (``gazetteer``, ``semantic``) from ``resources``
    (alias -> name -> object) or, for those not given, from what ``lrr-es`` stored in lrr-models,
    re-read at most every ``refresh_s`` seconds so a rebuilt model is picked up without a restart.
    A strategy whose resource does not exist or cannot be loaded is skipped and reported with the
    reason (``result.skipped``), never fatal.
    """

    def __init__(self, es: Elasticsearch, config: Config,
                 resources: Mapping[str, Mapping[str, Any]] | None = None, refresh_s: float = 60.0,
                 decisions: DecisionLog | None | bool = True, deferred_source: bool = True,
                 source_ttl_s: float = 60.0, feature_doc_values: bool = True) -> None:
        self.es = es
        self.config = config
        self.decisions = DecisionLog(es) if decisions is True else (decisions or None)
        self._policy_store = ModelCache(load_policy, policy_version, refresh_s)
        self._ranker_store = ModelCache(_load_ranker, _ranker_version, refresh_s)
        self._fusion_store = ModelCache(load_fusion, fusion_version, refresh_s)
        self._trial_store = ModelCache(read_interleaved, interleaved_version, refresh_s)
        self._decider = Decider(self._published_policy, config.bandit.budget, config.retrieval.timeout_ms)
        self._stale_policies: set[Any] = set()  # published policies of another context version, reported once
        self._vocab: tuple[Any, frozenset[str] | None] = (None, None)
        self._readings: dict[str, Readings] = {}  # per alias: query understanding of recent texts
        self._resources = {alias: dict(r) for alias, r in (resources or {}).items()}
        self._stores = stored_resources(refresh_s)
        self._strategies: dict[str, tuple[dict[str, Any], dict[str, Strategy]]] = {}
        self._resource_problems: dict[str, dict[str, str]] = {}  # alias -> resource -> why it did not load
        self.recent_searches = RecentSearches()  # feedback finds the query of a recent search here
        self._feedback: FeedbackWriter | None = None
        self._feedback_lock = threading.Lock()  # one writer per engine, however many threads race the first feedback
        # sub-searches without _source, one mget after the merge (lrr_es.sources); False: every hit
        # carries its _source (the path before issue 13, kept to compare the two)
        self.deferred_source = deferred_source
        self.sources = SourceCache(source_ttl_s)
        self._ids_from_doc_values: bool | None = None  # known at the first search (the server's version)
        # with ranking features: their document fields from doc values, the page's sources after ranking
        # (False: the sub-searches carry every hit's _source, the path before; kept to compare the two)
        self.feature_doc_values = feature_doc_values
        self._doc_value_sources = ModelCache(partial(_read_doc_value_source, config), _mapping_version, refresh_s)

    # --- public ------------------------------------------------------------------------------

    def search(self, index: str, text: str, filters: Sequence[dict] | dict | None = None, size: int = 10,
               from_: int = 0, plan: Sequence[PlanItem] | None = None, seed: int | None = None,
               source: list[str] | bool | None = None, context: Mapping[str, Any] | None = None,
               extra: Sequence[dict] = (), log: bool = True, rank: bool = True) -> SearchResult:
        """Search ``index`` (a configured alias) for ``text`` under the app's ``filters``.

        ``extra`` search bodies run unchanged in the same ``_msearch`` (the client wrapper sends the
        app's own query at size 0 there for its total and aggregations); their raw answers are
        ``result.extra``.

        Without ``source``, and when no ranker is live, the sub-searches return ids and scores only and
        the sources the search reads (the page; the logged head) come from one ``mget`` (lrr_es.sources,
        cached for ``source_ttl_s``); otherwise every hit carries its ``_source`` (or the ``source``
        fields).

        The bandit policy chooses the plan from the query and the caller's ``context`` (timestamp,
        device, user_searches, locale and the index's own ``context.fields``; see lrr_es.context);
        ``plan`` overrides it. ``seed`` fixes the explore strategy's randomness (default: per search).

        ``log=False`` leaves no trace (evaluation, what-if and health-check searches): no decision
        in lrr-decisions, nothing for the learners, and feedback on its search id is an orphan.
        ``rank=False`` serves the plan's fused (RRF) order without the live ranker; with
        ``plan=[PlanItem("lexical", n)]`` that is Elasticsearch's own BM25 order (:meth:`baseline`).
        """
        started = time.perf_counter()
        cfg = self.config.index(index)
        check_page(size, from_)
        app_filters = check_filters(filters)
        plan = check_plan(plan) if plan is not None else None
        search_id = uuid.uuid4().hex
        query = parse_query(text, seed=_seed(search_id) if seed is None else seed)
        strategies = self.strategies(index)
        caller = check_caller({} if context is None else context, cfg.context.fields)
        if cfg.context.memory_key:  # users of two locales (say) keep two memories of one query
            scope = [_scope(caller.get(f)) for f in cfg.context.memory_key]
            query = dataclasses.replace(query, key=scoped_key(query.key, scope))
        query = self._understand(index, query)
        x = context_vector(query, caller, self._vocabulary(index), [a.name for a in cfg.fields.attributes],
                           cfg.context.fields)
        decision = None
        if plan is not None:
            items = tuple(plan)
        else:
            r = self.config.retrieval
            items, decision = self._decider.decide(index, x, strategies, default_plan(strategies, r.quota, r.timeout_ms))
        policy_version = decision.policy_version if decision is not None else None
        built, skipped = build_plan(items, strategies, query, app_filters, index)
        if plan is None:  # the engine left out what cannot run: say so (an explicit plan reports its own items)
            skipped = {**unavailable(strategies, index, self._resource_problems.get(index)), **skipped}
        t_build = time.perf_counter()
        live = self._live_ranker(index) if rank else None
        trial = self._trial(index, search_id, from_) if rank and log else None
        # the sources after the merge, unless the ranker's features read the first 200 candidates': one
        # mget of that many costs more than the sub-searches fetching them (docs/benchmarks.md, --ranker).
        # Then the features' fields come from doc values where the mapping has them, the page's sources
        # after ranking; else every sub-search hit carries its _source.
        featured = live is not None or trial is not None or self.config.ranker.always_features
        deferred = source is None and self.deferred_source and not featured
        doc_values = self._doc_values(cfg) if source is None and self.deferred_source and featured else None
        cached = (frozenset(n for n, s in strategies.items() if s.repeatable) if self.config.retrieval.request_cache
                  else frozenset())  # sub-searches that ask for the shard request cache
        executed = self._run(index, built, source, extra, deferred, doc_values, cached) if built else Executed([], (), 0.0)
        results, es_ms = executed.results, executed.es_ms
        _refused(results)
        t_exec = time.perf_counter()
        pool = fuse(results, query, decision, self._learned_fusion(index), self.config.retrieval.weights,
                    self.config.retrieval.rrf_k)
        t_merge = time.perf_counter()
        if deferred:  # --- fetch: the sources the page and the features read, one mget for the uncached ---
            pool, _ = fill_sources(self.es, index, pool, self._read_positions(len(pool), from_, size),
                                   self.sources, INTERNAL_SOURCE)
        t_fetch = time.perf_counter()
        # --- rank: the live ranker of lrr-models when it can serve, else the RRF order (never fails) ---
        names = tuple(strategies)
        ranked = rank_pool(query, pool, names, cfg.fields, x, live, self.config.ranker.candidates,
                           always_features=self.config.ranker.always_features or trial is not None)
        interleaved = None
        if trial is not None:  # a trial search: the live order and the candidate's, team-drafted
            ranked, interleaved = interleave_ranked(ranked, trial, coin(search_id), size)
        pool = list(ranked.pool)
        t_ranked = time.perf_counter()
        if doc_values is not None:  # --- fetch: the page's own sources, now that the ranker chose it ---
            pool = list(fill_sources(self.es, index, pool, wanted_positions(len(pool), 0, from_, size),
                                     self.sources, INTERNAL_SOURCE)[0])
        t_page = time.perf_counter()
        page = page_hits(pool, ranked.scores, from_, size)
        # no swap on a trial page: it would move one team's document to the top
        swap = randomized_swap(page, search_id, self.config.ranker.swap_rate) if from_ == 0 and not interleaved else None
        t_rank = time.perf_counter()
        if not page and from_ >= len(pool) and from_ > 0:
            page = self._lexical_page(cfg, query, app_filters, size, from_, source)
        ended = time.perf_counter()
        if log:
            self.recent_searches.remember(search_id, index, query.text, int(time.time() * 1000), query.key)
        timings = {"build": (t_build - started) * 1000, "es": es_ms, "execute": (t_exec - t_build) * 1000,
                   "merge": (t_merge - t_exec) * 1000, "fetch": (t_fetch - t_merge + t_page - t_ranked) * 1000,
                   "rank": (t_rank - t_fetch - (t_page - t_ranked)) * 1000, "features": ranked.features_ms, "predict": ranked.predict_ms,
                   "total": (ended - started) * 1000}
        versions = {"policy": policy_version, "ranker": ranked.version, "ranker_fallback": ranked.fallback}
        result = SearchResult(search_id, index, query, items, page, len(pool), tuple(results), skipped, timings,
                              tuple(pool), versions, tuple(float(v) for v in x), decision, ranked.features,
                              ranked.schema, swap, tuple(float(v) for v in ranked.scores), executed.extra,
                              interleaved)
        if log:
            self._remember(result, names, cfg)
        return result

    def baseline(self, index: str, text: str, filters: Sequence[dict] | dict | None = None, size: int = 10,
                 from_: int = 0, source: list[str] | bool | None = None) -> SearchResult:
        """Elasticsearch's BM25 over the index's text fields, nothing learned: the lexical strategy
        alone, no ranker, not logged (the baseline to evaluate lrr-es against). Its sub-search may take
        as long as the client's timeout (a partial baseline would skew an evaluation)."""
        check_page(size, from_)
        timeout_ms = int(self.config.elasticsearch.timeout * 1000)
        return self.search(index, text, filters, size, from_, plan=[PlanItem("lexical", max(from_ + size, 1),
                                                                             timeout_ms=timeout_ms)],
                           source=source, log=False, rank=False)

    def _run(self, index: str, built: list, source: list[str] | bool | None, extra: Sequence[dict],
             deferred: bool, doc_values: DocValueSource | None = None, cached: frozenset[str] = frozenset()) -> Executed:
        """The plan's _msearch; when ``deferred``, sub-searches return ids and scores only, with
        ``doc_values`` ids, scores and those doc values: the id from its doc values on a 7.x node (no
        stored field read), else with ``_source: false``. The strategies in ``cached`` ask for the shard
        request cache (lrr_es.execute.build_msearch)."""
        if not deferred and doc_values is None:
            return run_plan(self.es, index, built, source, extra, cached)
        without_ids = False if deferred else replace(doc_values, ids=False)
        if self._ids_from_doc_values is None:
            try:
                self._ids_from_doc_values = esio.server_info(self.es)["number"].split(".")[0] == "7"
            except Exception:  # noqa: BLE001 - the msearch will say what is wrong with the node
                return run_plan(self.es, index, built, without_ids, extra, cached)
        if not self._ids_from_doc_values:
            return run_plan(self.es, index, built, without_ids, extra, cached)
        executed = run_plan(self.es, index, built, IDS if deferred else doc_values, extra, cached)
        if any(ID_FIELD_DATA_REFUSED in (r.error or "") for r in executed.results):  # the node's setting forbids it
            log.warning("%s: _id field data refused (indices.id_field_data.enabled), fetching with _source: false", index)
            self._ids_from_doc_values = False
            executed = run_plan(self.es, index, built, without_ids, extra, cached)
        return executed

    def _doc_values(self, cfg: IndexConfig) -> DocValueSource | None:
        """Where the ranking features' fields of ``cfg``'s index are read from doc values (None: from
        ``_source``); re-read from the mapping at most every refresh interval."""
        return self._doc_value_sources.get(self.es, cfg.name) if self.feature_doc_values else None

    def _live_ranker(self, index: str) -> Any:
        """The live ranker of ``index``, None, or why none can serve (an exception: rank_pool then ranks
        with RRF and reports it), also while lrr-models cannot be read before any ranker was."""
        try:
            return self._ranker_store.get(self.es, index)
        except EsUnavailableError as exc:
            return exc

    def _trial(self, index: str, search_id: str, from_: int) -> Any:
        """The candidate ranker this search interleaves with the live order (lrr_es.rank.interleave), or
        None: a logged first page in the ``ranker.interleave_share`` draw, while ``lrr-es train`` has a
        candidate on trial. Never raises: a registry it cannot read means no trial."""
        if from_ != 0 or self.decisions is None or not in_share(search_id, self.config.ranker.interleave_share):
            return None
        try:
            return self._trial_store.get(self.es, index)
        except Exception as exc:  # noqa: BLE001 - a trial must never cost the search
            log.warning("interleaved candidate of %s not loaded: %s", index, exc)
            return None

    def _learned_fusion(self, index: str) -> FusionWeights | None:
        """The fusion weights ``lrr-es learn`` published for ``index`` (None: the priors; lrr_es.fusion)."""
        try:
            return self._fusion_store.get(self.es, index)
        except LrrError as exc:  # damaged weights: serve with the priors, and say why
            log.warning("fusion weights of %s not loaded, using the priors: %s", index, exc)
            return None

    def fusion(self, index: str) -> FusionWeights | None:
        """The learned fusion weights serving uses for ``index`` (None before ``lrr-es learn`` published some)."""
        return self._fusion_store.get(self.es, index)

    def _read_positions(self, n: int, from_: int, size: int) -> list[int]:
        """Pool positions whose source a search without ranking features reads: the page, and the
        logged head when features are logged."""
        ranker = self.config.ranker
        head = ranker.log_depth if self.decisions is not None and ranker.log_features else 0
        return wanted_positions(n, head, from_, size)

    def _remember(self, result: SearchResult, strategies: tuple[str, ...], cfg: IndexConfig) -> None:
        """Queue the decision for lrr-decisions: a compact copy of the search is made here (log_input), the
        record is built and written on the log's thread.

        ``strategies`` and ``cfg`` are the ones the search ranked with (its features use the same).
        """
        if self.decisions is not None:  # a compact copy: the caller may change its hits, and sources are large
            ranker = self.config.ranker
            try:
                page, size = log_input(result, strategies, ranker.log_depth if ranker.log_features else None)
            except Exception as exc:  # noqa: BLE001 - the log never fails a search
                self.decisions.stats.failed += 1
                log.warning("decision of search %s not logged: %r", result.search_id, exc)
                return
            now_ms = int(time.time() * 1000)
            features = partial(logged_features, page, strategies, cfg.fields, ranker.log_depth, ranker.candidates,
                               now_ms / 1000) if ranker.log_features else None
            self.decisions.log(partial(decision_document, page, now_ms, features), size)

    def policy(self, index: str) -> Policy | None:
        """The serving policy of ``index``: the one the learner published, or None before that.

        A newly published version (``lrr-es learn``) replaces the current one at the next search
        after the refresh interval; a damaged one is logged and the current one kept.
        """
        return self._decider.policy(index)

    def _published_policy(self, index: str) -> Policy | None:
        """The published policy of ``index``, or None (cold start) while it was learned on contexts of
        another length (an earlier context version): its next ``lrr-es learn`` starts a fresh one."""
        policy = self._policy_store.get(self.es, index)
        if policy is None or getattr(policy, "dim", CONTEXT_DIM) == CONTEXT_DIM:
            return policy
        if id(policy) not in self._stale_policies:
            self._stale_policies.add(id(policy))
            log.warning("policy of %s was learned on %d context features, this version has %d: serving the "
                        "cold-start plan until `lrr-es learn --index %s` publishes a new one",
                        index, policy.dim, CONTEXT_DIM, index)
        return None

    def _vocabulary(self, index: str) -> frozenset[str] | None:
        model = self._strategies[index][0].get("semantic") if index in self._strategies else None
        if model is None:
            return None
        if self._vocab[0] is not model:
            self._vocab = (model, frozenset(model.vocab))
        return self._vocab[1]

    def feedback(self, search_id: str | None, doc_id: str, action: str, **kwargs: Any) -> str:
        """Record feedback on a search result (see FeedbackWriter.feedback); the event id."""
        unknown = sorted(map(repr, set(kwargs) - FEEDBACK_OPTIONS))
        if unknown:
            raise FeedbackError(f"feedback: unknown argument(s) {', '.join(unknown)[:200]} "
                                f"(known: {', '.join(sorted(FEEDBACK_OPTIONS))})")
        return self.feedback_writer.feedback(search_id, doc_id, action, **kwargs)

    @property
    def feedback_writer(self) -> FeedbackWriter:
        """The engine's feedback writer, started on first use (one per engine, also under threads)."""
        with self._feedback_lock:
            if self._feedback is None:
                self._feedback = FeedbackWriter(self.es, self.config, recent=self.recent_searches)
            return self._feedback

    def close(self, timeout: float = 10.0) -> None:
        """Write (or spool) pending feedback and write the queued decisions."""
        with self._feedback_lock:
            writer = self._feedback
        if writer is not None:
            writer.close(timeout)
        if self.decisions is not None:
            self.decisions.close(timeout)

    def default_plan(self, index: str) -> tuple[PlanItem, ...]:
        """Every configured strategy that can run, at the configured quota and timeout."""
        r = self.config.retrieval
        return default_plan(self.strategies(index), r.quota, r.timeout_ms)

    def strategies(self, index: str) -> dict[str, Strategy]:
        """The configured strategies of ``index``, rebuilt when one of their resources changed."""
        resources = self.resources(index)
        cached = self._strategies.get(index)
        if cached is None or any(cached[0].get(k) is not v for k, v in resources.items()):
            cfg = self.config.index(index)
            feature = self._popularity_feature(cfg)
            built = {name: get_strategy(name, cfg.fields, feature, resources)
                     for name in cfg.strategies if name in STRATEGIES}
            cached = self._strategies[index] = (resources, built)
        return cached[1]

    def resources(self, index: str) -> dict[str, Any]:
        """The resources of ``index``: the ones given, else the stored ones (None when never built)."""
        given = self._resources.get(index, {})
        out, problems = {}, {}
        for name, store in self._stores.items():
            if name in given:
                out[name] = given[name]
                continue
            try:
                out[name] = store.get(self.es, index)
            except LrrError as exc:  # a corrupt or foreign model document: serve without it, and say why
                log.warning("%s of %s not loaded: %s", name, index, exc)
                out[name], problems[name] = None, str(exc)
        self._resource_problems[index] = problems
        return out

    def set_resource(self, index: str, name: str, value: Any) -> None:
        """Give ``index``'s strategies a resource (a rebuilt gazetteer or semantic model)."""
        self._resources.setdefault(index, {})[name] = value

    # --- stages ------------------------------------------------------------------------------

    def _understand(self, index: str, query: Query) -> Query:
        gazetteer = self._strategies[index][0].get("gazetteer") if index in self._strategies else None
        if gazetteer is None:
            return query
        readings = self._readings.get(index) or self._readings.setdefault(index, Readings())
        return readings.understand(query, gazetteer)

    def _lexical_page(self, cfg: IndexConfig, query: Query, filters: list[dict], size: int, from_: int,
                      source: list[str] | bool | None) -> list[dict]:
        """A page beyond the candidate pool: plain lexical search with ``from``."""
        body = get_strategy("lexical", cfg.fields).build(query, max(size, 1), filters)
        body["from"] = from_
        if source is not None:
            body["_source"] = source
        return fallback_hits(esio.search_served(self.es, cfg.name, body)["hits"]["hits"], from_)

    def _popularity_feature(self, cfg: IndexConfig) -> str | None:
        """The rank_feature that holds popularity (an adopted index keeps its own numeric field); None
        when the configuration names no popularity."""
        if not cfg.fields.popularity:
            return None
        try:
            targets = esio.alias_targets(self.es, cfg.name)
            meta = (esio.get_mapping(self.es, targets[0]).get("_meta") or {}).get("lrr", {}) if targets else {}
        except esio.NotFoundError:
            meta = {}
        except UNREACHABLE as exc:
            raise EsUnavailableError(f"the mapping of {cfg.name} could not be read ({type(exc).__name__}: {exc})"[:400]
                                     ) from None
        return meta.get("popularity_feature", cfg.fields.popularity)


FEEDBACK_OPTIONS = frozenset({"position", "session_id", "event_id", "timestamp", "value", "query", "index"})


def _refused(results: Sequence[Any]) -> None:
    """QueryError when Elasticsearch refused every sub-search of the plan as a request (a filter it
    cannot parse, ...): the request is at fault, not one strategy, and an empty page would hide it."""
    if results and all(r.refused for r in results):
        reasons = "; ".join(f"{r.strategy}: {r.error}" for r in results[:2])
        raise QueryError(f"Elasticsearch refused the search: {reasons}"[:600])


def stored_resources(refresh_s: float) -> dict[str, ModelCache]:
    """Caches of the resources ``lrr-es`` builds and stores in lrr-models, by resource name."""
    return {"gazetteer": GazetteerCache(ttl=refresh_s), "semantic": ModelCache(read_semantic, semantic_version, refresh_s)}


def _ranker_version(es: Elasticsearch, alias: str) -> Any:
    """The live ranker's version, or the exception reading it raised (equal to no cached version, so
    the load runs and reports it); lrr-models not answering is raised, so the cache keeps its copy."""
    try:
        return live_version(es, alias)
    except UNREACHABLE:  # the cache keeps serving the ranker read before
        raise
    except Exception as exc:  # noqa: BLE001 - serving falls back to RRF and reports why
        return exc


def _load_ranker(es: Elasticsearch, alias: str) -> Any:
    """The live ranker of ``alias``, None, or the exception loading raised (cached like a value, so a
    damaged model costs one read per refresh interval, not one per search)."""
    try:
        return read_live(es, alias)
    except UNREACHABLE:  # the cache keeps serving the ranker read before
        raise
    except Exception as exc:  # noqa: BLE001 - serving falls back to RRF and reports why
        log.warning("ranker of %s not loaded, serving RRF: %s", alias, exc)
        return exc


def _scope(value: Any) -> str | None:
    """A caller value as part of a memory key (numbers and booleans as their text)."""
    return value if value is None or isinstance(value, str) else str(value).lower()


def _mapping_version(es: Elasticsearch, alias: str) -> Any:
    """The concrete indices behind ``alias``: a migration (a new target) invalidates the cached mapping."""
    try:
        return tuple(sorted(esio.alias_targets(es, alias)))
    except Exception as exc:  # noqa: BLE001 - read again at the next refresh
        return exc


def _read_doc_value_source(config: Config, es: Elasticsearch, alias: str) -> DocValueSource | None:
    """``feature_doc_values`` of the mapping of ``alias``'s target (None when it has none, or several
    with different mappings: the features then read ``_source``)."""
    try:
        targets = esio.alias_targets(es, alias)
        found = [esio.get_mapping(es, t).get("properties") or {} for t in targets]
    except Exception as exc:  # noqa: BLE001 - the features then read _source, as before
        log.warning("mapping of %s not read, ranking features from _source: %s", alias, exc)
        return None
    same = found and all(f == found[0] for f in found)
    return feature_doc_values(found[0], config.index(alias).fields) if same else None


def _seed(search_id: str) -> int:
    return int(search_id[:8], 16)
