"""Fixtures for the judges on Hugging Face snapshots (dinov2, clip)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.files import file_sha256
from latentatlas.verdict.judges import hf_snapshot


def _hf_cache(root: Path, repo_id: str, snapshot: Path, blob_name: str | None = None) -> Path:
    """Hugging Face's cache layout: snapshots/<rev>/<file> link to blobs/<sha256> (or to
    ``blob_name`` for the weights, to fake a damaged download)."""
    repo = root / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    (repo / "blobs").mkdir()
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    for name in ("config.json", hf_snapshot.WEIGHTS_NAME):
        digest = file_sha256(snapshot / name)
        blob = repo / "blobs" / (blob_name if blob_name and name != "config.json" else digest)
        shutil.copy(snapshot / name, blob)
        (repo / "snapshots" / "abc123" / name).symlink_to(blob)
    return root


@pytest.fixture(scope="session")
def save_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``save_snapshot(make_model, name)``: the model ``make_model()`` makes under seed 0, saved
    with ``save_pretrained`` (a snapshot folder) in a temporary folder called ``name``."""

    def save(make_model: Callable[[], object], name: str) -> Path:
        import torch

        torch.manual_seed(0)
        folder = tmp_path_factory.mktemp(name) / "snapshot"
        make_model().save_pretrained(folder)
        return folder

    return save


@pytest.fixture
def check_folder_features() -> Callable[..., None]:
    """``check_folder_features(judge, folder, side, hidden, reference)``: the judge loaded from the
    snapshot ``folder`` maps three random side x side images to (3, hidden) float64 features equal
    to ``reference(its preprocessed batch)``, and records the folder's sha256 unchecked."""

    def check(judge, folder: Path, side: int, hidden: int, reference: Callable) -> None:
        import numpy as np
        import torch

        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, size=(3, side, side, 3), dtype=np.uint8)
        feats = judge.features(images)
        assert feats.shape == (3, hidden) and feats.dtype == np.float64
        with torch.no_grad():
            out = reference(judge.preprocess(images))
        np.testing.assert_allclose(feats, out.double().numpy(), rtol=1e-6)
        assert judge.features(images[:0]).shape == (0, hidden)
        sha = file_sha256(folder / hf_snapshot.WEIGHTS_NAME)
        assert judge.protocol["weights_sha256"] == sha
        assert judge.protocol["weights_checked"] is False  # a user folder: recorded only

    return check


@pytest.fixture
def check_hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``check_hf_cache(JudgeClass, snapshot_folder)``: the judge finds its snapshot in Hugging
    Face's cache (``snapshot_folder`` put there under its repository's id), checks the blob
    against the sha256 it is named by, and says in one line where to put it when absent."""
    import huggingface_hub.constants

    def check(judge: Callable[..., hf_snapshot.SnapshotJudge], folder: Path) -> None:
        snap = judge.snapshot
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "none"))
        assert not snap.available()
        expected = f"no {snap.label} weights.*--feature-weights {snap.judge}="
        with pytest.raises(LatentAtlasError, match=expected):
            judge()
        good = _hf_cache(tmp_path / "good", snap.repo_id, folder)
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(good))
        assert snap.available()
        assert judge().protocol["weights_checked"] is True
        bad = _hf_cache(tmp_path / "bad", snap.repo_id, folder, blob_name="0" * 64)
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(bad))
        with pytest.raises(LatentAtlasError, match="is damaged.*--no-verify"):
            judge()
        assert judge(verify=False).protocol["weights_checked"] is False
        with pytest.raises(LatentAtlasError, match="no config.json"):
            judge(tmp_path)

    return check
