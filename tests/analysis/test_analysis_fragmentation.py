"""Fragmentation controls: synthetic stores whose answer is known (issues 13 and 22)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from latentatlas.analysis import (
    agreement,
    attribute_separation,
    betweenness,
    cluster_midpoints,
    fragmentation,
    fragmentation_verdict,
    knn_components,
    label_columns,
)


def single_gaussian(n: int = 1500, dim: int = 128, seed: int = 0) -> np.ndarray:
    """One correlated, off-centre Gaussian: one region."""
    rng = np.random.default_rng(seed)
    mix = np.eye(dim) + 0.15 * rng.standard_normal((dim, dim))
    return rng.standard_normal((n, dim)) @ mix.T + rng.normal(0.5, 1.0, dim)


def separated_mixture(n: int = 1500, dim: int = 64, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Three unit Gaussians whose centres are 30 apart (gaps far wider than the clusters)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, dim))
    centres *= 30.0 / np.linalg.norm(centres[0] - centres[1])
    labels = rng.integers(0, 3, n)
    return centres[labels] + rng.standard_normal((n, dim)), labels


def filament(n: int = 1500, dim: int = 32, seed: int = 2) -> np.ndarray:
    """A noisy helix (three quarters of a turn, radius 10) in the first three of 32 dims."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.0, 1.5 * np.pi, n)
    X = 0.3 * rng.standard_normal((n, dim))
    X[:, 0] += 10 * np.cos(theta)
    X[:, 1] += 10 * np.sin(theta)
    X[:, 2] += 2 * theta
    return X


