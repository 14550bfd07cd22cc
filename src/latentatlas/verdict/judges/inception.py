"""Inception-v3 pool3 features as an image judge: the feature space of the literature's FID/KID.

The network and its preprocessing are torch-fidelity's own (``FeatureExtractorInceptionV3``,
torch-fidelity 0.4.0): the TensorFlow "2015-12-05" Inception-v3 graph behind Heusel et al.'s FID,
converted to PyTorch, uint8 images resized to 299x299 by its TensorFlow-1-compatible bilinear
interpolation inside the network, scaled to [-1, 1]; the feature is the 2048-d average pool
("pool3"). So a Fréchet distance computed here on the same images is torch-fidelity's FID
(``tests/verdict/judges/test_inception.py`` checks it against ``torch_fidelity.calculate_metrics``
to 1e-6 relative with a randomly initialised file of the same format).

Weights. No package on PyPI ships them: the file is torch-fidelity's release asset
``weights-inception-2015-12-05-6726825d.pth`` (:data:`WEIGHTS_URL`, converted from the
TensorFlow weights, Apache 2.0), taken from ``--feature-weights inception=PATH`` or from
torch-hub's cache (``torch.hub.get_dir()/checkpoints/``, where torch-fidelity itself puts it).
It is checked by torch.hub's convention: its sha256 starts with the hex in its name
(``6726825d``). This module never downloads it.

Install. torch-fidelity's package ``__init__`` imports torchvision, which this project leaves out
(its wheels pin a torch release of their own); torch-fidelity is installed with ``pip install
--no-deps torch-fidelity==0.4.0`` (:data:`INSTALL_HINT`) and :func:`fidelity_module` loads its
torchvision-free modules without that ``__init__``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pickle
import sys
import types
from pathlib import Path

import numpy as np

from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.files import file_sha256
from latentatlas.core.validation import check_images

INSTALL_HINT = "python -m pip install --no-deps torch-fidelity==0.4.0"
TORCH_FIDELITY_VERSION = "0.4.0"
WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{WEIGHTS_FILE}"
# pytorch-fid's copy of the same converted weights (same state-dict keys, same hash in its name;
# torch-fidelity's extractor loads it): accepted from torch-hub's cache too, after torch-fidelity's.
PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth"
#: torch.hub's rule: the file's sha256 starts with the hex between the last "-" and the suffix.
WEIGHTS_SHA256_PREFIX = "6726825d"
INPUT_SIZE = 299
PROTOCOL_RESIZE = f"bilinear to {INPUT_SIZE} (TensorFlow-1-compatible, torch-fidelity)"


def fidelity_module(name: str) -> types.ModuleType:
    """``torch_fidelity.<name>``, importable without torchvision.

    torch-fidelity's ``__init__`` imports every extractor and its data utilities, and those import
    torchvision; the Inception extractor and the metric modules do not. Where ``import
    torch_fidelity`` fails for that reason, an empty package object with torch-fidelity's
    ``__path__`` takes its place in ``sys.modules``, so that its submodules load without the
    ``__init__``. A full install (torchvision present) imports the real package as usual."""
    try:
        import torch_fidelity  # noqa: F401  (a full install: nothing to work around)
    except ImportError:
        spec = importlib.util.find_spec("torch_fidelity")
        if spec is None or not spec.submodule_search_locations:
            raise LatentAtlasError(
                f"the inception judge needs torch-fidelity: {INSTALL_HINT}"
            ) from None
        package = types.ModuleType("torch_fidelity")
        package.__path__ = list(spec.submodule_search_locations)
        package.__spec__ = spec
        sys.modules["torch_fidelity"] = package
    return importlib.import_module(f"torch_fidelity.{name}")


def hub_weights_path() -> Path:
    """Where torch-hub's cache keeps the file (``torch.hub.get_dir()/checkpoints/``):
    torch-fidelity's name, or pytorch-fid's where only that one is there."""
    import torch.hub

    folder = Path(torch.hub.get_dir()) / "checkpoints"
    fid_copy = folder / PYTORCH_FID_FILE
    ours = folder / WEIGHTS_FILE
    return fid_copy if fid_copy.is_file() and not ours.is_file() else ours


def locate(path: str | os.PathLike | None = None) -> Path:
    """The weights file: ``path`` if given, else torch-hub's cached copy; a one-line error that
    says where to put it when there is none (never a download)."""
    found = Path(path) if path is not None else hub_weights_path()
    if not found.is_file():
        other = " (or pass --feature-weights inception=PATH)" if path is None else ""
        raise LatentAtlasError(
            f"no Inception weights at {found}: download {WEIGHTS_URL} and put it there{other}"
        )
    return found


def available() -> bool:
    """Whether the judge can run here without being told where its weights are: torch-fidelity
    is installed and torch-hub's cache holds the file."""
    return (
        importlib.util.find_spec("torch_fidelity") is not None and hub_weights_path().is_file()
    )


