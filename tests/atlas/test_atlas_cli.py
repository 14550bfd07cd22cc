from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from report_data import FAST, synthetic_z

from latentatlas.cli import main

FAST_ARGS = ["--sample", str(FAST["sample"]), "--prdc-sample", str(FAST["prdc_sample"]), "--quiet"]


def _one_line_error(err: str, verb: str = "analyze") -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"latentatlas {verb}: error: ")
    return lines[0]


def test_analyze_store_dir_reproduces_the_library_run(
    store16: Path, atlas16: tuple[Path, dict], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "atlas"
    argv = ["analyze", str(store16), "--out", str(out), "--pairs", "0,1", "5,9", "--seed", "3"]
    assert main([*argv, *FAST_ARGS]) == 0
    stdout = capsys.readouterr().out
    assert f"wrote {out}/index.html" in stdout
    assert "\n  fragmentation: one region, convex: " in stdout
    summary = json.loads((out / "summary.json").read_text())
    # the page's opening lines, then the one command to look at the report
    for line in summary["conclusions"]["lines"]:
        assert f"  {line}\n" in stdout
    assert stdout.rstrip().splitlines()[-1] == f"open: xdg-open {out}/index.html"
    assert summary["settings"]["pairs_user"] == [[0, 1], [5, 9]]
    assert (out / "projection_5_9.png").is_file() and (out / "slice_5_9.png").is_file()
    # Same seed, same numbers: the CLI run repeats the library run of the fixture exactly.
    _, first = atlas16
    assert summary == first


def test_analyze_npy_and_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    npy = tmp_path / "z.npy"
    np.save(npy, synthetic_z(n=400, dim=6, seed=2))
    out = tmp_path / "atlas"
    out.mkdir()
    (out / "keep.txt").write_text("mine")

    rc = main(["analyze", str(npy), "--out", str(out), *FAST_ARGS])
    assert rc == 2
    _one_line_error(capsys.readouterr().err)
    assert (out / "keep.txt").read_text() == "mine"  # refused, nothing destroyed

    rc = main(
        [
            "analyze",
            str(npy),
            "--out",
            str(out),
            "--b",
            "2",
            "--seed",
            "4",
            "--overwrite",
            *[a for a in FAST_ARGS if a != "--quiet"],
        ]
    )
    assert rc == 0
    # progress goes to stderr, one step per section; stdout only says what was written
    err = capsys.readouterr()
    assert "atlas" in err.err and "9 voids" in err.err and "100%" in err.err
    assert err.out.startswith(f"wrote {out}/index.html")
    assert not (out / "keep.txt").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["input"] == {"source": str(npy), "n": 400, "N": 6, "split": None}
    s = summary["settings"]
    assert s["b"] == s["b_used"] == 2.0 and s["seed"] == 4 and s["b_fitted"] != 2.0
    z = np.load(npy).astype(np.float64)
    assert summary["shape"]["share_in_cube"] == pytest.approx(
        np.mean(np.all(np.abs(z) <= 2.0, axis=1))
    )
    assert summary["generator"]["b"] == 2.0
    assert summary["slices"]["b"] == 2.0
    # a bare .npy has no held-out split: a seeded random half stands in for it
    assert "random" in summary["voids"]["real_sample"]


@pytest.mark.parametrize("kind", ["nan", "one_dim", "missing", "not_npy"])
def test_analyze_bad_store(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "z.npy"
    if kind == "nan":
        z = synthetic_z(n=300, dim=4)
        z[10, 1] = np.nan
        np.save(path, z)
    elif kind == "one_dim":
        np.save(path, np.zeros(300, np.float32))
    elif kind == "not_npy":
        path.write_text("hello")
    out = tmp_path / "atlas"
    assert main(["analyze", str(path), "--out", str(out), *FAST_ARGS]) == 2
    _one_line_error(capsys.readouterr().err)
    assert not out.exists()


@pytest.mark.parametrize("pairs", [["0,16"], ["abc"], ["1,2,3"], ["2,2"], ["0,1", "1;2"]])
def test_analyze_bad_pairs(
    pairs: list[str], store16: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "atlas"
    assert main(["analyze", str(store16), "--out", str(out), "--pairs", *pairs, *FAST_ARGS]) == 2
    assert "pair" in _one_line_error(capsys.readouterr().err)
    assert not out.exists()


@pytest.mark.parametrize("b", ["-1", "zero", "nan"])
def test_analyze_bad_b(
    b: str, store16: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["analyze", str(store16), "--out", str(tmp_path / "a"), "--b", b, *FAST_ARGS]) == 2
    assert "b" in _one_line_error(capsys.readouterr().err)


def test_analyze_bad_model(store16: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "atlas"
    rc = main(["analyze", str(store16), "--out", str(out), "--model", "celeba64", *FAST_ARGS])
    assert rc == 2
    # The bundled model has N = 256, the store N = 16: refused before any analysis runs.
    line = _one_line_error(capsys.readouterr().err)
    assert "latent dimension is 16, expected N = 256" in line
    assert not out.exists()
    missing = str(tmp_path / "no-such-checkpoint.pt")
    assert main(["analyze", str(store16), "--out", str(out), "--model", missing]) == 2
    _one_line_error(capsys.readouterr().err)


def test_theory_verb(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "theory"
    rc = main(["theory", "--N", "256", "--b", "1.5", "--mc", "3000", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "b = 1.5" in text and "256" in text and "1024" in text
    # <R^2> = N b^2 / 3 = 192 for N = 256, b = 1.5
    assert "192" in text
    assert (out / "theory.png").read_bytes()[:4] == b"\x89PNG"
    assert text.rstrip().splitlines()[-1] == f"open: xdg-open {out}/theory.png"
    data = json.loads((out / "theory.json").read_text())
    assert data["b"] == 1.5 and [r["N"] for r in data["rows"]] == [2, 3, 10, 32, 256, 1024]

    assert main(["theory", "--N", "0"]) == 2
    _one_line_error(capsys.readouterr().err, "theory")
    assert main(["theory", "--N", "8", "--b", "-2"]) == 2
    _one_line_error(capsys.readouterr().err, "theory")
