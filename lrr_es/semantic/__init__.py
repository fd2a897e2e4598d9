"""The semantic model: LSA embeddings of catalog text and coarse clusters, built and stored per alias."""
from .lsa import Fit, SemanticModel, document_tokens, embedding_fields, fit_semantic
from .store import SemanticBuild, build_semantic, load_semantic, model_id, read_semantic, semantic_version, store_model

__all__ = ["Fit", "SemanticBuild", "SemanticModel", "build_semantic", "document_tokens", "embedding_fields",
           "fit_semantic", "load_semantic", "model_id", "read_semantic", "semantic_version", "store_model"]
