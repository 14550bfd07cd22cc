"""Is the data region one piece, several clusters, or a non-convex (filament-like) web?

Four measurements over z-points, each on a bounded subsample (the superlinear steps never see
more than ``max_points`` points), and a small rule that turns them into a verdict:

- clusters: Gaussian-mixture components by BIC and HDBSCAN clusters, both on the top principal
  components (:func:`bic_components`, :func:`density_clusters`);
- connectivity: connected components of the k-nearest-neighbour graph (:func:`knn_components`);
- betweenness: where points on segments between real points lie (:func:`betweenness`);
- attributes: whether attribute classes are separate regions or shifts within one
  (:func:`attribute_separation`).

:func:`fragmentation` runs all of them with one seed; :func:`fragmentation_verdict` is the rule.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from latentatlas.analysis.gaussian import MahalanobisModel
from latentatlas.core.jsonable import jsonable
from latentatlas.core.rng import RandomState, as_rng, draw_seed, subsample_indices
from latentatlas.core.validation import check_fraction, check_points, check_same_dim

KS = (5, 10, 20)
TS = (0.0, 0.25, 0.5, 0.75, 1.0)
# Ten principal components: enough to show several well separated clusters (k clusters need
# k - 1 directions), few enough that a full-covariance mixture (65 parameters per component) is
# fitted stably on a few thousand points and BIC's penalty is not swamped by estimation noise;
# on a single 256-d Gaussian every BIC difference to one component is then hundreds of units.
N_PCS = 10
MAX_COMPONENTS = 6
# The verdict rule (see fragmentation_verdict).
LARGEST_SHARE_MIN = 0.95
RETENTION_MIN = 0.8
# Attribute classes count as separate regions when the LDA overlap Phi(-Delta/2) is at most
# ~2 % (Delta >= 4) and a held-out linear probe separates them almost perfectly.
SEPARATE_DELTA = 4.0
SEPARATE_ACCURACY = 0.97


def principal_points(Z: Any, n_components: int = N_PCS) -> tuple[np.ndarray, float]:
    """Scores on the top principal components: ``(n, N)`` -> ``(n, d)``, d = min(n_components,
    N, n - 1), and the share of the variance they explain."""
    from sklearn.decomposition import PCA

    X = check_points(Z, min_rows=3)
    d = max(1, min(int(n_components), X.shape[1], X.shape[0] - 1))
    pca = PCA(n_components=d, svd_solver="full").fit(X)
    return pca.transform(X), float(pca.explained_variance_ratio_.sum())


def bic_components(
    Y: Any,
    max_components: int = MAX_COMPONENTS,
    covariance_type: str = "full",
    random_state: RandomState = 0,
) -> dict:
    """BIC of Gaussian mixtures with 1 ... ``max_components`` components fitted to ``Y`` (n, d).

    Returns ``components`` (1 ... K), ``bic`` (lower is better), ``best`` (the argmin),
    ``covariance_type``, ``n_points``, ``dim``.
    """
    from sklearn.mixture import GaussianMixture

    Y = check_points(Y, min_rows=2, name="Y")
    rng = as_rng(random_state)
    top = max(1, min(int(max_components), len(Y) // 2))
    comps = list(range(1, top + 1))
    bic = []
    for k in comps:
        gm = GaussianMixture(k, covariance_type=covariance_type, random_state=draw_seed(rng))
        bic.append(float(gm.fit(Y).bic(Y)))
    return {
        "components": comps,
        "bic": bic,
        "best": comps[int(np.argmin(bic))],
        "covariance_type": covariance_type,
        "n_points": len(Y),
        "dim": Y.shape[1],
    }


def density_clusters(
    Y: Any, min_samples: int = 10, min_share: float = 0.01, eps_quantile: float = 0.99
) -> dict:
    """HDBSCAN clusters of ``Y`` (n, d); clusters need at least ``min_share`` of the points.

    ``cluster_selection_epsilon`` is the ``eps_quantile`` of the core distances (distance to the
    ``min_samples``-th neighbour, self included): a split counts only where the clusters stay
    apart at the scale at which 99 % of points find their neighbours. Without it HDBSCAN splits a
    single Gaussian at random density fluctuations deep in its core and calls ~95 % of it
    noise; with it a single blob is one cluster and ``noise_share`` is the sparsest ~1 % plus
    points in groups smaller than the minimum cluster size.

    Returns ``n_clusters``, ``sizes`` (descending), ``noise_share``, ``min_cluster_size``,
    ``min_samples``, ``epsilon``, ``eps_quantile``, ``n_points``.
    """
    from sklearn.cluster import HDBSCAN
    from sklearn.neighbors import NearestNeighbors

    Y = check_points(Y, min_rows=3, name="Y")
    eps_quantile = check_fraction(eps_quantile, "eps_quantile")
    ms = max(2, min(int(min_samples), len(Y) - 1))
    mcs = max(ms, math.ceil(check_fraction(min_share, "min_share") * len(Y)))
    core = NearestNeighbors(n_neighbors=ms).fit(Y).kneighbors(Y)[0][:, -1]
    eps = float(np.quantile(core, eps_quantile))
    # scikit-learn >= 1.5 warns unless copy is explicit; older versions lack the parameter.
    extra = {"copy": True} if "copy" in inspect.signature(HDBSCAN).parameters else {}
    labels = HDBSCAN(
        min_cluster_size=mcs,
        min_samples=ms,
        cluster_selection_epsilon=eps,
        allow_single_cluster=True,
        **extra,
    ).fit_predict(Y)
    sizes = np.bincount(labels[labels >= 0]) if (labels >= 0).any() else np.zeros(0, int)
    return {
        "n_clusters": int(len(sizes)),
        "sizes": sorted((int(s) for s in sizes), reverse=True),
        "noise_share": float(np.mean(labels < 0)),
        "min_cluster_size": int(mcs),
        "min_samples": int(ms),
        "epsilon": eps,
        "eps_quantile": eps_quantile,
        "n_points": len(Y),
    }


def knn_components(Z: Any, ks: Sequence[int] = KS) -> list[dict]:
    """Connected components of the (undirected) k-NN graph of ``Z`` (n, N) for each k.

    Each point links to its k nearest other points (Euclidean, raw coordinates); an edge in
    either direction joins two points. Returns per k: ``k``, ``n_components``,
    ``largest_share`` (share of points in the largest component), ``n_points``.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components
    from sklearn.neighbors import NearestNeighbors

    ks = sorted({int(k) for k in ks})
    X = check_points(Z, min_rows=max(ks) + 2)
    if ks[0] < 1:
        raise ValueError(f"k must be at least 1, got {ks[0]}")
    n = len(X)
    # One query for the largest k; every smaller graph is a prefix of its neighbour lists.
    nbrs = NearestNeighbors(n_neighbors=max(ks) + 1, algorithm="brute").fit(X)
    idx = nbrs.kneighbors(X, return_distance=False)[:, 1:]
    out = []
    for k in ks:
        rows = np.repeat(np.arange(n), k)
        graph = csr_matrix((np.ones(n * k), (rows, idx[:, :k].ravel())), shape=(n, n))
        count, labels = connected_components(graph, directed=True, connection="weak")
        largest = int(np.bincount(labels).max())
        out.append(
            {"k": k, "n_components": int(count), "largest_share": largest / n, "n_points": n}
        )
    return out


