from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from report_data import FAST, flat, synthetic_z

from latentatlas.atlas import check_pairs, parse_pairs, run_atlas
from latentatlas.core.html import fmt

SECTION_IDS = [
    "components",
    "correlations",
    "shape",
    "radii",
    "theory",
    "generator",
    "projections",
    "slices",
    "voids",
    "fragmentation",
]


def test_page_has_every_section_in_issue_order(atlas16: tuple[Path, dict]) -> None:
    out, _ = atlas16
    page = (out / "index.html").read_text()
    positions = [page.index(f'<section id="{key}">') for key in SECTION_IDS]
    assert positions == sorted(positions)
    titles = re.findall(r"<h2>(\d+)\. ", page)
    assert titles == [str(i) for i in range(1, 11)]


def test_figures_written_embedded_and_captioned(atlas16: tuple[Path, dict]) -> None:
    out, summary = atlas16
    page = (out / "index.html").read_text()
    names = summary["figures"]
    # one projection and one slice figure per pair, plus the fixed figures of each section
    for pair in summary["settings"]["pairs"]:
        assert f"projection_{pair[0]}_{pair[1]}" in names
        assert f"slice_{pair[0]}_{pair[1]}" in names
    for fixed in (
        "components_hist",
        "normality",
        "correlations",
        "pca",
        "origin",
        "radii",
        "union",
        "theory_shells",
        "component_ranges",
        "slice_scan",
        "voids",
        "fragmentation",
    ):
        assert fixed in names
    for name in names:
        png = (out / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.count('src="data:image/png;base64,') == len(names)
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page, flags=re.S)
    assert len(captions) == len(names)
    for cap in captions:
        what, key = cap.split("<br>")
        assert len(re.sub("<[^>]+>", "", what).strip()) > 20
        assert re.search(r"\d", key), "the second caption line carries the key number"
    # self-contained: nothing fetched from elsewhere
    assert not re.search(r'src="(?!data:)', page)
    assert (out / "index.html").stat().st_size < 8e6


def test_every_table_number_is_in_summary_json(atlas16: tuple[Path, dict]) -> None:
    out, summary = atlas16
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk == summary
    known = {fmt(v) for v in flat(summary) if isinstance(v, (int, float))}
    page = (out / "index.html").read_text()
    cells = re.findall(r"<td>(.*?)</td>", page)
    checked = 0
    for cell in cells:
        for token in re.split(r"[(), ]+", cell):
            try:
                float(token.replace("−", "-"))
            except ValueError:
                continue
            checked += 1
            assert token in known, f"table value {token!r} not in summary.json"
    assert checked > 100


def test_summary_matches_direct_analysis_calls(store16: Path, atlas16: tuple[Path, dict]) -> None:
    from latentatlas.analysis import (
        component_stats,
        correlations,
        radius_comparison,
        shape,
        slice_mask,
        slice_scan,
    )
    from latentatlas.data.store import load_store

    _, s = atlas16
    z = np.asarray(load_store(store16).z, dtype=np.float64)
    n, dim = z.shape
    assert s["input"] == {
        "source": str(store16),
        "n": 600,
        "N": 16,
        "split": {"train": 480, "val": 60, "test": 60},
    }
    b = radius_comparison(z, random_state=3).b_fitted
    assert s["settings"]["b_fitted"] == pytest.approx(b, rel=1e-12)
    assert s["settings"]["b_used"] == s["settings"]["b_fitted"]
    assert s["settings"]["seed"] == 3 and s["settings"]["sample"] == FAST["sample"]

    st = component_stats(z)
    assert s["components"]["overall"]["max_abs_mean"] == pytest.approx(np.abs(st.mean).max())
    np.testing.assert_allclose(
        s["components"]["per_component"]["mean"], z.mean(axis=0), rtol=1e-9, atol=1e-12
    )
    cr = correlations(z)
    assert s["correlations"]["mean_abs_r"] == pytest.approx(cr.mean_abs_r, rel=1e-12)
    assert s["correlations"]["max_abs_r"] == pytest.approx(
        np.abs(np.corrcoef(z.T)[np.triu_indices(dim, 1)]).max(), rel=1e-9
    )
    sh = shape(z, b=b)
    assert s["shape"]["origin_mahalanobis"] == pytest.approx(sh.origin_mahalanobis, rel=1e-12)
    # the origin's Mahalanobis distance from first principles
    mu, cov = z.mean(axis=0), np.cov(z.T)
    assert s["shape"]["origin_mahalanobis"] == pytest.approx(
        np.sqrt(mu @ np.linalg.solve(cov, mu)), rel=1e-3
    )
    assert s["shape"]["share_in_cube"] == pytest.approx(np.mean(np.all(np.abs(z) <= b, axis=1)))

    # projections: the origin's distance in each plane from the pair's 2x2 covariance
    assert [r["pair"] for r in s["projections"]["pairs"]] == s["settings"]["pairs"]
    for row in s["projections"]["pairs"]:
        j = row["pair"]
        m2, c2 = z[:, j].mean(axis=0), np.cov(z[:, j].T)
        assert row["origin_mahalanobis_2d"] == pytest.approx(
            np.sqrt(m2 @ np.linalg.solve(c2, m2)), rel=1e-9
        )
        assert row["r"] == pytest.approx(np.corrcoef(z[:, j].T)[0, 1], rel=1e-9)

    # slice counts: the report's, the library's and a brute-force count agree
    for p in s["slices"]["pairs"]:
        j1, j2 = p["pair"]
        others = [j for j in range(dim) if j not in (j1, j2)]
        brute = int(np.sum(np.all(np.abs(z[:, others]) <= b, axis=1)))
        assert p["count"] == brute == int(np.sum(slice_mask(z, (j1, j2), b)))
        assert p["counts"][-1]["size"] == n and p["counts"][-1]["count"] == brute
        assert p["artificial_share_in_slice"] == 1.0
    scan = slice_scan(z, b)
    assert s["slices"]["scan"]["n_pairs"] == dim * (dim - 1) // 2
    assert s["slices"]["scan"]["max"] == int(np.max(scan.counts))

    cube, real = s["voids"]["prdc_cube"], s["voids"]["prdc_real_reference"]
    # all 120 held-out (val + test) points, as many artificial and train points to compare
    assert cube["n_real"] == cube["n_fake"] == 120 == real["n_real"] == real["n_fake"]
    # the cube misses the offset, correlated cloud far more often than real points do
    assert cube["precision"] < 0.5 < real["precision"]
    assert s["voids"]["void_shares"]["n_fake"] == FAST["sample"]
    assert s["voids"]["void_shares"]["mahalanobis_tail"] > 0.5
    assert "held-out" in s["voids"]["real_sample"]


