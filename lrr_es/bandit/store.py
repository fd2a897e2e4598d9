"""Bandit policies in lrr-models: the learner publishes versions, serving processes read them.

A policy is stored as document ``policy-<alias>`` (kind "policy") whose artifact is the policy's
JSON state, base64-encoded; ``version`` counts publications. A damaged or foreign document raises
ModelError; serving then keeps its current policy (see LrrEngine).
"""
from __future__ import annotations

import base64
import json
import time
from typing import Any

from elasticsearch import Elasticsearch

from .. import es as esio
from ..errors import ModelError
from ..models import stored_version
from ..names import MODELS_INDEX
from . import Policy, policy_from_state

KIND = "policy"


def model_id(alias: str) -> str:
    return f"policy-{alias}"


def save_policy(es: Elasticsearch, alias: str, policy: Policy, metrics: dict[str, Any] | None = None,
                params: dict[str, Any] | None = None, training_window: dict[str, Any] | None = None) -> int:
    """Publish ``policy`` for ``alias`` as the next version; returns that version.

    ``params`` are kept beside the policy's own (the learner keeps its high-water mark there),
    ``training_window`` says which decisions the version learned from.
    """
    version = stored_version(es, model_id(alias)) + 1
    artifact = base64.b64encode(json.dumps(policy.to_state(), separators=(",", ":")).encode()).decode("ascii")
    esio.put_document(es, MODELS_INDEX, model_id(alias), {
        "model_id": model_id(alias), "kind": KIND, "index": alias, "version": version, "status": "live",
        "created_at": int(time.time() * 1000),
        "params": {**(params or {}), "policy": type(policy).__name__, "state_version": policy.version},
        "metrics": metrics or {}, "training_window": training_window or {}, "artifact": artifact,
    }, refresh="wait_for")
    return version


def policy_version(es: Elasticsearch, alias: str) -> int:
    """The published version of the policy of ``alias``; 0 when none was published."""
    return stored_version(es, model_id(alias))


def policy_record(es: Elasticsearch, alias: str) -> dict[str, Any] | None:
    """The published policy document of ``alias`` without its artifact (version, params, metrics), or None."""
    found = esio.get_document(es, MODELS_INDEX, model_id(alias), source_excludes=["artifact"])
    return None if found is None else (found.get("_source") or {})


def load_policy(es: Elasticsearch, alias: str) -> Policy | None:
    """The published policy of ``alias``, or None when none was published."""
    found = esio.get_document(es, MODELS_INDEX, model_id(alias))
    if found is None:
        return None
    source = found.get("_source") or {}
    if source.get("kind") != KIND:
        raise ModelError(f"lrr-models document {model_id(alias)!r} is not a policy (kind {source.get('kind')!r})")
    try:
        state = json.loads(base64.b64decode(source["artifact"], validate=True))
    except (KeyError, ValueError) as exc:
        raise ModelError(f"policy {model_id(alias)} in {MODELS_INDEX} is damaged: {exc}") from None
    return policy_from_state(state)
