"""Between merge and rank: the ``_source`` of the candidates that need one, in one ``mget``.

The engine's sub-searches return ids and scores only (``_source: false``). On Elasticsearch 7.10 the
fetch phase reads, decompresses and filters every hit's stored ``_source`` (with its 64-float
``lrr_emb``), and the cold-start plan returns up to 7 x 50 hits for a 10-hit page. After the merge
the engine needs the sources of two sets of candidates only: the page (for the response) and, when
ranking features are logged, the logged head (the features read title, artist, popularity,
added_at and entity type from it). When a ranker is live its features read the first 200
candidates' sources, and one ``mget`` of that many costs more than the sub-searches fetching them:
then the engine keeps the sources in the sub-searches (docs/benchmarks.md, ``bench_client --ranker``). ``wanted_positions`` names them; ``fill_sources``
takes those it finds in a ``SourceCache`` and fetches the others in one ``mget``.

Staleness accepted: a cached source is served for ``ttl_s`` seconds after it was fetched (60 by
default), so an edit of a document's own fields (not lrr-es's internal fields, which are never in
it) can take that long to show in the page and in the features; a document deleted between the
search and the ``mget`` keeps an empty ``_source``. Set ``ttl_s`` to 0 to fetch every time.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any, Callable, Mapping, Sequence

from elasticsearch import Elasticsearch

from . import es as esio
from .config import FieldMap
from .execute import DocValueSource
from .merge import Candidate

NUMERIC_TYPES = frozenset({"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float",
                           "unsigned_long"})
ISO_DATE = "strict_date_optional_time"


class SourceCache:
    """Fetched ``_source`` dicts by document id, each usable for ``ttl_s`` seconds (thread-safe)."""

    def __init__(self, ttl_s: float = 60.0, max_entries: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def get_many(self, ids: Sequence[str]) -> dict[str, dict]:
        """The fresh cached sources among ``ids``."""
        if self.ttl_s <= 0:
            return {}
        oldest = self._clock() - self.ttl_s
        with self._lock:
            found = {i: self._entries.get(i) for i in ids}
        return {i: e[1] for i, e in found.items() if e is not None and e[0] >= oldest}

    def put_many(self, sources: dict[str, dict]) -> None:
        if self.ttl_s <= 0 or not sources:
            return
        now = self._clock()
        with self._lock:
            if len(self._entries) + len(sources) > self.max_entries:
                self._entries.clear()
            self._entries.update((i, (now, s)) for i, s in sources.items())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def wanted_positions(n: int, head: int, from_: int, size: int) -> list[int]:
    """Pool positions (before ranking) whose source a search reads: the first ``head`` and the page.

    A ranker reorders only its head, so the page's candidates lie in the head or at their own
    positions below it.
    """
    return sorted(set(range(min(head, n))) | set(range(min(from_, n), min(from_ + size, n))))


def with_sources(pool: Sequence[Candidate], positions: Sequence[int], sources: dict[str, dict]) -> tuple[Candidate, ...]:
    """``pool`` with the candidates at ``positions`` carrying their source (empty when not found); pure."""
    out = list(pool)
    for i in positions:
        out[i] = replace(out[i], source=sources.get(out[i].id, {}))
    return tuple(out)


def fill_sources(es: Elasticsearch, index: str, pool: Sequence[Candidate], positions: Sequence[int],
                 cache: SourceCache, excludes: list[str]) -> tuple[tuple[Candidate, ...], int]:
    """``pool`` with sources at ``positions`` (see fetch_sources), and how many were fetched."""
    sources, fetched = fetch_sources(es, index, [(pool[i].id, pool[i].index) for i in positions], cache, excludes)
    return with_sources(pool, positions, sources), fetched


def fetch_sources(es: Elasticsearch, index: str, refs: Sequence[tuple[str, str | None]], cache: SourceCache,
                  excludes: list[str], request_timeout: float | None = None) -> tuple[dict[str, dict], int]:
    """The sources of ``refs`` (document id, and the concrete index a hit named or None for ``index``):
    cache first, the rest in one ``mget`` per concrete index, less ``excludes``; a document not found
    is left out. Also how many were fetched."""
    sources = cache.get_many(list(dict.fromkeys(doc_id for doc_id, _ in refs)))
    missing: dict[str, list[str]] = {}  # concrete index (as the hits named it) -> ids: an alias may point at several
    for doc_id, concrete in refs:
        if doc_id not in sources:
            missing.setdefault(concrete or index, []).append(doc_id)
    timeout = {"request_timeout": request_timeout} if request_timeout else {}
    for name, wanted in missing.items():
        fetched = esio.mget_sources(es, name, list(dict.fromkeys(wanted)), excludes=excludes, **timeout)
        cache.put_many(fetched)
        sources.update(fetched)
    return sources, sum(len(set(w)) for w in missing.values())


def feature_doc_values(properties: Mapping[str, Any], fields: FieldMap) -> DocValueSource | None:
    """Where the ranking features' document fields (lrr_es.rank.features: title, artist, popularity,
    added_at, entity type) can be read from doc values in an index with these mapping ``properties``;
    None when one of them has none (then the sub-searches carry their ``_source``); pure.

    Title and artist come from a keyword sub-field (the catalog template's ``.keyword``, case and
    accents folded by its normalizer, which the features fold anyway), popularity from the field
    itself when numeric or from a numeric sub-field of a ``rank_feature`` (the template's
    ``popularity.value``), dates as ISO text. A role field the index does not map is left out: no
    source holds it either.
    """
    title = next((f for f in fields.title if "." not in f), None)
    artist = next((f for f in fields.artist if "." not in f), None)
    roles = ((title, True, _keyword_of), (artist, False, _keyword_of), (fields.popularity, True, _number_of),
             (fields.added_at, True, _date_of), (fields.entity_type, True, _exact_keyword_of))
    columns, formats = [], []
    for key, single, reader in roles:
        if not key or key not in properties:
            continue
        name = reader(key, properties[key])
        if name is None:
            return None
        columns.append((name, key, single))
        if reader is _date_of:
            formats.append((name, ISO_DATE))
    return DocValueSource(tuple(columns), tuple(formats))


def _has_doc_values(mapping: Mapping[str, Any]) -> bool:
    return mapping.get("doc_values", True) is not False


def _keyword_of(key: str, mapping: Mapping[str, Any]) -> str | None:
    if mapping.get("type") == "keyword" and _has_doc_values(mapping):
        return key
    return next((f"{key}.{sub}" for sub, m in (mapping.get("fields") or {}).items()
                 if m.get("type") == "keyword" and _has_doc_values(m)), None)


def _exact_keyword_of(key: str, mapping: Mapping[str, Any]) -> str | None:
    """A keyword with no normalizer: its doc values are the source's own strings."""
    exact = mapping.get("type") == "keyword" and not mapping.get("normalizer") and _has_doc_values(mapping)
    return key if exact else None


def _number_of(key: str, mapping: Mapping[str, Any]) -> str | None:
    if mapping.get("type") in NUMERIC_TYPES and mapping.get("type") != "scaled_float" and _has_doc_values(mapping):
        return key
    return next((f"{key}.{sub}" for sub, m in (mapping.get("fields") or {}).items()
                 if m.get("type") in ("double", "long", "integer", "short", "byte") and _has_doc_values(m)), None)


def _date_of(key: str, mapping: Mapping[str, Any]) -> str | None:
    return key if mapping.get("type") in ("date", "date_nanos") and _has_doc_values(mapping) else None
