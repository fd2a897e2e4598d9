"""Bandit policies in lrr-models: every published version kept, one of them live; serving reads the live one.

Each published policy is its own document ``policy-<alias>-v<N>`` (kind "policy-version"): the
policy's JSON state, base64-encoded, with the learner's params, metrics and training window. The
live policy is document ``policy-<alias>`` (kind "policy"): a copy of the live version, artifact
included, so serving keeps reading one document and its refresh stays one cheap GET of the live
version number (``policy_version``, no artifact) until it changes.

- ``save_policy`` (the learner) stores the next version and makes it live.
- ``publish`` makes any stored version live; the version live before it is remembered.
- ``rollback`` makes live again the version that was live before the current one (a stack:
  rolling back twice goes two publications back).

The live document's ``params.lifecycle`` holds that stack (``previous``), and when and how the
version became live. A learner run learns on the live version: after a rollback it goes on from the
restored version's high-water mark. A document written by an older lrr-es (the live copy only) is
kept as its version document at the next save, publish or rollback. A damaged or foreign document
raises ModelError; serving then keeps its current policy (see LrrEngine).
"""
from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from elasticsearch import Elasticsearch

from .. import es as esio
from ..errors import ModelError
from ..models import stored_version
from ..names import MODELS_INDEX
from . import Policy, policy_from_state

KIND = "policy"  # the live copy
VERSION_KIND = "policy-version"  # one stored version
MAX_PREVIOUS = 50  # versions the rollback stack remembers


@dataclass(frozen=True)
class PolicyInfo:
    """One stored policy version, without its artifact; ``status`` is "live" or "stored"."""

    index: str
    version: int
    status: str
    created_at: int
    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    training_window: Mapping[str, Any] = field(default_factory=dict)

    @property
    def policy(self) -> str:
        """The state's version string (``<name>-s<seed>-u<updates>``) or, before it was kept, the policy's class."""
        return str(self.params.get("state_version") or self.params.get("policy") or "?")


def model_id(alias: str) -> str:
    """The live policy's document."""
    return f"policy-{alias}"


def version_id(alias: str, version: int) -> str:
    """The document of one stored version."""
    return f"policy-{alias}-v{version}"


def save_policy(es: Elasticsearch, alias: str, policy: Policy, metrics: dict[str, Any] | None = None,
                params: dict[str, Any] | None = None, training_window: dict[str, Any] | None = None) -> int:
    """Store ``policy`` for ``alias`` as the next version and make it live; returns that version.

    ``params`` are kept beside the policy's own (the learner keeps its high-water mark there),
    ``training_window`` says which decisions the version learned from.
    """
    live = _live_source(es, alias)
    _keep(es, alias, live)
    version = max(_newest_version(es, alias), int((live or {}).get("version", 0))) + 1
    artifact = base64.b64encode(json.dumps(policy.to_state(), separators=(",", ":")).encode()).decode("ascii")
    source = {"model_id": version_id(alias, version), "kind": VERSION_KIND, "index": alias, "version": version,
              "status": "stored", "created_at": int(time.time() * 1000),
              "params": {**(params or {}), "policy": type(policy).__name__, "state_version": policy.version},
              "metrics": metrics or {}, "training_window": training_window or {}, "artifact": artifact}
    esio.put_document(es, MODELS_INDEX, version_id(alias, version), source, refresh="wait_for")
    _make_live(es, alias, source, live, "learned")
    return version


def publish(es: Elasticsearch, alias: str, version: int, how: str = "published") -> PolicyInfo:
    """Make stored ``version`` the live policy of ``alias`` (the live one goes on the rollback stack);
    the new live record. Serving picks it up at its next refresh."""
    live = _live_source(es, alias)
    _keep(es, alias, live)
    if live is not None and int(live.get("version", 0)) == version:
        return _info(live, "live")
    _make_live(es, alias, _version_source(es, alias, version), live, how)
    return policy_info(es, alias)


def rollback(es: Elasticsearch, alias: str) -> PolicyInfo:
    """Make live again the version that was live before the current one; ModelError when there is none."""
    live = _live_source(es, alias)
    if live is None:
        raise ModelError(f"no live policy for {alias}: nothing to roll back")
    _keep(es, alias, live)
    previous = list(_lifecycle(live).get("previous") or [])
    if not previous:
        raise ModelError(f"policy {alias} v{live.get('version')} is the first that was live: "
                         f"no earlier version to roll back to")
    target = _version_source(es, alias, int(previous[-1]))
    _write_live(es, alias, target, {"previous": previous[:-1], "live_since": int(time.time() * 1000),
                                    "how": "rolled back", "replaced": int(live.get("version", 0))})
    return policy_info(es, alias)


def list_policies(es: Elasticsearch, alias: str) -> list[PolicyInfo]:
    """Every stored version of ``alias``, newest first, the live one marked; [] when none was stored."""
    live = _live_source(es, alias)
    live_version = int(live.get("version", 0)) if live else None
    body = {"size": 1000, "_source": {"excludes": ["artifact"]}, "sort": [{"version": "desc"}],
            "query": {"bool": {"filter": [{"term": {"kind": VERSION_KIND}}, {"term": {"index": alias}}]}}}
    try:
        hits = esio.search(es, MODELS_INDEX, body)["hits"]["hits"]
    except esio.NotFoundError:
        return []
    stored = [_info(h["_source"], "live" if h["_source"].get("version") == live_version else "stored") for h in hits]
    if live is not None and all(p.version != live_version for p in stored):  # written by an older lrr-es
        stored = sorted([_info(live, "live"), *stored], key=lambda p: -p.version)
    return stored


