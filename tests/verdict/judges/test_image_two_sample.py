"""The image-space classifier two-sample test can pass (same distribution: accuracy ~ 1/2) and
can fail (visibly different sets: accuracy ~ 1), on synthetic images and on the bundled model."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from latentatlas.core.errors import LatentAtlasError
from latentatlas.verdict.judges.image_two_sample import image_two_sample_test


def smooth_images(
    n: int, seed: int, *, blur: float = 0.0, shift: float = 0.0, size: int = 64
) -> np.ndarray:
    """uint8 (n, size, size, 3): random 8x8 colour fields upscaled, plus fine pixel noise;
    ``blur`` (Gaussian sigma, px) removes the noise, ``shift`` adds to the brightness."""
    rng = np.random.default_rng(seed)
    low = rng.normal(0, 1, (n, 8, 8, 3)).astype(np.float32)
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        img = cv2.resize(low[i], (size, size), interpolation=cv2.INTER_CUBIC)
        img = img + rng.normal(0, 0.3, img.shape).astype(np.float32)
        if blur:
            img = cv2.GaussianBlur(img, (0, 0), blur)
        out[i] = np.clip(128 + 40 * img + shift, 0, 255)
    return out


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    return smooth_images(300, seed=1)


def test_same_distribution_passes(reference: np.ndarray) -> None:
    r = image_two_sample_test(reference, smooth_images(300, seed=2))
    assert abs(r["accuracy"] - 0.5) < 0.06
    assert r["p_value"] > 0.05
    assert r["ci95"][0] < 0.5 < r["ci95"][1]
    assert r["n_per_class"] == 300 and r["cv"] == 2 and r["chance"] == 0.5
    assert r["accuracy"] == pytest.approx(np.mean(r["fold_accuracies"]))


@pytest.mark.parametrize(
    ("kind", "least"), [("brightness", 0.9), ("blur", 0.8)], ids=["brightness", "blur"]
)
def test_visible_difference_fails(reference: np.ndarray, kind: str, least: float) -> None:
    other = smooth_images(300, seed=3, shift=12) if kind == "brightness" else None
    if other is None:
        other = smooth_images(300, seed=3, blur=1.5)
    r = image_two_sample_test(reference, other)
    assert r["accuracy"] > least
    assert r["p_value"] < 1e-20
    assert r["ci95"][0] > 0.5


def test_seeded_and_side_effect_free(reference: np.ndarray) -> None:
    other = smooth_images(100, seed=4, blur=0.8)
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = image_two_sample_test(reference[:100], other, random_state=7, epochs=2)
    assert torch.equal(torch.get_rng_state(), before)  # the caller's global RNG is untouched
    assert torch.get_num_threads() == threads
    assert image_two_sample_test(reference[:100], other, random_state=7, epochs=2) == first
    assert first["random_state"] == 7 and first["epochs"] == 2


def test_balances_and_resizes(reference: np.ndarray) -> None:
    # 80 images of 64x64 against 50 of 40x40: 50 per class, both resized to 16.
    r = image_two_sample_test(
        reference[:80], smooth_images(50, seed=5, size=40), size=16, epochs=1, folds=3
    )
    assert (r["n_a"], r["n_b"], r["n_per_class"], r["cv"], r["size"]) == (80, 50, 50, 3, 16)
    assert len(r["fold_accuracies"]) == 3


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "message"),
    [
        (np.zeros((10, 8, 8), np.uint8), None, {}, "images_a must be RGB images"),
        (np.zeros((10, 8, 8, 3), np.float32), None, {}, "images_a must be uint8"),
        (None, np.zeros((3, 8, 8, 3), np.uint8), {}, "need at least 4 images in each set"),
        (None, None, {"folds": 1}, "folds must be at least 2"),
        (None, None, {"size": 4}, "size must be at least 8"),
        (None, None, {"epochs": 0}, "epochs must be at least 1"),
    ],
)
def test_bad_input_is_one_line(
    a: np.ndarray | None, b: np.ndarray | None, kwargs: dict, message: str
) -> None:
    ok = np.zeros((10, 8, 8, 3), np.uint8)
    with pytest.raises(LatentAtlasError, match=message):
        image_two_sample_test(ok if a is None else a, ok if b is None else b, **kwargs)


@pytest.fixture(scope="module")
def bundled() -> dict[str, np.ndarray]:
    from latentatlas.models.decode import decode
    from latentatlas.models.pretrained import celeba64

    model, store = celeba64()
    rng = np.random.default_rng(0)
    held = store.subset("heldout").astype(np.float32)
    train = store.subset("train").astype(np.float32)
    n = 300
    return {
        "held": decode(model, held[rng.choice(len(held), n, replace=False)]),
        "train": decode(model, train[rng.choice(len(train), n, replace=False)]),
        "normal": decode(model, rng.normal(size=(n, held.shape[1])).astype(np.float32)),
    }


def test_bundled_train_vs_heldout_passes(bundled: dict[str, np.ndarray]) -> None:
    r = image_two_sample_test(bundled["held"], bundled["train"])
    assert abs(r["accuracy"] - 0.5) < 0.06
    assert r["p_value"] > 0.05


def test_bundled_standard_normal_fails(bundled: dict[str, np.ndarray]) -> None:
    # N(0, I) decodes to one grey blur on this model (its z-points sit ~35 from the origin).
    r = image_two_sample_test(bundled["held"], bundled["normal"])
    assert r["accuracy"] > 0.95
    assert r["p_value"] < 1e-50
