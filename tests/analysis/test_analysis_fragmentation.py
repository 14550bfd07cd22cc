"""Fragmentation controls: synthetic stores whose answer is known (issue 13)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from latentatlas.analysis import (
    attribute_separation,
    betweenness,
    density_clusters,
    fragmentation,
    fragmentation_verdict,
    knn_components,
)


def single_gaussian(n: int = 2000, dim: int = 256, seed: int = 0) -> np.ndarray:
    """One correlated, off-centre Gaussian: one region."""
    rng = np.random.default_rng(seed)
    mix = np.eye(dim) + 0.15 * rng.standard_normal((dim, dim))
    return rng.standard_normal((n, dim)) @ mix.T + rng.normal(0.5, 1.0, dim)


def separated_mixture(n: int = 2400, dim: int = 64, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Three unit Gaussians whose centres are 30 apart (gaps far wider than the clusters)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, dim))
    centres *= 30.0 / np.linalg.norm(centres[0] - centres[1])
    labels = rng.integers(0, 3, n)
    return centres[labels] + rng.standard_normal((n, dim)), labels


def filament(n: int = 2400, dim: int = 32, seed: int = 2) -> np.ndarray:
    """A noisy helix (three quarters of a turn, radius 10) in the first three of 32 dims."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.0, 1.5 * np.pi, n)
    X = 0.3 * rng.standard_normal((n, dim))
    X[:, 0] += 10 * np.cos(theta)
    X[:, 1] += 10 * np.sin(theta)
    X[:, 2] += 2 * theta
    return X


@pytest.fixture(scope="module")
def results() -> dict:
    return {
        "gaussian": fragmentation(single_gaussian(), random_state=0),
        "mixture": fragmentation(separated_mixture()[0], random_state=0),
        "filament": fragmentation(filament(), random_state=0),
    }


def test_single_gaussian_is_one_region(results: dict) -> None:
    r = results["gaussian"]
    assert r.verdict["label"] == "one region"
    assert r.bic["best"] == 1
    # Not a close call: every extra component costs hundreds of BIC units.
    assert min(np.diff(r.bic["bic"])) > 100
    assert r.clusters["n_clusters"] == 1
    assert r.clusters["noise_share"] < 0.05
    assert all(row["n_components"] == 1 and row["largest_share"] == 1.0 for row in r.knn_graph)
    b = r.betweenness
    # Midpoints of a Gaussian sit nearer its centre than real points: at least as inside.
    assert b["midpoint_knn"] >= b["baseline_knn"]
    assert b["midpoint_mahalanobis"] > 0.99
    assert b["far_midpoint_knn"] > 0.9
    assert r.verdict["sentence"].startswith("one region: 1 BIC component, 1 HDBSCAN cluster")


def test_separated_mixture_is_three_clusters(results: dict) -> None:
    r = results["mixture"]
    assert r.verdict["label"] == "several clusters"
    assert r.bic["best"] == 3
    assert r.clusters["n_clusters"] == 3
    assert min(r.clusters["sizes"]) > 0.25 * r.clusters["n_points"]
    for row in r.knn_graph:
        assert row["n_components"] == 3
        assert 0.3 < row["largest_share"] < 0.4
    b = r.betweenness
    # Two pairs in three cross clusters; their midpoints fall in the gaps.
    assert b["midpoint_knn"] < 0.5 * b["baseline_knn"]
    assert b["far_midpoint_knn"] < 0.05
    # The Gaussian tail cannot see holes inside its ellipsoid: why k-NN precision is needed.
    assert b["midpoint_mahalanobis"] > 0.95
    assert "3 k-NN components (k = 20) holding 34%" in r.verdict["sentence"]


def test_filament_is_connected_but_not_convex(results: dict) -> None:
    r = results["filament"]
    assert r.verdict["label"] == "one connected region, not convex"
    assert r.clusters["n_clusters"] == 1
    assert all(row["n_components"] == 1 for row in r.knn_graph)
    b = r.betweenness
    # Endpoints are on the curve; the chord between far points leaves it.
    assert b["baseline_knn"] > 0.8
    assert b["midpoint_retention_knn"] < 0.7
    assert b["far_midpoint_knn"] < 0.05
    # A curve is not Gaussian: BIC wants more than one component although it is one piece.
    assert r.bic["best"] > 1


