"""The audit trail: every change made by hand (admin panel, ``lrr-es q2e ...``) in ``lrr-audit``.

A record says who (``user``, and ``via``: admin or cli), when, what (``action`` on ``index`` /
``target`` with ``details``) and how it ended (``result``). :func:`audited` runs a change and
records it; it refuses to run the change at all when the audit index does not exist yet (``lrr-es
migrate`` creates it), so that no change goes unrecorded and the index never gets a guessed
(dynamic) mapping.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping, TypeVar

from elasticsearch import Elasticsearch

from . import es as esio
from .errors import MigrationError
from .names import AUDIT_INDEX

T = TypeVar("T")


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a user name and the tool they used (``admin``, ``cli``)."""

    user: str
    via: str


@dataclass(frozen=True)
class AuditRecord:
    """One logged change."""

    timestamp: int  # epoch ms
    user: str
    via: str
    action: str
    index: str
    target: str
    details: Mapping[str, Any]
    result: str


def audit_document(actor: Actor, action: str, index: str, target: str, details: Mapping[str, Any],
                   result: str, timestamp_ms: int | None = None) -> dict:
    """The lrr-audit document of one change (pure)."""
    return {"timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
            "user": actor.user, "via": actor.via, "action": action, "index": index, "target": target,
            "details": dict(details), "result": result[:1024]}


def require_audit_index(es: Elasticsearch) -> None:
    """MigrationError when ``lrr-audit`` does not exist (changes would go unrecorded)."""
    if not esio.index_exists(es, AUDIT_INDEX):
        raise MigrationError(f"the audit index {AUDIT_INDEX} does not exist: run `lrr-es migrate` first "
                             f"(no change is made without an audit record)")


def audited(es: Elasticsearch, actor: Actor, action: str, index: str, target: str,
            details: Mapping[str, Any], change: Callable[[], T], describe: Callable[[T], str] = str) -> T:
    """Run ``change`` and record it with ``describe(its return value)`` as the result (when it fails, the
    error is the result); its return value."""
    require_audit_index(es)
    try:
        outcome = change()
    except Exception as exc:
        _write(es, audit_document(actor, action, index, target, details, f"error: {exc}"))
        raise
    _write(es, audit_document(actor, action, index, target, details, describe(outcome)))
    return outcome


def recent_changes(es: Elasticsearch, index: str | None = None, size: int = 50) -> list[AuditRecord]:
    """The latest changes, newest first (of one configured index, or all)."""
    if not esio.index_exists(es, AUDIT_INDEX):
        return []
    query = {"term": {"index": index}} if index else {"match_all": {}}
    body = {"size": size, "query": query, "sort": [{"timestamp": "desc"}]}
    hits = esio.search(es, AUDIT_INDEX, body)["hits"]["hits"]
    return [AuditRecord(**{f: h["_source"].get(f) for f in AuditRecord.__dataclass_fields__}) for h in hits]


def _write(es: Elasticsearch, document: dict) -> None:
    esio.put_document(es, AUDIT_INDEX, uuid.uuid4().hex, document, refresh="wait_for")
