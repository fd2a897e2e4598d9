"""Latent semantic analysis over catalog text: TF-IDF, truncated SVD, coarse clusters (all pure).

A document's text is its title, artist and genre values, folded into tokens by
:func:`lrr_es.folding.query_tokens` (the same folding as queries). Term weights are sublinear TF
(1 + log tf) times smoothed IDF, rows L2-normalized; the SVD's top ``dims`` components project
documents and queries alike into a ``dims``-dimensional space, where vectors are L2-normalized so a
dot product is a cosine. Spherical k-means over the document vectors gives the coarse clusters
that the semantic strategy probes instead of scanning the index.
"""
from __future__ import annotations

import io
import json
import math
import time
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np
from scipy import sparse

from ..config import FieldMap
from ..errors import ConfigError
from ..folding import query_tokens
from ..templates import EMBEDDING_FIELD
from .linalg import normalize_rows, randomized_svd, spherical_kmeans, top_k

FORMAT = "lrr-lsa-1"
MAX_DIMS = 100  # field names lrr_emb.d00 .. d99


@dataclass(frozen=True)
class SemanticModel:
    """A fitted LSA model: vocabulary, IDF, projection and cluster centroids.

    ``vocab``: tuple of v tokens; ``idf``: (v,) float32; ``components``: (dims, v) float32 with
    orthonormal rows; ``centroids``: (clusters, dims) float32, unit rows. ``params`` is plain data
    (dims, clusters, documents, fit seconds, ...); ``version`` is the lrr-models version it was
    loaded from (0 when fitted in process).
    """

    vocab: tuple[str, ...]
    idf: np.ndarray
    components: np.ndarray
    centroids: np.ndarray
    params: Mapping = field(default_factory=dict)
    version: int = 0

    def __post_init__(self) -> None:
        v, (dims, width), (k, cdims) = len(self.vocab), self.components.shape, self.centroids.shape
        if self.idf.shape != (v,) or width != v or cdims != dims or not 1 <= dims <= MAX_DIMS or k < 1:
            raise ConfigError(f"inconsistent semantic model: vocab {v}, idf {self.idf.shape}, components "
                              f"{self.components.shape}, centroids {self.centroids.shape}")
        object.__setattr__(self, "_index", {token: i for i, token in enumerate(self.vocab)})

    @property
    def dims(self) -> int:
        return self.components.shape[0]

    @property
    def clusters(self) -> int:
        return self.centroids.shape[0]

    def tfidf(self, token_lists: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        """Sublinear TF-IDF rows, L2-normalized; shape (len(token_lists), v). Unknown tokens are ignored."""
        return _tfidf(token_lists, self._index, self.idf)

    def embed_many(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Unit vectors of shape (n, dims), float32; a row with no known token is all zeros."""
        projected = np.asarray(self.tfidf(token_lists) @ self.components.T.astype(np.float64))
        return normalize_rows(projected).astype(np.float32)

    def embed(self, tokens: Sequence[str]) -> np.ndarray | None:
        """The unit vector (dims,) of one token sequence, or None when no token is in the vocabulary."""
        vector = self.embed_many([tokens])[0]
        return vector if vector.any() else None

    def assign(self, vectors: np.ndarray) -> np.ndarray:
        """Nearest cluster (largest dot product) of each row of ``vectors`` (n, dims); shape (n,), int."""
        return (vectors @ self.centroids.T).argmax(axis=1)

    def probe(self, vector: np.ndarray, nprobe: int) -> list[int]:
        """The ``nprobe`` clusters whose centroids are most similar to ``vector`` (dims,), best first."""
        return [int(c) for c in top_k(self.centroids @ vector, max(1, nprobe))]

    # --- serialization: numpy's .npz (no pickle), every array stored at its own dtype ------------

    def to_bytes(self) -> bytes:
        """A compact, exact serialization (compressed .npz): vocab, idf, components, centroids, params."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer, format=np.frombuffer(FORMAT.encode(), dtype=np.uint8),
            vocab=np.frombuffer("\n".join(self.vocab).encode("utf-8"), dtype=np.uint8),
            idf=self.idf, components=self.components, centroids=self.centroids,
            params=np.frombuffer(json.dumps(dict(self.params), sort_keys=True).encode(), dtype=np.uint8))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, version: int = 0) -> "SemanticModel":
        """Inverse of :meth:`to_bytes`; a foreign or damaged artifact raises ConfigError."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                if bytes(arrays["format"]).decode() != FORMAT:
                    raise ConfigError(f"semantic artifact format is {bytes(arrays['format']).decode()!r}, expected {FORMAT!r}")
                text = bytes(arrays["vocab"]).decode("utf-8")
                return cls(vocab=tuple(text.split("\n")) if text else (), idf=arrays["idf"],
                           components=arrays["components"], centroids=arrays["centroids"],
                           params=json.loads(bytes(arrays["params"]).decode()), version=version)
        except (OSError, ValueError, KeyError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"semantic artifact cannot be read: {exc}") from None


# --- documents ----------------------------------------------------------------------------------

def document_tokens(source: Mapping, fields: FieldMap = FieldMap()) -> list[str]:
    """The folded tokens of a document's text-role values (title, aliases, people, description), then
    the distinct tokens of its category attribute (music: genre).

    Genre tokens count once each: a MusicOSet song inherits up to ten genre names ("pop", "dance
    pop", "post-teen pop" ...) and repeated genre words would drown the title and artist (on
    MusicOSet, self-retrieval of "title artist" at 64 dims goes from 19% to 28% top-10 with this).
    """
    names = [f for f in fields.text_fields() if "." not in f]
    tokens = [t for name in names for text in _strings(source.get(name)) for t in query_tokens(text)]
    category = fields.category
    genres = {t for text in _strings(source.get(category)) for t in query_tokens(text)} if category else set()
    return tokens + sorted(genres)


def _strings(value: object) -> list[str]:
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def as_decimals(vector: np.ndarray) -> list[float]:
    """float32 components (shape (d,)) as the shortest decimals that read back to the same float32.

    Used for vectors sent to Elasticsearch (script params, float doc values): exact at float32 and
    about half the JSON of a full double repr.
    """
    return [float(str(x)) for x in np.asarray(vector, dtype=np.float32)]


def embedding_fields(dims: int) -> list[str]:
    """The float doc-value fields holding a document's vector: ["lrr_emb.d00", "lrr_emb.d01", ...]."""
    return [f"{EMBEDDING_FIELD}.d{i:02d}" for i in range(dims)]