def test_fragmentation_section_and_summary(store16: Path, atlas16: tuple[Path, dict]) -> None:
    from latentatlas.analysis import fragmentation
    from latentatlas.atlas.sections.fragmentation import FRAGMENTATION_STREAM
    from latentatlas.core.rng import stream
    from latentatlas.data.store import load_store

    out, s = atlas16
    f = s["fragmentation"]
    st = load_store(store16)
    direct = fragmentation(
        np.asarray(st.z, dtype=np.float64),
        st.attributes,
        st.attribute_names,
        random_state=stream(3, FRAGMENTATION_STREAM),
    ).to_dict()
    assert {k: f[k] for k in direct} == json.loads(json.dumps(direct))
    # One correlated Gaussian: one region, midpoints inside at least as often as real points.
    assert f["verdict"]["label"] == "one region"
    assert f["betweenness"]["midpoint_knn"] >= f["betweenness"]["baseline_knn"]
    assert "decoded" not in f  # no model given
    page = (out / "index.html").read_text()
    assert f'<p class="lead">Verdict: {f["verdict"]["sentence"]}.</p>' in page
    assert "<th>fragmentation (section 10)</th><td>one region</td>" in page
    attrs = {a["attribute"]: a for a in f["attributes"]}
    # A median split of one Gaussian: a probe finds it, yet the halves touch (one region).
    assert attrs["Left_Half"]["probe_accuracy"] > 0.9
    assert attrs["Left_Half"]["kind"] == "shift within one region"
    assert attrs["Coin_Flip"]["probe_accuracy"] < 0.65
    assert attrs["Rare"]["kind"] == "too few labelled points"
    assert f["attribute_kinds"] == {"shift within one region": 2, "too few labelled points": 1}
    assert "<td>Left_Half</td>" in page
    # Every clustering against every attribute; the median split is no cluster of one Gaussian.
    ari = {(a["clustering"], a["labeling"]): a["ari"] for a in f["agreement"]}
    assert set(ari) == {(c, a) for c in ("HDBSCAN", "mixture") for a in attrs}
    assert "adjusted Rand index" in page and 'id="fig-fragmentation"' in page
    assert f["topology"]["components"] == 1 and f["mixture"]["components"][-1] >= 5


def test_theory_rows_in_summary(atlas16: tuple[Path, dict]) -> None:
    _, s = atlas16
    rows = s["theory"]["rows"]
    ns = [r["N"] for r in rows]
    assert ns == sorted({2, 3, 10, 16, 32, 256, 1024})
    b = s["settings"]["b_used"]
    for r in rows:
        values = {k: v for k, v in r.items() if isinstance(v, float)}
        # ⟨R²⟩ = N b²/3 must be one of the tabulated theory values
        assert any(v == pytest.approx(r["N"] * b * b / 3, rel=1e-9) for v in values.values())


