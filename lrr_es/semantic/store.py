"""Building, storing and loading the semantic model of one catalog alias.

``build_semantic`` scans the alias, fits the LSA model (:mod:`lrr_es.semantic.lsa`), writes each
document's cluster id and vector with bulk partial updates, and stores the model in ``lrr-models``
as document ``semantic-<alias>``. ``load_semantic`` reads it back, cached per process (a
:class:`lrr_es.models.ModelCache`) and refreshed when a newer version is stored. All Elasticsearch calls go through :mod:`lrr_es.es`.

Known limits: documents indexed after a build (or re-indexed whole by the loader) have no cluster
and are invisible to the semantic strategy until the next build; if writing vectors fails part way,
the model is not stored and the build must be re-run.
"""
from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from elasticsearch import Elasticsearch
from tqdm import tqdm

from .. import es as esio
from ..config import IndexConfig
from ..errors import ModelError
from ..models import ModelCache, stored_version
from ..names import MODELS_INDEX
from ..templates import EMBEDDING_FIELD, SEM_CLUSTER_FIELD
from .lsa import FORMAT, as_decimals, Fit, SemanticModel, document_tokens, embedding_fields, fit_semantic

Echo = Callable[[str], None]


def model_id(alias: str) -> str:
    return f"semantic-{alias}"


@dataclass
class SemanticBuild:
    """What a build did, with its timings in seconds."""

    alias: str
    documents: int = 0
    embedded: int = 0
    version: int = 0
    params: dict = field(default_factory=dict)
    capabilities: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    def summary(self) -> str:
        p, s, caps = self.params, self.seconds, self.capabilities
        knn = ("native kNN available (8.4+) but not used yet: the cluster-probe path serves"
               if caps.get("native_knn") else "no native kNN: cluster-probe path (script_score over probed clusters)")
        return "\n".join([
            f"semantic model {model_id(self.alias)} version {self.version}: {self.documents} documents, "
            f"{self.embedded} embedded, vocabulary {p.get('vocabulary')}, {p.get('dims')} dims, {p.get('clusters')} clusters",
            f"  scan {s.get('scan', 0):.1f}s, fit {s.get('fit', 0):.1f}s, write {s.get('write', 0):.1f}s, "
            f"store {s.get('store', 0):.1f}s, total {sum(s.values()):.1f}s",
            f"  Elasticsearch {caps.get('version')}: {knn}",
        ])


def build_semantic(es: Elasticsearch, index_config: IndexConfig, dims: int = 64, clusters: int | None = None,
                   seed: int = 7, progress: bool = True, echo: Echo = print) -> SemanticBuild:
    """Fit the semantic model of ``index_config.name`` and write clusters and vectors into its documents.

    Raises ModelError when the alias does not exist or holds no document, or when some documents
    could not be updated (the model is then not stored).
    """
    alias = index_config.name
    targets = esio.alias_targets(es, alias)
    if not targets:
        raise ModelError(f"{alias} is not a migrated alias: run `lrr-es migrate --index {alias}` and load a catalog first")
    report = SemanticBuild(alias, capabilities=esio.capabilities(es))
    clock = time.monotonic()
    ids, homes, tokens = _scan_tokens(es, index_config, progress)
    report.documents, report.seconds["scan"] = len(ids), time.monotonic() - clock
    if not ids:
        raise ModelError(f"{alias} holds no documents to fit a semantic model on")
    clock = time.monotonic()
    fit = fit_semantic(tokens, dims=dims, clusters=clusters, seed=seed)
    report.seconds["fit"] = time.monotonic() - clock
    clock = time.monotonic()
    for target in targets:
        _ensure_mapping(es, target, dims)
    report.embedded = _write_vectors(es, ids, homes, fit, progress)
    esio.refresh(es, alias)
    report.seconds["write"] = time.monotonic() - clock
    clock = time.monotonic()
    report.version = store_model(es, alias, fit.model)
    report.params = dict(fit.model.params)
    report.seconds["store"] = time.monotonic() - clock
    echo(report.summary())
    return report


def _scan_tokens(es: Elasticsearch, index_config: IndexConfig, progress: bool) -> tuple[list[str], list[str], list[list[str]]]:
    fields = index_config.fields
    source = [f for f in fields.text_fields() if "." not in f] + ([fields.category] if fields.category else [])
    ids, homes, tokens = [], [], []
    total = esio.count(es, index_config.name)
    with tqdm(total=total, desc=f"scan {index_config.name}", unit="doc", disable=None if progress else True,
              mininterval=0.5) as bar:
        for hit in esio.scan(es, index_config.name, source=source):
            ids.append(hit["_id"])
            homes.append(hit["_index"])
            tokens.append(document_tokens(hit.get("_source") or {}, fields))
            bar.update(1)
    return ids, homes, tokens


