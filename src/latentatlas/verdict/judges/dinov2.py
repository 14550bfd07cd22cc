"""DINOv2 ViT-L/14 features as an image judge: the feature space Stein et al. (2023, the dgm-eval
study) recommend for Fréchet distances between generated and real images.

As in dgm-eval: the CLS token after the final layer norm (1024-d) of ``facebook/dinov2-large``
(ViT-L/14, self-supervised on LVD-142M), images scaled to [0, 1], resized to 224x224 bicubic
(antialiased, as torchvision's ``Resize`` does on tensors) and normalised with ImageNet's mean and
standard deviation. The network is Hugging Face ``transformers``' ``Dinov2Model`` (torch-fidelity's
and timm's DINOv2 both import torchvision, which this project leaves out; ``pip install
'latentatlas[features]'``).

Weights: a Hugging Face snapshot of facebook/dinov2-large (a folder with ``config.json`` and
``model.safetensors``) from ``--feature-weights dinov2=FOLDER``, or Hugging Face's own cache
(``local_files_only``: never a download). In the cache a file's blob is named by its published
sha256 (the LFS oid), which is checked; a user's folder has no published hash, so its sha256 is
recorded in the verdict instead.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import numpy as np

from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.files import file_sha256
from latentatlas.core.validation import check_images

REPO_ID = "facebook/dinov2-large"
WEIGHTS_NAME = "model.safetensors"
INSTALL_HINT = "pip install 'latentatlas[features]'"
INPUT_SIZE = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PROTOCOL_RESIZE = f"bicubic to {INPUT_SIZE} (antialiased), ImageNet mean/std (as dgm-eval)"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def cached_snapshot() -> Path | None:
    """The folder of facebook/dinov2-large's weights in Hugging Face's cache, or None."""
    if importlib.util.find_spec("huggingface_hub") is None:
        return None
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(REPO_ID, WEIGHTS_NAME)
    return Path(found).parent if isinstance(found, str) else None


def available() -> bool:
    """Whether the judge can run here without being told where its weights are."""
    return importlib.util.find_spec("transformers") is not None and cached_snapshot() is not None


def locate(path: str | os.PathLike | None) -> Path:
    """``path`` or the cached snapshot; a one-line error that says where to put it."""
    folder = Path(path) if path is not None else cached_snapshot()
    if folder is None:
        raise LatentAtlasError(
            f"no DINOv2 weights in Hugging Face's cache: put a snapshot of {REPO_ID} there "
            "(huggingface-cli download facebook/dinov2-large, where a network exists) or pass "
            "--feature-weights dinov2=FOLDER (a folder with config.json and model.safetensors)"
        )
    for name in ("config.json", WEIGHTS_NAME):
        if not (folder / name).is_file():
            raise LatentAtlasError(
                f"no {name} in {folder}: --feature-weights dinov2= needs a snapshot of {REPO_ID} "
                "(config.json and model.safetensors)"
            )
    return folder


def check_weights(folder: Path, verify: bool = True) -> tuple[str, bool]:
    """(the weights file's sha256, whether it was checked against a published one): a file in
    Hugging Face's cache links to a blob named by its published sha256."""
    target = (folder / WEIGHTS_NAME).resolve()
    digest = file_sha256(target)
    published = target.name if _SHA256.fullmatch(target.name) else None
    if verify and published is not None and digest != published:
        raise LatentAtlasError(
            f"{target} is damaged: its sha256 {digest[:16]}... is not the published "
            f"{published[:16]}... (pass --no-verify to load it anyway)"
        )
    return digest, published is not None and verify


class Dinov2Judge:
    """The CLS token of DINOv2 (after its final layer norm) of each image (module docstring)."""

    name = "dinov2"
    title = (
        "DINOv2 ViT-L/14 CLS token (1024-d; self-supervised on LVD-142M), Hugging Face "
        "transformers, as in dgm-eval (Stein et al. 2023)"
    )

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        verify: bool = True,
        batch_size: int = 32,
        device: str = "cpu",
    ) -> None:
        try:
            import torch
            from transformers import Dinov2Model
        except ImportError:
            raise LatentAtlasError(f"the dinov2 judge needs transformers: {INSTALL_HINT}") from None
        folder = locate(weights)
        digest, checked = check_weights(folder, verify)
        try:
            self.net = Dinov2Model.from_pretrained(folder, local_files_only=True).eval()
        except (OSError, ValueError, RuntimeError) as e:
            raise LatentAtlasError(f"cannot load DINOv2 from {folder}: {e}") from None
        self.device = torch.device(device)
        self.net.to(self.device)
        self._torch = torch
        self.batch_size = int(batch_size)
        self.protocol = {
            "features": "DINOv2 CLS token after the final layer norm, transformers",
            "resize": PROTOCOL_RESIZE,
            "weights_sha256": digest,
            "weights_checked": checked,
            "device": self.device.type,
        }

    def preprocess(self, images: np.ndarray):  # -> torch.Tensor (n, 3, 224, 224) float32
        """uint8 (n, H, W, 3) -> the network's input: [0, 1], bicubic 224x224, normalised."""
        torch = self._torch
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0
        x = torch.nn.functional.interpolate(
            x, size=(INPUT_SIZE, INPUT_SIZE), mode="bicubic", align_corners=False, antialias=True
        )
        mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        return (x - mean) / std

    def features(self, images: np.ndarray) -> np.ndarray:
        """images (n, H, W, 3) uint8, any H = W -> CLS features (n, hidden) float64."""
        what = "images for the dinov2 judge"
        arr = check_images(images, what, square=True, min_side=8, error=LatentAtlasError)
        torch = self._torch
        chunks = [np.empty((0, self.net.config.hidden_size))]
        with torch.no_grad():
            for start in range(0, len(arr), self.batch_size):
                x = self.preprocess(arr[start : start + self.batch_size]).to(self.device)
                chunks.append(self.net(pixel_values=x).pooler_output.double().cpu().numpy())
        return np.concatenate(chunks, axis=0)


def load_dinov2_judge(
    weights: str | os.PathLike | None = None, verify: bool = True, device: str = "cpu"
) -> Dinov2Judge:
    """The judge, from a snapshot folder ``weights`` or Hugging Face's cache, on ``device``."""
    return Dinov2Judge(weights, verify=verify, device=device)
