"""Classifier two-sample test on constructed cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.metrics.two_sample import classifier_two_sample_test

N = 64


def _correlated(n: int, rng: np.random.Generator, factors: int = 4) -> np.ndarray:
    # Few strong factors: components are strongly correlated, marginals near-normal.
    A = np.random.default_rng(123).standard_normal((N, factors))
    return rng.standard_normal((n, factors)) @ A.T + 0.3 * rng.standard_normal((n, N)) + 1.0


def test_same_distribution_is_near_chance() -> None:
    rng = np.random.default_rng(0)
    out = classifier_two_sample_test(_correlated(800, rng), _correlated(800, rng))
    assert abs(out["accuracy"] - 0.5) < 0.07
    assert out["p_value"] > 0.01
    assert out["chance"] == 0.5


def test_shifted_distribution_is_separated() -> None:
    rng = np.random.default_rng(1)
    real = rng.standard_normal((600, N))
    fake = rng.standard_normal((600, N)) + 1.0
    out = classifier_two_sample_test(real, fake)
    assert out["accuracy"] >= 0.97
    assert out["p_value"] < 1e-6


def test_independent_marginals_are_caught() -> None:
    # Right per-component means and stds, no correlations: invisible to any linear classifier.
    rng = np.random.default_rng(2)
    real = _correlated(800, rng)
    fake = rng.standard_normal((800, N)) * real.std(0) + real.mean(0)
    heldout = _correlated(800, rng)
    caught = classifier_two_sample_test(real, fake)["accuracy"]
    baseline = classifier_two_sample_test(real, heldout)["accuracy"]
    assert caught >= 0.75
    assert abs(baseline - 0.5) < 0.07


def test_balancing_seed_and_bookkeeping() -> None:
    rng = np.random.default_rng(3)
    real, fake = rng.standard_normal((300, 8)), rng.standard_normal((120, 8)) + 1.0
    a = classifier_two_sample_test(real, fake, cv=3, random_state=7, hidden=(16,))
    b = classifier_two_sample_test(real, fake, cv=3, random_state=7, hidden=(16,))
    assert a == b
    assert (a["n_real"], a["n_fake"], a["n_per_class"]) == (300, 120, 120)
    assert len(a["fold_accuracies"]) == 3
    capped = classifier_two_sample_test(real, fake, cv=3, max_per_class=50, hidden=(16,))
    assert capped["n_per_class"] == 50


def test_bad_inputs_raise() -> None:
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError, match="dimensions"):
        classifier_two_sample_test(rng.standard_normal((20, 3)), rng.standard_normal((20, 4)))
    with pytest.raises(ValueError, match="cv"):
        classifier_two_sample_test(rng.standard_normal((20, 3)), rng.standard_normal((20, 3)), cv=1)


def test_gaussian_features_see_weak_dense_correlations() -> None:
    # Many weak correlations (mixing I + 0.15 G) at N = 128: the plain MLP only half sees that
    # independent marginals are wrong; the per-class Mahalanobis features see it clearly.
    rng = np.random.default_rng(5)
    mix = rng.standard_normal((128, 128)) * 0.15 + np.eye(128)
    real = rng.standard_normal((1200, 128)) @ mix.T
    fake = rng.standard_normal((600, 128)) * real.std(0) + real.mean(0)
    plain = classifier_two_sample_test(real[:600], fake)
    gauss = classifier_two_sample_test(real[:600], fake, gaussian_features=True)
    null = classifier_two_sample_test(real[:600], real[600:], gaussian_features=True)
    assert gauss["gaussian_features"] and not plain["gaussian_features"]
    assert gauss["accuracy"] >= 0.9
    assert gauss["accuracy"] >= plain["accuracy"] + 0.1
    assert abs(null["accuracy"] - 0.5) < 0.07
