from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentatlas.cli import main
from latentatlas.data.store import load_store, save_store
from latentatlas.generators import load_generator
from latentatlas.verdict.compare import disagreements
from latentatlas.verdict.judges.haar import FaceDetector
from latentatlas.verdict.scoring import judge


@pytest.fixture(scope="module")
def gauss_store(tmp_path_factory) -> Path:
    """300 correlated z-points in N = 8 (the tiny model's latent size), 30 % held out."""
    rng = np.random.default_rng(0)
    A = rng.normal(size=(8, 8))
    z = rng.normal(size=(300, 8)) @ A + 3.0
    split = (np.arange(300) % 10 < 3).astype(np.uint8)
    out = tmp_path_factory.mktemp("gs") / "store"
    save_store(out, z, np.array([f"img{i:03d}" for i in range(300)]), split)
    return out


def _ctx(train: np.ndarray, held: np.ndarray) -> dict:
    rng = np.random.default_rng(1)
    return {
        "train": train,
        "held": held,
        "detector": FaceDetector(),
        "held_reencoded": held + 0.1 * rng.normal(size=held.shape),
    }


def test_judge_scores_heldout_like_real_and_flags_copies() -> None:
    rng = np.random.default_rng(0)
    cov = np.diag(np.linspace(0.5, 3, 6)) + 0.4
    draw = lambda n: rng.multivariate_normal(np.ones(6), cov, size=n)  # noqa: E731
    train, held, fresh = draw(3000), draw(600), draw(600)
    ctx = _ctx(train, held)
    blank = np.zeros((600, 16, 16, 3), np.uint8)
    noise = 0.1 * rng.normal(size=fresh.shape)

    real_like = judge(fresh, blank, fresh + noise, ctx, seed=0)
    assert abs(real_like["two_sample_accuracy"] - 0.5) < 0.08
    assert real_like["mahalanobis_tail"] < 0.05
    assert 0.8 < real_like["copy_distance"] < 1.25
    assert 0.8 < real_like["reencoding_drift"] < 1.25
    assert real_like["precision"] > 0.6 and real_like["face_rate"] == 0.0

    copies = judge(train[:600], blank, train[:600] + noise, ctx, seed=0)
    assert copies["copy_distance"] < 0.05

    far = judge(fresh + 20.0, blank, fresh + 20.0 + 5 * noise, ctx, seed=0)
    assert far["two_sample_accuracy"] > 0.95 and far["mahalanobis_tail"] == 1.0
    assert far["precision"] == 0.0 and far["reencoding_drift"] > 3


def test_disagreement_notes() -> None:
    rows = [
        {"generator": "a", "precision": 0.9, "face_rate": 0.1},
        {"generator": "b", "precision": 0.1, "face_rate": 0.9},
        {"generator": "c", "precision": 0.7, "face_rate": 0.9},
    ]
    notes = disagreements(rows)
    assert len(notes) == 2 and notes[0].startswith("a:") and notes[1].startswith("b:")


