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
