"""Seeded numerics for the semantic model: randomized truncated SVD and spherical k-means.

Both are written against numpy/scipy only (no scikit-learn at run time) and are deterministic for
a given input and seed: the random draws come from one ``numpy.random.Generator`` and the SVD's
sign ambiguity is resolved by a fixed convention.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse


def randomized_svd(matrix: sparse.spmatrix | np.ndarray, dims: int, seed: int, oversample: int = 16,
                   power_iterations: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The top ``dims`` right singular vectors of ``matrix`` (shape (n, v)) and their singular values.

    Returns ``components`` of shape (dims, v), orthonormal rows, and ``singular`` of shape (dims,),
    descending. Halko, Martinsson & Tropp's range finder with QR-stabilized power iterations. Signs
    are fixed so that the largest-magnitude entry of each component is positive.
    """
    n, v = matrix.shape
    rank = min(dims + oversample, n, v)
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(matrix @ rng.standard_normal((v, rank)))[0]
    for _ in range(power_iterations):
        basis = np.linalg.qr(matrix.T @ basis)[0]
        basis = np.linalg.qr(matrix @ basis)[0]
    small = np.asarray(matrix.T @ basis).T  # (rank, v)
    _, singular, vt = np.linalg.svd(small, full_matrices=False)
    components, singular = vt[:dims], singular[:dims]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    signs[signs == 0] = 1.0
    return components * signs[:, None], singular


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows of ``vectors`` (shape (n, d)) scaled to unit L2 norm; all-zero rows stay zero."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


RESTART_WORK = 2_000_000  # points x clusters that one fit may spend on extra restarts


def spherical_kmeans(vectors: np.ndarray, clusters: int, seed: int, iterations: int = 25,
                     restarts: int | None = None) -> np.ndarray:
    """Unit-norm centroids of shape (clusters, d) for unit vectors of shape (n, d), by cosine k-means.

    ``restarts`` seeded runs, each from a greedy k-means++ initialization over the non-zero rows
    followed by Lloyd iterations; the run whose vectors are closest to their centroids (largest
    summed similarity) wins. One run can settle in a poor local optimum that depends on the last
    bits of the floating-point arithmetic (BLAS threads, CPU); the best of several does not, so the
    result is the same across machines. By default small fits take 4 runs and large ones (over
    ``RESTART_WORK`` points x clusters) fewer, down to one.
    """
    rng = np.random.default_rng(seed)
    points = vectors[np.linalg.norm(vectors, axis=1) > 0]
    if len(points) == 0:
        raise ValueError("no non-zero vectors to cluster")
    clusters = min(clusters, len(points))
    if restarts is None:
        restarts = min(4, RESTART_WORK // (len(points) * clusters))
    best, best_fit = None, -np.inf
    for _ in range(max(1, restarts)):
        centroids = _lloyd(points, _kmeans_plus_plus(points, clusters, rng), iterations)
        fit = float((points @ centroids.T).max(axis=1).sum())
        if fit > best_fit + 1e-9 * len(points):  # a tie within rounding keeps the earlier run
            best, best_fit = centroids, fit
    return best


def _lloyd(points: np.ndarray, centroids: np.ndarray, iterations: int) -> np.ndarray:
    """Lloyd iterations from ``centroids``: assign each point to its most similar centroid and
    re-normalize each cluster's mean; an emptied cluster is re-seeded with the worst-served point."""
    clusters = len(centroids)
    for _ in range(iterations):
        similarity = points @ centroids.T
        labels = similarity.argmax(axis=1)
        members = sparse.csr_matrix((np.ones(len(points)), (labels, np.arange(len(points)))),
                                    shape=(clusters, len(points)))
        updated = np.asarray(members @ points)
        sizes = np.bincount(labels, minlength=clusters)
        served = similarity[np.arange(len(points)), labels]
        for empty in np.flatnonzero(sizes == 0):
            worst = int(served.argmin())
            updated[empty], served[worst] = points[worst], np.inf
        updated = normalize_rows(updated)
        if np.array_equal(updated, centroids):
            break
        centroids = updated
    return centroids


def _kmeans_plus_plus(points: np.ndarray, clusters: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++ seeding with cosine distance (1 - dot) on unit vectors; shape (clusters, d).

    Each step draws a few candidates in proportion to their distance and keeps the one that lowers
    the total distance most (Arthur & Vassilvitskii's greedy variant), which rarely seeds two
    centroids in one natural cluster.
    """
    trials = 2 + int(np.log(clusters))
    chosen = [int(rng.integers(len(points)))]
    distance = np.maximum(1.0 - points @ points[chosen[0]], 0.0)
    for _ in range(1, clusters):
        total = distance.sum()
        if total <= 0:
            chosen.append(int(rng.integers(len(points))))
            continue
        candidates = rng.choice(len(points), size=trials, p=distance / total)
        options = np.minimum(distance[None, :], np.maximum(1.0 - points[candidates] @ points.T, 0.0))
        pick = int(options.sum(axis=1).argmin())
        chosen.append(int(candidates[pick]))
        distance = options[pick]
    return points[chosen].copy()


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest entries of ``scores`` (shape (n,)), largest first, ties by index."""
    k = min(k, len(scores))
    part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return part[np.lexsort((part, -scores[part]))]
