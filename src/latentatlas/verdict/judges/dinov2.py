"""DINOv2 ViT-L/14 features as an image judge: the feature space Stein et al. (2023, the dgm-eval
study) recommend for Fréchet distances between generated and real images.

As in dgm-eval: the CLS token after the final layer norm (1024-d) of ``facebook/dinov2-large``
(ViT-L/14, self-supervised on LVD-142M), images scaled to [0, 1], resized to 224x224 bicubic
(antialiased, as torchvision's ``Resize`` does on tensors) and normalised with ImageNet's mean and
standard deviation. The network is Hugging Face ``transformers``' ``Dinov2Model`` (torch-fidelity's
and timm's DINOv2 both import torchvision, which this project leaves out; ``pip install
'latentatlas[features]'``). Its weights, a snapshot of facebook/dinov2-large, are found and
checked as :mod:`~latentatlas.verdict.judges.hf_snapshot` says.
"""

from __future__ import annotations

import os

import numpy as np

from latentatlas.verdict.judges.hf_snapshot import Snapshot, SnapshotJudge

REPO_ID = "facebook/dinov2-large"
SNAPSHOT = Snapshot(REPO_ID, "dinov2", "DINOv2")
available = SNAPSHOT.available
locate = SNAPSHOT.locate
INPUT_SIZE = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Dinov2Judge(SnapshotJudge):
    """The CLS token of DINOv2 (after its final layer norm) of each image (module docstring)."""

    name = "dinov2"
    title = (
        "DINOv2 ViT-L/14 CLS token (1024-d; self-supervised on LVD-142M), Hugging Face "
        "transformers, as in dgm-eval (Stein et al. 2023)"
    )
    snapshot = SNAPSHOT
    model_class = "Dinov2Model"
    protocol_features = "DINOv2 CLS token after the final layer norm, transformers"
    protocol_resize = f"bicubic to {INPUT_SIZE} (antialiased), ImageNet mean/std (as dgm-eval)"

    def preprocess(self, images: np.ndarray):  # -> torch.Tensor (n, 3, 224, 224) float32
        """uint8 (n, H, W, 3) -> the network's input: [0, 1], bicubic 224x224, normalised."""
        x = self._torch.nn.functional.interpolate(
            self.unit_tensor(images),
            size=(INPUT_SIZE, INPUT_SIZE),
            mode="bicubic",
            align_corners=False,
            antialias=True,
        )
        return self.normalise(x, IMAGENET_MEAN, IMAGENET_STD)


def load_dinov2_judge(
    weights: str | os.PathLike | None = None, verify: bool = True, device: str = "cpu"
) -> Dinov2Judge:
    """The judge, from a snapshot folder ``weights`` or Hugging Face's cache, on ``device``."""
    return Dinov2Judge(weights, verify=verify, device=device)