def check_weights(path: Path) -> str:
    """The file's sha256, refused (one line) unless it starts with the published prefix."""
    digest, prefix = file_sha256(path), WEIGHTS_SHA256_PREFIX
    if not digest.startswith(prefix):
        raise LatentAtlasError(
            f"{path} is not torch-fidelity's Inception file: its sha256 {digest[:16]}... does not "
            f"start with {prefix} (pass --no-verify to load it anyway)"
        )
    return digest


class InceptionJudge:
    """torch-fidelity's Inception-v3 pool3 features of each image (see the module docstring).

    ``layer`` is one of the extractor's outputs ("2048" is pool3, the FID/KID layer; "64",
    "192", "768" are earlier pools, cheaper, for tests)."""

    name = "inception"
    title = (
        "Inception-v3 pool3 (2048-d; the TensorFlow 2015-12-05 ImageNet graph behind FID), "
        f"torch-fidelity {TORCH_FIDELITY_VERSION}"
    )

    def __init__(
        self,
        weights: str | os.PathLike | None = None,
        verify: bool = True,
        batch_size: int = 64,
        layer: str = "2048",
        device: str = "cpu",
    ) -> None:
        import torch

        path = locate(weights)
        self.weights_sha256 = check_weights(path) if verify else file_sha256(path)
        extractor = fidelity_module("feature_extractor_inceptionv3").FeatureExtractorInceptionV3
        try:
            self.net = extractor(
                "inception-v3-compat", [layer], feature_extractor_weights_path=str(path)
            )
        except (RuntimeError, OSError, ValueError, KeyError, EOFError, pickle.UnpicklingError) as e:
            raise LatentAtlasError(f"cannot load Inception weights from {path}: {e}") from None
        self.device = torch.device(device)
        self.net.to(self.device)
        self.batch_size = int(batch_size)
        self._torch = torch
        self.protocol = {
            "features": f"Inception-v3 {'pool3' if layer == '2048' else 'pool ' + layer}, "
            f"torch-fidelity {TORCH_FIDELITY_VERSION}",
            "resize": PROTOCOL_RESIZE,
            "weights_sha256": self.weights_sha256,
            "weights_checked": bool(verify),
            "device": self.device.type,
        }

    def features(self, images: np.ndarray) -> np.ndarray:
        """images (n, H, W, 3) uint8, any H = W -> pool3 features (n, 2048) float64."""
        what = "images for the inception judge"
        arr = check_images(images, what, square=True, min_side=8, error=LatentAtlasError)
        torch = self._torch
        chunks = [np.empty((0, int(self.net.features_list[0])))]
        with torch.no_grad():
            for start in range(0, len(arr), self.batch_size):
                x = torch.from_numpy(np.ascontiguousarray(arr[start : start + self.batch_size]))
                (feats,) = self.net(x.permute(0, 3, 1, 2).contiguous().to(self.device))
                chunks.append(feats.double().cpu().numpy())
        return np.concatenate(chunks, axis=0)


def load_inception_judge(
    weights: str | os.PathLike | None = None, verify: bool = True, device: str = "cpu"
) -> InceptionJudge:
    """The judge, from ``weights`` or torch-hub's cache (:func:`locate`), on ``device``."""
    return InceptionJudge(weights, verify=verify, device=device)
