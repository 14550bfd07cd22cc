"""The CLIP judge: a Hugging Face snapshot (here a tiny random one) from a folder or from Hugging
Face's cache, CLIP's own preprocessing (shortest side bicubic, centre crop, CLIP's mean and std)
at the snapshot's input size, and the image CLS token after the final layer norm as features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from latentatlas.core.files import file_sha256
from latentatlas.verdict.judges import clip, hf_snapshot

transformers = pytest.importorskip("transformers", reason="pip install 'latentatlas[features]'")

HIDDEN = 16
SIZE = 32  # ViT-L/14's is 224; the judge reads it from the snapshot's config


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised CLIP (both towers, as openai/clip-vit-large-patch14's snapshot
    holds them) saved as a snapshot is."""
    tower = {
        "hidden_size": HIDDEN,
        "intermediate_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
    }
    config = transformers.CLIPConfig(
        vision_config={**tower, "image_size": SIZE, "patch_size": 8},
        text_config=tower,
        projection_dim=8,
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("clip") / "snapshot"
    transformers.CLIPModel(config).save_pretrained(folder)
    return folder


def test_features_from_a_folder(snapshot: Path) -> None:
    judge = clip.ClipJudge(snapshot)
    images = np.random.default_rng(0).integers(0, 256, size=(3, 40, 40, 3), dtype=np.uint8)
    feats = judge.features(images)
    assert feats.shape == (3, HIDDEN) and feats.dtype == np.float64
    # dgm-eval's features: the whole CLIP's image CLS token through the final layer norm, before
    # the projection.
    net = transformers.CLIPModel.from_pretrained(snapshot).vision_model.eval()
    with torch.no_grad():
        cls = net(pixel_values=judge.preprocess(images)).last_hidden_state[:, 0]
        out = net.post_layernorm(cls)
    np.testing.assert_allclose(feats, out.double().numpy(), rtol=1e-6)
    assert judge.features(images[:0]).shape == (0, HIDDEN)
    assert judge.protocol["weights_sha256"] == file_sha256(snapshot / hf_snapshot.WEIGHTS_NAME)
    assert judge.protocol["weights_checked"] is False  # a user folder: recorded only
    assert f"centre crop {SIZE}" in judge.protocol["resize"]


def test_preprocessing_is_clips_own(snapshot: Path) -> None:
    judge = clip.ClipJudge(snapshot)
    mean, std = np.array(clip.CLIP_MEAN), np.array(clip.CLIP_STD)
    flat = np.full((1, 20, 20, 3), 200, dtype=np.uint8)
    x = judge.preprocess(flat)
    assert x.shape == (1, 3, SIZE, SIZE)
    np.testing.assert_allclose(x[0, :, 10, 10].numpy(), (200 / 255 - mean) / std, rtol=1e-5)
    # Shortest side to SIZE keeping the aspect ratio, then the centre: a 16 x 48 image of three
    # 16-wide bands (0, 255, 0) becomes 32 x 96, whose centre 32 columns are the white band only.
    bands = np.zeros((1, 16, 48, 3), dtype=np.uint8)
    bands[:, :, 16:32] = 255
    x = judge.preprocess(bands)[0, 0].numpy() * std[0] + mean[0]
    assert x.shape == (SIZE, SIZE)
    np.testing.assert_allclose(x[:, 4:-4], 1.0, atol=0.02)  # all white away from the edges
    assert x[:, 0].max() < 0.9 and x[:, -1].max() < 0.9  # the bands' edges, resized bicubic
    # Bicubic, not bilinear: upscaling a step overshoots on both sides of it.
    step = np.zeros((1, 16, 16, 3), dtype=np.uint8)
    step[:, :, 8:] = 255
    row = judge.preprocess(step)[0, 0, SIZE // 2].numpy() * std[0] + mean[0]
    assert row.min() < -0.01 and row.max() > 1.01


def test_hf_cache_is_checked_by_its_blob_names(snapshot: Path, check_hf_cache) -> None:
    check_hf_cache(clip.ClipJudge, snapshot)
