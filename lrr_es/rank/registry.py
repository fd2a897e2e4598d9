"""The ranker registry in lrr-models: versions, status, metrics; serving reads the live version.

Each saved ranker is one document ``ranker-<alias>-v<version>`` (kind "ranker") holding the model
in XGBoost's UBJSON format (base64), the feature schema id (``feature_schema``) and, in ``params``,
the feature names, the feature version, the estimator parameters and the lifecycle (when it was
promoted, and which version was live before it). Status is one of STATUSES:

- ``save_ranker`` stores a new version as a candidate; a model never becomes live by being saved.
- ``promote`` makes one version live and retires the one that was live, remembering it.
- ``rollback`` retires the live version and makes the one live before it live again (a stack:
  rolling back twice goes two promotions back).
- ``promote_if_better`` promotes a candidate only when its holdout metric beats the live one's.
- ``start_interleaving`` marks a candidate as the one serving compares with the live ranker by
  team-draft interleaving (lrr_es.rank.interleave) on ``ranker.interleave_share`` of the searches
  (``lifecycle.interleave_since``; one per alias: starting one stops the others,
  ``lifecycle.interleave_stopped``); ``record_interleaving`` stores its latest result in
  ``params.interleaving``. It stops being interleaved when it is promoted or retired.

The two writes of a promotion are not atomic; if a process dies between them, two versions may be
live for a moment, and ``load_live`` then serves the most recently promoted one.
"""
from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from elasticsearch import Elasticsearch

from .. import es as esio
from ..errors import ModelError
from ..models import ModelCache
from ..names import MODELS_INDEX
from .features import FEATURE_VERSION, current_names
from .model import LtrRanker

KIND = "ranker"
STATUSES = ("candidate", "live", "retired")


@dataclass(frozen=True)
class ModelInfo:
    """One stored ranker version, without its artifact."""

    model_id: str
    index: str
    version: int
    status: str
    created_at: int
    feature_schema: str | None
    metrics: Mapping[str, Any] = field(default_factory=dict)
    training_window: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def lifecycle(self) -> Mapping[str, Any]:
        return self.params.get("lifecycle") or {}


@dataclass(frozen=True)
class LiveRanker:
    """The live ranker of an alias as serving loads it."""

    index: str
    version: int
    schema_id: str | None
    feature_names: tuple[str, ...] | None
    ranker: LtrRanker


def model_id(alias: str, version: int) -> str:
    return f"ranker-{alias}-v{version}"


def save_ranker(es: Elasticsearch, alias: str, ranker: LtrRanker, metrics: Mapping[str, Any] | None = None,
                status: str = "candidate", training_window: Mapping[str, Any] | None = None) -> int:
    """Store ``ranker`` for ``alias`` as the next version with ``status`` (candidate or retired); the version."""
    if status not in ("candidate", "retired"):
        raise ModelError(f"a ranker is saved as 'candidate' or 'retired', got status {status!r}; "
                         f"use promote() to make a version live")
    if not ranker.feature_names_in_:
        raise ModelError("the ranker was fitted without feature_names: serving could not check its schema")
    artifact = base64.b64encode(ranker.to_bytes()).decode("ascii")
    version = max((m.version for m in list_models(es, alias)), default=0) + 1
    esio.put_document(es, MODELS_INDEX, model_id(alias, version), {
        "model_id": model_id(alias, version), "kind": KIND, "index": alias, "version": version, "status": status,
        "created_at": int(time.time() * 1000), "feature_schema": ranker.schema_id,
        "training_window": dict(training_window or {}), "metrics": dict(metrics or {}),
        "params": {"ranker": ranker.get_params(), "feature_names": list(ranker.feature_names_in_),
                   "feature_version": FEATURE_VERSION, "lifecycle": {}},
        "artifact": artifact,
    }, refresh=True)
    return version


def list_models(es: Elasticsearch, alias: str | None = None) -> list[ModelInfo]:
    """The stored rankers (of ``alias``, or all), newest version first; [] when lrr-models does not exist."""
    filters: list[dict] = [{"term": {"kind": KIND}}]
    if alias is not None:
        filters.append({"term": {"index": alias}})
    body = {"size": 1000, "query": {"bool": {"filter": filters}}, "_source": {"excludes": ["artifact"]},
            "sort": [{"index": "asc"}, {"version": "desc"}]}
    try:
        hits = esio.search(es, MODELS_INDEX, body)["hits"]["hits"]
    except esio.NotFoundError:
        return []
    return [_info(h["_source"]) for h in hits]


