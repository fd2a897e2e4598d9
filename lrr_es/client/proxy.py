"""LrrClient: the app's own Elasticsearch client, with learned search on the indices lrr-es serves.

The proxy only routes. A search the engine can serve (``translate``) goes through the engine and
comes back shaped as Elasticsearch's answer (``response``); everything else, and every search the
engine fails at, goes to the wrapped client untouched, so the app sees what it saw before. Every
other method and namespace is the wrapped client's own.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Mapping

from .. import es as esio
from ..config import Config, load_config
from ..execute import INTERNAL_SOURCE
from ..sources import fetch_sources
from .pages import PageCache, RankedPool, pool_key
from .passthrough import PassThroughCounts
from .response import search_response
from .translate import EngineRequest, PassThrough, request_body, translate

log = logging.getLogger(__name__)


class _EngineFailed(Exception):
    """The engine could not serve this search; the app's own search is served instead."""


class LrrClient:
    """Wraps an elasticsearch-py 7.17 or 8.x client: ``es = LrrClient(Elasticsearch(...), config)``.

    ``client.lrr`` is the engine (``client.lrr.feedback(search_id, doc_id, action, position=...)``);
    ``client.passthrough.snapshot()`` counts the searches that went to Elasticsearch unchanged, by
    reason; the counts are also written to lrr-passthrough every ``passthrough_interval_s`` seconds
    (lrr_es.client.passthrough) for the admin panel. A search can opt out with ``lrr=False``, pass caller context with
    ``lrr={"context": {...}}``, leave no trace with ``lrr={"log": False}`` and skip the live ranker
    with ``lrr={"rank": False}``; none of it reaches Elasticsearch.
    """

    def __init__(self, es_client: Any, config: Config, engine: Any = None,
                 passthrough: PassThroughCounts | None = None, pages: PageCache | None = None,
                 passthrough_interval_s: float = 30.0) -> None:
        from ..engine import LrrEngine
        self._client = es_client
        self._config = config
        self.lrr = engine if engine is not None else LrrEngine(es_client, config)
        self.passthrough = passthrough or PassThroughCounts(es_client, passthrough_interval_s)
        self._fields = {name: _text_fields(cfg) for name, cfg in config.indices.items()}
        self.pages = pages if pages is not None else PageCache()

    @classmethod
    def from_config(cls, config: str | Path | Config | None = None, es_client: Any = None) -> "LrrClient":
        """A wrapper built from a configuration (a path, a Config, or ``$LRR_CONFIG``) and, unless
        ``es_client`` is given, a client for its ``elasticsearch.url``."""
        cfg = config if isinstance(config, Config) else load_config(config)
        client = es_client if es_client is not None else esio.connect(cfg.elasticsearch.url, cfg.elasticsearch.timeout)
        return cls(client, cfg)

    # --- the wrapped client ------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def __repr__(self) -> str:
        return f"LrrClient({self._client!r})"

    def __enter__(self) -> "LrrClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Write pending feedback, decisions and pass-through counts, then close the wrapped client."""
        self.lrr.close()
        self.passthrough.close()
        closer = getattr(self._client, "close", None)
        if callable(closer):
            closer()

    def options(self, **kwargs: Any) -> "LrrClient":
        """8.x: the wrapped client's ``options(...)``, wrapped again (same engine, same counters)."""
        return LrrClient(self._client.options(**kwargs), self._config, self.lrr, self.passthrough, self.pages)

    def index(self, *args: Any, **kwargs: Any) -> Any:
        """The wrapped client's ``index``; a UBI event written to ``feedback.ubi_index`` is also
        taken as feedback (a bad event is logged, never raised: the app's write stands)."""
        response = self._client.index(*args, **kwargs)
        ubi_index = self._config.feedback.ubi_index
        if ubi_index is not None and kwargs.get("index") == ubi_index:
            event = kwargs.get("document", kwargs.get("body"))
            try:
                self.lrr.feedback_writer.feedback_ubi([event])
            except Exception as exc:  # noqa: BLE001 - the app's own write already succeeded
                log.warning("UBI event in %s not taken as feedback: %s", ubi_index, exc)
        return response

    # --- search ------------------------------------------------------------------------------

    def search(self, *args: Any, **kwargs: Any) -> Any:
        """The app's search: through the engine when it can serve it, else the wrapped client's own."""
        served = kwargs.pop("lrr", True)
        routed = self._route(args, kwargs, served)
        if isinstance(routed, PassThrough):
            self.passthrough.add(routed.reason, index=kwargs.get("index"))
            return self._client.search(*args, **kwargs)
        request, transport, options = routed
        try:
            return esio.client_response(*self._serve(request, transport, options))
        except Exception as exc:  # noqa: BLE001 - never break the app: its own search answers instead
            self.passthrough.add("engine failed", f"{type(exc).__name__}: {exc}", request.index)
            log.debug("engine failed on %s, serving the app's own search", request.index, exc_info=True)
            return self._client.search(*args, **kwargs)

    def msearch(self, *args: Any, **kwargs: Any) -> Any:
        """The app's msearch: the entries the engine can serve go through it, the others (and any the
        engine fails at) go to Elasticsearch in one msearch; the answers keep the app's order."""
        served = kwargs.pop("lrr", True)
        lines = kwargs.get("searches", kwargs.get("body", args[0] if args else None))
        extra = {k: v for k, v in kwargs.items() if k not in ("searches", "body", "index")}
        if served is False or len(args) > 1 or extra or not _pairs(lines):
            self.passthrough.add("msearch not served" if served is not False else "opted out", index=kwargs.get("index"))
            return self._client.msearch(*args, **kwargs)
        default_index = kwargs.get("index")
        answers: list[Any] = []
        passed: list[int] = []
        for i in range(0, len(lines), 2):
            header, body = lines[i], lines[i + 1]
            routed = self._route((), {"index": header.get("index", default_index), "body": body}, served) \
                if set(header) <= {"index"} else PassThrough("msearch header")
            answer = None
            if not isinstance(routed, PassThrough):
                try:
                    answer = self._serve(*routed)[0] | {"status": 200}
                except Exception as exc:  # noqa: BLE001 - the entry goes to Elasticsearch instead
                    self.passthrough.add("engine failed", f"{type(exc).__name__}: {exc}", routed[0].index)
            else:
                self.passthrough.add(routed.reason, index=header.get("index", default_index))
            if answer is None:
                passed.append(len(answers))
            answers.append(answer)
        if passed:
            rest = [line for j in passed for line in (dict(lines[2 * j]) | _index_of(lines[2 * j], default_index),
                                                     lines[2 * j + 1])]
            native = esio.msearch_native(self._client, rest)
            for j, response in zip(passed, esio.plain(native)["responses"]):
                answers[j] = response
        else:
            native = None
        took = max((a.get("took", 0) for a in answers), default=0)
        return esio.client_response({"took": took, "responses": answers}, native)

    def _route(self, args: tuple, kwargs: dict, served: Any) -> PassThrough | tuple[EngineRequest, dict, Any]:
        if served is False:
            return PassThrough("opted out")
        if args:
            return PassThrough("positional arguments")
        kwargs = dict(kwargs)
        index = kwargs.pop("index", None)
        body = kwargs.pop("body", None)
        merged = request_body(body, kwargs)
        if isinstance(merged, PassThrough):
            return merged
        body, transport = merged
        request = translate(index, body, self._fields)
        if isinstance(request, PassThrough):
            return request
        if not self._config.index(request.index).learning:
            return PassThrough("learning off")
        options = served if isinstance(served, Mapping) else {}
        return request, transport, {"context": options.get("context"), "log": options.get("log", True) is not False,
                                    "rank": options.get("rank", True) is not False}

    def _serve(self, request: EngineRequest, transport: Mapping[str, Any],
               options: Mapping[str, Any]) -> tuple[dict, Any]:
        """The response body of an engine-served search, and the client's own response whose type and
        metadata it takes (None when no search of the app's client ran). ``options``: the caller
        ``context``, whether to ``log`` the search and to ``rank`` it with the live ranker."""
        started = time.perf_counter()
        context = options["context"]
        key = pool_key(request, context) + ("" if options["rank"] else " unranked")
        pool = self.pages.get(key) if request.from_ > 0 else None
        counted, native = None, None
        if pool is not None and request.from_ < len(pool.entries):
            hits, lrr, timed_out = self._later_page(request, pool, transport), dict(pool.lrr), False
            pool_size = len(pool.entries)
        else:
            # the app's own query at size 0 rides along in the engine's _msearch: total and aggregations
            result = self.lrr.search(request.index, request.text, filters=list(request.filters), size=request.size,
                                     from_=request.from_, context=context, extra=[_count_body(request)],
                                     log=options["log"], rank=options["rank"])
            if result.failed:
                raise _EngineFailed("; ".join(f"{k}: {v}" for k, v in sorted(result.failed.items())))
            hits, timed_out = result.hits, any(r.status == "timed_out" for r in result.results)
            pool_size = result.pool_size
            counted = result.extra[0] if len(result.extra) == 1 else None
            lrr = {"search_id": result.search_id, "plan": [vars(item) for item in result.plan],
                   "policy": result.versions.get("policy"), "ranker": result.versions.get("ranker") or "rrf",
                   "skipped": dict(result.skipped), "candidates": result.pool_size}
            if request.from_ == 0 and result.pool:
                self.pages.put(key, RankedPool(tuple((c.id, c.index, c.type, s) for c, s in
                                                     zip(result.pool, result.pool_scores)), lrr))
        if counted is None:
            counted, native = esio.search_native(self._client, request.index, _count_body(request),
                                                 transport.get("request_timeout"))
        elif "error" in counted:
            raise _EngineFailed(f"the app's own query failed: {str(counted['error'])[:200]}")
        highlights = self._highlights(request, hits, transport)
        body = search_response(hits, request.source, (time.perf_counter() - started) * 1000, timed_out, counted,
                               highlights, lrr, pool_size)
        return body, native

    def _later_page(self, request: EngineRequest, pool: RankedPool, transport: Mapping[str, Any]) -> list[dict]:
        """A page inside a recent first page's pool: its ranked ids, their sources as the engine fetches
        its own (its source cache, then one mget per concrete index)."""
        entries = pool.entries[request.from_:request.from_ + request.size]
        sources, _ = fetch_sources(self._client, request.index, [(e[0], e[1], None) for e in entries], self.lrr.sources,
                                   INTERNAL_SOURCE, transport.get("request_timeout"))
        return [{"_index": index, "_id": doc_id, "_score": score, "_source": sources[doc_id],
                 **({"_type": kind} if kind else {})}
                for doc_id, index, kind, score in entries if doc_id in sources]

    def _highlights(self, request: EngineRequest, hits: list[dict], transport: Mapping[str, Any]) -> dict[str, dict]:
        """Highlight fragments of the page's hits, from the app's highlight request over its own query."""
        if not request.highlight or not hits:
            return {}
        highlight = dict(request.highlight)
        highlight.setdefault("highlight_query", request.query)
        body = {"query": {"ids": {"values": [h["_id"] for h in hits]}}, "highlight": highlight,
                "_source": False, "size": len(hits), "track_total_hits": False}
        found, _ = esio.search_native(self._client, request.index, body, transport.get("request_timeout"))
        return {h["_id"]: h["highlight"] for h in found.get("hits", {}).get("hits", []) if h.get("highlight")}


def _pairs(lines: Any) -> bool:
    """An msearch body the proxy can split: a list of header and body objects."""
    return (isinstance(lines, (list, tuple)) and len(lines) % 2 == 0 and len(lines) > 0
            and all(isinstance(line, Mapping) for line in lines))


def _index_of(header: Mapping[str, Any], default: Any) -> dict:
    return {} if "index" in header or default is None else {"index": default}


def _count_body(request: EngineRequest) -> dict:
    """The app's own query at size 0: hits.total (after its post_filter) and aggregations, as before."""
    body: dict[str, Any] = {"size": 0, "query": request.query}
    for key, value in (("aggs", request.aggs), ("post_filter", request.post_filter),
                       ("track_total_hits", request.track_total_hits), ("timeout", request.timeout)):
        if value is not None:
            body[key] = value
    return body


def _text_fields(cfg: Any) -> tuple[str, ...]:
    """The text fields an index's strategies search (its text roles, with their sub-fields)."""
    fields = cfg.fields.text_fields()
    return fields + tuple(f"{f}.*" for f in fields)
