"""The CLIP judge: a Hugging Face snapshot (here a tiny random one) from a folder or from Hugging
Face's cache, CLIP's own preprocessing (shortest side bicubic, centre crop, CLIP's mean and std)
at the snapshot's input size, and the image CLS token after the final layer norm as features."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from latentatlas.core.errors import LatentAtlasError
from latentatlas.verdict.judges import clip

transformers = pytest.importorskip("transformers", reason="pip install 'latentatlas[features]'")

HIDDEN = 16
SIZE = 32  # ViT-L/14's is 224; the judge reads it from the snapshot's config


@pytest.fixture(scope="module")
def snapshot(save_snapshot) -> Path:
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
    return save_snapshot(lambda: transformers.CLIPModel(config), "clip")


def test_features_from_a_folder(snapshot: Path, check_folder_features) -> None:
    judge = clip.ClipJudge(snapshot)
    # dgm-eval's features: the whole CLIP's image CLS token through the final layer norm, before
    # the projection.
    net = transformers.CLIPModel.from_pretrained(snapshot).vision_model.eval()

    def reference(x: torch.Tensor) -> torch.Tensor:
        return net.post_layernorm(net(pixel_values=x).last_hidden_state[:, 0])

    check_folder_features(judge, snapshot, 40, HIDDEN, reference)
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


def test_a_snapshot_of_another_network_is_refused(save_snapshot) -> None:
    # transformers would load it and leave CLIP's weights random, with a warning only.
    config = transformers.Dinov2Config(
        hidden_size=HIDDEN, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    other = save_snapshot(lambda: transformers.Dinov2Model(config), "other")
    with pytest.raises(LatentAtlasError, match=f"is not a snapshot of {clip.REPO_ID}"):
        clip.ClipJudge(other)