def _ensure_mapping(es: Elasticsearch, index: str, dims: int) -> None:
    """Map the cluster keyword and the float doc-value components explicitly (an adopted mapping may be strict).

    Components already mapped (e.g. dynamically, by a reindex) are left as they are: a float with or
    without an index serves the script alike, and changing ``index`` would be a mapping conflict.
    """
    props = esio.get_mapping(es, index).get("properties", {})
    have = props.get(EMBEDDING_FIELD, {}).get("properties", {})
    wanted = {name.split(".", 1)[1]: {"type": "float", "index": False} for name in embedding_fields(dims)}
    missing = {name: spec for name, spec in wanted.items() if name not in have}
    add = {EMBEDDING_FIELD: {"properties": missing}} if missing else {}
    if SEM_CLUSTER_FIELD not in props:
        add[SEM_CLUSTER_FIELD] = {"type": "keyword"}
    if add:
        esio.put_mapping(es, index, add)


def _write_vectors(es: Elasticsearch, ids: list[str], homes: list[str], fit: Fit, progress: bool) -> int:
    names = [name.split(".", 1)[1] for name in embedding_fields(fit.model.dims)]
    actions = ({"_op_type": "update", "_index": home, "_id": doc_id, "retry_on_conflict": 3,
                "doc": _vector_fields(names, vector, int(cluster))}
               for doc_id, home, vector, cluster in zip(ids, homes, fit.vectors, fit.assignments))
    written, failures = 0, []
    with tqdm(total=len(ids), desc="write vectors", unit="doc", disable=None if progress else True, mininterval=0.5) as bar:
        for ok, item in esio.bulk(es, actions, chunk_size=1000, threads=2):
            if ok:
                written += 1
            else:
                failures.append(next(iter(item.values())))
            bar.update(1)
    if failures:
        first = failures[0]
        raise ModelError(f"{len(failures)} documents could not get their semantic vector (first: id {first.get('_id')}: "
                         f"{first.get('error')}); the model was not stored, re-run `lrr-es semantic build`")
    return int((fit.assignments >= 0).sum())


def _vector_fields(names: list[str], vector: np.ndarray, cluster: int) -> dict:
    if cluster < 0:  # no known token: out of every cluster, so never probed
        return {SEM_CLUSTER_FIELD: None, EMBEDDING_FIELD: None}
    return {SEM_CLUSTER_FIELD: str(cluster), EMBEDDING_FIELD: dict(zip(names, as_decimals(vector)))}


# --- lrr-models ---------------------------------------------------------------------------------

def store_model(es: Elasticsearch, alias: str, model: SemanticModel) -> int:
    """Store ``model`` as ``semantic-<alias>`` in lrr-models with the next version; returns that version."""
    version = stored_version(es, model_id(alias)) + 1
    esio.put_document(es, MODELS_INDEX, model_id(alias), {
        "model_id": model_id(alias), "kind": "semantic", "index": alias, "version": version, "status": "live",
        "created_at": int(time.time() * 1000), "feature_schema": FORMAT, "params": dict(model.params),
        "artifact": base64.b64encode(model.to_bytes()).decode("ascii"),
    }, refresh="wait_for")
    return version


def semantic_version(es: Elasticsearch, alias: str) -> int:
    """The version of the stored semantic model of ``alias``; 0 when none was built."""
    return stored_version(es, model_id(alias))


def read_semantic(es: Elasticsearch, alias: str) -> SemanticModel | None:
    """The stored semantic model of ``alias``, read and decoded (None when none was built).

    A damaged artifact raises ModelError.
    """
    found = esio.get_document(es, MODELS_INDEX, model_id(alias))
    if found is None:
        return None
    source = found.get("_source") or {}
    try:
        return SemanticModel.from_bytes(base64.b64decode(source["artifact"], validate=True), int(source["version"]))
    except (KeyError, ValueError) as exc:
        raise ModelError(f"semantic model {model_id(alias)} in {MODELS_INDEX} is damaged: {exc}") from None


_LOADED = ModelCache(read_semantic, semantic_version, ttl=0)


def load_semantic(es: Elasticsearch, alias: str) -> SemanticModel | None:
    """The stored semantic model of ``alias`` (None when none was built), cached per process.

    Each call reads only the stored version number; the artifact is fetched and decoded again only
    when a newer version was stored. A damaged artifact raises ModelError.
    """
    return _LOADED.get(es, alias)
