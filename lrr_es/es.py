"""All Elasticsearch I/O of lrr-es lives here.

Client creation, index and alias administration, bulk, scan and search. The rest of the
package receives plain dicts. Works with elasticsearch-py 7.17 and 8.x; every difference stays
here: ``body=`` vs keyword arguments (:func:`_body_kwargs`), ObjectApiResponse vs dict (:func:`_raw`),
``request_timeout=`` vs ``.options()`` (:func:`_timed`), error classes (:data:`ApiError`, :func:`_status`),
HeadApiResponse vs bool (``bool()``). A node without the rest-root module answers ``GET /`` with
405: its version comes from ``GET /_nodes/_local`` (:func:`server_info`).
"""
from __future__ import annotations

import functools
import json
import logging
import time
import warnings
from typing import Any, Iterable, Iterator

import elasticsearch
from elasticsearch import Elasticsearch, helpers
from elasticsearch.exceptions import RequestError

from .capabilities import REQUIRED_MODULES, check, missing_modules, module_missing_in, module_name
from .errors import BulkRefusedError, EsUnavailableError, MissingCapabilityError, QueryError

log = logging.getLogger(__name__)
# 7.17 warns that 8.x drops ``body=``; on 8.x we pass keyword arguments instead (_body_kwargs).
warnings.filterwarnings("ignore", message="The 'body' parameter is deprecated", category=DeprecationWarning)
CLIENT_MAJOR = int(elasticsearch.__versionstr__.split(".")[0])
NotFoundError = elasticsearch.NotFoundError
ConflictError = elasticsearch.ConflictError  # 409: a document changed between read and write
TransportErrors = (elasticsearch.ConnectionError, elasticsearch.ConnectionTimeout)
# An error answer from the server. 8.x: ApiError (.meta.status, .body); 8.x's TransportError is only the
# connection-level family. 7.x: TransportError (.status_code, .info), whose connection errors are
# subclasses too: every ``except ApiError`` here follows an ``except TransportErrors``.
ApiError = elasticsearch.ApiError if CLIENT_MAJOR >= 8 else elasticsearch.TransportError


def connect(url: str, timeout: float = 30.0) -> Elasticsearch:
    """A client for ``url``. Raises EsUnavailableError with the URL when nothing answers."""
    client = Elasticsearch(url, request_timeout=timeout) if CLIENT_MAJOR >= 8 else Elasticsearch(
        [url], timeout=timeout
    )
    try:
        info = server_info(client)
    except getattr(elasticsearch, "UnsupportedProductError", ()) as exc:
        raise EsUnavailableError(f"the server at {url} is not supported by elasticsearch-py "
                                 f"{elasticsearch.__versionstr__} ({exc}); with a 7.10-7.13 server use the 7.17 client") from None
    except TransportErrors as exc:
        raise EsUnavailableError(f"no Elasticsearch answers at {url} ({_reason(exc)}); start one with "
                                 f"`lrr-es dev-cluster start` or point ES_URL at yours") from None
    log.debug("connected to Elasticsearch %s at %s", info["number"], url)
    return client


def server_info(es: Elasticsearch) -> dict:
    """The server's version block ({"number", "build_flavor", ...}).

    From ``GET /``; a node without the rest-root module (the 8.x integ-test distribution) answers
    that with 405, and then the version comes from ``GET /_nodes/_local``.
    """
    try:
        return _raw(es.info())["version"]
    except TransportErrors:
        raise
    except ApiError as exc:
        if _status(exc) != 405:
            raise
    nodes = _raw(es.nodes.info(node_id="_local", metric="_none"))["nodes"]
    node = next(iter(nodes.values()))
    return {"number": node["version"], "build_flavor": node.get("build_flavor", "default")}


def wait_for_health(es: Elasticsearch, status: str = "yellow", timeout: float = 60.0, index: str | None = None) -> dict:
    """Block until the cluster (or ``index``) reaches ``status``; raise with the last status seen."""
    deadline = time.monotonic() + timeout
    health: dict = {}
    while time.monotonic() < deadline:
        try:
            health = _raw(es.cluster.health(index=index, wait_for_status=status, timeout="1s"))
        except TransportErrors:
            time.sleep(0.5)
            continue
        except ApiError as exc:  # a health wait that times out answers 408
            if _status(exc) != 408:
                raise
            health = {"timed_out": True, "status": "timeout"}
            continue
        if not health.get("timed_out"):
            return health
    raise EsUnavailableError(f"cluster did not reach {status} within {timeout:.0f}s (last: {health.get('status')})")