def get_model(es: Elasticsearch, alias: str, version: int) -> ModelInfo:
    """One stored version; ModelError naming it when it does not exist."""
    found = esio.get_document(es, MODELS_INDEX, model_id(alias, version), source_excludes=["artifact"])
    if found is None or (found.get("_source") or {}).get("kind") != KIND:
        known = ", ".join(str(m.version) for m in list_models(es, alias)) or "none"
        raise ModelError(f"no ranker version {version!r} for {alias} (stored versions: {known})")
    return _info(found["_source"])


def live_model(es: Elasticsearch, alias: str) -> ModelInfo | None:
    """The live version's record (the most recently promoted if several), or None."""
    live = [m for m in list_models(es, alias) if m.status == "live"]
    return max(live, key=lambda m: (m.lifecycle.get("promoted_at", 0), m.version)) if live else None


def promote(es: Elasticsearch, alias: str, version: int) -> ModelInfo:
    """Make ``version`` the live ranker of ``alias``; the previously live one is retired. The new record."""
    target = get_model(es, alias, version)
    current = live_model(es, alias)
    if current is not None and current.version == target.version:
        return target
    previous = current.version if current is not None else None
    _set(es, target, "live", promoted_at=int(time.time() * 1000), previous=previous)
    if current is not None:
        _set(es, current, "retired", retired_at=int(time.time() * 1000))
    return get_model(es, alias, version)


def rollback(es: Elasticsearch, alias: str) -> ModelInfo:
    """Retire the live ranker of ``alias`` and make live the version that was live before it.

    ModelError when nothing is live or the live version was the first one promoted (then retire it
    with ``retire`` to fall back to RRF).
    """
    current = live_model(es, alias)
    if current is None:
        raise ModelError(f"no live ranker for {alias}: nothing to roll back")
    previous = current.lifecycle.get("previous")
    if previous is None:
        raise ModelError(f"ranker {alias} v{current.version} was the first promoted: no earlier version to roll back to")
    target = get_model(es, alias, int(previous))
    _set(es, target, "live", restored_at=int(time.time() * 1000))
    _set(es, current, "retired", retired_at=int(time.time() * 1000))
    return get_model(es, alias, target.version)


def retire(es: Elasticsearch, alias: str, version: int) -> ModelInfo:
    """Retire one version (a live one: serving falls back to RRF until another is promoted)."""
    target = get_model(es, alias, version)
    _set(es, target, "retired", retired_at=int(time.time() * 1000))
    return get_model(es, alias, version)


def promote_if_better(es: Elasticsearch, alias: str, version: int, metric: str = "ndcg@10",
                      min_gain: float = 0.0) -> bool:
    """Promote ``version`` when its ``metrics[metric]`` beats the live version's by more than ``min_gain``.

    The learner must have measured both on the same holdout (the candidate's metrics may carry the
    live model's figure as ``live_<metric>``, which is then preferred). True when promoted.
    """
    candidate = get_model(es, alias, version)
    ours = _metric(candidate, metric)
    current = live_model(es, alias)
    if current is not None and current.version != version:
        theirs = candidate.metrics.get(f"live_{metric}", current.metrics.get(metric))
        if isinstance(theirs, (int, float)) and not ours > float(theirs) + min_gain:
            return False
    promote(es, alias, version)
    return True


def start_interleaving(es: Elasticsearch, alias: str, version: int) -> ModelInfo:
    """Interleave candidate ``version`` with the live ranker from now on (the one interleaved before stops)."""
    target = get_model(es, alias, version)
    if target.status != "candidate":
        raise ModelError(f"ranker {alias} v{version} is {target.status}: only a candidate is interleaved")
    now = int(time.time() * 1000)
    for other in list_models(es, alias):
        if other.version != version and on_trial(other):
            _set(es, other, other.status, interleave_stopped=now)
    _set(es, target, "candidate", interleave_since=now)
    return get_model(es, alias, version)


def interleaved_model(es: Elasticsearch, alias: str) -> ModelInfo | None:
    """The candidate serving interleaves with the live ranker of ``alias`` (the newest marked), or None."""
    marked = [m for m in list_models(es, alias) if m.status == "candidate" and on_trial(m)]
    return max(marked, key=lambda m: m.version) if marked else None