def betweenness(
    reference: Any,
    A: Any,
    B: Any,
    ts: Sequence[float] = TS,
    k: int = 5,
    tail_quantile: float = 0.99,
) -> dict:
    """Where the points ``(1 - t) A + t B`` lie relative to real ``reference`` points.

    Parameters
    ----------
    reference : array-like, shape (r, N)
        Real points that define the data region (the k-NN balls, the Mahalanobis fit).
    A, B : array-like, shape (m, N)
        Pair endpoints: real points *not* in ``reference``, so that t = 0 and t = 1 score what
        fresh real points score (the baseline for the points in between). m >= 12.
    ts : positions along each segment; must include 0, 0.5 and 1.
    k : neighbourhood size of the k-NN precision (the voids section's k).
    tail_quantile : the reference points' Mahalanobis quantile that bounds the region.

    Returns
    -------
    dict
        Per t: ``mahalanobis_inside`` (share within the threshold) and ``knn_inside`` (k-NN
        precision: share inside some reference point's k-NN ball); ``baseline_*`` (the mean of
        t = 0 and t = 1), ``midpoint_retention_*`` (t = 0.5 over the baseline), the same at
        t = 0.5 for the farther half of the pairs (``far_*``), ``tail_threshold``,
        ``n_pairs``, ``n_far_pairs``, ``n_reference``, ``k``.
    """
    from latentatlas.analysis.voids import void_shares
    from latentatlas.metrics.manifold import prdc

    R = check_points(reference, min_rows=k + 2, name="reference")
    A = check_points(A, min_rows=12, name="A")
    B = check_points(B, min_rows=12, name="B")
    check_same_dim(R, A, ("reference", "A"))
    if A.shape != B.shape:
        raise ValueError(f"A and B differ in shape: {A.shape} vs {B.shape}")
    ts = [float(t) for t in ts]
    if not {0.0, 0.5, 1.0} <= set(ts):
        raise ValueError(f"ts must include 0, 0.5 and 1, got {ts}")
    model = MahalanobisModel().fit(R)
    tail_quantile = check_fraction(tail_quantile, "tail_quantile")
    threshold = 0.0

    def shares(P: np.ndarray) -> tuple[float, float]:
        nonlocal threshold
        # The voids section's tail share and k-NN precision, with the reference as "real".
        vs = void_shares(R, P, tail_quantile=tail_quantile, model=model)
        threshold = vs["tail_threshold"]
        return 1.0 - vs["mahalanobis_tail"], float(prdc(R, P, k=k)["precision"])

    maha, knn = zip(*(shares((1.0 - t) * A + t * B) for t in ts), strict=True)
    dist = np.linalg.norm(A - B, axis=1)
    # The farther half by rank, not "> median": ties cannot shrink it below the k + 1 points
    # that k-NN precision needs (with distinct distances the two agree).
    far = np.sort(np.argsort(dist, kind="stable")[len(dist) // 2 :])
    far_maha, far_knn = shares(0.5 * (A[far] + B[far]))
    at = {t: i for i, t in enumerate(ts)}
    out: dict[str, Any] = {"t": ts, "mahalanobis_inside": list(maha), "knn_inside": list(knn)}
    for name, curve, far_value in (("mahalanobis", maha, far_maha), ("knn", knn, far_knn)):
        base = 0.5 * (curve[at[0.0]] + curve[at[1.0]])
        out[f"baseline_{name}"] = base
        out[f"midpoint_{name}"] = curve[at[0.5]]
        out[f"far_midpoint_{name}"] = far_value
        out[f"midpoint_retention_{name}"] = curve[at[0.5]] / base if base > 0 else float("nan")
        out[f"far_retention_{name}"] = far_value / base if base > 0 else float("nan")
    out.update(
        tail_threshold=threshold,
        tail_quantile=tail_quantile,
        n_pairs=len(A),
        n_far_pairs=len(far),
        n_reference=len(R),
        k=int(k),
    )
    return out


def attribute_separation(
    Z: Any,
    attributes: Any,
    names: Sequence[str] | None = None,
    max_points: int | None = 4000,
    folds: int = 3,
    min_class: int = 20,
    random_state: RandomState = 0,
) -> list[dict]:
    """Per attribute: are its two classes separate regions, or a shift within one region?

    Parameters
    ----------
    Z : array-like, shape (n, N)
    attributes : array-like, shape (n, A)
        +1 / -1 per point and attribute, 0 = unknown (the store's convention).
    names : A attribute names (default ``attr0`` ...).
    max_points : one seeded subsample of the points shared by every attribute.
    folds : stratified folds of the linear probe.
    min_class : attributes with fewer labelled points in either class are skipped (NaNs).

    Returns
    -------
    list of dict
        ``attribute``, ``n_positive``, ``n_negative``, ``mahalanobis`` (between the class means,
        pooled within-class covariance), ``mahalanobis_corrected`` (the same, unbiased for
        normal classes: the sample value overstates the distance by about N (1/n1 + 1/n0) in
        its square, e.g. +1.3 for 200 positives in N = 256; NaN unless n > N + 3),
        ``probe_accuracy`` (cross-validated balanced accuracy of a logistic regression on
        standardised z, classes weighted equally, so a rare class is not ignored) and ``kind``:
        ``"separate regions"`` when the corrected distance is at least 4 (linear-discriminant
        overlap at most 2.3 %) and the probe reaches 0.97, otherwise ``"shift within one
        region"`` (``"too few labelled points"`` when skipped).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = check_points(Z, min_rows=2)
    L = np.asarray(attributes)
    if L.ndim != 2 or L.shape[0] != len(X):
        raise ValueError(f"attributes must have shape ({len(X)}, A), got {L.shape}")
    names = list(names) if names else [f"attr{a}" for a in range(L.shape[1])]
    if len(names) != L.shape[1]:
        raise ValueError(f"{len(names)} attribute names for {L.shape[1]} attributes")
    rng = as_rng(random_state)
    keep = subsample_indices(len(X), max_points, rng)
    X, L = X[keep], L[keep]
    seed = draw_seed(rng)
    out = []
    for a, name in enumerate(names):
        y = L[:, a]
        pos, neg = X[y > 0], X[y < 0]
        row: dict[str, Any] = {"attribute": str(name), "n_positive": len(pos)}
        row["n_negative"] = len(neg)
        if min(len(pos), len(neg)) < max(min_class, folds):
            out.append({**row, "kind": "too few labelled points"} | _nan_stats())
            continue
        d2, d2u = _mahalanobis_means(pos, neg)
        probe = make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced")
        )
        cv = StratifiedKFold(int(folds), shuffle=True, random_state=seed)
        Xl, yl = np.concatenate([pos, neg]), np.r_[np.ones(len(pos)), np.zeros(len(neg))]
        acc = float(cross_val_score(probe, Xl, yl, cv=cv, scoring="balanced_accuracy").mean())
        delta = math.sqrt(d2u) if np.isfinite(d2u) else float("nan")
        separate = np.isfinite(delta) and delta >= SEPARATE_DELTA and acc >= SEPARATE_ACCURACY
        kind = "separate regions" if separate else "shift within one region"
        out.append(
            {
                **row,
                "mahalanobis": math.sqrt(d2),
                "mahalanobis_corrected": delta,
                "probe_accuracy": acc,
                "kind": kind,
            }
        )
    return out


def _nan_stats() -> dict:
    nan = float("nan")
    return {"mahalanobis": nan, "mahalanobis_corrected": nan, "probe_accuracy": nan}


def _mahalanobis_means(P: np.ndarray, Q: np.ndarray) -> tuple[float, float]:
    """Squared Mahalanobis distance between the means of P and Q (pooled within-class
    covariance, pseudo-inverse) and its unbiased version for normal classes (clipped at 0)."""
    from latentatlas.analysis.gaussian import mean_covariance

    n1, n0, dim = len(P), len(Q), P.shape[1]
    m1, c1 = mean_covariance(P)
    m0, c0 = mean_covariance(Q)
    pooled = ((n1 - 1) * c1 + (n0 - 1) * c0) / (n1 + n0 - 2)
    diff = m1 - m0
    d2 = float(diff @ np.linalg.pinv(pooled, hermitian=True) @ diff)
    n = n1 + n0
    if n <= dim + 3:
        return d2, float("nan")
    return d2, max(0.0, (n - dim - 3) / (n - 2) * d2 - dim * (1 / n1 + 1 / n0))


def fragmentation_verdict(bic: dict, clusters: dict, knn: list[dict], between: dict) -> dict:
    """The rule from the numbers to a verdict, and the verdict in plain words.

    - ``"several clusters"``: the k-NN graph at the largest k still leaves more than 5 % of the
      points outside its largest component *and* HDBSCAN finds at least two clusters. Both are
      required: a mixture's BIC alone also prefers several components for one curved or skewed
      region, and a k-NN split alone can be a handful of isolated outliers.
    - ``"one connected region, not convex"``: otherwise, when the midpoints of pairs fall
      outside the region: their k-NN precision is below 0.8 of what the real endpoints score
      (the filament case: connected, yet the straight line between two far points leaves it).
    - ``"one region"``: connected and midpoints inside.

    Returns ``label``, ``sentence`` and the numbers the rule read.
    """
    top = max(knn, key=lambda row: row["k"])
    split = top["largest_share"] < LARGEST_SHARE_MIN and clusters["n_clusters"] >= 2
    retention = between["midpoint_retention_knn"]
    if split:
        label = "several clusters"
    elif np.isfinite(retention) and retention < RETENTION_MIN:
        label = "one connected region, not convex"
    else:
        label = "one region"
    plural = "s" if bic["best"] != 1 else ""
    # BIC still falling at the largest K says "not one Gaussian", not "K clusters".
    most = " (the most tried)" if bic["best"] == max(bic.get("components", [0])) else ""
    sentence = (
        f"{label}: {bic['best']} BIC component{plural}{most}, {clusters['n_clusters']} HDBSCAN "
        f"cluster{'s' if clusters['n_clusters'] != 1 else ''} ({clusters['noise_share']:.0%} "
        f"noise), {top['n_components']} k-NN component"
        f"{'s' if top['n_components'] != 1 else ''} (k = {top['k']}) holding "
        f"{top['largest_share']:.0%} of points in the largest; midpoints inside "
        f"{between['midpoint_knn']:.0%} by k-NN precision (real endpoints "
        f"{between['baseline_knn']:.0%}), far-pair midpoints {between['far_midpoint_knn']:.0%}, "
        f"{between['midpoint_mahalanobis']:.0%} within the Mahalanobis tail"
    )
    return {
        "label": label,
        "sentence": sentence,
        "knn_k": top["k"],
        "knn_largest_share": top["largest_share"],
        "n_clusters": clusters["n_clusters"],
        "midpoint_retention_knn": retention,
        "largest_share_min": LARGEST_SHARE_MIN,
        "retention_min": RETENTION_MIN,
    }


@dataclass(frozen=True)
class FragmentationResult:
    """Everything :func:`fragmentation` measured; ``to_dict()`` is the JSON-ready summary.

    ``pairs`` (n_pairs, 2) indexes the pair endpoints into the input rows (for decoding them);
    it is left out of ``to_dict()``.
    """

    settings: dict
    pca: dict
    bic: dict
    clusters: dict
    knn_graph: list
    betweenness: dict
    attributes: list
    verdict: dict
    pairs: np.ndarray

    def to_dict(self) -> dict:
        return jsonable({k: v for k, v in self.__dict__.items() if k != "pairs"})


def fragmentation(
    Z: Any,
    attributes: Any = None,
    attribute_names: Sequence[str] | None = None,
    *,
    max_points: int = 5000,
    n_pairs: int = 500,
    n_pcs: int = N_PCS,
    max_components: int = MAX_COMPONENTS,
    covariance_type: str = "full",
    ks: Sequence[int] = KS,
    ts: Sequence[float] = TS,
    k: int = 5,
    attribute_points: int = 4000,
    random_state: RandomState = 0,
) -> FragmentationResult:
    """Clusters, connectivity, betweenness and attribute separation of ``Z`` (n, N), n >= 60.

    One seeded permutation splits the points: the first ``min(max_points, n // 2)`` are the
    reference of the betweenness test, the rest the pool its ``n_pairs`` pairs are drawn from
    (so endpoints are never reference points); the first ``min(max_points, n)`` are the
    subsample of the mixture, HDBSCAN and the k-NN graph. ``attributes`` (n, A), +1 / -1 / 0
    as in a store, are analysed on their own subsample of ``attribute_points``.
    """
    X = check_points(Z, min_rows=60)
    rng = as_rng(random_state)
    perm = rng.permutation(len(X))
    m_ref = min(int(max_points), len(X) // 2)
    sub = np.sort(perm[: min(int(max_points), len(X))])
    pool = perm[m_ref:]
    first = rng.integers(0, len(pool), int(n_pairs))
    # A non-zero offset: the two endpoints of a pair are always different points.
    second = (first + rng.integers(1, len(pool), int(n_pairs))) % len(pool)
    pairs = np.stack([pool[first], pool[second]], axis=1)
    Y, explained = principal_points(X[sub], n_pcs)
    bic = bic_components(Y, max_components, covariance_type, random_state=rng)
    clusters = density_clusters(Y)
    knn = knn_components(X[sub], ks)
    between = betweenness(X[np.sort(perm[:m_ref])], X[pairs[:, 0]], X[pairs[:, 1]], ts, k)
    attrs = []
    if attributes is not None:
        attrs = attribute_separation(
            X, attributes, attribute_names, max_points=attribute_points, random_state=rng
        )
    return FragmentationResult(
        settings={
            "max_points": int(max_points),
            "n_subsample": len(sub),
            "n_reference": m_ref,
            "n_pairs": int(n_pairs),
            "n_pcs": Y.shape[1],
            "ks": sorted(int(x) for x in ks),
            "k_precision": int(k),
            "n_attribute_points": min(len(X), int(attribute_points)) if attrs else 0,
        },
        pca={"n_components": Y.shape[1], "explained_variance": explained},
        bic=bic,
        clusters=clusters,
        knn_graph=knn,
        betweenness=between,
        attributes=attrs,
        verdict=fragmentation_verdict(bic, clusters, knn, between),
        pairs=pairs,
    )
