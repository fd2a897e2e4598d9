"""The lrr-models index: one document per stored model (gazetteer, semantic model, policy, ranker).

Each document carries a ``version`` that counts publications; saving a model writes the next one.
"""
from __future__ import annotations

from elasticsearch import Elasticsearch

from . import es as esio
from .names import MODELS_INDEX


def stored_version(es: Elasticsearch, doc_id: str) -> int:
    """The ``version`` of lrr-models document ``doc_id`` (its artifact is not read); 0 when there is none."""
    found = esio.get_document(es, MODELS_INDEX, doc_id, source_excludes=["artifact"])
    return int(((found or {}).get("_source") or {}).get("version", 0))