def test_compare_end_to_end(tiny_run: Path, gauss_store: Path, tmp_path: Path, capsys) -> None:
    args = [
        "compare",
        str(tiny_run),
        str(gauss_store),
        "--n",
        "60",
        "--generators",
        "cube",
        "mvn",
        "--quiet",
    ]
    assert main([*args, "--out", str(tmp_path / "v")]) == 0
    printed = capsys.readouterr().out
    assert "cube" in printed and "mvn" in printed and "index.html" in printed
    verdict = json.loads((tmp_path / "v" / "verdict.json").read_text())
    assert f"Best generator: {verdict['ranking']['winner']}" in printed
    assert verdict["ranking"]["rule"] in printed
    assert printed.rstrip().splitlines()[-1] == f"open: xdg-open {tmp_path / 'v'}/index.html"
    assert verdict["checkpoint"] == os.path.relpath(tiny_run / "checkpoint.pt", tmp_path / "v")
    assert str(tmp_path) not in (tmp_path / "v" / "index.html").read_text()
    assert [r["generator"] for r in verdict["rows"]] == ["cube", "mvn"]
    assert verdict["n_heldout"] == 90 and verdict["n_train"] == 210
    cube, mvn = verdict["rows"]
    assert cube["mahalanobis_tail"] > mvn["mahalanobis_tail"]
    assert cube["two_sample_accuracy"] > mvn["two_sample_accuracy"]
    # The density score: the fitted normal puts every held-out point in its support, the cube
    # (fitted to the radii, centred on the origin, the data around 3) misses some; the MMD test
    # tells the cube apart.
    assert mvn["loglik_in_support"] == 1.0 and np.isfinite(mvn["loglik_per_dim"])
    assert cube["loglik_per_dim"] is None and cube["loglik_in_support"] < 0.9
    assert cube["mmd_p"] < 0.05 < mvn["mmd_p"]
    assert "inside the support" in (tmp_path / "v" / "index.html").read_text()
    for name in ("cube", "mvn", "reconstructions"):
        assert (tmp_path / "v" / f"grid_{name}.png").is_file()
    assert "The verdict" in (tmp_path / "v" / "index.html").read_text()
    gen = load_generator(tmp_path / "v" / "generators" / "mvn")
    assert gen.sample(3, random_state=0).shape == (3, 8)
    # Same seed, same numbers.
    assert main([*args, "--out", str(tmp_path / "v2")]) == 0
    again = json.loads((tmp_path / "v2" / "verdict.json").read_text())
    strip = lambda v: [{k: x for k, x in r.items() if k != "seconds"} for r in v["rows"]]  # noqa: E731
    assert strip(again) == strip(verdict)
    # The atlas links to it.
    store = load_store(gauss_store)
    from latentatlas.atlas import run_atlas

    summary = run_atlas(
        store,
        tmp_path / "atlas",
        sample=500,
        progress=False,
        verdict=tmp_path / "v",
        prdc_sample=200,
        mc=2000,
        plot_points=300,
    )
    assert summary["verdict"]["link"] == "../v/index.html"


def test_compare_rejects_bad_input(
    tiny_run: Path, gauss_store: Path, tmp_path: Path, capsys
) -> None:
    np.save(tmp_path / "wrong_n.npy", np.zeros((50, 5)))
    assert (
        main(
            ["compare", str(tiny_run), str(tmp_path / "wrong_n.npy"), "--out", str(tmp_path / "o")]
        )
        == 2
    )
    assert "expected N = 8" in capsys.readouterr().err
    assert (
        main(["compare", str(tiny_run), str(gauss_store), "--n", "5", "--out", str(tmp_path / "o")])
        == 2
    )
    assert not (tmp_path / "o").exists()


