"""Image-space judges: networks that the autoencoder being judged did not make.

A verdict computed in the autoencoder's own latent space cannot see what its decoder does with a
point, and a Fréchet distance on z cannot reject a full-covariance normal, which matches mean and
covariance by construction. The judges here map decoded images ``(n, H, W, 3) uint8`` to feature
vectors ``(n, d)`` float64 in a space of their own, over which :mod:`latentatlas.metrics` computes
Fréchet distances, precision/recall/density/coverage and classifier two-sample tests:

Modules, one a judge:

- ``attributes``: a small CNN that latentatlas trained on *real* CelebA images to predict the 40
  CelebA attributes, bundled beside ``celeba64`` (penultimate features, and attribute
  probabilities); ``train_attributes`` trains and evaluates it;
- ``descriptor``: dlib's ResNet face descriptor (128-d), optional (``pip install
  'latentatlas[judge]'``);
- ``image_two_sample``: the image-space classifier two-sample test, which needs no pretrained
  weights at all (a small CNN trained to tell two sets of images apart, cross-validated);
- ``haar``: OpenCV's Haar face detector, behind the face rate (a sanity check, not ranked);
- ``inception``: Inception-v3 pool3 as torch-fidelity computes it (the literature's FID/KID),
  ``dinov2``: DINOv2 ViT-L/14's CLS token (Stein et al. 2023's recommendation), ``clip``: CLIP
  ViT-L/14's image CLS token (dgm-eval's CLIP features); all three need weights the user brings
  (``--feature-weights NAME=PATH``, or the library's own cache), never downloaded; ``hf_snapshot``
  finds and checks the Hugging Face snapshots of the last two.

To add a feature judge: a class with ``name``, ``title``, ``protocol`` and ``features(images)``
(:class:`ImageJudge`), registered in :data:`FEATURE_JUDGES`, and in :data:`FACE_JUDGES` too if
it only makes sense on faces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "DOMAINS",
    "FACE_DOMAIN_THRESHOLD",
    "FACE_JUDGES",
    "FACE_N",
    "FEATURE_JUDGES",
    "IMAGE_JUDGES",
    "JUDGE_N",
    "WEIGHTED_JUDGES",
    "ImageJudge",
    "available_judges",
    "check_feature_weights",
    "make_judge",
]


@runtime_checkable
class ImageJudge(Protocol):
    """What the verdict needs from a feature network."""

    #: Short name used in verdict.json keys and on the page ("attributes", "faces").
    name: str
    #: One line for the page: what the network is and what it was trained on.
    title: str
    #: How its numbers are made, for verdict.json and the page: "features" (the feature space)
    #: and "resize" (method and size), and for weights the user brings their "weights_sha256".
    protocol: dict[str, Any]

    def features(self, images: np.ndarray) -> np.ndarray:
        """images (n, H, W, 3) uint8, any H = W -> features (n, d) float64."""
        ...


# Judge name -> "module:factory", imported on first use (torch, dlib), so that this module loads
# without either. "cnn" is not a feature network: it is the image-space two-sample test.
FEATURE_JUDGES: dict[str, str] = {
    "attributes": "latentatlas.verdict.judges.attributes:load_attribute_judge",
    "faces": "latentatlas.verdict.judges.descriptor:FaceDescriptorJudge",
    "inception": "latentatlas.verdict.judges.inception:load_inception_judge",
    "dinov2": "latentatlas.verdict.judges.dinov2:load_dinov2_judge",
    "clip": "latentatlas.verdict.judges.clip:load_clip_judge",
}
# Judges whose weights the user brings: their factories take (weights path or None, verify,
# device), and they run by default only where their weights are found without being named.
WEIGHTED_JUDGES: tuple[str, ...] = ("inception", "dinov2", "clip")
IMAGE_JUDGES: tuple[str, ...] = (*FEATURE_JUDGES, "cnn")
# The judges that see faces only (trained on CelebA faces, or a face descriptor): they run only
# where the reference images are faces (verdict.scoring.face_domain), like the Haar face rate.
FACE_JUDGES: tuple[str, ...] = ("attributes", "faces")

# The share of decoded held-out images in which the Haar detector must find a face for the face
# judges and the face rate to apply (verdict.scoring.face_domain). Faces score far above it: the
# bundled celeba64 model's decoded held-out reconstructions 0.948 (500 images; `compare` records
# it as detector.reconstructions), real CelebA crops 0.94 sharp and 0.84 blurred
# (bench/bench_face_detector.py), data/synthetic's cartoon faces 0.85-0.92. Non-faces score far
# below: noise and smooth blobs 0.000, decoded held-out handwritten digits 0.011 (the README's
# digits example; 0.004 in issue 21's run), the stripes of tests/verdict/test_domain.py 0, an
# undertrained autoencoder's blurred cartoon faces 0.02. Half sits far from both, so a blurring
# decoder does not turn faces into non-faces.
FACE_DOMAIN_THRESHOLD = 0.5
# How the domain is decided: by the face rate ("auto"), or as the user says (the detector misses
# profile, small or drawn faces; a face dataset may be judged without its face judges).
DOMAINS = ("auto", "faces", "other")

# Decoded images per generator the image judges see; the face descriptor costs ~60 ms an image on
# one core, so it sees fewer.
JUDGE_N = 500
FACE_N = 100


def _module(name: str) -> Any:
    """The module of the feature judge ``name``, imported on first use (torch, dlib, weights)."""
    import importlib

    return importlib.import_module(FEATURE_JUDGES[name].split(":")[0])


def make_judge(
    name: str, weights: str | None = None, verify: bool = True, device: str = "cpu"
) -> ImageJudge:
    """The feature judge called ``name`` (one of :data:`FEATURE_JUDGES`), loaded; ``weights``
    (a path), ``verify`` (check its published sha256) and ``device`` (where the network runs:
    these are large, ~6 GFLOPs an image) for :data:`WEIGHTED_JUDGES`."""
    if name not in FEATURE_JUDGES:
        raise ValueError(f"unknown feature judge {name!r}; choose from {', '.join(FEATURE_JUDGES)}")
    if weights is not None and name not in WEIGHTED_JUDGES:
        raise ValueError(f"the {name} judge takes no weights file; only {WEIGHTED_JUDGES} do")
    make = getattr(_module(name), FEATURE_JUDGES[name].split(":")[1])
    return make(weights, verify=verify, device=device) if name in WEIGHTED_JUDGES else make()


def check_feature_weights(
    judges: Sequence[str] | None, feature_weights: Mapping[str, str] | None = None
) -> None:
    """Refuse, before any work, weights for a judge that is not asked for, and a missing weights
    file of a judge that is asked for (a one-line LatentAtlasError that says where to put it)."""
    from latentatlas.core.errors import LatentAtlasError

    weights = dict(feature_weights or {})
    unused = [j for j in weights if judges is not None and j not in judges]
    if unused:
        raise LatentAtlasError(f"--feature-weights {unused[0]}=... names a judge not in --judges")
    for name in WEIGHTED_JUDGES:
        if name in weights or (judges is not None and name in judges):
            _module(name).locate(weights.get(name))


def available_judges(feature_weights: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The image judges that can run here: ``faces`` when dlib and its models are installed
    (``pip install 'latentatlas[judge]'``), ``inception``/``dinov2``/``clip`` when their weights
    are named in ``feature_weights`` or found in their library's cache, every other one always."""

    def runs(name: str) -> bool:
        if name == "faces" or (name in WEIGHTED_JUDGES and name not in (feature_weights or {})):
            return bool(_module(name).available())
        return True

    return tuple(j for j in IMAGE_JUDGES if runs(j))
