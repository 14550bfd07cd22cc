"""What the judges on Hugging Face ``transformers`` vision models share (``dinov2``, ``clip``):
their weights, a snapshot of one Hugging Face repository, and the batched features.

Weights: a snapshot folder (``config.json`` and ``model.safetensors``) from ``--feature-weights
NAME=FOLDER``, or Hugging Face's own cache (``local_files_only``: never a download). In the cache a
file's blob is named by its published sha256 (the LFS oid), which is checked; a user's folder has
no published hash, so its sha256 is recorded in the verdict instead.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.files import file_sha256
from latentatlas.core.validation import check_images

WEIGHTS_NAME = "model.safetensors"
INSTALL_HINT = "pip install 'latentatlas[features]'"
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Snapshot:
    """Where the weights of the judge ``judge`` (``label`` in messages) from ``repo_id`` are."""

    repo_id: str
    judge: str
    label: str

    def cached(self) -> Path | None:
        """The folder of the repository's weights in Hugging Face's cache, or None."""
        if importlib.util.find_spec("huggingface_hub") is None:
            return None
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(self.repo_id, WEIGHTS_NAME)
        return Path(found).parent if isinstance(found, str) else None

    def available(self) -> bool:
        """Whether the judge can run here without being told where its weights are."""
        return importlib.util.find_spec("transformers") is not None and self.cached() is not None

    def locate(self, path: str | os.PathLike | None) -> Path:
        """``path`` or the cached snapshot; a one-line error that says where to put it."""
        folder = Path(path) if path is not None else self.cached()
        if folder is None:
            raise LatentAtlasError(
                f"no {self.label} weights in Hugging Face's cache: put a snapshot of "
                f"{self.repo_id} there (huggingface-cli download {self.repo_id}, where a network "
                f"exists) or pass --feature-weights {self.judge}=FOLDER (a folder with "
                f"config.json and {WEIGHTS_NAME})"
            )
        for name in ("config.json", WEIGHTS_NAME):
            if not (folder / name).is_file():
                raise LatentAtlasError(
                    f"no {name} in {folder}: --feature-weights {self.judge}= needs a snapshot of "
                    f"{self.repo_id} (config.json and {WEIGHTS_NAME})"
                )
        return folder

    def check_weights(self, folder: Path, verify: bool = True) -> tuple[str, bool]:
        """(the weights file's sha256, whether it was checked against a published one): a file
        in Hugging Face's cache links to a blob named by its published sha256."""
        target = (folder / WEIGHTS_NAME).resolve()
        digest = file_sha256(target)
        published = target.name if _SHA256.fullmatch(target.name) else None
        if verify and published is not None and digest != published:
            raise LatentAtlasError(
                f"{target} is damaged: its sha256 {digest[:16]}... is not the published "
                f"{published[:16]}... (pass --no-verify to load it anyway)"
            )
        return digest, published is not None and verify


class SnapshotJudge:
    """A ``transformers`` vision model whose ``pooler_output`` (the CLS token after the final
    layer norm, in both DINOv2 and CLIP) is the feature of each image. Subclasses name the
    model class, the snapshot, the protocol's "features" and "resize", and ``preprocess``."""

    name: str
    title: str
    snapshot: Snapshot
    model_class: str
    protocol_features: str
    protocol_resize: str

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        verify: bool = True,
        batch_size: int = 32,
        device: str = "cpu",
    ) -> None:
        try:
            import torch
            import transformers
        except ImportError:
            needs = f"the {self.name} judge needs transformers: {INSTALL_HINT}"
            raise LatentAtlasError(needs) from None
        folder = self.snapshot.locate(weights)
        digest, checked = self.snapshot.check_weights(folder, verify)
        model = getattr(transformers, self.model_class)
        what = self.snapshot.label
        # A whole CLIP's snapshot holds a text tower too, which transformers lists key by key as
        # unexpected; what matters, a weight of the network left random, is checked here instead.
        verbosity = transformers.logging.get_verbosity()
        transformers.logging.set_verbosity_error()
        try:
            net, info = model.from_pretrained(
                folder, local_files_only=True, output_loading_info=True
            )
        except (OSError, ValueError, RuntimeError) as e:
            raise LatentAtlasError(f"cannot load {what} from {folder}: {e}") from None
        finally:
            transformers.logging.set_verbosity(verbosity)
        if info["missing_keys"]:
            missing = sorted(info["missing_keys"])
            raise LatentAtlasError(
                f"{folder} is not a snapshot of {self.snapshot.repo_id}: {len(missing)} of "
                f"{what}'s weights are missing from it ({missing[0]}, ...)"
            )
        self.net = net.eval()
        self.device = torch.device(device)
        self.net.to(self.device)
        self._torch = torch
        self.batch_size = int(batch_size)
        self.protocol: dict[str, Any] = {
            "features": self.protocol_features,
            "resize": self.protocol_resize,
            "weights_sha256": digest,
            "weights_checked": checked,
            "device": self.device.type,
        }

    def preprocess(self, images: np.ndarray):  # -> torch.Tensor (n, 3, S, S) float32
        """uint8 (n, H, W, 3) -> the network's input."""
        raise NotImplementedError

    def unit_tensor(self, images: np.ndarray):  # -> torch.Tensor (n, 3, H, W) float32
        """uint8 (n, H, W, 3) -> a float tensor in [0, 1], channels first."""
        x = self._torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
        return x.float() / 255.0

    def normalise(self, x, mean: tuple[float, ...], std: tuple[float, ...]):
        """(x - mean) / std per channel."""
        torch = self._torch
        return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)

    def features(self, images: np.ndarray) -> np.ndarray:
        """images (n, H, W, 3) uint8, any H = W -> CLS features (n, hidden) float64."""
        what = f"images for the {self.name} judge"
        arr = check_images(images, what, square=True, min_side=8, error=LatentAtlasError)
        torch = self._torch
        chunks = [np.empty((0, self.net.config.hidden_size))]
        with torch.no_grad():
            for start in range(0, len(arr), self.batch_size):
                x = self.preprocess(arr[start : start + self.batch_size]).to(self.device)
                chunks.append(self.net(pixel_values=x).pooler_output.double().cpu().numpy())
        return np.concatenate(chunks, axis=0)