def test_two_components_and_auto_pairs(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    z = rng.standard_normal((300, 2)) * [1.0, 0.5] + [2.0, -1.0]
    s = run_atlas(z, tmp_path / "n2", progress=False, **FAST)
    assert s["settings"]["pairs"] == [[0, 1]]
    assert s["slices"]["scan"]["n_pairs"] == 1
    # with N = 2 nothing constrains the slice: every point is in it
    assert s["slices"]["pairs"][0]["count"] == 300
    assert (tmp_path / "n2" / "index.html").is_file()


def test_pair_parsing_and_validation() -> None:
    assert parse_pairs(["30,118", "177, 242"]) == [(30, 118), (177, 242)]
    for bad in (["30"], ["1,2,3"], ["a,b"], ["1.5,2"], [""]):
        with pytest.raises(ValueError, match="pair"):
            parse_pairs(bad)
    assert check_pairs([(1, 2), (1, 2), (3, 0), (2, 1)], 4) == [(1, 2), (3, 0)]
    for bad in ([(0, 4)], [(-1, 2)], [(2, 2)]):
        with pytest.raises(ValueError, match="pair"):
            check_pairs(bad, 4)


def test_refuses_existing_dir_and_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    z = synthetic_z(n=300, dim=4)
    with pytest.raises(FileExistsError):
        run_atlas(z, out, progress=False, **FAST)
    assert (out / "keep.txt").read_text() == "mine"
    with pytest.raises(ValueError, match="pair"):
        run_atlas(z, tmp_path / "x", pairs=[(0, 7)], progress=False, **FAST)
    with pytest.raises(ValueError):
        run_atlas(z[:, :1], tmp_path / "x", progress=False, **FAST)
    with pytest.raises(ValueError, match="b must be"):
        run_atlas(z, tmp_path / "x", b=-1.0, progress=False, **FAST)
    bad = z.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError):
        run_atlas(bad, tmp_path / "x", progress=False, **FAST)
    assert not (tmp_path / "x").exists()


def test_conclusions_open_the_page_with_numbers_from_the_summary(
    atlas16: tuple[Path, dict],
) -> None:
    out, s = atlas16
    c = s["conclusions"]
    assert 4 <= len(c["lines"]) <= 6
    page = (out / "index.html").read_text()
    assert page.index('<section id="conclusions">') < page.index('<section id="components">')
    shown = {fmt(v) for v in c["numbers"].values()} | {fmt(int(v)) for v in c["numbers"].values()}
    for line in c["lines"]:
        assert line.replace("'", "&#x27;") in page
        for token in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?", line.replace("^N", "")):
            assert token in shown, f"{token!r} in {line!r} is not in summary.json"
    n = c["numbers"]
    assert n["centroid_norm"] == pytest.approx(s["shape"]["centroid_norm"], rel=5e-3)
    assert n["origin_mahalanobis"] == pytest.approx(s["shape"]["origin_mahalanobis"], rel=5e-3)
    closer = 100 * (1 - s["shape"]["share_further_than_origin"])
    assert n["pct_real_closer_than_origin"] == pytest.approx(closer, rel=5e-3, abs=1e-9)
    inside = 100 * (1 - s["voids"]["void_shares"]["mahalanobis_tail"])
    assert n["pct_cube_inside_data"] == pytest.approx(inside, rel=5e-3, abs=1e-9)
    assert n["b"] == pytest.approx(s["settings"]["b_used"], rel=5e-3)
    # no numbered nav entries doubled up ("1. 1. ..."): the list is unnumbered
    assert "<nav><ul>" in page and "<ol>" not in page


def test_every_plot_has_axis_labels(
    store16: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from latentatlas.core.html import Page
    from latentatlas.data.store import load_store

    unlabelled: list[str] = []
    original = Page.figure

    def checked(self, section, name, fig, what, key):
        for ax in fig.axes:
            colorbar = ax.get_label() == "<colorbar>"  # labelled along its long side only
            if (
                ax.get_visible()
                and ax.has_data()
                and not colorbar
                and not (ax.get_xlabel() and ax.get_ylabel())
            ):
                unlabelled.append(f"{name}: {ax.get_title()!r}")
        return original(self, section, name, fig, what, key)

    monkeypatch.setattr(Page, "figure", checked)
    vdir = tmp_path / "v"
    vdir.mkdir()
    (vdir / "verdict.json").write_text(
        (Path(__file__).parent / "data" / "verdict" / "verdict.json").read_text()
    )
    run_atlas(load_store(store16), tmp_path / "a", seed=3, progress=False, verdict=vdir, **FAST)
    assert unlabelled == []
