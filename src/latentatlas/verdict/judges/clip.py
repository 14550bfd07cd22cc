"""CLIP ViT-L/14 features as an image judge: one of the feature spaces that Stein et al. (2023,
the dgm-eval study) compare for Fréchet distances between generated and real images.

The features are dgm-eval's (its ``CLIPEncoder`` at ``depth=0``): the CLS token after CLIP's final
layer norm (``ln_post``), before the projection into the joint image-text space, 1024-d for
ViT-L/14: ``pooler_output`` of Hugging Face ``transformers``' ``CLIPVisionModel``. Preprocessing is
CLIP's own, as dgm-eval and ``CLIPImageProcessor`` do it: images scaled to [0, 1], the shortest
side resized bicubic (antialiased) to the model's input size (224, ``config.image_size``), a centre
crop to that size, then CLIP's mean and standard deviation.

The weights are OpenAI's ``openai/clip-vit-large-patch14`` (trained on WIT-400M). dgm-eval
defaults to open_clip's ViT-L/14 trained on DataComp-XL (``laion/CLIP-ViT-L-14-DataComp.XL-
s13B-b90K``), a different network of the same shape: a ``transformers`` snapshot of it loads the
same way with ``--feature-weights clip=FOLDER``, and the verdict records which file it was (its
sha256). Weights are found and checked as :mod:`~latentatlas.verdict.judges.hf_snapshot` says.
"""

from __future__ import annotations

import os

import numpy as np

from latentatlas.verdict.judges.hf_snapshot import Snapshot, SnapshotJudge

REPO_ID = "openai/clip-vit-large-patch14"
SNAPSHOT = Snapshot(REPO_ID, "clip", "CLIP")
available = SNAPSHOT.available
locate = SNAPSHOT.locate
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class ClipJudge(SnapshotJudge):
    """The CLS token of CLIP's image tower (after its final layer norm, before the projection)
    of each image (module docstring)."""

    name = "clip"
    title = (
        "CLIP ViT-L/14 image CLS token (1024-d, before the projection; OpenAI's weights, trained "
        "on 400M image-text pairs), Hugging Face transformers, as in dgm-eval (Stein et al. 2023)"
    )
    snapshot = SNAPSHOT
    model_class = "CLIPVisionModel"
    protocol_features = (
        "CLIP image CLS token after the final layer norm, before the projection (dgm-eval's "
        "depth=0), transformers"
    )

    @property
    def protocol_resize(self) -> str:  # the input size is the snapshot's
        size = self.input_size
        return (
            f"shortest side bicubic to {size} (antialiased), centre crop {size}, CLIP mean/std "
            "(as dgm-eval and CLIPImageProcessor)"
        )

    @property
    def input_size(self) -> int:
        """The side of the network's input (224 for ViT-L/14; a test model may be smaller)."""
        return int(self.net.config.image_size)

    def preprocess(self, images: np.ndarray):  # -> torch.Tensor (n, 3, S, S) float32
        """uint8 (n, H, W, 3) -> the network's input: [0, 1], the shortest side bicubic to S,
        a centre crop S x S, normalised with CLIP's mean and standard deviation."""
        x = self.unit_tensor(images)
        size = self.input_size
        h, w = x.shape[-2:]
        # torchvision's Resize(int): the other side keeps the aspect ratio, truncated.
        new = (size, int(size * w / h)) if h <= w else (int(size * h / w), size)
        x = self._torch.nn.functional.interpolate(
            x, size=new, mode="bicubic", align_corners=False, antialias=True
        )
        # torchvision's center_crop: the offset rounded.
        top, left = round((new[0] - size) / 2), round((new[1] - size) / 2)
        x = x[:, :, top : top + size, left : left + size]
        return self.normalise(x, CLIP_MEAN, CLIP_STD)


def load_clip_judge(
    weights: str | os.PathLike | None = None, verify: bool = True, device: str = "cpu"
) -> ClipJudge:
    """The judge, from a snapshot folder ``weights`` or Hugging Face's cache, on ``device``."""
    return ClipJudge(weights, verify=verify, device=device)
