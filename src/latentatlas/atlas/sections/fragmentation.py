"""Section 10: fragmentation. Is the data region one piece, several clusters or a filament?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from latentatlas.atlas.context import AtlasContext
from latentatlas.core.rng import stream

if TYPE_CHECKING:
    from latentatlas.core.html import Page

MIN_POINTS = 60
FRAGMENTATION_STREAM = 7  # stream purpose: the analysis's subsample, pairs and fits


def load_decoder(model: Any, dim: int) -> Any:
    """The autoencoder of a model spec (a checkpoint path, run directory, bundled name
    ``celeba64``, TorchScript file or :class:`~latentatlas.models.ModelSpec`), on the CPU.
    Torch is imported here, only when a model is given. ValueError (one line) when it cannot be
    loaded or its latent dimension is not the z-points' N."""
    from latentatlas.core.errors import LatentAtlasError
    from latentatlas.models import load_latent_model

    name = getattr(model, "source", model)
    try:
        autoencoder = load_latent_model(model, "cpu")
    except (LatentAtlasError, OSError) as e:
        raise ValueError(f"model {name}: {e}") from None
    if autoencoder.latent_dim != dim:
        raise ValueError(
            f"model {name} has latent dimension {autoencoder.latent_dim}, "
            f"the z-points have N = {dim}"
        )
    return autoencoder


def decoded_face_rates(
    autoencoder: Any, A: np.ndarray, B: np.ndarray, ts: list[float]
) -> list[float]:
    """Face-detector rate of the decoded points ``(1 - t) A + t B`` for each t."""
    from latentatlas.models.decode import decode
    from latentatlas.verdict.judges.haar import FaceDetector, face_rate

    detector = FaceDetector()
    return [face_rate(decode(autoencoder, (1.0 - t) * A + t * B), detector) for t in ts]


def section_fragmentation(ctx: AtlasContext, page: Page) -> None:
    from latentatlas.analysis import fragmentation
    from latentatlas.atlas import figures

    sec = page.section(
        "fragmentation",
        "10. Fragmentation: one region, clusters or filaments?",
        "Is the region the real z-points fill one piece, several clusters, or a curved "
        "(non-convex) web? Clusters: Gaussian mixtures with 1 … K full-covariance components "
        "by BIC and HDBSCAN, both on the top principal components. Connectivity: connected "
        "components of the k-nearest-neighbour graph of the z-points. Betweenness: points on "
        "straight segments between random pairs of held-out real points, judged against "
        "reference real points by the Mahalanobis tail (within the reference's 99th-percentile "
        "distance) and by k-NN precision (inside some reference point's k-NN ball); the real "
        "endpoints (t = 0, 1) are the baseline. A convex region keeps midpoints inside; "
        "separate clusters and curved filaments do not.",
    )
    if ctx.n < MIN_POINTS:
        reason = f"needs at least {MIN_POINTS} points, got {ctx.n}"
        ctx.summary["fragmentation"] = {"skipped": reason}
        page.note(sec, f"Skipped: the section {reason}.")
        return
    st = ctx.store
    has_attrs = st is not None and st.attributes is not None and st.attributes.shape[1] > 0
    res = fragmentation(
        ctx.z,
        st.attributes if has_attrs else None,
        st.attribute_names if has_attrs else None,
        max_points=ctx.fragment_sample,
        n_pairs=ctx.fragment_pairs,
        random_state=stream(ctx.seed, FRAGMENTATION_STREAM),
    )
    summary = res.to_dict()
    b, s, v = summary["betweenness"], summary["settings"], summary["verdict"]
    if ctx.autoencoder is not None:
        pairs = res.pairs[: ctx.decode_pairs]
        rates = decoded_face_rates(ctx.autoencoder, ctx.z[pairs[:, 0]], ctx.z[pairs[:, 1]], b["t"])
        summary["decoded"] = {
            "model": ctx.autoencoder_source,
            "n_pairs": len(pairs),
            "t": b["t"],
            "face_rate": rates,
            "endpoints": 0.5 * (rates[0] + rates[-1]),
            "midpoint": rates[b["t"].index(0.5)],
        }
    if summary["attributes"]:
        kinds = [r["kind"] for r in summary["attributes"]]
        summary["attribute_kinds"] = {k: kinds.count(k) for k in sorted(set(kinds))}
    ctx.summary["fragmentation"] = summary
    page.lead(sec, f"Verdict: {v['sentence']}.")
    _tables(page, sec, summary)
    page.figure(
        sec,
        "fragmentation",
        figures.fragmentation_figure(
            summary["bic"]["components"],
            summary["bic"]["bic"],
            summary["bic"]["best"],
            b["t"],
            b["knn_inside"],
            b["mahalanobis_inside"],
            [row["k"] for row in summary["knn_graph"]],
            [row["largest_share"] for row in summary["knn_graph"]],
            summary["decoded"]["face_rate"] if "decoded" in summary else None,
        ),
        "Left: BIC of Gaussian mixtures on the top principal components. Middle: share of "
        "points on segments between real points that lie inside the data region, against the "
        "position t. Right: share of points in the largest component of the k-NN graph.",
        f"{v['label']}: {summary['bic']['best']} BIC component(s); midpoints inside "
        f"{b['midpoint_knn']:.3g} by k-NN precision (real endpoints {b['baseline_knn']:.3g})",
    )
    attr_note = (
        f"; the attribute analysis {s['n_attribute_points']:,} points"
        if summary["attributes"]
        else ""
    )
    page.note(
        sec,
        f"Subsampled where the algorithms are superlinear: the mixtures, HDBSCAN and the k-NN "
        f"graph use {s['n_subsample']:,} of the {ctx.n:,} points ({s['n_pcs']} principal "
        f"components for the first two); the betweenness test uses {s['n_reference']:,} "
        f"reference points and {s['n_pairs']} pairs drawn from the other points{attr_note}.",
    )


