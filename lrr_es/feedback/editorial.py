"""Editorial control of the Q2E memory: show, pin, unpin, remove, decay (``lrr-es q2e ...``, the admin panel).

Keys are always computed from query text the way searches compute them (``parse_query``), and
reach the stored scripts only through params. :func:`apply` is how people make these changes (the
CLI and the admin panel): the change and its record in the audit trail (lrr_es.audit).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from elasticsearch import Elasticsearch

from .. import es as esio
from ..audit import Actor, audited
from ..errors import EsUnavailableError, QueryError
from ..parse import parse_query
from ..q2e import MAX_SCORE, is_key
from ..templates import script_id

RETRY_ON_CONFLICT = 5  # as many as the feedback writer's own Q2E updates use


@dataclass(frozen=True)
class KeyScore:
    """One Q2E entry of one document."""

    doc_id: str
    key: str
    score: float
    pinned: bool
    seeded: bool


def query_key(text: str) -> str:
    """The Q2E key a search for ``text`` uses (QueryError for empty text)."""
    return parse_query(text).key


def show_doc(es: Elasticsearch, index: str, doc_id: str) -> list[KeyScore]:
    """Every Q2E key of one document, strongest first. QueryError when the document does not exist."""
    source = esio.get_source(es, index, doc_id)
    if source is None:
        raise QueryError(f"no document {doc_id!r} in {index}")
    return _entries(doc_id, source)


def show_query(es: Elasticsearch, index: str, text: str, size: int = 20) -> list[KeyScore]:
    """The documents that hold the key of ``text``, with their score for it, strongest first."""
    key = query_key(text)
    # saturation is monotonic in the stored score, so the top hits are the strongest holders of the key
    body = {"size": size, "query": {"rank_feature": {"field": f"q2e.{key}", "saturation": {"pivot": 1.0}}},
            "_source": ["q2e", "q2e_pinned", "q2e_seeded"]}
    hits = esio.search(es, index, body)["hits"]["hits"]
    out = [e for h in hits for e in _entries(h["_id"], h.get("_source", {})) if e.key == key]
    return sorted(out, key=lambda e: (-e.score, e.doc_id))


def pin(es: Elasticsearch, index: str, doc_id: str, text: str, score: float | None = None) -> str:
    """Pin the key of ``text`` on a document (at ``score``, else its current score or 1.0); the result."""
    _check_score(score)
    return _edit(es, index, doc_id, "pin", query_key(text), score)


def _check_score(score: float | None) -> None:
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))
                              or not math.isfinite(score) or not 0 < score <= MAX_SCORE):
        raise QueryError(f"score must be a number in (0, {MAX_SCORE:g}], got {score!r}")


def unpin(es: Elasticsearch, index: str, doc_id: str, text: str) -> str:
    """Let the key of ``text`` move and decay again on a document (its score is kept)."""
    return _edit(es, index, doc_id, "unpin", query_key(text))


def remove(es: Elasticsearch, index: str, doc_id: str, text: str) -> str:
    """Remove the key of ``text`` from a document (pinned or not)."""
    return _edit(es, index, doc_id, "remove", query_key(text))


EDITS = ("pin", "unpin", "remove")


def apply(es: Elasticsearch, actor: Actor, op: str, index: str, doc_id: str, text: str | None = None,
          score: float | None = None, key: str | None = None) -> str:
    """Pin, unpin or remove (``op``) a key on a document, recorded in the audit trail; the update's result.

    The key is that of the query ``text``, or ``key`` itself as stored (a long query's hashed key has
    no text that gives it back).
    """
    if op not in EDITS:
        raise QueryError(f"unknown Q2E edit {op!r} (known: {', '.join(EDITS)})")
    if (text is None) == (key is None):
        raise QueryError("give the query text or the key, not both")
    if key is not None and not is_key(key):
        raise QueryError(f"{key[:100]!r} is not a Q2E key")
    key = query_key(text) if key is None else key
    if op == "pin":
        _check_score(score)
    details = {"key": key, "doc_id": doc_id, **({"query": text} if text is not None else {}),
               **({"score": score} if score is not None else {})}
    return audited(es, actor, f"q2e.{op}", index, f"{doc_id} {key}", details,
                   lambda: _edit(es, index, doc_id, op, key, score if op == "pin" else None))


def decay(es: Elasticsearch, index: str, factor: float = 0.5) -> int:
    """Multiply every unpinned Q2E score of ``index`` by ``factor`` (0 < factor <= 1); documents updated."""
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor <= 1:
        raise QueryError(f"factor must be a number in (0, 1], got {factor!r}")
    body = {"query": {"match_all": {}},
            "script": {"id": script_id("q2e-decay"), "params": {"factor": float(factor)}}}
    return int(esio.update_by_query(es, index, body).get("updated", 0))


def _edit(es: Elasticsearch, index: str, doc_id: str, op: str, key: str, score: float | None = None) -> str:
    script = {"id": script_id("q2e-edit"), "params": {"op": op, "key": key, "score": score}}
    try:  # the feedback writer may update the same document meanwhile: Elasticsearch re-applies the edit
        return esio.update(es, index, doc_id, {"script": script}, refresh="wait_for",
                           retry_on_conflict=RETRY_ON_CONFLICT)["result"]
    except esio.NotFoundError:
        raise QueryError(f"no document {doc_id!r} in {index}") from None
    except esio.ConflictError:
        raise EsUnavailableError(f"{op} of {key!r} on {index}/{doc_id}: the document kept changing under "
                                 f"{RETRY_ON_CONFLICT} retries (heavy feedback on it); try again") from None


def _entries(doc_id: str, source: dict) -> list[KeyScore]:
    pinned, seeded = set(_as_list(source.get("q2e_pinned"))), set(_as_list(source.get("q2e_seeded")))
    q2e = source.get("q2e") or {}
    entries = [KeyScore(doc_id, k, float(v), k in pinned, k in seeded) for k, v in q2e.items()]
    return sorted(entries, key=lambda e: (-e.score, e.key))


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else ([] if value is None else [value])
