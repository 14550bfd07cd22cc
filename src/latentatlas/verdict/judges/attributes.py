"""The attribute judge: a small CNN that predicts CelebA's 40 binary attributes from an image.

latentatlas trains it on the *real* images of the bundled model's train split (never on
reconstructions), so it is a network the autoencoder did not make: its penultimate activations
are a second feature space for Fréchet distances and two-sample tests, and its attribute
probabilities say in plain words what a generator over- or under-produces ("31 % eyeglasses
where decoded real codes have 6 %").

Architecture (``AttributeNet``): four blocks of 3x3 convolution (stride 2), batch norm and ReLU
halve a 64x64 image down to 4x4; the flattened map goes through one linear layer to the
``feature_dim`` penultimate features (ReLU), and one more linear layer gives the 40 logits.
The file format is a latentatlas checkpoint (``kind = "attribute-judge"``) whose tensors carry
their own sha256; the bundled copy is also listed in the bundle's ``MANIFEST.json``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from latentatlas.core.bundled import ATTRIBUTE_JUDGE_FILE, bundled_dir
from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.validation import check_images
from latentatlas.models.checkpoint import NO_VERIFY_HINT, load_checkpoint, save_checkpoint
from latentatlas.models.tensors import to_tensor_resized

KIND = "attribute-judge"
__all__ = [
    "AttributeJudge",
    "AttributeNet",
    "JudgeConfig",
    "load_attribute_judge",
    "save_attribute_judge",
]


@dataclass(frozen=True)
class JudgeConfig:
    image_size: int = 64
    channels: tuple[int, ...] = (32, 64, 128, 128)
    feature_dim: int = 256
    n_attributes: int = 40
    dropout: float = 0.2  # on the penultimate features, training only

    def __post_init__(self) -> None:
        size = self.image_size
        if size % (2 ** len(self.channels)) or size < 2 ** len(self.channels):
            raise LatentAtlasError(
                f"image size {size} is not divisible by 2^{len(self.channels)} "
                "(one halving per conv block)"
            )
        if self.feature_dim < 1 or self.n_attributes < 1 or not self.channels:
            raise LatentAtlasError("feature_dim, n_attributes and channels must be positive")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JudgeConfig:
        d = dict(d)
        d["channels"] = tuple(d["channels"])
        return cls(**d)


class AttributeNet(nn.Module):
    """float (B, 3, S, S) in [0, 1] → (features (B, feature_dim), logits (B, n_attributes))."""

    def __init__(self, cfg: JudgeConfig) -> None:
        super().__init__()
        self.cfg = cfg
        layers: list[nn.Module] = []
        c_in = 3
        for c in cfg.channels:
            layers += [
                nn.Conv2d(c_in, c, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c),
                nn.ReLU(inplace=True),
            ]
            c_in = c
        self.conv = nn.Sequential(*layers)
        side = cfg.image_size // 2 ** len(cfg.channels)
        # Flattened rather than pooled: faces are aligned, so *where* a pattern sits (eyeglasses
        # at eye height, a hat at the top) is information worth keeping.
        self.fc = nn.Linear(c_in * side * side, cfg.feature_dim)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.feature_dim, cfg.n_attributes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # Centred inputs: the first conv has no bias and follows no normalisation.
        h = self.conv(x * 2.0 - 1.0).flatten(1)
        feats = F.relu(self.fc(h))
        return feats, self.head(self.drop(feats))


def images_to_tensor(images: np.ndarray, size: int) -> torch.Tensor:
    """uint8 (n, H, W, 3), H = W → float (n, 3, size, size) in [0, 1] (see
    :func:`~latentatlas.models.tensors.to_tensor_resized`)."""
    check_images(images, square=True, array_only=True, error=LatentAtlasError)
    return to_tensor_resized(images, size).clamp_(0.0, 1.0)


class AttributeJudge:
    """An :class:`~latentatlas.verdict.judges.ImageJudge` with attribute probabilities on top."""

    name = "attributes"
    title = "attribute CNN trained by latentatlas on real CelebA images (40 attributes)"
    protocol = {
        "features": "latentatlas attribute CNN, penultimate layer",
        "resize": "bilinear (antialiased) to the CNN's input size",
    }

    def __init__(
        self,
        net: AttributeNet,
        attribute_names: list[str],
        meta: dict[str, Any] | None = None,
        batch_size: int = 256,
    ) -> None:
        if len(attribute_names) != net.cfg.n_attributes:
            raise LatentAtlasError(
                f"{len(attribute_names)} attribute names for {net.cfg.n_attributes} outputs"
            )
        self.net = net.float().eval()
        self.attribute_names_ = list(attribute_names)
        self.meta = dict(meta or {})
        self.batch_size = batch_size

    @property
    def image_size(self) -> int:
        return self.net.cfg.image_size

    @property
    def feature_dim(self) -> int:
        return self.net.cfg.feature_dim

    @torch.no_grad()
    def features_and_proba(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """images uint8 (n, H, W, 3), any H = W → (features (n, feature_dim) float64,
        probabilities (n, 40) float64), in one forward pass per batch."""
        # up front too: an empty batch loop would check nothing
        check_images(images, square=True, array_only=True, error=LatentAtlasError)
        n = len(images)
        feats = np.empty((n, self.feature_dim), dtype=np.float64)
        proba = np.empty((n, len(self.attribute_names_)), dtype=np.float64)
        self.net.eval()
        for start in range(0, n, self.batch_size):
            x = images_to_tensor(images[start : start + self.batch_size], self.image_size)
            f, logits = self.net(x)
            feats[start : start + len(x)] = f.double().numpy()
            proba[start : start + len(x)] = torch.sigmoid(logits.double()).numpy()
        return feats, proba

    def features(self, images: np.ndarray) -> np.ndarray:
        """images uint8 (n, H, W, 3), any H = W → penultimate features (n, feature_dim) float64."""
        return self.features_and_proba(images)[0]

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """images uint8 (n, H, W, 3), any H = W → P(attribute present) (n, 40) float64, columns
        in the order of ``attribute_names_``."""
        return self.features_and_proba(images)[1]


def save_attribute_judge(path: str | os.PathLike, judge: AttributeJudge, half: bool = True) -> Path:
    """Write the judge atomically as a checkpoint (float16 weights unless ``half=False``)."""
    state = judge.net.state_dict()
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    return save_checkpoint(
        path,
        {
            "kind": KIND,
            "judge_config": {**asdict(judge.net.cfg), "channels": list(judge.net.cfg.channels)},
            "model": state,
            "attribute_names": judge.attribute_names_,
            "meta": judge.meta,
        },
    )


def load_attribute_judge(path: str | os.PathLike | None = None) -> AttributeJudge:
    """The judge in ``path``, by default the one bundled beside ``celeba64``; the file's sha256
    is checked against the bundle's ``MANIFEST.json`` (bundled copy) and its tensors against
    their own recorded sha256 (any copy)."""
    if path is None:
        path = bundled_dir("celeba64") / ATTRIBUTE_JUDGE_FILE
    path = Path(path)
    if path.is_dir():
        raise LatentAtlasError(f"{path} is a folder, not an attribute-judge file")
    try:
        state = load_checkpoint(path)
    except LatentAtlasError as e:
        # load_checkpoint speaks of checkpoints and of the CLI's --no-verify; neither applies.
        msg = str(e).replace(NO_VERIFY_HINT, "")
        for old, new in (
            ("no such checkpoint", "no such file"),
            ("not a readable checkpoint", "not a readable attribute-judge file"),
            ("not a latentatlas checkpoint", "not an attribute-judge file"),
        ):
            msg = msg.replace(old, new)
        raise LatentAtlasError(msg) from None
    if state.get("kind") != KIND:
        raise LatentAtlasError(f"{path}: not an attribute-judge file (a model checkpoint?)")
    try:
        net = AttributeNet(JudgeConfig.from_dict(state["judge_config"]))
        net.load_state_dict(
            {k: v.float() if v.is_floating_point() else v for k, v in state["model"].items()}
        )
        names = [str(n) for n in state["attribute_names"]]
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LatentAtlasError(f"{path}: inconsistent attribute-judge file ({first})") from None
    return AttributeJudge(net, names, meta=state.get("meta"))
