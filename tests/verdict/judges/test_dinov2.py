"""The DINOv2 judge: a Hugging Face snapshot (here a tiny random one) from a folder or from Hugging
Face's cache, its blob checked against the sha256 it is named by, dgm-eval's preprocessing (224
bicubic, ImageNet normalisation) and the CLS token as features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from latentatlas.core.files import file_sha256
from latentatlas.verdict.judges import dinov2, hf_snapshot

transformers = pytest.importorskip("transformers", reason="pip install 'latentatlas[features]'")

HIDDEN = 16


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised DINOv2 saved as facebook/dinov2-large's snapshot is."""
    config = transformers.Dinov2Config(
        hidden_size=HIDDEN, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("dinov2") / "snapshot"
    transformers.Dinov2Model(config).save_pretrained(folder)
    return folder


def test_features_from_a_folder(snapshot: Path) -> None:
    judge = dinov2.Dinov2Judge(snapshot)
    images = np.random.default_rng(0).integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    feats = judge.features(images)
    assert feats.shape == (3, HIDDEN) and feats.dtype == np.float64
    # The CLS token of the last (layer-normed) hidden state, as dgm-eval takes it.
    with torch.no_grad():
        out = judge.net(pixel_values=judge.preprocess(images)).last_hidden_state[:, 0]
    np.testing.assert_allclose(feats, out.double().numpy(), rtol=1e-6)
    assert judge.features(images[:0]).shape == (0, HIDDEN)
    assert judge.protocol["weights_sha256"] == file_sha256(snapshot / hf_snapshot.WEIGHTS_NAME)
    assert judge.protocol["weights_checked"] is False  # a user folder: recorded only


def test_preprocessing_is_224_bicubic_imagenet_normalised(snapshot: Path) -> None:
    judge = dinov2.Dinov2Judge(snapshot)
    flat = np.full((1, 40, 40, 3), 200, dtype=np.uint8)
    x = judge.preprocess(flat)
    assert x.shape == (1, 3, 224, 224)
    mean, std = np.array(dinov2.IMAGENET_MEAN), np.array(dinov2.IMAGENET_STD)
    np.testing.assert_allclose(x[0, :, 100, 100].numpy(), (200 / 255 - mean) / std, rtol=1e-5)
    # Bicubic, not bilinear: upscaling a step overshoots on both sides of it.
    step = np.zeros((1, 16, 16, 3), dtype=np.uint8)
    step[:, :, 8:] = 255
    row = judge.preprocess(step)[0, 0, 112].numpy() * std[0] + mean[0]
    assert row.min() < -0.01 and row.max() > 1.01


def test_hf_cache_is_checked_by_its_blob_names(snapshot: Path, check_hf_cache) -> None:
    check_hf_cache(dinov2.Dinov2Judge, snapshot)
