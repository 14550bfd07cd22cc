"""Section 10: fragmentation. Is the data region one piece, several regions joined by thin
bridges, or separate fragments?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from latentatlas.atlas.context import AtlasContext
from latentatlas.core.rng import stream

if TYPE_CHECKING:
    from latentatlas.core.html import Page

MIN_POINTS = 60
FRAGMENTATION_STREAM = 7  # stream purpose: the analysis's subsample, pairs and fits
# Decoded between-cluster segments shown as images (rows of the grid).
SHOWN_PAIRS = 8


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
        "10. Fragmentation: one region, regions joined by bridges, or fragments?",
        "Is the region the real z-points fill one piece, several regions joined by thin "
        "bridges, or separate fragments? Clusters: Gaussian mixtures (full covariance) with 1, "
        "2, … components until the BIC has not improved for 4 fits in a row (at most 30), "
        "scored by BIC and by the log-likelihood of held-out points, and HDBSCAN clusters "
        "chosen by stability; both on the top 16 principal components (all coordinates when "
        "N ≤ 16). Topology: the persistence diagram of 300 farthest-point landmarks "
        "(ripser): long-lived components (H0) and loops (H1) are those that persist longer than "
        "twice the landmarks' covering radius. Connectivity: connected components of the "
        "k-nearest-neighbour graph. Midpoints: between two points of different clusters and "
        "within one cluster, outside when farther from every real point than 95 % of the real "
        "points are from their nearest neighbour; and points on straight segments between "
        "random pairs of held-out real points, judged by the Mahalanobis tail and by k-NN "
        "precision against reference real points (the real endpoints, t = 0 and 1, are the "
        "baseline). Separate fragments split the k-NN graph; regions joined by bridges keep it "
        "connected, yet density splits them and the midpoints between them fall outside; one "
        "region keeps its between-cluster midpoints inside (or has no density split).",
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
    s, v = summary["settings"], summary["verdict"]
    if ctx.autoencoder is not None:
        _decode(ctx, page, sec, res, summary)
    if summary["attributes"]:
        kinds = [r["kind"] for r in summary["attributes"]]
        summary["attribute_kinds"] = {k: kinds.count(k) for k in sorted(set(kinds))}
    ctx.summary["fragmentation"] = summary
    page.lead(sec, f"Verdict: {v['sentence']}.")
    _tables(page, sec, summary)
    mid = summary["midpoints"]
    page.figure(
        sec,
        "fragmentation",
        figures.fragmentation_figure(
            summary, summary.get("decoded", {}).get("face_rate")
        ),
        "Left: BIC and held-out log-likelihood of Gaussian mixtures on the top principal "
        "components. Second: persistence diagram of the landmarks (H0: components, H1: loops; "
        "long-lived above the dotted line). Third: share of midpoints outside the data, "
        "between and within clusters, against real points. Right: share of points on segments "
        "between random real points that lie inside, against the position t.",
        f"{v['label']}: midpoints between HDBSCAN clusters {_share(mid['between_outside'])} "
        f"outside, within {_share(mid['within_outside'])}, real points "
        f"{_share(mid['real_outside'])}",
    )
    attr_note = (
        f"; the attribute analysis {s['n_attribute_points']:,} of them"
        if summary["attributes"]
        else ""
    )
    geometry = (
        f"the raw {s['geometry_dims']} coordinates"
        if s["geometry_variance"] == 1.0
        else f"the top {s['geometry_dims']} principal components ({s['geometry_variance']:.0%} "
        f"of the variance)"
    )
    page.note(
        sec,
        f"Subsampled where the algorithms are superlinear: the clusterings, persistent homology, "
        f"the k-NN graph and the cluster midpoints use {s['n_subsample']:,} of the {ctx.n:,} "
        f"points (the mixtures {summary['mixture']['n_fit']:,} of them, "
        f"{summary['mixture']['n_heldout']:,} held out; mixtures and HDBSCAN on {s['n_pcs']} "
        f"principal components); the segment test uses {s['n_reference']:,} reference points "
        f"and {s['n_pairs']} pairs drawn from the other points{attr_note}. Distances are taken "
        f"in {geometry}.",
    )


def _share(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _decode(ctx: AtlasContext, page: Page, sec: Any, res: Any, summary: dict[str, Any]) -> None:
    """Face rates along decoded random segments and between-cluster segments, and a grid of
    decoded between-cluster segments (endpoints, quarter points, midpoint)."""
    from latentatlas.core.imaging import image_grid, png_bytes
    from latentatlas.models.decode import decode
    from latentatlas.verdict.judges import FACE_DOMAIN_THRESHOLD

    ts = summary["betweenness"]["t"]
    pairs = res.pairs[: ctx.decode_pairs]
    rates = decoded_face_rates(ctx.autoencoder, ctx.z[pairs[:, 0]], ctx.z[pairs[:, 1]], ts)
    endpoints = 0.5 * (rates[0] + rates[-1])
    # The endpoints are real points decoded: where the detector finds no faces there, a face
    # rate along the segments says nothing about the space between them (the verdict's rule,
    # verdict.scoring.face_domain, with its threshold).
    faces = endpoints >= FACE_DOMAIN_THRESHOLD
    summary["decoded"] = {
        "model": ctx.autoencoder_source,
        "n_pairs": len(pairs),
        "t": ts,
        "faces": bool(faces),
        "endpoints": endpoints,
    }
    if faces:
        summary["decoded"].update(face_rate=rates, midpoint=rates[ts.index(0.5)])
    else:
        summary["decoded"]["reason"] = (
            f"the decoded real endpoints are not faces (Haar face rate {endpoints:.1%} < "
            f"{FACE_DOMAIN_THRESHOLD:.0%}): face rates along the segments do not apply"
        )
        page.note(sec, f"Decoded segments: {summary['decoded']['reason']}.")
    between = res.cluster_pairs[: ctx.decode_pairs]
    if not len(between):
        return
    A, B = np.asarray(ctx.z[between[:, 0]]), np.asarray(ctx.z[between[:, 1]])
    kind = summary["settings"]["cluster_pairs_from"]
    rate_note = "face rate: does not apply (the decoded endpoints are not faces)"
    if faces:
        cluster_rates = decoded_face_rates(ctx.autoencoder, A, B, ts)
        summary["decoded"]["between_clusters"] = {
            "clusters": kind,
            "n_pairs": len(between),
            "face_rate": cluster_rates,
            "endpoints": 0.5 * (cluster_rates[0] + cluster_rates[-1]),
            "midpoint": cluster_rates[ts.index(0.5)],
        }
        rate_note = (
            f"face rate on {len(between)} such segments: {cluster_rates[ts.index(0.5)]:.0%} at "
            f"the midpoints, {0.5 * (cluster_rates[0] + cluster_rates[-1]):.0%} at the endpoints"
        )
    shown = min(SHOWN_PAIRS, len(between))
    rows = [decode(ctx.autoencoder, (1.0 - t) * A[:shown] + t * B[:shown]) for t in ts]
    grid = image_grid([np.stack([row[i] for row in rows]) for i in range(shown)])
    page.image(
        sec,
        "fragmentation_between",
        png_bytes(grid),
        f"Decoded segments between points of different {kind} clusters, one per row: the "
        f"endpoints (first and last column) and t = {', '.join(f'{t:g}' for t in ts[1:-1])}. "
        "Blends, or images unlike any real one?",
        rate_note,
    )


def _tables(page: Page, sec: Any, summary: dict[str, Any]) -> None:
    s, mix, cl, b = (summary[k] for k in ("settings", "mixture", "clusters", "betweenness"))
    topo, mid = summary["topology"], summary["midpoints"]
    page.key_values(
        sec,
        [
            ("points for clusterings, topology, k-NN graph, midpoints", s["n_subsample"]),
            ("coordinates distances are taken in", s["geometry_dims"]),
            ("variance they keep", s["geometry_variance"]),
            ("principal components (mixtures, HDBSCAN)", s["n_pcs"]),
            ("variance they explain", summary["pca"]["explained_variance"]),
            ("reference points (segments)", s["n_reference"]),
            ("pairs (held-out endpoints)", s["n_pairs"]),
        ]
        + ([("decoded pairs", summary["decoded"]["n_pairs"])] if "decoded" in summary else []),
        "Points used",
    )
    reading = (
        f"BIC is lowest at {mix['best']}"
        + (
            " (the most tried: the minimum may lie beyond)"
            if mix["reached_max"]
            else f", {len(mix['components']) - mix['best']} fits past it without improvement"
        )
        + f"; held-out log-likelihood is highest at {mix['best_heldout']}"
    )
    page.table(
        sec,
        ["mixture components", "BIC", "held-out log-likelihood per point"],
        list(zip(mix["components"], mix["bic"], mix["heldout_loglik"], strict=True)),
        f"Gaussian mixtures ({mix['covariance_type']} covariance) on {mix['dim']} principal "
        f"components, fitted on {mix['n_fit']} points, {mix['n_heldout']} held out: {reading}. "
        "More components than clusters is common (a curved or skewed region needs several "
        "Gaussians); the clusters that matter are those whose midpoints leave the data.",
    )
    page.key_values(
        sec,
        [
            ("clusters", cl["n_clusters"]),
            ("cluster sizes (largest 10)", tuple(cl["sizes"][:10])),
            ("share called noise", cl["noise_share"]),
            ("min cluster size", cl["min_cluster_size"]),
            ("min samples", cl["min_samples"]),
            ("selection", "excess of mass (stability)"),
        ],
        f"HDBSCAN on the same {cl['n_points']} reduced points (clusters holding less than half "
        "the points are dense spots in one region, not regions)",
    )
    page.key_values(
        sec,
        [
            ("long-lived components (H0)", topo["components"]),
            ("long-lived loops (H1)", topo["loops"]),
            ("threshold (twice the covering radius)", topo["threshold"]),
            ("longest finite H0 bars", tuple(round(x, 3) for x in topo["h0"][:5])),
            ("landmarks", topo["n_landmarks"]),
        ],
        f"Persistent homology of {topo['n_landmarks']} farthest-point landmarks of "
        f"{topo['n_points']} points",
    )
    page.table(
        sec,
        ["k", "connected components", "share in the largest"],
        [[r["k"], r["n_components"], r["largest_share"]] for r in summary["knn_graph"]],
        "k-nearest-neighbour graph of the z-points (Euclidean; an edge either way connects)",
    )
    page.table(
        sec,
        [
            "clusters",
            "count",
            "real points outside",
            "within-cluster midpoints outside",
            "between-cluster midpoints outside",
            "pairs (within, between)",
        ],
        [
            [
                name,
                m["n_clusters"],
                m["real_outside"],
                m["within_outside"],
                m["between_outside"],
                f"{m['n_within']}, {m['n_between']}",
            ]
            for name, m in (("HDBSCAN", mid), ("mixture", mid["mixture"]))
        ],
        f"Midpoints of pairs of points: outside when farther from every real point than "
        f"{mid['threshold']:.4g} (the real points' 95th-percentile nearest-neighbour distance)",
    )
    faces = summary.get("decoded", {}).get("face_rate")
    cluster_faces = summary.get("decoded", {}).get("between_clusters", {}).get("face_rate")
    page.table(
        sec,
        ["t", "within the Mahalanobis tail", "k-NN precision"]
        + (["decoded: face rate"] if faces else [])
        + (["decoded between clusters: face rate"] if cluster_faces else []),
        [
            [t, m, k]
            + ([faces[i]] if faces else [])
            + ([cluster_faces[i]] if cluster_faces else [])
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
        "Random segments: midpoints against real points",
    )
    if summary["agreement"]:
        rows = sorted(
            summary["agreement"], key=lambda r: -(r["ari"] if r["ari"] is not None else -1)
        )
        page.table(
            sec,
            [
                "clustering",
                "label or attribute",
                "classes",
                "labelled points",
                "adjusted Rand index",
            ],
            [
                [r["clustering"], r["labeling"], r["n_classes"], r["n_points"], r["ari"]]
                for r in rows
            ],
            "Agreement of each clustering with each label or attribute (adjusted Rand index: 1 "
            "the same partition, 0 no better than chance; HDBSCAN's noise counts as one group)",
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