def policy_version(es: Elasticsearch, alias: str) -> int:
    """The live version of the policy of ``alias`` (serving's cheap change check); 0 when none is live."""
    return stored_version(es, model_id(alias))


def policy_record(es: Elasticsearch, alias: str) -> dict[str, Any] | None:
    """The live policy document of ``alias`` without its artifact (version, params, metrics), or None."""
    return _live_source(es, alias)


def policy_info(es: Elasticsearch, alias: str) -> PolicyInfo | None:
    """The live version's record, or None."""
    live = _live_source(es, alias)
    return None if live is None else _info(live, "live")


def load_policy(es: Elasticsearch, alias: str) -> Policy | None:
    """The live policy of ``alias``, or None when none was published."""
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


def delete_policies(es: Elasticsearch, alias: str) -> int:
    """Delete the live policy and every stored version of ``alias`` (tests, a removed index); how many.
    The live document goes by its id too: a damaged one may lack the fields the query matches."""
    if not esio.index_exists(es, MODELS_INDEX):
        return 0
    return esio.delete_by_query(es, MODELS_INDEX, {"bool": {"minimum_should_match": 1, "should": [
        {"ids": {"values": [model_id(alias)]}},
        {"bool": {"filter": [{"terms": {"kind": [KIND, VERSION_KIND]}}, {"term": {"index": alias}}]}}]}})


def _make_live(es: Elasticsearch, alias: str, source: Mapping[str, Any], live: Mapping[str, Any] | None,
               how: str) -> None:
    previous = list(_lifecycle(live).get("previous") or []) if live else []
    if live is not None:
        previous.append(int(live.get("version", 0)))
    _write_live(es, alias, source, {"previous": previous[-MAX_PREVIOUS:], "live_since": int(time.time() * 1000),
                                    "how": how})


def _write_live(es: Elasticsearch, alias: str, source: Mapping[str, Any], lifecycle: Mapping[str, Any]) -> None:
    params = {k: v for k, v in (source.get("params") or {}).items() if k != "lifecycle"}
    esio.put_document(es, MODELS_INDEX, model_id(alias), {
        **source, "model_id": model_id(alias), "kind": KIND, "status": "live",
        "params": {**params, "lifecycle": dict(lifecycle)}}, refresh="wait_for")


def _keep(es: Elasticsearch, alias: str, live: Mapping[str, Any] | None) -> None:
    """Store the live policy as its version document when an older lrr-es wrote only the live copy."""
    if live is None or not live.get("version"):
        return
    doc_id = version_id(alias, int(live["version"]))
    if esio.get_document(es, MODELS_INDEX, doc_id, source_excludes=["artifact"]) is not None:
        return
    found = esio.get_document(es, MODELS_INDEX, model_id(alias)) or {}
    source = dict(found.get("_source") or {})
    params = {k: v for k, v in (source.get("params") or {}).items() if k != "lifecycle"}
    esio.put_document(es, MODELS_INDEX, doc_id, {**source, "model_id": doc_id, "kind": VERSION_KIND,
                                                 "status": "stored", "params": params}, refresh="wait_for")


def _live_source(es: Elasticsearch, alias: str) -> dict[str, Any] | None:
    found = esio.get_document(es, MODELS_INDEX, model_id(alias), source_excludes=["artifact"])
    return None if found is None else (found.get("_source") or {})


def _version_source(es: Elasticsearch, alias: str, version: int) -> dict[str, Any]:
    found = esio.get_document(es, MODELS_INDEX, version_id(alias, version))
    source = (found or {}).get("_source") or {}
    if source.get("kind") != VERSION_KIND or "artifact" not in source:
        known = ", ".join(str(p.version) for p in list_policies(es, alias)) or "none"
        raise ModelError(f"no stored policy version {version!r} for {alias} (stored versions: {known})")
    return source


def _newest_version(es: Elasticsearch, alias: str) -> int:
    body = {"size": 1, "_source": ["version"], "sort": [{"version": "desc"}],
            "query": {"bool": {"filter": [{"term": {"kind": VERSION_KIND}}, {"term": {"index": alias}}]}}}
    try:
        hits = esio.search(es, MODELS_INDEX, body)["hits"]["hits"]
    except esio.NotFoundError:
        return 0
    return int(hits[0]["_source"].get("version", 0)) if hits else 0


def _lifecycle(source: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return ((source or {}).get("params") or {}).get("lifecycle") or {}


def _info(source: Mapping[str, Any], status: str) -> PolicyInfo:
    return PolicyInfo(str(source.get("index")), int(source.get("version", 0)), status, int(source.get("created_at", 0)),
                      source.get("params") or {}, source.get("metrics") or {}, source.get("training_window") or {})
