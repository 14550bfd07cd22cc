from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from latentatlas.cli import main
from latentatlas.data.store import load_store
from latentatlas.generators import load_generator


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
    from latentatlas.generators import GENERATORS, LITERATURE, PRIORS, SPATIAL

    parser = build_parser()
    verbs = parser._subparsers._group_actions[0].choices
    for verb, dest in (("sample", "generator"), ("compare", "generators")):
        action = next(a for a in verbs[verb]._actions if a.dest == dest)
        assert tuple(action.choices) == (*GENERATORS, *SPATIAL, *PRIORS, *LITERATURE)


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