def test_sample_writes_grid_and_generator(
    tiny_run: Path, gauss_store: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "s"
    assert (
        main(
            [
                "sample",
                str(tiny_run),
                str(gauss_store),
                "--generator",
                "gmm",
                "--n",
                "10",
                "--params",
                '{"n_components": 2}',
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.rstrip().endswith(f"open: xdg-open {out}/grid.png")
    z = np.load(out / "z.npy")
    assert z.shape == (10, 8) and np.load(out / "images.npy").shape == (10, 16, 16, 3)
    info = json.loads((out / "sample.json").read_text())
    assert info["class"] == "GaussianMixture" and info["params"]["n_components"] == 2
    np.testing.assert_allclose(
        load_generator(out / "generator").sample(10, random_state=0), z, rtol=1e-6
    )
    assert (out / "grid.png").is_file()


def test_sample_bad_params_are_clean_errors(
    tiny_run: Path, gauss_store: Path, tmp_path: Path, capsys
) -> None:
    base = ["sample", str(tiny_run), str(gauss_store), "--out", str(tmp_path / "s")]
    assert main([*base, "--params", "{not json"]) == 2
    assert main([*base, "--params", '{"bogus": 1}']) == 2
    assert main([*base, "--generator", "mvn", "--params", '{"shrinkage": 7}']) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 3


def test_plane_paths_and_interpolation(
    tiny_run: Path, gauss_store: Path, tmp_path: Path, capsys
) -> None:
    store = load_store(gauss_store)
    assert (
        main(
            [
                "path",
                str(tiny_run),
                str(gauss_store),
                "--plane",
                "2,5",
                "--steps",
                "7",
                "--out",
                str(tmp_path / "seg"),
            ]
        )
        == 0
    )
    z = np.load(tmp_path / "seg" / "z.npy")
    centroid = store.subset("train").mean(axis=0)
    moved = np.flatnonzero(np.ptp(z, axis=0) > 1e-6)
    assert z.shape == (7, 8) and list(moved) == [2, 5]
    sigma = store.subset("train")[:, [2, 5]].std(axis=0)
    np.testing.assert_allclose(z[0, [2, 5]], centroid[[2, 5]] - 3 * sigma, rtol=1e-5)
    np.testing.assert_allclose(z[-1, [2, 5]], centroid[[2, 5]] + 3 * sigma, rtol=1e-5)
    np.testing.assert_allclose(np.delete(z[3], [2, 5]), np.delete(centroid, [2, 5]), rtol=1e-5)

    assert (
        main(
            [
                "path",
                str(tiny_run),
                str(gauss_store),
                "--plane",
                "0,1",
                "--kind",
                "circle",
                "--radius",
                "2",
                "--base",
                "img007",
                "--out",
                str(tmp_path / "circ"),
            ]
        )
        == 0
    )
    c = np.load(tmp_path / "circ" / "z.npy")
    np.testing.assert_allclose(np.hypot(*(c[:, [0, 1]] - store.z[7, [0, 1]]).T), 2, rtol=1e-5)

    assert (
        main(
            [
                "path",
                str(tiny_run),
                str(gauss_store),
                "--between",
                "img001",
                "img002",
                "--kind",
                "slerp",
                "--steps",
                "5",
                "--out",
                str(tmp_path / "sl"),
            ]
        )
        == 0
    )
    s = np.load(tmp_path / "sl" / "z.npy")
    np.testing.assert_allclose(s[[0, -1]], store.z[[1, 2]], rtol=1e-5)
    assert (tmp_path / "sl" / "strip.png").is_file()
    capsys.readouterr()
    assert (
        main(
            [
                "path",
                str(tiny_run),
                str(gauss_store),
                "--between",
                "img001",
                "nope",
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "no image id 'nope'" in capsys.readouterr().err
    assert main(["path", str(tiny_run), str(gauss_store), "--out", str(tmp_path / "x")]) == 2


def test_cli_generator_choices_are_the_registry() -> None:
    from latentatlas.cli import build_parser
    from latentatlas.generators import GENERATORS, PRIORS

    parser = build_parser()
    verbs = parser._subparsers._group_actions[0].choices
    for verb, dest in (("sample", "generator"), ("compare", "generators")):
        action = next(a for a in verbs[verb]._actions if a.dest == dest)
        assert tuple(action.choices) == (*GENERATORS, *PRIORS)


def test_principal_plane_path_is_labelled(
    tiny_run: Path, gauss_store: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "pc"
    argv = ["path", str(tiny_run), str(gauss_store), "--plane", "0,1", "--frame", "principal"]
    assert main([*argv, "--steps", "5", "--out", str(out)]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"open: xdg-open {out}/labelled.png")
    train = np.asarray(load_store(gauss_store).subset("train"), np.float64)
    centre = train.mean(axis=0)
    eigval, axes = np.linalg.eigh(np.cov(train, rowvar=False))
    top = axes[:, ::-1][:, :2]
    z = np.load(out / "z.npy").astype(np.float64)
    # every point in the plane of the two largest principal axes through the centroid
    u = (z - centre) @ top
    np.testing.assert_allclose(centre + u @ top.T, z, atol=1e-3)
    # from -3 to +3 standard deviations along both axes, as the labels say
    sd = np.sqrt(eigval[::-1][:2]) * np.sqrt((len(train) - 1) / len(train))
    np.testing.assert_allclose(np.abs(u[0]), 3 * sd, rtol=1e-3)
    info = json.loads((out / "path.json").read_text())
    assert info["axes"] == ["pc1", "pc2"] and info["frame"] == "principal"
    np.testing.assert_allclose(np.abs(info["coords"][0]), 3 * sd, rtol=1e-3)
    strip = Image.open(out / "labelled.png")
    assert strip.width > 5 * 2 * 16 and strip.height > 2 * 16 + 20  # frames enlarged, text band


def test_compare_where_judges_within_the_condition(tiny_run: Path, tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(4)
    n = 400
    attrs = np.where(rng.random((n, 2)) < 0.5, 1, -1).astype(np.int8)
    # Attribute 0 shifts the z-points: a conditional fit must see only the shifted ones.
    z = rng.normal(size=(n, 8)) + 4.0 * (attrs[:, :1] == 1)
    split = (np.arange(n) % 10 < 3).astype(np.uint8)
    store = tmp_path / "attr_store"
    save_store(store, z, np.array([f"i{i}" for i in range(n)]), split, attrs, ["Shift", "Other"])
    args = ["compare", str(tiny_run), str(store), "--n", "40", "--generators", "mvn", "--quiet"]
    assert main([*args, "--where", "Shift=1", "--out", str(tmp_path / "v")]) == 0
    verdict = json.loads((tmp_path / "v" / "verdict.json").read_text())
    keep = attrs[:, 0] == 1
    assert verdict["where"] == "Shift=1"
    assert verdict["n_train"] == int(np.sum(keep & (split == 0)))
    assert verdict["n_heldout"] == int(np.sum(keep & (split != 0)))
    assert "given Shift=1" in capsys.readouterr().out
    mean = load_generator(tmp_path / "v" / "generators" / "mvn").mean_
    assert np.allclose(mean, z[keep & (split == 0)].mean(axis=0))
    assert main([*args, "--where", "Nope=1", "--out", str(tmp_path / "w")]) == 2
    assert "no attribute 'Nope'" in capsys.readouterr().err


def test_compare_ladder_and_judges(
    tiny_run: Path, gauss_store: Path, tmp_path: Path, capsys
) -> None:
    """--ladder judges the degradation ladder, marks each metric, and leaves metrics that fail it
    out of the ranking; --judges picks the image judges (with ceiling and floor rows)."""
    args = ["compare", str(tiny_run), str(gauss_store), "--n", "60", "--generators", "mvn"]
    out = tmp_path / "v"
    assert main([*args, "--judges", "attributes", "--ladder", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "degradation ladder" in printed and "face rate (Haar)" in printed
    verdict = json.loads((out / "verdict.json").read_text())
    checks = verdict["ladder"]["checks"]
    names = [r["generator"] for r in verdict["ladder"]["rows"]]
    assert names == [
        "mvn@0.25",
        "mvn@0.5",
        "mvn@0.75",
        "mvn@1",
        "mvn@1.5",
        "mvn-diagonal",
        "mvn-shifted",
    ]
    failed = {k for k, c in checks.items() if not c["passed"]}
    assert not failed & set(verdict["ranking"]["metrics"])
    assert set(verdict["ranking"]["metrics"]) <= {k for k, c in checks.items() if c["passed"]}
    ref = verdict["image_reference"]
    assert list(ref["judges"]) == ["attributes"]
    assert ref["floor"]["attributes"]["fd"] > ref["ceiling"]["attributes"]["fd"]
    assert "fd_ci" in verdict["rows"][0]["image"]["attributes"]
    page = (out / "index.html").read_text()
    assert "The degradation ladder" in page and "ceiling: decoded train codes" in page
    assert "Not run: faces, cnn" in page
    # No image judge at all: z-space numbers only.
    assert main([*args, "--judges", "--quiet", "--out", str(tmp_path / "z")]) == 0
    z_only = json.loads((tmp_path / "z" / "verdict.json").read_text())
    assert z_only["image_reference"] is None and "image" not in z_only["rows"][0]
