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

The cache (``SourceCache``) is checked against the version each sub-search found (sequence number
and primary term): a source read before is served only for the very version the search found, so an
edit of a document shows in the next search that finds it, and an unchanged document is fetched
once however often it is found. Only a later page of a remembered pool (no version known) takes a
source read in the last ``ttl_s`` seconds (60 by default). A document deleted between the search and
the ``mget`` keeps an empty ``_source``. Set ``ttl_s`` to 0 to fetch every time.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from typing import Any, Callable, Mapping, Sequence

from cachetools import LRUCache
from elasticsearch import Elasticsearch

from . import es as esio
from .config import FieldMap
from .execute import DocValueSource
from .merge import Candidate

NUMERIC_TYPES = frozenset({"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float",
                           "unsigned_long"})
ISO_DATE = "strict_date_optional_time"


Seq = tuple[int, int]  # (sequence number, primary term): one version of one document in one index
SourceRef = tuple[str, "str | None", "Seq | None"]  # document id, concrete index (None: the alias), version found


class SourceCache:
    """Fetched ``_source`` dicts by (index, document id), each with the version it was read at.

    A reference that names the version its search found (the engine's sub-searches ask for every
    hit's sequence number and primary term, read from doc values) takes the cached source only when
    the versions match: an edited document is fetched again by the next search that finds it, an
    unchanged one never twice, however long ago it was read. A reference without a version (a later
    page of a remembered pool) takes a source read less than ``ttl_s`` seconds ago. At most
    ``max_entries`` sources are kept, the least recently used dropped first. ``ttl_s`` 0 turns the
    cache off. Thread-safe.

    Each source is kept as JSON text and every read decodes its own copy (about 10 µs for a page's
    source): a caller that changes a hit's ``_source``, or a list inside it, changes nothing another
    search is served.
    """

    def __init__(self, ttl_s: float = 60.0, max_entries: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: LRUCache = LRUCache(maxsize=max(1, max_entries))  # (index, id) -> (read at, seq, JSON)
        self._lock = threading.Lock()

    def get_many(self, index: str, refs: Sequence[SourceRef]) -> dict[str, dict]:
        """The cached sources, by id, of the ``refs`` still valid (see the class)."""
        if self.ttl_s <= 0:
            return {}
        oldest = self._clock() - self.ttl_s
        found: dict[str, dict] = {}
        with self._lock:
            for doc_id, concrete, seq in refs:
                entry = self._entries.get((concrete or index, doc_id))
                if entry is not None and (entry[1] == seq if seq is not None else entry[0] >= oldest):
                    found[doc_id] = entry[2]
        return {doc_id: json.loads(text) for doc_id, text in found.items()}

    def put_many(self, index: str, fetched: Mapping[str, tuple["Seq | None", dict]]) -> None:
        """Keep ``fetched`` sources of ``index`` (by id: the version read, the source)."""
        if self.ttl_s <= 0 or not fetched:
            return
        now = self._clock()
        texts = [(doc_id, seq, json.dumps(source, separators=(",", ":"))) for doc_id, (seq, source) in fetched.items()]
        with self._lock:
            for doc_id, seq, text in texts:
                self._entries[(index, doc_id)] = (now, seq, text)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


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
    sources, fetched = fetch_sources(es, index, [(pool[i].id, pool[i].index, pool[i].seq) for i in positions],
                                     cache, excludes)
    return with_sources(pool, positions, sources), fetched


def fetch_sources(es: Elasticsearch, index: str, refs: Sequence[SourceRef], cache: SourceCache,
                  excludes: list[str], request_timeout: float | None = None) -> tuple[dict[str, dict], int]:
    """The sources of ``refs`` (document id, the concrete index a hit named or None for ``index``, the
    version the search found or None): cache first, the rest in one ``mget`` per concrete index, less
    ``excludes``; a document not found is left out. Also how many were fetched.

    The ``mget`` is not real-time: it reads what searches see (the last refresh), so it never forces
    a refresh of a shard that holds recent writes (feedback updates catalog documents all the time).
    """
    sources = cache.get_many(index, refs)
    missing: dict[str, list[str]] = {}  # concrete index (as the hits named it) -> ids: an alias may point at several
    for doc_id, concrete, _ in refs:
        if doc_id not in sources:
            missing.setdefault(concrete or index, []).append(doc_id)
    timeout = {"request_timeout": request_timeout} if request_timeout else {}
    for name, wanted in missing.items():
        fetched = esio.mget_versioned(es, name, list(dict.fromkeys(wanted)), excludes=excludes, realtime=False,
                                      **timeout)
        cache.put_many(name, fetched)
        sources.update((doc_id, source) for doc_id, (_, source) in fetched.items())
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
