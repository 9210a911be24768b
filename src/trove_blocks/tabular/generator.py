"""A make_classification-style generator of synthetic classification data, in numpy only.

Columns come in a fixed order (unlike scikit-learn, whose ``shuffle`` also permutes the columns):

- ``0 .. n_informative-1``: informative. Each class owns ``n_clusters_per_class`` gaussian clusters whose centres
  sit on vertices of a hypercube of side ``2 * class_sep``; each cluster gets its own random linear mixing, so
  features are correlated within a cluster.
- the next ``n_redundant``: random linear combinations of the informative columns (exactly, no added noise).
- the rest: independent standard normal noise.

``flip_y`` of the labels are then re-drawn at random (label noise), and the rows are shuffled. The same arguments
and ``random_state`` always give the same arrays (numpy's PCG64 ``default_rng``).
"""

from __future__ import annotations

import numpy as np


def make_classification(
    n_samples: int = 1000,
    n_features: int = 20,
    n_informative: int = 10,
    n_redundant: int = 5,
    n_classes: int = 2,
    random_state: int | None = 42,
    *,
    n_clusters_per_class: int = 2,
    class_sep: float = 1.0,
    flip_y: float = 0.01,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)``: X float64 of shape (n_samples, n_features), y int64 labels in ``0 .. n_classes-1``.

    Classes are balanced up to one sample per cluster (before the ``flip_y`` label noise).
    """
    _check_arguments(n_samples, n_features, n_informative, n_redundant, n_classes, n_clusters_per_class, flip_y)
    rng = np.random.default_rng(random_state)
    n_clusters = n_classes * n_clusters_per_class

    # distinct hypercube vertices as cluster centres, in {-class_sep, +class_sep}^n_informative
    centroids = _distinct_vertices(rng, n_clusters, n_informative) * class_sep

    per_cluster = np.full(n_clusters, n_samples // n_clusters)
    per_cluster[: n_samples % n_clusters] += 1
    X = np.empty((n_samples, n_features), dtype=np.float64)
    y = np.empty(n_samples, dtype=np.int64)
    start = 0
    for cluster, count in enumerate(per_cluster):
        stop = start + count
        mixing = rng.uniform(-1.0, 1.0, size=(n_informative, n_informative))
        X[start:stop, :n_informative] = rng.standard_normal((count, n_informative)) @ mixing + centroids[cluster]
        y[start:stop] = cluster % n_classes
        start = stop

    redundant_end = n_informative + n_redundant
    if n_redundant:
        combination = rng.uniform(-1.0, 1.0, size=(n_informative, n_redundant))
        X[:, n_informative:redundant_end] = X[:, :n_informative] @ combination
    X[:, redundant_end:] = rng.standard_normal((n_samples, n_features - redundant_end))

    if flip_y > 0:
        flipped = rng.random(n_samples) < flip_y
        y[flipped] = rng.integers(0, n_classes, size=int(flipped.sum()))

    order = rng.permutation(n_samples)
    return X[order], y[order]


def _distinct_vertices(rng: np.random.Generator, count: int, dimensions: int) -> np.ndarray:
    """``count`` distinct vertices of the hypercube {-1, +1}^dimensions, as a float64 array (count, dimensions)."""
    if dimensions <= 20:
        vertex_ids = rng.choice(2**dimensions, size=count, replace=False)
        bits = (vertex_ids[:, None] >> np.arange(dimensions)) & 1
        return 2.0 * bits - 1.0
    while True:  # 2**dimensions > 10**6 vertices: random draws almost never collide
        vertices = rng.choice([-1.0, 1.0], size=(count, dimensions))
        if len(np.unique(vertices, axis=0)) == count:
            return vertices


def _check_arguments(n_samples, n_features, n_informative, n_redundant, n_classes, n_clusters_per_class, flip_y):
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    if n_informative < 1:
        raise ValueError(f"n_informative must be >= 1, got {n_informative}")
    if n_redundant < 0:
        raise ValueError(f"n_redundant must be >= 0, got {n_redundant}")
    if n_informative + n_redundant > n_features:
        raise ValueError(
            f"n_informative + n_redundant ({n_informative} + {n_redundant}) must be <= n_features ({n_features})"
        )
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    if n_clusters_per_class < 1:
        raise ValueError(f"n_clusters_per_class must be >= 1, got {n_clusters_per_class}")
    if n_informative <= 20 and n_classes * n_clusters_per_class > 2**n_informative:
        raise ValueError(
            f"n_classes * n_clusters_per_class ({n_classes} * {n_clusters_per_class}) must be <= "
            f"2**n_informative ({2**n_informative}): each cluster needs its own hypercube vertex"
        )
    if not 0.0 <= flip_y <= 1.0:
        raise ValueError(f"flip_y must be in [0, 1], got {flip_y}")
