from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from latentatlas.cli import main
from latentatlas.core.errors import LatentAtlasError
from latentatlas.models.checkpoint import load_checkpoint, load_model
from latentatlas.models.train import TrainConfig, train

TINY_ARGS = ["--latent-dim", "8", "--channels", "8,16", "--batch-size", "16", "--quiet"]


def _cli(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "latentatlas", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_training_reduces_loss_and_writes_artefacts(tiny_run: Path) -> None:
    history = json.loads((tiny_run / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[-1]["val_mse"] < history[0]["val_mse"]
    assert sorted(p.name for p in (tiny_run / "recon").iterdir()) == [
        "epoch_001.png",
        "epoch_002.png",
        "epoch_003.png",
    ]
    model, state = load_model(tiny_run)
    assert state["epoch"] == 3 and model.config.latent_dim == 8
    assert model.encode(torch.rand(2, 3, 16, 16)).shape == (2, 8)


def test_existing_run_needs_resume(tiny_cache: Path, tiny_run: Path, capsys) -> None:
    with pytest.raises(LatentAtlasError, match="--resume"):
        train(tiny_cache, tiny_run, TrainConfig(epochs=1), progress=False)
    assert main(["train", str(tiny_cache), "--out", str(tiny_run), *TINY_ARGS]) == 2
    assert "already holds a checkpoint" in capsys.readouterr().err


def test_model_must_fit_the_cache(tiny_cache: Path, tmp_path: Path) -> None:
    with pytest.raises(LatentAtlasError):
        train(
            tiny_cache,
            tmp_path / "r",
            TrainConfig(epochs=1),
            {"channels": (4, 8, 16, 32, 64)},
            progress=False,
        )  # 16px cannot halve 5 times


def test_kill_and_resume_matches_an_uninterrupted_run(tiny_cache: Path, tmp_path: Path) -> None:
    epochs = "40"
    straight = _cli(
        "train",
        str(tiny_cache),
        "--out",
        str(tmp_path / "straight"),
        "--epochs",
        epochs,
        *TINY_ARGS,
    )
    killed = _cli(
        "train", str(tiny_cache), "--out", str(tmp_path / "killed"), "--epochs", epochs, *TINY_ARGS
    )
    history = tmp_path / "killed" / "history.json"
    deadline = time.time() + 120
    while not history.exists() and time.time() < deadline and killed.poll() is None:
        time.sleep(0.005)
    time.sleep(0.05)  # land somewhere inside a later epoch or a checkpoint write
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL, "training finished before it could be killed"
    done_before = load_checkpoint(tmp_path / "killed")["epoch"]
    assert 1 <= done_before < int(epochs)

    resumed = _cli(
        "train",
        str(tiny_cache),
        "--out",
        str(tmp_path / "killed"),
        "--epochs",
        epochs,
        "--resume",
        *TINY_ARGS,
    )
    assert resumed.wait(timeout=300) == 0, resumed.stderr.read()
    assert straight.wait(timeout=300) == 0, straight.stderr.read()

    a = load_checkpoint(tmp_path / "straight")
    b = load_checkpoint(tmp_path / "killed")
    assert b["epoch"] == int(epochs)
    assert [h["epoch"] for h in b["history"]] == list(range(1, int(epochs) + 1))
    for name, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][name]), name


def test_ddp_two_cpu_processes(tiny_cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            "-m",
            "latentatlas",
            "train",
            str(tiny_cache),
            "--out",
            str(out),
            "--epochs",
            "3",
            "--lr",
            "5e-3",
            *TINY_ARGS,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    state = load_checkpoint(out)
    assert state["world_size"] == 2 and state["epoch"] == 3
    history = state["history"]
    assert history[-1]["val_mse"] < history[0]["val_mse"]
    model, _ = load_model(out)
    assert model.decode(torch.zeros(4, 8)).shape == (4, 3, 16, 16)
    assert proc.stdout.count("wrote ") == 1  # only rank 0 reports