def record_interleaving(es: Elasticsearch, alias: str, version: int, figures: Mapping[str, Any]) -> ModelInfo:
    """Store the interleaving result ``figures`` (InterleaveResult.to_dict) with ranker ``version``."""
    info = get_model(es, alias, version)
    params = {**info.params, "interleaving": {**figures, "judged_at": int(time.time() * 1000)}}
    esio.update(es, MODELS_INDEX, info.model_id, {"doc": {"params": params}}, refresh=True)
    return get_model(es, alias, version)


def interleaved_version(es: Elasticsearch, alias: str) -> tuple[int, int] | None:
    """(version, created_at) of the interleaved candidate of ``alias``, or None."""
    return _version_of(interleaved_model(es, alias))


def read_interleaved(es: Elasticsearch, alias: str) -> LiveRanker | None:
    """The interleaved candidate of ``alias`` read and decoded (None when there is none)."""
    return _serving(es, alias, interleaved_model(es, alias))


def on_trial(info: ModelInfo) -> bool:
    """Whether ``info`` is the candidate serving interleaves (marked, not stopped, still a candidate)."""
    return info.status == "candidate" and "interleave_since" in info.lifecycle and "interleave_stopped" not in info.lifecycle


def live_version(es: Elasticsearch, alias: str) -> tuple[int, int] | None:
    """(version, created_at) of the live ranker of ``alias`` (a re-saved version differs by its
    creation time), or None when none is live."""
    return _version_of(live_model(es, alias))


def read_live(es: Elasticsearch, alias: str) -> LiveRanker | None:
    """The live ranker of ``alias`` read and decoded (None when none is live); ModelError when damaged."""
    return _serving(es, alias, live_model(es, alias))


def _version_of(info: ModelInfo | None) -> tuple[int, int] | None:
    """(version, created_at) of ``info``: what a serving cache compares (a re-saved version differs by its
    creation time)."""
    return None if info is None else (info.version, info.created_at)


def _serving(es: Elasticsearch, alias: str, info: ModelInfo | None) -> LiveRanker | None:
    """The ranker ``info`` names, read and decoded as serving uses it (None for no model)."""
    if info is None:
        return None
    ranker = _decoded(es, info.model_id)
    return LiveRanker(alias, info.version, ranker.schema_id, current_names(ranker.feature_names_in_), ranker)


_LIVE = ModelCache(read_live, live_version, ttl=0)


def load_live(es: Elasticsearch, alias: str) -> LiveRanker | None:
    """The live ranker of ``alias`` (None when none is live), decoded once per version per process.

    A damaged artifact raises ModelError; serving then ranks with RRF and says so.
    """
    return _LIVE.get(es, alias)


def load_ranker(es: Elasticsearch, alias: str, version: int) -> LtrRanker:
    """The stored ranker ``version`` of ``alias``, decoded (ModelError when missing or damaged)."""
    return _decoded(es, get_model(es, alias, version).model_id)


def _decoded(es: Elasticsearch, doc_id: str) -> LtrRanker:
    found = esio.get_document(es, MODELS_INDEX, doc_id)
    source = (found or {}).get("_source") or {}
    try:
        return LtrRanker.from_bytes(base64.b64decode(source["artifact"], validate=True))
    except (KeyError, ValueError, TypeError) as exc:
        raise ModelError(f"ranker {doc_id} in {MODELS_INDEX} is damaged: {str(exc)[:200]}") from None


def delete_models(es: Elasticsearch, alias: str) -> int:
    """Delete every stored ranker of ``alias`` (tests, a removed index); how many."""
    _LIVE.forget(alias)
    return esio.delete_by_query(es, MODELS_INDEX, {"bool": {"filter": [{"term": {"kind": KIND}},
                                                                       {"term": {"index": alias}}]}})


def _set(es: Elasticsearch, info: ModelInfo, status: str, **lifecycle: Any) -> None:
    params = dict(info.params)
    params["lifecycle"] = {**info.lifecycle, **lifecycle}
    esio.update(es, MODELS_INDEX, info.model_id, {"doc": {"status": status, "params": params}}, refresh=True)


def _metric(info: ModelInfo, metric: str) -> float:
    value = info.metrics.get(metric)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ModelError(f"ranker {info.model_id} has no numeric metric {metric!r} (metrics: {dict(info.metrics)})")
    return float(value)


def _info(source: Mapping[str, Any]) -> ModelInfo:
    return ModelInfo(str(source.get("model_id")), str(source.get("index")), int(source.get("version", 0)),
                     str(source.get("status")), int(source.get("created_at", 0)), source.get("feature_schema"),
                     source.get("metrics") or {}, source.get("training_window") or {}, source.get("params") or {})
