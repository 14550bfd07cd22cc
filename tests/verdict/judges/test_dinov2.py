"""The DINOv2 judge: a Hugging Face snapshot (here a tiny random one) from a folder or from Hugging
Face's cache, its blob checked against the sha256 it is named by, dgm-eval's preprocessing (224
bicubic, ImageNet normalisation) and the CLS token as features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from latentatlas.verdict.judges import dinov2

transformers = pytest.importorskip("transformers", reason="pip install 'latentatlas[features]'")

HIDDEN = 16


@pytest.fixture(scope="module")
def snapshot(save_snapshot) -> Path:
    """A randomly initialised DINOv2 saved as facebook/dinov2-large's snapshot is."""
    config = transformers.Dinov2Config(
        hidden_size=HIDDEN, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    return save_snapshot(lambda: transformers.Dinov2Model(config), "dinov2")


def test_features_from_a_folder(snapshot: Path, check_folder_features) -> None:
    judge = dinov2.Dinov2Judge(snapshot)

    def reference(x: torch.Tensor) -> torch.Tensor:
        # The CLS token of the last (layer-normed) hidden state, as dgm-eval takes it.
        return judge.net(pixel_values=x).last_hidden_state[:, 0]

    check_folder_features(judge, snapshot, 32, HIDDEN, reference)


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
