"""The semantic strategy: topical similarity in the project's own LSA space, without scanning the index.

Path used here (Elasticsearch 7.10, OSS: no ``dense_vector``): the query is embedded with the
stored model, the ``nprobe`` clusters with the nearest centroids are probed with a ``terms`` query
on ``lrr_sem_cluster``, and only their members are scored, exactly, by a stored Painless script
(``painless/semantic-dot.painless``) computing the dot product of the query vector (passed in
``params``) with the document's ``lrr_emb.dNN`` doc values. It is an IVF-style approximation:
a true neighbour in an unprobed cluster is missed (recall against exact search is measured in
``benchmarks/bench_semantic.py``).

What would switch on a cluster with native kNN (8.4+, see :func:`lrr_es.es.capabilities`): map one
``dense_vector`` field (``index: true``, ``similarity: dot_product``, dims of the model), write the
same unit vectors into it, and emit a top-level ``knn`` section (with the app filters as its
``filter``) instead of this ``query``. That path is NOT implemented or tested here; only the
cluster-probe path is, on a real 7.10.2 node.
"""
from __future__ import annotations

from typing import Sequence

from ..errors import QueryError
from ..semantic.lsa import SemanticModel, as_decimals, embedding_fields
from ..templates import SEM_CLUSTER_FIELD, script_id
from .base import Query, Strategy

DEFAULT_NPROBE = 16
SCRIPT = "semantic-dot"


def semantic_clause(model: SemanticModel, tokens: Sequence[str], nprobe: int = DEFAULT_NPROBE) -> dict:
    """The query clause for ``tokens``: script_score over the ``nprobe`` nearest clusters.

    A query without any token of the model's vocabulary matches nothing (``match_none``), never an error.
    """
    vector = model.embed(tokens)
    if vector is None:
        return {"match_none": {}}
    clusters = model.probe(vector, nprobe)
    return {"script_score": {
        "query": {"terms": {SEM_CLUSTER_FIELD: [str(c) for c in clusters]}},
        "script": {"id": script_id(SCRIPT), "params": {"fields": embedding_fields(model.dims),
                                                       "vector": as_decimals(vector)}},
    }}


class SemanticStrategy(Strategy):
    """Nearest documents to the query in the LSA space, scored exactly within the probed clusters.

    Needs the resource ``semantic``: the :class:`~lrr_es.semantic.lsa.SemanticModel` of the index
    (``lrr_es.semantic.load_semantic``). ``nprobe`` trades recall for work.
    """

    name, kind, cost = "semantic", "semantic", 1.5
    requires = ("semantic",)
    needs = "a text field and the semantic model"
    nprobe = DEFAULT_NPROBE

    def _query(self, query: Query) -> dict:
        model = self.resources.get("semantic")
        if model is None:
            raise QueryError("semantic: no semantic model loaded for this index; run `lrr-es semantic build --index <alias>`")
        return semantic_clause(model, query.tokens, self.nprobe)
