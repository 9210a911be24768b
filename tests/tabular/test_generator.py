"""make_classification: reproducible, the promised shapes, and the three kinds of columns behave as documented."""

from __future__ import annotations

import numpy as np
import pytest

from trove_blocks.tabular import make_classification


def test_shapes_dtypes_and_labels():
    X, y = make_classification(n_samples=500, n_features=12, n_informative=4, n_redundant=3, n_classes=3)
    assert X.shape == (500, 12) and X.dtype == np.float64
    assert y.shape == (500,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1, 2}
    assert np.bincount(y).min() > 140  # balanced up to the 1% label noise


def test_same_seed_same_data_other_seed_other_data():
    first = make_classification(n_samples=300, random_state=7)
    again = make_classification(n_samples=300, random_state=7)
    other = make_classification(n_samples=300, random_state=8)
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    assert not np.allclose(first[0], other[0])


def test_redundant_columns_are_linear_combinations_of_the_informative_ones():
    X, _ = make_classification(n_samples=400, n_features=10, n_informative=4, n_redundant=3)
    informative, redundant, noise = X[:, :4], X[:, 4:7], X[:, 7:]
    _, residual, *_ = np.linalg.lstsq(informative, redundant, rcond=None)
    assert residual.max() < 1e-8
    _, noise_residual, *_ = np.linalg.lstsq(informative, noise, rcond=None)
    assert noise_residual.min() > 100  # noise is not explained by the informative columns


def nearest_centroid_accuracy(X: np.ndarray, y: np.ndarray) -> float:
    """Train on the first half, score on the second, with the class means as the only model."""
    half = len(y) // 2
    centroids = np.stack([X[:half][y[:half] == label].mean(axis=0) for label in np.unique(y)])
    predicted = np.argmin(((X[half:, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)
    return float((predicted == y[half:]).mean())


def test_informative_columns_separate_the_classes_noise_does_not():
    X, y = make_classification(n_samples=2000, n_features=20, n_informative=10, n_redundant=5, n_clusters_per_class=1)
    assert nearest_centroid_accuracy(X[:, :10], y) > 0.85
    assert nearest_centroid_accuracy(X[:, 15:], y) < 0.6


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_informative": 15, "n_redundant": 10}, r"n_informative \+ n_redundant \(15 \+ 10\) must be <= n_features"),
        ({"n_classes": 1}, "n_classes must be >= 2"),
        ({"n_informative": 2, "n_redundant": 0, "n_classes": 3}, r"must be <= 2\*\*n_informative \(4\)"),
        ({"n_samples": 0}, "n_samples must be >= 1"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_classification(**kwargs)
