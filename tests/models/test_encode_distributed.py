"""``encode`` under torchrun (2 CPU processes, gloo) and its bounded-memory streaming."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from latentatlas.core.errors import LatentAtlasError
from latentatlas.models import load_latent_model
from latentatlas.models.encode import encode

# One thread everywhere: the single- and two-process runs then do the same float arithmetic.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
STORE_FILES = ("z.npy", "ids.npy", "split.npy")


def _encode_cmd(procs: int, run: Path, cache: Path, out: Path, *extra: str) -> list[str]:
    launcher = (
        ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}"]
        if procs > 1
        else []
    )
    return [
        sys.executable,
        *launcher,
        "-m",
        "latentatlas",
        "encode",
        str(run),
        str(cache),
        "--out",
        str(out),
        "--quiet",
        "--device",
        "cpu",
        "--batch-size",
        "20",
        *extra,
    ]


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)


def test_two_process_encode_is_bit_identical(
    tiny_run: Path, tiny_cache: Path, tmp_path: Path
) -> None:
    single, ddp = tmp_path / "single", tmp_path / "ddp"
    one = _run(_encode_cmd(1, tiny_run, tiny_cache, single))
    assert one.returncode == 0, one.stderr[-2000:]
    two = _run(_encode_cmd(2, tiny_run, tiny_cache, ddp))
    assert two.returncode == 0, two.stderr[-2000:]
    assert two.stdout.count("wrote ") == 1  # only rank 0 reports
    # 96 rows in batches of 20: rank 0 encodes batches 0-1, rank 1 batches 2-4.
    for name in STORE_FILES:
        assert (single / name).read_bytes() == (ddp / name).read_bytes(), name
    z = np.load(ddp / "z.npy")
    assert z.shape == (96, 8) and np.abs(z).sum(axis=1).min() > 0  # every row written
    assert sorted(p.name for p in ddp.iterdir()) == sorted(p.name for p in single.iterdir())
    assert not [p for p in tmp_path.iterdir() if p.name not in ("single", "ddp")]  # no temp left


def test_a_failure_on_one_rank_ends_every_rank(
    tiny_run: Path, tiny_cache: Path, tmp_path: Path
) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep").write_text("x")
    # Only rank 0 checks the output folder: rank 1 must not wait for it forever.
    proc = _run(_encode_cmd(2, tiny_run, tiny_cache, out))
    assert proc.returncode != 0
    assert "already exists" in proc.stderr
    assert [p.name for p in out.iterdir()] == ["keep"]
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


def test_nonfinite_z_is_found_batch_by_batch(
    tiny_run: Path, tiny_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = load_latent_model(tiny_run, torch.device("cpu"))
    encode_images = model.encode
    calls = []

    def nan_in_fourth_batch(x: torch.Tensor) -> torch.Tensor:
        z = encode_images(x)
        calls.append(len(x))
        return z * float("nan") if len(calls) == 4 else z

    monkeypatch.setattr(model, "encode", nan_in_fourth_batch)
    checked = []
    isfinite = np.isfinite

    def spy(a, *args, **kwargs):
        checked.append(np.size(a))
        return isfinite(a, *args, **kwargs)

    monkeypatch.setattr(np, "isfinite", spy)
    out = tmp_path / "z"
    with pytest.raises(LatentAtlasError, match="NaN or inf z-points"):
        encode(model, tiny_cache, out, batch_size=20, progress=False, max_memory=None)
    assert calls == [20, 20, 20, 20]  # stopped at the bad batch
    assert checked and max(checked) <= 20 * 8  # never the whole z at once
    assert not out.exists() and not list(tmp_path.iterdir())