def default_clusters(documents: int) -> int:
    """About 1.5 sqrt(n) coarse clusters (268 for 32k documents), at least 1, at most n."""
    return max(1, min(documents, int(round(1.5 * math.sqrt(documents)))))


@dataclass(frozen=True)
class Fit:
    """A fitted model with the document vectors (n, dims) float32 and clusters (n,) int (-1: no vector)."""

    model: SemanticModel
    vectors: np.ndarray
    assignments: np.ndarray


def fit_semantic(token_lists: Sequence[Sequence[str]], dims: int = 64, clusters: int | None = None, seed: int = 7,
                 min_df: int = 2) -> Fit:
    """Fit vocabulary, IDF, SVD and clusters on ``token_lists`` (one token list per document).

    Tokens found in fewer than ``min_df`` documents are left out of the vocabulary. Raises
    ConfigError for a bad ``dims``/``clusters`` or a corpus too small to fit.
    """
    started = time.monotonic()
    if isinstance(dims, bool) or not isinstance(dims, int) or not 1 <= dims <= MAX_DIMS:
        raise ConfigError(f"semantic dims must be an integer in [1, {MAX_DIMS}], got {dims!r}")
    if clusters is not None and (isinstance(clusters, bool) or not isinstance(clusters, int) or clusters < 1):
        raise ConfigError(f"semantic clusters must be a positive integer, got {clusters!r}")
    vocab, idf = _vocabulary(token_lists, min_df)
    if len(vocab) <= dims:
        raise ConfigError(f"the catalog has {len(vocab)} terms in at least {min_df} documents; "
                          f"{dims} dims need more (lower --dims)")
    index = {token: i for i, token in enumerate(vocab)}
    matrix = _tfidf(token_lists, index, idf)
    components, singular = randomized_svd(matrix, dims, seed)
    vectors = normalize_rows(np.asarray(matrix @ components.T)).astype(np.float32)
    wanted = clusters or default_clusters(len(token_lists))
    centroids = spherical_kmeans(vectors.astype(np.float64), wanted, seed).astype(np.float32)
    params = {"dims": dims, "clusters": len(centroids), "documents": len(token_lists), "vocabulary": len(vocab),
              "min_df": min_df, "seed": seed, "fit_seconds": round(time.monotonic() - started, 3),
              "singular_values": [round(float(s), 6) for s in singular]}
    model = SemanticModel(tuple(vocab), idf.astype(np.float32), components.astype(np.float32), centroids, params)
    assignments = np.where(vectors.any(axis=1), model.assign(vectors), -1)
    return Fit(model, vectors, assignments)


def _vocabulary(token_lists: Iterable[Sequence[str]], min_df: int) -> tuple[list[str], np.ndarray]:
    """Sorted tokens with document frequency >= min_df, and their smoothed IDF (v,) float64."""
    df: dict[str, int] = {}
    n = 0
    for tokens in token_lists:
        n += 1
        for token in set(tokens):
            df[token] = df.get(token, 0) + 1
    vocab = sorted(t for t, c in df.items() if c >= min_df)
    counts = np.array([df[t] for t in vocab], dtype=np.float64)
    return vocab, np.log((1.0 + n) / (1.0 + counts)) + 1.0


def _tfidf(token_lists: Sequence[Sequence[str]], index: Mapping[str, int], idf: np.ndarray) -> sparse.csr_matrix:
    rows, cols, tf = [], [], []
    for row, tokens in enumerate(token_lists):
        counts: dict[int, int] = {}
        for token in tokens:
            col = index.get(token)
            if col is not None:
                counts[col] = counts.get(col, 0) + 1
        for col in sorted(counts):
            rows.append(row)
            cols.append(col)
            tf.append(counts[col])
    weights = (1.0 + np.log(np.asarray(tf, dtype=np.float64))) * np.asarray(idf, dtype=np.float64)[np.asarray(cols, dtype=np.int64)]
    matrix = sparse.csr_matrix((weights, (rows, cols)), shape=(len(token_lists), len(idf)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1))).ravel()
    return sparse.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ matrix