def _tables(page: Page, sec: Any, summary: dict[str, Any]) -> None:
    s, bic, cl, b = (summary[k] for k in ("settings", "bic", "clusters", "betweenness"))
    page.key_values(
        sec,
        [
            ("points for mixtures, HDBSCAN, k-NN graph", s["n_subsample"]),
            ("principal components", s["n_pcs"]),
            ("variance they explain", summary["pca"]["explained_variance"]),
            ("reference points (betweenness)", s["n_reference"]),
            ("pairs (held-out endpoints)", s["n_pairs"]),
        ]
        + ([("decoded pairs", summary["decoded"]["n_pairs"])] if "decoded" in summary else []),
        "Points used",
    )
    page.table(
        sec,
        ["mixture components", "BIC"],
        list(zip(bic["components"], bic["bic"], strict=True)),
        f"Gaussian mixtures ({bic['covariance_type']} covariance) on {bic['dim']} principal "
        f"components of {bic['n_points']} points: BIC is lowest at {bic['best']}",
    )
    page.key_values(
        sec,
        [
            ("clusters", cl["n_clusters"]),
            ("cluster sizes (largest 10)", tuple(cl["sizes"][:10])),
            ("share called noise", cl["noise_share"]),
            ("min cluster size", cl["min_cluster_size"]),
            ("min samples", cl["min_samples"]),
            ("cluster selection epsilon (99th pct. core distance)", cl["epsilon"]),
        ],
        f"HDBSCAN on the same {cl['n_points']} reduced points",
    )
    page.table(
        sec,
        ["k", "connected components", "share in the largest"],
        [[r["k"], r["n_components"], r["largest_share"]] for r in summary["knn_graph"]],
        "k-nearest-neighbour graph of the z-points (Euclidean; an edge either way connects)",
    )
    faces = summary.get("decoded", {}).get("face_rate")
    page.table(
        sec,
        ["t", "within the Mahalanobis tail", "k-NN precision"]
        + (["decoded: face rate"] if faces else []),
        [
            [t, m, k] + ([faces[i]] if faces else [])
            for i, (t, m, k) in enumerate(
                zip(b["t"], b["mahalanobis_inside"], b["knn_inside"], strict=True)
            )
        ],
        f"Points (1 - t) a + t b on {b['n_pairs']} segments between held-out real points a, b "
        f"(t = 0, 1: the real endpoints themselves), judged against {b['n_reference']} "
        f"reference points (k = {b['k']})",
    )
    page.key_values(
        sec,
        [
            ("k-NN precision: real endpoints (baseline)", b["baseline_knn"]),
            ("k-NN precision: midpoints", b["midpoint_knn"]),
            ("midpoints / endpoints", b["midpoint_retention_knn"]),
            (f"midpoints of the {b['n_far_pairs']} farther pairs", b["far_midpoint_knn"]),
            ("farther pairs' midpoints / endpoints", b["far_retention_knn"]),
            ("Mahalanobis: endpoints inside", b["baseline_mahalanobis"]),
            ("Mahalanobis: midpoints inside", b["midpoint_mahalanobis"]),
            ("Mahalanobis threshold (reference 99th pct.)", b["tail_threshold"]),
        ],
        "Midpoints against real points",
    )
    if summary["attributes"]:
        _attribute_table(page, sec, summary)


def _attribute_table(page: Page, sec: Any, summary: dict[str, Any]) -> None:
    rows = summary["attributes"]
    counts = summary["attribute_kinds"]
    page.table(
        sec,
        [
            "attribute",
            "positive",
            "negative",
            "Mahalanobis (means)",
            "bias-corrected",
            "probe bal. accuracy",
            "reading",
        ],
        [
            [
                r["attribute"],
                r["n_positive"],
                r["n_negative"],
                r["mahalanobis"],
                r["mahalanobis_corrected"],
                r["probe_accuracy"],
                r["kind"],
            ]
            for r in rows
        ],
        "Attributes: distance between the class means (pooled within-class covariance) and a "
        "cross-validated logistic-regression probe; separate regions need a corrected distance "
        "of at least 4 and a probe accuracy of at least 0.97",
    )
    page.key_values(sec, list(counts.items()), "Attributes by reading")
