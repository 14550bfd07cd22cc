"""The face detector: mechanics on synthetic input, and its rate on real CelebA crops."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

pytest.importorskip("cv2")

from latentatlas.verdict.judges.haar import FaceDetector, _load_cascade, face_rate  # noqa: E402


def _noise(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 64, 64, 3), dtype=np.uint8)


def test_detect_returns_one_bool_per_image() -> None:
    hits = FaceDetector().detect(_noise(12))
    assert hits.shape == (12,)
    assert hits.dtype == np.bool_


def test_noise_has_no_faces() -> None:
    assert face_rate(_noise(60, seed=1)) <= 0.05


def test_grey_and_single_channel_inputs_are_accepted() -> None:
    rgb = _noise(3)
    grey = rgb[..., 0]
    assert FaceDetector().detect(grey).shape == (3,)
    assert FaceDetector().detect(grey[..., None]).shape == (3,)


def test_bad_inputs_raise() -> None:
    det = FaceDetector()
    with pytest.raises(ValueError, match="uint8"):
        det.detect(np.zeros((2, 64, 64, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="shape"):
        det.detect(np.zeros((64, 64, 3, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="at least one image"):
        face_rate(np.zeros((0, 64, 64, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="scale_factor"):
        FaceDetector(scale_factor=1.0)
    with pytest.raises(ValueError, match="not found"):
        FaceDetector(cascade="no_such_cascade.xml").detect(_noise(1))


def test_cascade_is_loaded_once_a_thread_and_params_round_trip() -> None:
    from concurrent.futures import ThreadPoolExecutor

    name = "haarcascade_frontalface_default.xml"
    assert _load_cascade(name) is _load_cascade(name)
    with ThreadPoolExecutor(1) as pool:  # another thread gets its own (they keep call state)
        assert pool.submit(_load_cascade, name).result() is not _load_cascade(name)
    det = FaceDetector(side=96, min_neighbors=4, max_size=0.9)
    again = FaceDetector(**det.get_params())
    assert again.get_params() == det.get_params()


def _celeba_crops(root, n: int) -> np.ndarray:
    from latentatlas.data.prepare import load_image

    files = sorted((root / "img_align_celeba").glob("*.jpg"))[:n]
    return np.stack([load_image(f, 64, "celeba")[0] for f in files])


def test_real_faces_are_found_sharp_and_blurred(shared_celeba) -> None:
    faces = _celeba_crops(shared_celeba, 60)
    blurred = np.stack(
        [np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(1.5))) for a in faces]
    )
    det = FaceDetector()
    assert face_rate(faces, det) >= 0.85
    assert face_rate(blurred, det) >= 0.8
    # Boxes are fractions of the image and roughly centred on CelebA's aligned crops.
    boxes = [b for b in det.boxes(faces) if len(b)]
    centres = np.array([b[0, 0] + b[0, 2] / 2 for b in boxes])
    assert np.all((0.0 <= centres) & (centres <= 1.0))
    assert abs(np.median(centres) - 0.5) < 0.1
