"""Is the data region one piece, several regions joined by thin bridges, or separate fragments?

Measurements over z-points, each on a bounded subsample (the superlinear steps never see more
than ``max_points`` points), and a small rule that turns them into a verdict:

- clusters: Gaussian mixtures by BIC and held-out log-likelihood, searched past the minimum
  (:func:`mixture_search`), and HDBSCAN clusters chosen by stability (:func:`density_clusters`),
  both on the top principal components (all coordinates when N is small);
- topology: long-lived components (H0) and loops (H1) of the persistence diagram of maxmin
  landmarks (:func:`latentatlas.metrics.topology.persistence`);
- connectivity: connected components of the k-nearest-neighbour graph (:func:`knn_components`);
- midpoints: where midpoints between and within the clusters found lie, against the real
  points' nearest-neighbour distances (:func:`cluster_midpoints`), and where points on
  segments between random real points lie (:func:`betweenness`);
- labels: agreement of every clustering with each attribute or class label (adjusted Rand index,
  :func:`agreement`), and whether attribute classes are separate regions or shifts within one
  (:func:`attribute_separation`).

:func:`fragmentation` runs all of them with one seed; :func:`fragmentation_verdict` is the rule.
Distances are taken in the raw coordinates up to N = 256 and in the top 128 principal
components above (``GEOMETRY_DIMS``), so the section's cost does not grow with N beyond one
randomized PCA.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from latentatlas.analysis.gaussian import MahalanobisModel
from latentatlas.core.jsonable import jsonable
from latentatlas.core.rng import RandomState, as_rng, draw_seed, subsample_indices
from latentatlas.core.validation import check_fraction, check_points, check_same_dim

KS = (5, 10, 20)
TS = (0.0, 0.25, 0.5, 0.75, 1.0)
# Distances in the raw coordinates up to this N; above it in GEOMETRY_PCS principal components
# (fitted by randomized SVD on the subsample), so that N = 65,536 costs one PCA, not a 65,536-d
# Mahalanobis fit and k-NN searches.
GEOMETRY_DIMS = 256
GEOMETRY_PCS = 128
# The mixtures and HDBSCAN: all coordinates up to N = 16, else the top 16 principal components.
# Enough for a dozen classes (k clusters need k - 1 directions); few enough that a full-covariance
# mixture (153 parameters per component) is fitted stably on a few thousand points.
N_PCS = 16
# The mixture search: 1, 2, ... components until PAST_MINIMUM fits in a row fail to beat the
# lowest BIC so far, or MAX_COMPONENTS; on MIXTURE_POINTS points, a quarter held out.
MAX_COMPONENTS = 30
PAST_MINIMUM = 4
MIXTURE_POINTS = 3000
HELDOUT_SHARE = 0.25
# HDBSCAN: a cluster needs MIN_SHARE of the points; MIN_SAMPLES sets the density estimate.
MIN_SAMPLES = 10
MIN_SHARE = 0.02
# Midpoints count as outside beyond this quantile of the real points' nearest-neighbour distances.
MIDPOINT_QUANTILE = 0.95
# The verdict rule (see fragmentation_verdict).
LARGEST_SHARE_MIN = 0.95
NOISE_MAX = 0.5
BETWEEN_MIN = 0.25
BETWEEN_RATIO = 2.0
RETENTION_MIN = 0.8
# Attribute classes count as separate regions when the LDA overlap Phi(-Delta/2) is at most
# ~2 % (Delta >= 4) and a held-out linear probe separates them almost perfectly.
SEPARATE_DELTA = 4.0
SEPARATE_ACCURACY = 0.97
# Class labels live in a store as one +1/-1 attribute per class, named "<label>=<class>".
CLASS_SEPARATOR = "="


def _pca(X: np.ndarray, n_components: int, random_state: RandomState) -> Any:
    from sklearn.decomposition import PCA

    d = max(1, min(int(n_components), X.shape[1], X.shape[0] - 1))
    # Randomized SVD where it pays (a few components of many coordinates): seconds, not minutes,
    # at N = 65,536; below, scikit-learn's choice (the covariance's eigenvectors for n >> N).
    solver = "randomized" if X.shape[1] > GEOMETRY_DIMS and d < X.shape[1] // 4 else "auto"
    seed = draw_seed(as_rng(random_state))
    return PCA(n_components=d, svd_solver=solver, random_state=seed).fit(X)


def mixture_search(
    Y: Any,
    max_components: int = MAX_COMPONENTS,
    past_minimum: int = PAST_MINIMUM,
    covariance_type: str = "full",
    max_points: int = MIXTURE_POINTS,
    random_state: RandomState = 0,
) -> tuple[dict, np.ndarray]:
    """Gaussian mixtures with 1, 2, ... components on ``Y`` (n, d), searched past the BIC minimum.

    One seeded subsample of at most ``max_points`` points is split: three quarters fit each
    mixture and score its BIC, the last quarter scores its held-out mean log-likelihood. The
    search stops once ``past_minimum`` fits in a row have not beaten the lowest BIC so far (or
    at ``max_components``), so the minimum is inside the range, not at its edge, unless
    ``reached_max``.

    Returns the summary (``components``, ``bic``, ``heldout_loglik`` (nats per point),
    ``best`` (BIC argmin), ``best_heldout`` (held-out argmax), ``reached_max``,
    ``covariance_type``, ``n_fit``, ``n_heldout``, ``dim``) and the labels (n,) of every row of
    ``Y`` under the best-BIC mixture.
    """
    from sklearn.mixture import GaussianMixture

    Y = check_points(Y, min_rows=8, name="Y")
    rng = as_rng(random_state)
    keep = subsample_indices(len(Y), max_points, rng)
    order = rng.permutation(keep)
    n_held = max(2, int(round(HELDOUT_SHARE * len(order))))
    fit, held = Y[order[n_held:]], Y[order[:n_held]]
    top = max(1, min(int(max_components), len(fit) // 4))
    comps, bic, loglik, models = [], [], [], []
    for k in range(1, top + 1):
        gm = GaussianMixture(k, covariance_type=covariance_type, random_state=draw_seed(rng))
        gm.fit(fit)
        comps.append(k)
        bic.append(float(gm.bic(fit)))
        loglik.append(float(gm.score(held)))
        models.append(gm)
        if k - comps[int(np.argmin(bic))] >= past_minimum:
            break
    best = int(np.argmin(bic))
    summary = {
        "components": comps,
        "bic": bic,
        "heldout_loglik": loglik,
        "best": comps[best],
        "best_heldout": comps[int(np.argmax(loglik))],
        "reached_max": comps[-1] == top and comps[best] > top - past_minimum,
        "covariance_type": covariance_type,
        "n_fit": len(fit),
        "n_heldout": len(held),
        "dim": Y.shape[1],
    }
    return summary, models[best].predict(Y)


def density_clusters(
    Y: Any, min_samples: int = MIN_SAMPLES, min_share: float = MIN_SHARE
) -> tuple[dict, np.ndarray]:
    """HDBSCAN clusters of ``Y`` (n, d), chosen by stability (excess of mass).

    A cluster needs ``min_share`` of the points. No selection epsilon and no single-cluster
    fallback: touching clusters are split wherever the density between them dips for long enough
    to outlast the clusters themselves. A region of smooth density has no such split and comes
    back as noise (``n_clusters`` 0) or as a few dense spots holding a minority of the points
    (``noise_share`` above one half); :func:`fragmentation_verdict` reads both as one region.

    Returns the summary (``n_clusters``, ``sizes`` (descending), ``noise_share``,
    ``min_cluster_size``, ``min_samples``, ``selection``, ``n_points``) and the labels (n,),
    -1 for noise.
    """
    from sklearn.cluster import HDBSCAN

    Y = check_points(Y, min_rows=3, name="Y")
    ms = max(2, min(int(min_samples), len(Y) - 1))
    mcs = max(ms, math.ceil(check_fraction(min_share, "min_share") * len(Y)))
    # scikit-learn >= 1.5 warns unless copy is explicit; older versions lack the parameter.
    extra = {"copy": True} if "copy" in inspect.signature(HDBSCAN).parameters else {}
    labels = HDBSCAN(
        min_cluster_size=mcs, min_samples=ms, cluster_selection_method="eom", **extra
    ).fit_predict(Y)
    sizes = np.bincount(labels[labels >= 0]) if (labels >= 0).any() else np.zeros(0, int)
    summary = {
        "n_clusters": int(len(sizes)),
        "sizes": sorted((int(s) for s in sizes), reverse=True),
        "noise_share": float(np.mean(labels < 0)),
        "min_cluster_size": int(mcs),
        "min_samples": int(ms),
        "selection": "eom",
        "n_points": len(Y),
    }
    return summary, labels


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
        # Newton steps with a Cholesky solve reach the unique optimum of this penalised
        # likelihood in a handful of O(n N^2) iterations, ~4x faster than L-BFGS, which stops
        # at its gradient tolerance short of it (on the bundled store the balanced accuracies
        # moved by 0.001 on average, at most 0.009 for a rare class; no reading changed).
        probe = make_pipeline(
            StandardScaler(),
            LogisticRegression(max_iter=2000, class_weight="balanced", solver="newton-cholesky"),
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


def cluster_midpoints(
    G: Any,
    labels: Any,
    n_pairs: int = 500,
    quantile: float = MIDPOINT_QUANTILE,
    random_state: RandomState = 0,
) -> tuple[dict, np.ndarray]:
    """Midpoints between and within clusters, against the real points' spacing.

    Parameters
    ----------
    G : array-like, shape (n, N)
        The points (n >= 3).
    labels : array-like, shape (n,)
        A cluster per point, -1 for none (noise); pairs use clustered points only.
    n_pairs : pairs of each kind: two points of one cluster, two points of different clusters.
    quantile : a point counts as outside when its nearest point of ``G`` is farther than this
        quantile of the points' own nearest-neighbour distances (each point's nearest *other*
        point), so ``1 - quantile`` of the real points are outside by construction: the baseline.

    Returns
    -------
    dict, ndarray
        ``threshold``, ``real_outside`` (the baseline), ``within_outside`` and
        ``between_outside`` (shares of midpoints outside; NaN without such pairs),
        ``n_within``, ``n_between``, ``n_clusters``, ``quantile``; and the between-cluster
        pairs (n_between, 2) as indices into ``G``.
    """
    from sklearn.neighbors import NearestNeighbors

    G = check_points(G, min_rows=3, name="G")
    labels = np.asarray(labels)
    if labels.shape != (len(G),):
        raise ValueError(f"labels must have shape ({len(G)},), got {labels.shape}")
    quantile = check_fraction(quantile, "quantile")
    rng = as_rng(random_state)
    nn = NearestNeighbors(n_neighbors=2).fit(G)
    own = nn.kneighbors(G)[0][:, 1]
    threshold = float(np.quantile(own, quantile))
    clustered = np.flatnonzero(labels >= 0)
    n_clusters = len(np.unique(labels[clustered]))
    found: dict[str, np.ndarray] = {}
    if len(clustered) >= 2:
        # Uniform pairs of clustered points, split by kind: enough draws for n_pairs of the rarer
        # kind unless one cluster holds nearly all points.
        draws = rng.choice(clustered, size=(40 * int(n_pairs), 2))
        draws = draws[draws[:, 0] != draws[:, 1]]
        same = labels[draws[:, 0]] == labels[draws[:, 1]]
        found = {"within": draws[same][:n_pairs], "between": draws[~same][:n_pairs]}
    out: dict[str, Any] = {"threshold": threshold, "real_outside": float(np.mean(own > threshold))}
    for kind in ("within", "between"):
        pairs = found.get(kind, np.zeros((0, 2), int))
        if len(pairs):
            mid = 0.5 * (G[pairs[:, 0]] + G[pairs[:, 1]])
            out[f"{kind}_outside"] = float(np.mean(nn.kneighbors(mid, 1)[0][:, 0] > threshold))
        else:
            out[f"{kind}_outside"] = float("nan")
        out[f"n_{kind}"] = len(pairs)
    out.update(n_clusters=int(n_clusters), quantile=quantile, n_points=len(G))
    return out, found.get("between", np.zeros((0, 2), int))


def label_columns(attributes: Any, names: Sequence[str]) -> dict[str, np.ndarray]:
    """A store's attributes as labelings: ``{name: codes (n,)}``, -1 where unknown.

    A +1/-1 attribute gives codes 1/0; the class attributes of one label (``label=3``,
    ``label=7``, ... , one-hot) give one labeling ``label`` with a code per class.
    """
    L = np.asarray(attributes)
    out: dict[str, np.ndarray] = {}
    groups: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        head, sep, _ = str(name).partition(CLASS_SEPARATOR)
        if sep:
            groups.setdefault(head, []).append(j)
        else:
            out[str(name)] = np.where(L[:, j] > 0, 1, np.where(L[:, j] < 0, 0, -1))
    for head, cols in groups.items():
        block = L[:, cols] > 0
        out[head] = np.where(block.any(axis=1), block.argmax(axis=1), -1)
    return out


def agreement(clusterings: Mapping[str, Any], labelings: Mapping[str, Any]) -> list[dict]:
    """Adjusted Rand index of every clustering with every labeling, over the points both know.

    ``clusterings`` and ``labelings`` map names to codes (n,); -1 is noise (a clustering: kept,
    as one more group) or unknown (a labeling: the point is left out). Returns rows
    ``clustering``, ``labeling``, ``ari`` (NaN with fewer than 2 known points), ``n_points``,
    ``n_classes``.
    """
    from sklearn.metrics import adjusted_rand_score

    rows = []
    for lname, codes in labelings.items():
        codes = np.asarray(codes)
        known = codes >= 0
        for cname, clusters in clusterings.items():
            clusters = np.asarray(clusters)
            ari = (
                float(adjusted_rand_score(codes[known], clusters[known]))
                if known.sum() >= 2
                else float("nan")
            )
            rows.append(
                {
                    "clustering": cname,
                    "labeling": lname,
                    "ari": ari,
                    "n_points": int(known.sum()),
                    "n_classes": int(len(np.unique(codes[known]))),
                }
            )
    return rows


def fragmentation_verdict(
    knn: list[dict],
    clusters: dict,
    midpoints: dict,
    topology: dict,
    between: dict,
    mixture: dict,
    mixture_midpoints: dict | None = None,
) -> dict:
    """The rule from the numbers to a verdict in three outcomes, and the verdict in plain words.

    - ``"separate fragments"``: the k-NN graph at the largest k leaves more than 5 % of the
      points outside its largest component, *and* there are at least two density regions
      (HDBSCAN clusters, see below) or two long-lived H0 components: a k-NN split alone can be
      a handful of isolated outliers.
    - ``"several regions joined by thin bridges"``: otherwise (connected), when HDBSCAN finds at
      least two clusters holding at least half the points, and the midpoints between them fall
      outside: at least 25 % of them beyond the real points' 95th-percentile nearest-neighbour
      distance, and at least twice the share of the within-cluster midpoints.
    - ``"one region"``: otherwise. Midpoints of random pairs then say whether it is convex: their
      k-NN precision below 0.8 of the real endpoints' means a curved region (a filament).

    HDBSCAN's clusters count as regions only when they hold at least half the points: on a region
    of smooth density it calls most points noise and keeps a few dense spots. The mixture's
    midpoints (``mixture_midpoints``), when given, are quoted where HDBSCAN found no clusters.

    Returns ``label``, ``sentence``, ``convex`` and the numbers the rule read.
    """
    top = max(knn, key=lambda row: row["k"])
    regions = clusters["n_clusters"] if clusters["noise_share"] <= NOISE_MAX else 1
    regions = max(regions, 1)
    inside, outside = midpoints["within_outside"], midpoints["between_outside"]
    gap = (
        regions >= 2
        and np.isfinite(outside)
        and outside >= BETWEEN_MIN
        and outside >= BETWEEN_RATIO * (inside if np.isfinite(inside) else 0.0)
    )
    retention = between["midpoint_retention_knn"]
    convex = not (np.isfinite(retention) and retention < RETENTION_MIN)
    if top["largest_share"] < LARGEST_SHARE_MIN and max(regions, topology["components"]) >= 2:
        label = "separate fragments"
    elif gap:
        label = "several regions joined by thin bridges"
    else:
        label = "one region"

    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    shape = "" if label != "one region" else (", convex" if convex else ", not convex")
    most = " (the most tried)" if mixture["reached_max"] else ""
    # The sentence quotes the density clusters' midpoints, else the mixture components' (no
    # density split), else the far random pairs' (one Gaussian component too).
    quoted, which = midpoints, "clusters"
    if not np.isfinite(outside) and mixture_midpoints is not None:
        quoted, which = mixture_midpoints, "mixture components"
    if np.isfinite(quoted["between_outside"]):
        mids = (
            f"midpoints between {which} {quoted['between_outside']:.0%} outside, within "
            f"{quoted['within_outside']:.0%} (real points {quoted['real_outside']:.0%})"
        )
    else:
        mids = (
            f"far-pair midpoints {between['far_midpoint_knn']:.0%} inside by k-NN precision "
            f"(real endpoints {between['baseline_knn']:.0%})"
        )
    sentence = (
        f"{label}{shape}: {count(clusters['n_clusters'], 'HDBSCAN cluster')} "
        f"({clusters['noise_share']:.0%} noise), "
        f"{count(mixture['best'], 'mixture component')} by BIC{most}, "
        f"{count(topology['components'], 'long-lived component')} and "
        f"{count(topology['loops'], 'loop')} (persistent homology), "
        f"{count(top['n_components'], 'k-NN component')} (k = {top['k']}, "
        f"{top['largest_share']:.0%} in the largest); {mids}"
    )
    return {
        "label": label,
        "sentence": sentence,
        "convex": bool(convex),
        "regions": int(regions),
        "knn_k": top["k"],
        "knn_largest_share": top["largest_share"],
        "n_clusters": clusters["n_clusters"],
        "noise_share": clusters["noise_share"],
        "components": topology["components"],
        "between_outside": outside,
        "within_outside": inside,
        "midpoint_retention_knn": retention,
        "largest_share_min": LARGEST_SHARE_MIN,
        "noise_max": NOISE_MAX,
        "between_min": BETWEEN_MIN,
        "between_ratio": BETWEEN_RATIO,
        "retention_min": RETENTION_MIN,
    }


@dataclass(frozen=True)
class FragmentationResult:
    """Everything :func:`fragmentation` measured; ``to_dict()`` is the JSON-ready summary.

    ``pairs`` (n_pairs, 2) indexes the random pair endpoints into the input rows and
    ``cluster_pairs`` (m, 2) pairs of points in different clusters (density regions when there
    are several, else mixture components: ``settings["cluster_pairs_from"]``), for decoding
    them; both are left out of ``to_dict()``.
    """

    settings: dict
    pca: dict
    mixture: dict
    clusters: dict
    topology: dict
    knn_graph: list
    midpoints: dict
    betweenness: dict
    agreement: list
    attributes: list
    verdict: dict
    pairs: np.ndarray
    cluster_pairs: np.ndarray

    def to_dict(self) -> dict:
        skip = ("pairs", "cluster_pairs")
        return jsonable({k: v for k, v in self.__dict__.items() if k not in skip})


def geometry_points(Z: Any, rows: np.ndarray, fit_rows: np.ndarray, random_state: RandomState):
    """The coordinates distances are taken in for ``Z[rows]``: the raw coordinates (float64) up
    to N = ``GEOMETRY_DIMS``, else the top ``GEOMETRY_PCS`` principal components fitted on
    ``Z[fit_rows]`` (a subset of ``rows``). Returns them and the variance share they keep."""
    N = np.shape(Z)[1]
    if N <= GEOMETRY_DIMS:
        return check_points(Z[rows]), 1.0
    # float32 halves the memory of a 2,000 x 65,536 block; the scores are float64.
    X = np.asarray(Z[rows], dtype=np.float32)
    if not np.isfinite(X).all():
        raise ValueError("Z contains NaN or inf")
    pca = _pca(X[np.searchsorted(rows, fit_rows)], GEOMETRY_PCS, random_state)
    return np.ascontiguousarray(pca.transform(X), np.float64), float(
        pca.explained_variance_ratio_.sum()
    )


def fragmentation(
    Z: Any,
    attributes: Any = None,
    attribute_names: Sequence[str] | None = None,
    *,
    max_points: int = 5000,
    n_pairs: int = 500,
    n_pcs: int = N_PCS,
    max_components: int = MAX_COMPONENTS,
    mixture_points: int = MIXTURE_POINTS,
    ks: Sequence[int] = KS,
    ts: Sequence[float] = TS,
    k: int = 5,
    n_landmarks: int = 300,
    attribute_points: int = 4000,
    random_state: RandomState = 0,
) -> FragmentationResult:
    """Clusters, topology, connectivity, midpoints and labels of ``Z`` (n, N), n >= 60.

    One seeded permutation splits the points: the first ``min(max_points, n)`` are the
    subsample of the mixtures, HDBSCAN, persistent homology, the k-NN graph and the cluster
    midpoints; the first ``min(max_points, n // 2)`` are the reference of the random-pair
    betweenness test, the rest the pool its ``n_pairs`` pairs are drawn from (so endpoints are
    never reference points). ``attributes`` (n, A), +1 / -1 / 0 as in a store, are compared
    with the clusterings on the subsample and analysed for separation on ``attribute_points`` of
    it.
    """
    # One BLAS thread: the mixtures' EM and the probes' L-BFGS work on small matrices, where a
    # second OpenBLAS thread on 2 busy cores made them 15-37x slower (measured: a logistic
    # regression on 2,700 x 256 points, 0.29 s against 11 s); the large products (k-NN, PCA)
    # lose at most a factor 2 on an idle machine.
    with threadpool_limits(limits=1, user_api="blas"):
        return _fragmentation(
            Z,
            attributes,
            attribute_names,
            max_points=max_points,
            n_pairs=n_pairs,
            n_pcs=n_pcs,
            max_components=max_components,
            mixture_points=mixture_points,
            ks=ks,
            ts=ts,
            k=k,
            n_landmarks=n_landmarks,
            attribute_points=attribute_points,
            random_state=random_state,
        )


def _fragmentation(
    Z: Any,
    attributes: Any,
    attribute_names: Sequence[str] | None,
    *,
    max_points: int,
    n_pairs: int,
    n_pcs: int,
    max_components: int,
    mixture_points: int,
    ks: Sequence[int],
    ts: Sequence[float],
    k: int,
    n_landmarks: int,
    attribute_points: int,
    random_state: RandomState,
) -> FragmentationResult:
    from latentatlas.metrics.topology import persistence

    n = len(Z)
    if n < 60:
        raise ValueError(f"Z must have at least 60 rows, got {n}")
    rng = as_rng(random_state)
    perm = rng.permutation(n)
    m_ref = min(int(max_points), n // 2)
    sub = np.sort(perm[: min(int(max_points), n)])
    pool = perm[m_ref:]
    first = rng.integers(0, len(pool), int(n_pairs))
    # A non-zero offset: the two endpoints of a pair are always different points.
    second = (first + rng.integers(1, len(pool), int(n_pairs))) % len(pool)
    pairs = np.stack([pool[first], pool[second]], axis=1)
    rows = np.unique(np.concatenate([sub, pairs.ravel()]))
    G, kept = geometry_points(Z, rows, sub, rng)
    at = {int(r): i for i, r in enumerate(rows)}

    def take(idx: np.ndarray) -> np.ndarray:
        return G[[at[int(i)] for i in np.ravel(idx)]].reshape(*np.shape(idx), G.shape[1])

    Gs = take(sub)
    pca = _pca(Gs, n_pcs, rng)
    Y = pca.transform(Gs)
    mixture, mix_labels = mixture_search(
        Y, max_components, max_points=mixture_points, random_state=rng
    )
    clusters, density_labels = density_clusters(Y)
    topology = persistence(Gs, n_landmarks, random_state=rng)
    knn = knn_components(Gs, ks)
    midpoints, density_pairs = cluster_midpoints(Gs, density_labels, n_pairs, random_state=rng)
    mixture_midpoints, mixture_pairs = cluster_midpoints(Gs, mix_labels, n_pairs, random_state=rng)
    ref = np.sort(perm[:m_ref])
    between = betweenness(take(ref), take(pairs[:, 0]), take(pairs[:, 1]), ts, k)
    agree, attrs = [], []
    if attributes is not None and attribute_names:
        A = np.asarray(attributes)[sub]
        agree = agreement(
            {"HDBSCAN": density_labels, "mixture": mix_labels},
            label_columns(A, attribute_names),
        )
        attrs = attribute_separation(
            Gs, A, attribute_names, max_points=attribute_points, random_state=rng
        )
    verdict = fragmentation_verdict(
        knn, clusters, midpoints, topology, between, mixture, mixture_midpoints
    )
    # The pairs to decode: between density regions when there are several, else between the
    # mixture's components (a single Gaussian has neither: no pairs).
    by_density = verdict["regions"] >= 2
    cluster_pairs = density_pairs if by_density else mixture_pairs
    return FragmentationResult(
        settings={
            "max_points": int(max_points),
            "n_subsample": len(sub),
            "n_reference": m_ref,
            "n_pairs": int(n_pairs),
            "n_pcs": Y.shape[1],
            "geometry_dims": G.shape[1],
            "geometry_variance": kept,
            "ks": sorted(int(x) for x in ks),
            "k_precision": int(k),
            "n_attribute_points": min(len(sub), int(attribute_points)) if attrs else 0,
            "cluster_pairs_from": "HDBSCAN" if by_density else "mixture",
        },
        pca={
            "n_components": Y.shape[1],
            "explained_variance": float(pca.explained_variance_ratio_.sum()),
        },
        mixture=mixture,
        clusters=clusters,
        topology=topology,
        knn_graph=knn,
        midpoints={**midpoints, "mixture": mixture_midpoints},
        betweenness=between,
        agreement=agree,
        attributes=attrs,
        verdict=verdict,
        pairs=pairs,
        cluster_pairs=sub[cluster_pairs],
    )