def cluster_health(es: Elasticsearch) -> dict:
    """The cluster's health now (status, nodes, shards), without waiting."""
    return _raw(es.cluster.health())


def index_rows(es: Elasticsearch, pattern: str) -> list[dict]:
    """One row per index matching ``pattern``: index, health, status, docs.count, store.size (bytes)."""
    rows = _raw(es.cat.indices(index=pattern, format="json", bytes="b", expand_wildcards="open,closed"))
    return sorted(rows, key=lambda r: r.get("index", ""))


# --- indices, templates, aliases, scripts -------------------------------------------------------

def _names_missing_module(func):
    """Turn an error answer that shows a missing module (no Painless, no rank_feature ...) into
    MissingCapabilityError naming the module; other errors pass unchanged."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except TransportErrors:
            raise
        except ApiError as exc:
            module = _missing_module(exc)
            if module is None:
                raise
            raise MissingCapabilityError(f"{func.__name__}: this Elasticsearch node lacks the {module} module "
                                         f"({REQUIRED_MODULES[module]}); it answered {_error_info(exc)}") from None
    return wrapper


@_names_missing_module
def put_index_template(es: Elasticsearch, name: str, body: dict) -> None:
    es.indices.put_index_template(name=name, **_body_kwargs(body))


def get_index_template(es: Elasticsearch, name: str) -> dict | None:
    try:
        found = _raw(es.indices.get_index_template(name=name))
    except NotFoundError:
        return None
    templates = found.get("index_templates", [])
    return templates[0]["index_template"] if templates else None


@_names_missing_module
def put_stored_script(es: Elasticsearch, script_id: str, source: str, lang: str = "painless") -> None:
    script = {"lang": lang, "source": source}
    if CLIENT_MAJOR >= 8:
        es.put_script(id=script_id, script=script)
    else:
        es.put_script(id=script_id, body={"script": script})


def get_stored_script(es: Elasticsearch, script_id: str) -> str | None:
    try:
        found = _raw(es.get_script(id=script_id))
    except NotFoundError:
        return None
    return (found.get("script") or {}).get("source") if found.get("found", True) else None


def index_exists(es: Elasticsearch, name: str) -> bool:
    return bool(es.indices.exists(index=name))


@_names_missing_module
def create_index(es: Elasticsearch, name: str, body: dict | None = None, exist_ok: bool = False) -> None:
    """Create ``name``; with ``exist_ok`` an index that another process created first is fine."""
    try:
        es.indices.create(index=name, **_body_kwargs(body or {}))
    except RequestError as exc:  # 400 in both clients (8.x: an alias of BadRequestError)
        if not (exist_ok and _error_type(exc) == "resource_already_exists_exception"):
            raise


def delete_index(es: Elasticsearch, name: str) -> None:
    es.indices.delete(index=name, ignore_unavailable=True)


def list_indices(es: Elasticsearch, pattern: str) -> list[str]:
    """Concrete index names matching ``pattern`` (empty list when none)."""
    try:
        return sorted(_raw(es.indices.get(index=pattern, allow_no_indices=True, expand_wildcards="open,closed")))
    except NotFoundError:
        return []


def get_mapping(es: Elasticsearch, index: str) -> dict:
    """The mapping of one concrete index: {"properties": ..., "_meta": ...}."""
    found = _raw(es.indices.get_mapping(index=index))
    return next(iter(found.values()))["mappings"]


def get_settings(es: Elasticsearch, index: str) -> dict:
    found = _raw(es.indices.get_settings(index=index))
    return next(iter(found.values()))["settings"]["index"]


def put_settings(es: Elasticsearch, index: str, settings: dict) -> None:
    if CLIENT_MAJOR >= 8:
        es.indices.put_settings(index=index, settings=settings)
    else:
        es.indices.put_settings(index=index, body=settings)


def index_health(es: Elasticsearch, index: str) -> dict:
    """Live and deleted documents and segments of ``index`` (primaries; an alias sums its indices)."""
    try:
        found = _raw(es.indices.stats(index=index, metric="docs,segments"))["_all"]["primaries"]
    except TransportErrors as exc:
        raise EsUnavailableError(f"stats of {index} failed: {_reason(exc)}") from None
    return {"live": found["docs"]["count"], "deleted": found["docs"]["deleted"], "segments": found["segments"]["count"]}


def expunge_deletes(es: Elasticsearch, index: str, request_timeout: float | None = None) -> None:
    """Merge away the deleted documents of ``index`` (a force merge of only the segments holding more
    than ``index.merge.policy.expunge_deletes_allowed`` of them); EsUnavailableError when it cannot."""
    client, kwargs = _timed(es, request_timeout)
    try:
        client.indices.forcemerge(index=index, only_expunge_deletes=True, **kwargs)
    except TransportErrors as exc:
        raise EsUnavailableError(f"force merge of {index} failed: {_reason(exc)}") from None
    except ApiError as exc:
        raise EsUnavailableError(f"force merge of {index} answered {_status(exc)}: {_error_info(exc)}") from None


def block_writes(es: Elasticsearch, index: str) -> None:
    """Block writes and wait for in-flight ones (add_block), then refresh so a scan sees every document."""
    es.indices.add_block(index=index, block="write")
    es.indices.refresh(index=index)


def unblock_writes(es: Elasticsearch, index: str) -> None:
    put_settings(es, index, {"index.blocks.write": None})


def clone_index(es: Elasticsearch, source: str, target: str, settings: dict | None = None) -> None:
    body = {"settings": settings or {}}
    es.indices.clone(index=source, target=target, **_body_kwargs(body))


def alias_targets(es: Elasticsearch, alias: str) -> list[str]:
    """The concrete indices behind ``alias`` (empty when the alias does not exist)."""
    try:
        return sorted(_raw(es.indices.get_alias(name=alias)))
    except NotFoundError:
        return []


def is_alias(es: Elasticsearch, name: str) -> bool:
    return bool(es.indices.exists_alias(name=name))


def update_aliases(es: Elasticsearch, actions: list[dict]) -> None:
    """Apply alias actions atomically (one cluster-state update)."""
    if CLIENT_MAJOR >= 8:
        es.indices.update_aliases(actions=actions)
    else:
        es.indices.update_aliases(body={"actions": actions})


@_names_missing_module
def put_mapping(es: Elasticsearch, index: str, properties: dict) -> None:
    """Add field mappings to ``index`` (a concrete index or an alias); works under ``dynamic: strict``."""
    es.indices.put_mapping(index=index, **_body_kwargs({"properties": properties}))


def capabilities(es: Elasticsearch) -> dict:
    """What the cluster offers: its version, its modules and what lrr-es needs of them.

    ``native_knn``: approximate kNN inside Elasticsearch (``dense_vector`` with ``index: true`` and the
    ``knn`` search section, 8.4+; 8.0-8.3 had only the ``_knn_search`` endpoint, not used here).
    ``dense_vector``: the mapping type exists (x-pack 7.3+, brute force only through script_score).
    ``modules``: the modules and plugins every node has, sorted (None when the nodes cannot be listed);
    ``missing``: the modules lrr-es needs that some node lacks, name -> what lrr-es uses it for.
    """
    info = server_info(es)
    major, minor = (int(x) for x in info["number"].split(".")[:2])
    try:  # modules are listed under the "plugins" metric; the node id keeps "plugins" from reading as one
        nodes = list(_raw(es.nodes.info(node_id="_all", metric="plugins"))["nodes"].values())
    except ApiError:
        nodes = []
    modules = sorted(set.intersection(*({module_name(m) for m in n.get("modules", []) + n.get("plugins", [])}
                                        for n in nodes))) if nodes else None
    caps = {"version": info["number"], "flavor": info.get("build_flavor", "unknown"), "native_knn": (major, minor) >= (8, 4),
            "dense_vector": major >= 8 or bool({"x-pack-core", "vectors"} & set(modules or ())), "modules": modules}
    caps["missing"] = missing_modules(caps)
    return caps


def require(es: Elasticsearch, needed: dict[str, str] | None = None) -> dict:
    """capabilities(es), after raising MissingCapabilityError that names every needed module the node lacks."""
    caps = capabilities(es)
    check(caps, needed)
    return caps


def refresh(es: Elasticsearch, index: str) -> None:
    es.indices.refresh(index=index)


def count(es: Elasticsearch, index: str, query: dict | None = None) -> int:
    kwargs = _body_kwargs({"query": query}) if query else {}
    return int(_raw(es.count(index=index, **kwargs))["count"])


# --- documents --------------------------------------------------------------------------------

def bulk(es: Elasticsearch, actions: Iterable[dict], chunk_size: int = 1000, refresh: bool | str = False,
         threads: int = 1) -> Iterator[tuple[bool, dict]]:
    """Stream ``actions`` through _bulk; yields (ok, item) per action and never raises per item.

    ``threads > 1`` keeps that many requests in flight, so that producing the next chunk in Python
    overlaps with Elasticsearch indexing the previous one (no 429 retries in that mode).
    """
    if threads > 1:
        yield from helpers.parallel_bulk(es, actions, thread_count=threads, chunk_size=chunk_size, queue_size=threads,
                                         raise_on_error=False, raise_on_exception=False, refresh=refresh)
        return
    yield from helpers.streaming_bulk(
        es, actions, chunk_size=chunk_size, raise_on_error=False, raise_on_exception=False,
        refresh=refresh, max_retries=3, initial_backoff=0.5,
    )


def scan(es: Elasticsearch, index: str, query: dict | None = None, size: int = 1000,
         source: list[str] | None = None) -> Iterator[dict]:
    """Every hit of ``query`` in ``index``, in index order, via the scroll API (``source``: fields to fetch)."""
    body = {"query": query or {"match_all": {}}, "sort": ["_doc"]}
    if source is not None:
        body["_source"] = source
    yield from helpers.scan(es, index=index, query=body, size=size, preserve_order=True)


def search_pages(es: Elasticsearch, index: str, sort: list, query: dict | None = None, size: int = 1000,
                 source: list[str] | dict | None = None) -> Iterator[list[dict]]:
    """The hits of ``query`` in ``index`` in ``sort`` order, one page (a list of hits) at a time.

    Pages follow each other with ``search_after``: nothing is held open on the server and the caller
    holds one page. ``sort`` must end on a field unique per document (e.g. ``search_id``), else hits
    that tie on every sort value at a page boundary could be skipped.
    """
    body: dict = {"query": query or {"match_all": {}}, "sort": sort, "size": size, "track_total_hits": False}
    if source is not None:
        body["_source"] = source
    after = None
    while True:
        page = body if after is None else {**body, "search_after": after}
        hits = _raw(es.search(index=index, **_body_kwargs(page)))["hits"]["hits"]
        if hits:
            yield hits
        if len(hits) < size:
            return
        after = hits[-1]["sort"]


def get_source(es: Elasticsearch, index: str, doc_id: str) -> dict | None:
    try:
        return _raw(es.get(index=index, id=doc_id))["_source"]
    except NotFoundError:
        return None


def get_document(es: Elasticsearch, index: str, doc_id: str, source_excludes: list[str] | None = None) -> dict | None:
    """The whole GET answer of one document (_source, _version, _seq_no ...), or None when absent."""
    kwargs = {"_source_excludes": source_excludes} if source_excludes else {}
    try:
        return _raw(es.get(index=index, id=doc_id, **kwargs))
    except NotFoundError:
        return None


def put_document(es: Elasticsearch, index: str, doc_id: str, source: dict, refresh: bool | str = False) -> dict:
    """Index ``source`` as document ``doc_id`` (create or replace)."""
    if CLIENT_MAJOR >= 8:
        return _raw(es.index(index=index, id=doc_id, document=source, refresh=refresh))
    return _raw(es.index(index=index, id=doc_id, body=source, refresh=refresh))


@_names_missing_module
def update(es: Elasticsearch, index: str, doc_id: str, body: dict, refresh: bool | str = False,
           retry_on_conflict: int = 0) -> dict:
    """Update one document; ``retry_on_conflict``: how often Elasticsearch re-reads and re-applies it when
    another writer changed the document in between (else that raises ConflictError, a 409)."""
    extra = {"retry_on_conflict": retry_on_conflict} if retry_on_conflict else {}
    return _raw(es.update(index=index, id=doc_id, refresh=refresh, **extra, **_body_kwargs(body)))


def search(es: Elasticsearch, index: str, body: dict) -> dict:
    return _raw(es.search(index=index, **_body_kwargs(body)))


def search_served(es: Elasticsearch, index: str, body: dict) -> dict:
    """One search served to a caller of the engine: a node that does not answer raises
    EsUnavailableError, a request Elasticsearch refuses (400: a filter it cannot parse, a page past the
    index's result window) QueryError with Elasticsearch's reason."""
    try:
        return _raw(es.search(index=index, **_body_kwargs(body)))
    except TransportErrors as exc:
        raise EsUnavailableError(f"search of {index} failed: {_reason(exc)}") from None
    except ApiError as exc:
        if _status(exc) == 400:
            raise QueryError(f"Elasticsearch refused the search of {index}: {_error_info(exc)}") from None
        raise EsUnavailableError(f"search of {index} answered {_status(exc)}: {_error_info(exc)}") from None


def search_native(es: Elasticsearch, index: str, body: dict, request_timeout: float | None = None) -> tuple[dict, Any]:
    """One search: its plain body and the client's own response object (for :func:`client_response`)."""
    client, extra = _timed(es, request_timeout)
    native = client.search(index=index, **_body_kwargs(body), **extra)
    return _raw(native), native


def msearch_native(es: Elasticsearch, searches: list[dict], **extra: Any) -> Any:
    """One _msearch as the app would send it (``searches`` alternate header and body); the client's
    own response object. ``extra`` are the call's other keyword arguments."""
    if CLIENT_MAJOR >= 8:
        return es.msearch(searches=searches, **extra)
    return es.msearch(body=searches, **extra)


def client_response(body: dict, like: Any) -> Any:
    """``body`` in the type the installed client returns for a search: a dict on 7.x, on 8.x an
    ObjectApiResponse carrying the metadata (status, headers, node) of ``like``, a real response
    (``like`` None: one made for a successful answer)."""
    if CLIENT_MAJOR < 8:
        return body
    if like is None:
        from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig, ObjectApiResponse
        meta = ApiResponseMeta(status=200, http_version="1.1", duration=0.0, node=NodeConfig("http", "localhost", 9200),
                               headers=HttpHeaders({"content-type": "application/json",
                                                    "x-elastic-product": "Elasticsearch"}))
        return ObjectApiResponse(body=body, meta=meta)
    return type(like)(body=body, meta=like.meta)


def plain(response: Any) -> Any:
    """A client response as plain data (a dict on 7.x already; the body of an 8.x response)."""
    return _raw(response)


def composite_counts(es: Elasticsearch, index: str, field: str, page_size: int = 1000) -> Iterator[tuple[Any, int]]:
    """(value, doc count) of every value of keyword or numeric ``field``, in value order.

    Pages through a composite aggregation, so it reaches every value however many there are;
    an unmapped field yields nothing.
    """
    after: dict | None = None
    while True:
        composite: dict = {"size": page_size, "sources": [{"v": {"terms": {"field": field}}}]}
        if after is not None:
            composite["after"] = after
        body = {"size": 0, "track_total_hits": False, "aggs": {"values": {"composite": composite}}}
        agg = search(es, index, body).get("aggregations", {}).get("values", {})
        buckets = agg.get("buckets", [])
        for bucket in buckets:
            yield bucket["key"]["v"], int(bucket["doc_count"])
        after = agg.get("after_key")
        if not buckets or after is None or len(buckets) < page_size:
            return


def msearch(es: Elasticsearch, searches: list[dict], request_timeout: float | None = None,
            filter_path: str | None = None) -> dict:
    """One _msearch: ``searches`` alternates header and body dicts, as the API expects.

    A node that is down, does not answer within ``request_timeout`` seconds or cannot take the request
    (429, 5xx, ...) raises EsUnavailableError. Errors of single sub-searches at run time come back inside
    the response; a body Elasticsearch cannot even parse rejects the whole request (400), raised as
    QueryError.
    """
    client, extra = _timed(es, request_timeout)
    if filter_path:
        extra["filter_path"] = filter_path
    try:
        return _raw(msearch_native(client, searches, **extra))
    except TransportErrors as exc:
        raise EsUnavailableError(f"_msearch failed: {_reason(exc)}") from None
    except ApiError as exc:
        if _status(exc) == 400:
            raise QueryError(f"_msearch rejected: {_error_info(exc)}") from None
        raise EsUnavailableError(f"_msearch answered {_status(exc)}: {_error_info(exc)}") from None


# --- feedback ----------------------------------------------------------------------------------

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# a whole _bulk answered with these waits for the node (or its operator), it is never the items' fault
UNAVAILABLE_STATUSES = RETRYABLE_STATUSES | {401, 403}


def bulk_items(es: Elasticsearch, lines: list[dict], request_timeout: float | None = None,
               refresh: bool | str = False) -> list[dict]:
    """Send ``lines`` (action and source dicts in _bulk order) as ONE _bulk request; the per-item results.

    Each result is the inner dict of one item (``status``, ``_id``, ``result`` or ``error``) in request
    order. A node that is down, too slow, overloaded (429), failing (5xx) or refusing our credentials
    (401/403) for the whole request raises EsUnavailableError, so the caller can retry the whole batch;
    a request refused for its content (400, 413, or lines that cannot be serialized) raises
    BulkRefusedError (see :func:`bulk_units`); per-item errors never raise.
    """
    client, extra = _timed(es, request_timeout)
    try:
        if CLIENT_MAJOR >= 8:
            response = _raw(client.bulk(operations=lines, refresh=refresh, **extra))
        else:
            response = _raw(client.bulk(body=lines, refresh=refresh, **extra))
    except TransportErrors as exc:
        raise EsUnavailableError(f"_bulk failed: {_reason(exc)}") from None
    except ApiError as exc:
        status = _status(exc)
        if status in UNAVAILABLE_STATUSES or (isinstance(status, int) and status >= 500):
            raise EsUnavailableError(f"_bulk answered {status}: {_error_info(exc)}") from None
        raise BulkRefusedError(f"_bulk refused ({status}): {_error_info(exc)}", status) from None
    except (elasticsearch.SerializationError, UnicodeError, TypeError, ValueError) as exc:
        raise BulkRefusedError(f"_bulk lines cannot be sent as JSON: {_reason(exc)}") from None
    return [next(iter(item.values())) for item in response.get("items", [])]


def bulk_units(es: Elasticsearch, units: list[list[dict]], request_timeout: float | None = None,
               refresh: bool | str = False) -> list[dict]:
    """Send ``units`` (each the _bulk lines of one item: action, and source or script) through _bulk;
    one result per unit, in order, so that one bad item never costs another.

    When Elasticsearch refuses the whole request (BulkRefusedError), the units are sent again in
    halves until the one at fault is alone: its result is then ``{"status": 400 (or the refusal's),
    "error": reason}`` like any per-item refusal. EsUnavailableError is raised as by :func:`bulk_items`.
    """
    if not units:
        return []
    try:
        return bulk_items(es, [line for unit in units for line in unit], request_timeout, refresh)
    except BulkRefusedError as exc:
        if len(units) == 1:
            return [{"status": exc.status or 400, "error": {"type": "bulk_refused", "reason": str(exc)}}]
        half = len(units) // 2
        return (bulk_units(es, units[:half], request_timeout, refresh)
                + bulk_units(es, units[half:], request_timeout, refresh))


def mget_sources(es: Elasticsearch, index: str, ids: list[str], fields: list[str] | None = None,
                 request_timeout: float | None = None, excludes: list[str] | None = None) -> dict[str, dict]:
    """The _source (or its ``fields``, less ``excludes``) of every id found in ``index``; a missing
    index finds nothing."""
    found = mget_versioned(es, index, ids, fields, request_timeout, excludes)
    return {doc_id: source for doc_id, (_, source) in found.items()}


def mget_versioned(es: Elasticsearch, index: str, ids: list[str], fields: list[str] | None = None,
                   request_timeout: float | None = None, excludes: list[str] | None = None,
                   realtime: bool = True) -> dict[str, tuple[tuple[int, int] | None, dict]]:
    """As mget_sources, each source with the version read ((sequence number, primary term), None
    when the node does not say); ``realtime=False`` reads what searches see (no refresh forced)."""
    if not ids:
        return {}
    client, kwargs = _timed(es, request_timeout)
    if fields:
        kwargs["_source_includes"] = fields
    if excludes:
        kwargs["_source_excludes"] = excludes
    if not realtime:
        kwargs["realtime"] = False
    try:
        if CLIENT_MAJOR >= 8:
            response = _raw(client.mget(index=index, ids=ids, **kwargs))
        else:
            response = _raw(client.mget(index=index, body={"ids": ids}, **kwargs))
    except NotFoundError:
        return {}
    except TransportErrors as exc:
        raise EsUnavailableError(f"_mget failed: {_reason(exc)}") from None
    except ApiError as exc:
        if _status(exc) in RETRYABLE_STATUSES or (_status(exc) or 0) >= 500:
            raise EsUnavailableError(f"_mget answered {_status(exc)}: {_error_info(exc)}") from None
        raise
    return {d["_id"]: ((d["_seq_no"], d["_primary_term"]) if "_seq_no" in d and "_primary_term" in d else None,
                       d.get("_source", {}))
            for d in response.get("docs", []) if d.get("found")}


@_names_missing_module
def update_by_query(es: Elasticsearch, index: str, body: dict, refresh: bool = True) -> dict:
    """Run a scripted _update_by_query to completion (version conflicts are counted, not fatal)."""
    return _raw(es.update_by_query(index=index, refresh=refresh, conflicts="proceed", **_body_kwargs(body)))


# --- helpers ----------------------------------------------------------------------------------

def _body_kwargs(body: dict) -> dict:
    """Turn one request body into the keyword arguments the installed client expects."""
    if CLIENT_MAJOR >= 8:
        return dict(body)
    return {"body": body}


def _timed(es: Elasticsearch, request_timeout: float | None) -> tuple[Elasticsearch, dict]:
    """(client, extra keyword arguments) for one request with its own timeout: 8.x sets it with
    ``.options()``, 7.x takes ``request_timeout=`` per call."""
    if not request_timeout:
        return es, {}
    if CLIENT_MAJOR >= 8:
        return es.options(request_timeout=request_timeout), {}
    return es, {"request_timeout": request_timeout}


def _raw(response: Any) -> Any:
    """8.x returns ObjectApiResponse; 7.x a dict. Always hand back plain data."""
    return getattr(response, "body", response)


def _error_info(exc: Exception) -> str:
    info = getattr(exc, "info", None) or getattr(exc, "body", None)
    error = info.get("error") if isinstance(info, dict) else None
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = (error.get("root_cause") or [{}])[0]  # "all shards failed" says nothing: name the first cause
        if isinstance(cause, dict) and cause.get("reason") and cause.get("reason") != error.get("reason"):
            text += f" ({cause.get('type', 'error')}: {cause['reason']})"
        return text[:300]
    if isinstance(error, str):  # errors outside any index or action, e.g. "no handler found for uri ..."
        return error[:300]
    return _reason(exc)


def _error_type(exc: Exception) -> str | None:
    """The ``error.type`` of an error answer (``resource_already_exists_exception`` ...)."""
    info = getattr(exc, "info", None)
    error = info.get("error") if isinstance(info, dict) else None
    return error.get("type") if isinstance(error, dict) else None


def _missing_module(exc: Exception) -> str | None:
    info = getattr(exc, "info", None)  # the answer's body in both clients
    return module_missing_in(f"{json.dumps(info) if isinstance(info, dict) else info} {exc}")


def _status(exc: Exception) -> int | None:
    return getattr(exc, "status_code", None) or getattr(getattr(exc, "meta", None), "status", None)


def _reason(exc: Exception) -> str:
    text = str(exc)
    for needle, short in (("Connection refused", "connection refused"), ("timed out", "timed out"),
                          ("Name or service not known", "unknown host"), ("No route to host", "no route to host")):
        if needle in text:
            return short
    return text if len(text) < 160 else text[:160] + "..."


@_names_missing_module
def delete_by_query(es: Elasticsearch, index: str, query: dict, refresh: bool = True) -> int:
    """Delete the documents of ``index`` matching ``query``; how many were deleted (0 when no index)."""
    try:
        return int(_raw(es.delete_by_query(index=index, refresh=refresh, conflicts="proceed",
                                           **_body_kwargs({"query": query})))["deleted"])
    except NotFoundError:
        return 0