def bridged_clusters(
    n: int = 1500, dim: int = 16, k: int = 4, bridge: float = 0.03, seed: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Touching clusters, like the classes of a small autoencoder's latent space: k flat blobs
    (spread 1.5 in 3 random directions, 0.1 in the others) whose centres are 10 apart along a
    chain, each consecutive pair joined by a thin bridge (``bridge`` of the points, uniform on
    the segment between the centres). Labels: the blob, -1 on the bridges."""
    rng = np.random.default_rng(seed)
    centres = np.zeros((k, dim))
    for i in range(1, k):
        step = rng.standard_normal(dim)
        centres[i] = centres[i - 1] + 10 * step / np.linalg.norm(step)
    m = int(n * bridge)
    per = (n - m * (k - 1)) // k
    parts, labels = [], []
    for i in range(k):
        basis = np.linalg.qr(rng.standard_normal((dim, 3)))[0]
        blob = rng.standard_normal((per, 3)) @ basis.T * 1.5
        parts.append(centres[i] + blob + 0.1 * rng.standard_normal((per, dim)))
        labels += [i] * per
    for i in range(k - 1):
        t = rng.uniform(0.0, 1.0, (m, 1))
        noise = 0.1 * rng.standard_normal((m, dim))
        parts.append((1 - t) * centres[i] + t * centres[i + 1] + noise)
        labels += [-1] * m
    return np.concatenate(parts), np.array(labels)


def one_hot(labels: np.ndarray, k: int) -> tuple[np.ndarray, list[str]]:
    """Class labels as a store holds them: one +1/-1 attribute per class, all -1 if unknown."""
    return np.where(labels[:, None] == np.arange(k), 1, -1).astype(np.int8), [
        f"label={c}" for c in range(k)
    ]


@pytest.fixture(scope="module")
def results() -> dict:
    X, labels = bridged_clusters()
    attrs, names = one_hot(labels, 4)
    return {
        "gaussian": fragmentation(single_gaussian(), random_state=0),
        "mixture": fragmentation(separated_mixture()[0], random_state=0),
        "filament": fragmentation(filament(), random_state=0),
        "bridged": fragmentation(X, attrs, names, random_state=0),
    }


def test_single_gaussian_is_one_region(results: dict) -> None:
    r = results["gaussian"]
    assert r.verdict["label"] == "one region" and r.verdict["convex"]
    assert r.mixture["best"] == 1 and r.mixture["best_heldout"] == 1
    # Not a close call: every extra component costs hundreds of BIC units, and the search went
    # past the minimum by PAST_MINIMUM fits, no further.
    assert min(np.diff(r.mixture["bic"])) > 100
    assert r.mixture["components"] == [1, 2, 3, 4, 5] and not r.mixture["reached_max"]
    # Smooth density: no stable split (HDBSCAN calls it noise or keeps a few dense spots).
    assert r.clusters["n_clusters"] == 0 or r.clusters["noise_share"] > 0.5
    assert r.topology["components"] == 1 and r.topology["loops"] == 0
    assert all(row["n_components"] == 1 and row["largest_share"] == 1.0 for row in r.knn_graph)
    b = r.betweenness
    # Midpoints of a Gaussian sit nearer its centre than real points: at least as inside.
    assert b["midpoint_knn"] >= b["baseline_knn"]
    assert b["midpoint_mahalanobis"] > 0.99
    assert b["far_midpoint_knn"] > 0.9
    assert r.verdict["sentence"].startswith("one region, convex: ")


def test_separated_mixture_is_fragments(results: dict) -> None:
    r = results["mixture"]
    assert r.verdict["label"] == "separate fragments"
    assert r.mixture["best"] == 3
    assert r.clusters["n_clusters"] == 3 and r.clusters["noise_share"] < 0.05
    assert min(r.clusters["sizes"]) > 0.25 * r.clusters["n_points"]
    assert r.topology["components"] == 3
    for row in r.knn_graph:
        assert row["n_components"] == 3
        assert 0.3 < row["largest_share"] < 0.4
    m = r.midpoints
    assert m["between_outside"] == 1.0 and m["within_outside"] < 0.05
    b = r.betweenness
    # Two pairs in three cross clusters; their midpoints fall in the gaps.
    assert b["midpoint_knn"] < 0.5 * b["baseline_knn"]
    assert b["far_midpoint_knn"] < 0.05
    # The Gaussian tail cannot see holes inside its ellipsoid: why k-NN precision is needed.
    assert b["midpoint_mahalanobis"] > 0.95
    assert "3 k-NN components (k = 20, 3" in r.verdict["sentence"]


def test_filament_is_one_component_not_convex(results: dict) -> None:
    r = results["filament"]
    assert r.verdict["label"] == "one region" and not r.verdict["convex"]
    assert r.topology["components"] == 1 and r.topology["loops"] == 0
    assert all(row["n_components"] == 1 for row in r.knn_graph)
    # No density dip along the curve: no split holding most of the points.
    assert r.verdict["regions"] == 1
    b = r.betweenness
    # Endpoints are on the curve; the chord between far points leaves it.
    assert b["baseline_knn"] > 0.8
    assert b["midpoint_retention_knn"] < 0.7
    assert b["far_midpoint_knn"] < 0.05
    # A curve is not Gaussian: BIC wants more than one component although it is one piece.
    assert r.mixture["best"] > 1
    assert r.verdict["sentence"].startswith("one region, not convex: ")


def test_touching_clusters_are_regions_joined_by_bridges(results: dict) -> None:
    r = results["bridged"]
    # Connected: the bridges hold the k-NN graph together (at k = 20, which the verdict reads) ...
    assert r.knn_graph[-1]["k"] == 20 and r.knn_graph[-1]["n_components"] == 1
    # ... yet density splits it, and midpoints between the clusters leave the data.
    assert r.verdict["label"] == "several regions joined by thin bridges"
    assert r.verdict["regions"] >= 4 and r.clusters["noise_share"] < 0.3
    assert r.verdict["sentence"].startswith("several regions joined by thin bridges: ")


def test_labelled_clusters_ari_and_midpoints(results: dict) -> None:
    r = results["bridged"]
    ari = {(a["clustering"], a["labeling"]): a for a in r.agreement}
    assert set(ari) == {("HDBSCAN", "label"), ("mixture", "label")}
    # The bridges carry no class: only the blob points are scored.
    blob_points = (bridged_clusters()[1] >= 0).sum()
    assert ari["mixture", "label"]["n_points"] == blob_points
    assert ari["mixture", "label"]["n_classes"] == 4
    # Both clusterings recover the classes; HDBSCAN's noise (a quarter of the points, the blobs'
    # sparse rims) counts as one more group, which costs it agreement.
    assert ari["mixture", "label"]["ari"] > 0.9
    assert ari["HDBSCAN", "label"]["ari"] > 0.45
    for m in (r.midpoints, r.midpoints["mixture"]):
        # Midpoints within a cluster stay near real points; between clusters most leave.
        assert m["within_outside"] < 0.05
        assert m["between_outside"] > 0.6
        assert m["real_outside"] == pytest.approx(0.05, abs=0.01)
        assert m["n_within"] == m["n_between"] == 500
    # The pairs the section decodes: points of different density clusters.
    X, _ = bridged_clusters()
    assert r.cluster_pairs.shape == (500, 2)
    assert np.linalg.norm(X[r.cluster_pairs[:, 0]] - X[r.cluster_pairs[:, 1]], axis=1).min() > 1


def test_curves_shape_and_endpoints_baseline(results: dict) -> None:
    b = results["filament"].betweenness
    assert b["t"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert len(b["knn_inside"]) == len(b["mahalanobis_inside"]) == 5
    assert b["baseline_knn"] == pytest.approx(0.5 * (b["knn_inside"][0] + b["knn_inside"][4]))
    assert b["n_pairs"] == 500 and b["n_far_pairs"] == 250
    s = results["filament"].settings
    assert s["n_reference"] == 750 and s["n_subsample"] == 1500
    assert s["geometry_dims"] == 32 and s["n_pcs"] == 16


def test_same_seed_same_numbers_and_json() -> None:
    X, _ = separated_mixture(n=400, dim=16)
    a = fragmentation(X, random_state=5, n_pairs=100).to_dict()
    b = fragmentation(X, random_state=5, n_pairs=100).to_dict()
    assert a == b
    assert "pairs" not in a and "cluster_pairs" not in a
    json.dumps(a, allow_nan=False)


def test_high_dimensional_points_are_reduced_first() -> None:
    # N above GEOMETRY_DIMS: distances in 128 principal components, the mixtures in 16.
    X, _ = separated_mixture(n=200, dim=600)
    r = fragmentation(X, random_state=0, n_pairs=60, n_landmarks=60)
    assert r.settings["geometry_dims"] == 128 and 0.5 < r.settings["geometry_variance"] <= 1
    assert r.verdict["label"] == "separate fragments"


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


def test_cluster_midpoints_counts_and_no_pairs() -> None:
    rng = np.random.default_rng(4)
    G = np.concatenate([rng.standard_normal((200, 3)), 50 + rng.standard_normal((200, 3))])
    labels = np.repeat([0, 1], 200)
    m, pairs = cluster_midpoints(G, labels, n_pairs=100, random_state=0)
    assert m["between_outside"] == 1.0 and m["within_outside"] < 0.1
    assert (labels[pairs[:, 0]] != labels[pairs[:, 1]]).all() and len(pairs) == 100
    one, none = cluster_midpoints(G, np.zeros(400, int), n_pairs=50)
    assert math.isnan(one["between_outside"]) and one["n_between"] == 0 and len(none) == 0
    assert one["n_clusters"] == 1
    with pytest.raises(ValueError, match="labels must have shape"):
        cluster_midpoints(G, labels[:10])


def test_label_columns_and_agreement() -> None:
    attrs = np.array([[1, -1, -1, 1], [-1, 1, -1, 0], [-1, -1, 1, -1], [-1, -1, -1, 1]])
    cols = label_columns(attrs, ["digit=0", "digit=1", "digit=2", "Smiling"])
    assert cols["digit"].tolist() == [0, 1, 2, -1]  # no class: unknown
    assert cols["Smiling"].tolist() == [1, -1, 0, 1]
    rows = agreement({"c": np.array([5, 6, 7, 7])}, cols)
    by = {r["labeling"]: r for r in rows}
    assert by["digit"]["ari"] == 1.0 and by["digit"]["n_points"] == 3
    assert by["Smiling"]["n_points"] == 3 and by["Smiling"]["n_classes"] == 2


def test_verdict_rule_three_outcomes() -> None:
    between = {
        "midpoint_retention_knn": 1.0,
        "baseline_knn": 0.9,
        "far_midpoint_knn": 0.9,
    }
    mixture = {"best": 2, "reached_max": False}
    topo = {"components": 1, "loops": 0}
    split = [
        {"k": 5, "n_components": 4, "largest_share": 0.5},
        {"k": 20, "n_components": 2, "largest_share": 0.9},
    ]
    connected = [{"k": 20, "n_components": 1, "largest_share": 1.0}]
    one = {"n_clusters": 0, "noise_share": 1.0}
    two = {"n_clusters": 2, "noise_share": 0.1}
    spots = {"n_clusters": 2, "noise_share": 0.7}  # dense spots, most points noise
    far = {"within_outside": 0.05, "between_outside": 0.4, "real_outside": 0.05}
    near = {**far, "between_outside": 0.08}

    def label(knn, cl, mid, t=topo, b=between):
        return fragmentation_verdict(knn, cl, mid, t, b, mixture)["label"]

    assert label(split, two, far) == "separate fragments"
    # A k-NN split without a density split or a long H0 bar is outliers, not fragments.
    assert label(split, one, far) == "one region"
    assert label(split, one, far, {"components": 2, "loops": 0}) == "separate fragments"
    assert label(connected, two, far) == "several regions joined by thin bridges"
    # Density clusters whose midpoints stay inside: one region of several modes.
    assert label(connected, two, near) == "one region"
    assert label(connected, spots, far) == "one region"
    low = {**between, "midpoint_retention_knn": 0.5}
    v = fragmentation_verdict(connected, one, far, topo, low, mixture)
    assert v["label"] == "one region" and not v["convex"]
    assert v["sentence"].startswith("one region, not convex: 0 HDBSCAN clusters (100% noise)")
    # No density clusters: the sentence quotes the mixture components' midpoints instead.
    none = {**far, "between_outside": float("nan"), "within_outside": float("nan")}
    v = fragmentation_verdict(connected, one, none, topo, between, mixture, near)
    assert v["label"] == "one region"
    assert v["sentence"].endswith(
        "midpoints between mixture components 8% outside, within 5% (real points 5%)"
    )


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