def test_curves_shape_and_endpoints_baseline(results: dict) -> None:
    b = results["filament"].betweenness
    assert b["t"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert len(b["knn_inside"]) == len(b["mahalanobis_inside"]) == 5
    assert b["baseline_knn"] == pytest.approx(0.5 * (b["knn_inside"][0] + b["knn_inside"][4]))
    assert b["n_pairs"] == 500 and b["n_far_pairs"] == 250
    s = results["filament"].settings
    assert s["n_reference"] == 1200 and s["n_subsample"] == 2400


def test_same_seed_same_numbers_and_json() -> None:
    X, _ = separated_mixture(n=600, dim=16)
    a = fragmentation(X, random_state=5, n_pairs=100).to_dict()
    b = fragmentation(X, random_state=5, n_pairs=100).to_dict()
    assert a == b
    assert "pairs" not in a
    json.dumps(a, allow_nan=False)


def test_pairs_are_outside_the_reference() -> None:
    X = filament(n=400)
    r = fragmentation(X, random_state=1, n_pairs=200, max_points=150)
    assert r.pairs.shape == (200, 2)
    assert (r.pairs[:, 0] != r.pairs[:, 1]).all()
    perm = np.random.default_rng(1).permutation(len(X))
    assert not set(r.pairs.ravel()) & set(perm[:150].tolist())
    assert r.settings["n_reference"] == 150 and r.settings["n_subsample"] == 150


def test_knn_components_counts_isolated_groups() -> None:
    rng = np.random.default_rng(3)
    X = np.concatenate([rng.standard_normal((90, 4)), 100 + rng.standard_normal((10, 4))])
    rows = knn_components(X, ks=(3, 12))
    # k = 3: the 10 far points form their own component; k = 12 forces edges across the gap.
    assert rows[0] == {"k": 3, "n_components": 2, "largest_share": 0.9, "n_points": 100}
    assert rows[1]["n_components"] == 1


def test_density_clusters_single_blob_is_one_cluster() -> None:
    Y = np.random.default_rng(4).standard_normal((1500, 5))
    c = density_clusters(Y)
    assert c["n_clusters"] == 1
    assert c["noise_share"] < 0.05
    assert c["min_cluster_size"] == 15


def test_verdict_rule_needs_both_graph_and_density_split() -> None:
    bic = {"best": 2}
    between = {
        "midpoint_retention_knn": 1.0,
        "midpoint_knn": 0.9,
        "baseline_knn": 0.9,
        "far_midpoint_knn": 0.9,
        "midpoint_mahalanobis": 1.0,
    }
    knn = [
        {"k": 5, "n_components": 4, "largest_share": 0.5},
        {"k": 20, "n_components": 2, "largest_share": 0.9},
    ]
    one = {"n_clusters": 1, "noise_share": 0.01}
    two = {"n_clusters": 2, "noise_share": 0.01}
    assert fragmentation_verdict(bic, two, knn, between)["label"] == "several clusters"
    # A k-NN split without a density split is not clusters (outliers, sparse sampling).
    assert fragmentation_verdict(bic, one, knn, between)["label"] == "one region"
    connected = [{"k": 20, "n_components": 1, "largest_share": 1.0}]
    assert fragmentation_verdict(bic, two, connected, between)["label"] == "one region"
    low = {**between, "midpoint_retention_knn": 0.5}
    v = fragmentation_verdict(bic, one, connected, low)
    assert v["label"] == "one connected region, not convex"
    assert v["midpoint_retention_knn"] == 0.5


def test_attribute_separation_regions_shifts_and_noise() -> None:
    rng = np.random.default_rng(6)
    n, dim = 3000, 32
    X = rng.standard_normal((n, dim))
    labels = np.where(rng.random((n, 4)) < 0.3, 1, -1).astype(np.int8)
    X[:, 0] += 8.0 * (labels[:, 0] > 0)  # two regions 8 sigma apart
    X[:, 1] += 1.0 * (labels[:, 1] > 0)  # a one-sigma shift
    labels[:, 3] = 0  # unknown everywhere
    labels[:5, 3] = 1
    rows = attribute_separation(X, labels, ["apart", "shift", "random", "unknown"])
    apart, shift, random, unknown = rows
    assert apart["kind"] == "separate regions"
    assert apart["mahalanobis_corrected"] == pytest.approx(8.0, rel=0.1)
    assert apart["probe_accuracy"] > 0.99
    assert shift["kind"] == "shift within one region"
    assert shift["mahalanobis_corrected"] == pytest.approx(1.0, rel=0.2)
    assert 0.6 < shift["probe_accuracy"] < 0.8
    # Labels unrelated to z: the sample distance is biased up, the corrected one is not.
    assert random["mahalanobis"] > 0.2
    assert random["mahalanobis_corrected"] < 0.2
    assert 0.4 < random["probe_accuracy"] < 0.6
    assert unknown["kind"] == "too few labelled points"
    assert math.isnan(unknown["probe_accuracy"])
    assert unknown["n_positive"] == 5 and unknown["n_negative"] == 0


def test_far_pairs_survive_tied_distances() -> None:
    rng = np.random.default_rng(8)
    R = rng.standard_normal((200, 3))
    A = rng.standard_normal((12, 3))
    B = A.copy()
    B[:, 0] += 1.0  # every pair exactly 1 apart: "> median" would select none
    b = betweenness(R, A, B)
    assert b["n_far_pairs"] == 6


def test_input_checks() -> None:
    X = filament(n=300)
    with pytest.raises(ValueError, match="ts must include"):
        betweenness(X[:100], X[100:150], X[150:200], ts=(0.0, 0.25, 1.0))
    with pytest.raises(ValueError, match="differ in shape"):
        betweenness(X[:100], X[100:150], X[150:190])
    with pytest.raises(ValueError, match="attributes must have shape"):
        attribute_separation(X, np.ones((10, 2)))
    with pytest.raises(ValueError, match="at least 60"):
        fragmentation(X[:30])
