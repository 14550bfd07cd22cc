"""The attribute judge: training learns, inference is deterministic and size-agnostic, the bundled
weights load only when intact, and they see real attributes in real and decoded faces."""

from __future__ import annotations

import json
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from latentatlas.core.bundled import ATTRIBUTE_JUDGE_FILE, bundled_dir
from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.files import file_sha256
from latentatlas.data.store import TRAIN
from latentatlas.verdict.judges import ImageJudge
from latentatlas.verdict.judges.attributes import (
    AttributeJudge,
    JudgeConfig,
    load_attribute_judge,
    save_attribute_judge,
)
from latentatlas.verdict.judges.train_attributes import (
    JudgeTrainConfig,
    evaluate_attribute_judge,
    train_attribute_judge,
)

TINY = JudgeConfig(image_size=16, channels=(8, 16), feature_dim=32, n_attributes=2, dropout=0.0)


def squares(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """16x16 noise images; attribute 0 = a bright 5x5 square somewhere in the upper left
    quadrant-ish (present in about half), attribute 1 = a coin flip the pixels do not show."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 140, size=(n, 16, 16, 3), dtype=np.uint8)
    has = rng.random(n) < 0.5
    for i in np.flatnonzero(has):
        r, c = rng.integers(1, 8, size=2)
        images[i, r : r + 5, c : c + 5] = 230
    coin = rng.random(n) < 0.5
    attributes = np.stack([np.where(has, 1, -1), np.where(coin, 1, -1)], axis=1).astype(np.int8)
    return images, attributes


@pytest.fixture(scope="module")
def trained() -> tuple[AttributeJudge, list[dict]]:
    images, attributes = squares(512, seed=0)
    return train_attribute_judge(
        images,
        attributes,
        ["Square", "Coin"],
        JudgeTrainConfig(epochs=4, batch_size=32, lr=5e-3, seed=0),
        TINY,
    )


@pytest.fixture(scope="module")
def bundled_judge() -> AttributeJudge:
    return load_attribute_judge()


def test_training_learns_a_visible_attribute_and_not_an_invisible_one(trained) -> None:
    judge, history = trained
    assert len(history) == 4 and history[-1]["train_loss"] < history[0]["train_loss"]
    images, attributes = squares(400, seed=1)  # fresh images
    ev = evaluate_attribute_judge(judge, images, attributes)
    square, coin = ev["attributes"]
    assert square["attribute"] == "Square" and square["balanced_accuracy"] > 0.9
    assert square["accuracy"] > square["baseline_accuracy"] + 0.3
    # The coin flip is not in the pixels: held out, the judge cannot beat chance by much.
    assert abs(coin["balanced_accuracy"] - 0.5) < 0.1
    assert ev["n"] == 400 and 0.6 < ev["mean_balanced_accuracy"] < 0.8


def test_training_is_reproducible(trained) -> None:
    judge, history = trained
    images, attributes = squares(512, seed=0)
    again, history2 = train_attribute_judge(
        images,
        attributes,
        ["Square", "Coin"],
        JudgeTrainConfig(epochs=4, batch_size=32, lr=5e-3, seed=0),
        TINY,
    )
    assert [h["train_loss"] for h in history] == [h["train_loss"] for h in history2]
    probe = squares(64, seed=5)[0]
    np.testing.assert_array_equal(judge.features(probe), again.features(probe))


def test_unknown_labels_are_masked_out() -> None:
    images, attributes = squares(256, seed=2)
    hidden = attributes.copy()
    hidden[:, 1] = 0  # attribute 1 unknown everywhere: nothing to learn, nothing to score
    judge, history = train_attribute_judge(
        images, hidden, None, JudgeTrainConfig(epochs=2, batch_size=32, seed=0), TINY
    )
    assert np.isfinite(history[-1]["train_loss"])
    ev = evaluate_attribute_judge(judge, images, hidden)
    assert ev["attributes"][1]["n"] == 0 and np.isnan(ev["attributes"][1]["balanced_accuracy"])
    assert ev["attributes"][0]["attribute"] == "attribute_0"


def test_bad_training_input_is_a_clean_error() -> None:
    images, attributes = squares(32, seed=3)
    with pytest.raises(LatentAtlasError, match="images but"):
        train_attribute_judge(images, attributes[:10], judge_config=TINY)
    with pytest.raises(LatentAtlasError, match=r"\+1 \(present\)"):
        train_attribute_judge(images, attributes * 2, judge_config=TINY)
    with pytest.raises(LatentAtlasError, match="uint8"):
        train_attribute_judge(images.astype(np.float32), attributes, judge_config=TINY)
    with pytest.raises(LatentAtlasError, match="3 outputs"):
        train_attribute_judge(
            images, attributes, judge_config=JudgeConfig(image_size=16, n_attributes=3)
        )
    with pytest.raises(LatentAtlasError, match="divisible"):
        JudgeConfig(image_size=20, channels=(8, 8, 8))


def test_features_shape_dtype_and_determinism(trained) -> None:
    judge, _ = trained
    images = squares(70, seed=4)[0]
    feats, proba = judge.features_and_proba(images)
    assert feats.shape == (70, 32) and feats.dtype == np.float64
    assert proba.shape == (70, 2) and proba.dtype == np.float64
    assert ((proba >= 0) & (proba <= 1)).all() and feats.std() > 0
    np.testing.assert_array_equal(judge.features(images), feats)
    np.testing.assert_array_equal(judge.predict_proba(images), proba)
    judge.batch_size = 16  # batches of another size: the same numbers up to float rounding
    try:
        np.testing.assert_allclose(judge.features(images), feats, rtol=1e-5, atol=1e-5)
    finally:
        judge.batch_size = 256
    assert judge.features(images[:0]).shape == (0, 32)


def test_other_image_sizes_are_resized(trained) -> None:
    judge, _ = trained
    images, attributes = squares(200, seed=6)
    # Each pixel as a 4x4 block: resized back to 16x16, the same picture (antialiased, so
    # only the block edges blur a little), and the same attribute is seen.
    big = images.repeat(4, axis=1).repeat(4, axis=2)
    assert big.shape == (200, 64, 64, 3)
    p16, p64 = judge.predict_proba(images), judge.predict_proba(big)
    assert p64.shape == (200, 2)
    assert np.corrcoef(p16[:, 0], p64[:, 0])[0, 1] > 0.95
    square = evaluate_attribute_judge(judge, big, attributes)["attributes"][0]
    assert square["balanced_accuracy"] > 0.85
    small = images[:, ::2, ::2]  # 8x8 images are upsampled
    assert judge.features(np.ascontiguousarray(small)).shape == (200, 32)


def test_bad_images_are_a_clean_error(trained) -> None:
    judge, _ = trained
    images = squares(4, seed=7)[0]
    with pytest.raises(LatentAtlasError, match="uint8"):
        judge.features(images.astype(np.float64))
    with pytest.raises(LatentAtlasError, match="square"):
        judge.features(images[:, :, :12])
    with pytest.raises(LatentAtlasError, match=r"\(n, H, W, 3\)"):
        judge.features(images[..., :1])
    with pytest.raises(LatentAtlasError, match=r"\(n, H, W, 3\)"):
        judge.features(images[0])
    with pytest.raises(LatentAtlasError, match=r"\(n, H, W, 3\)"):
        judge.features(images.tolist())
    with pytest.raises(LatentAtlasError, match="uint8"):
        judge.features(np.zeros((0, 16, 16, 3)))


def test_save_and_load_round_trip(trained, tmp_path: Path) -> None:
    judge, _ = trained
    images = squares(16, seed=8)[0]
    full = load_attribute_judge(save_attribute_judge(tmp_path / "j.pt", judge, half=False))
    np.testing.assert_array_equal(full.features(images), judge.features(images))
    half = load_attribute_judge(save_attribute_judge(tmp_path / "h.pt", judge))
    assert half.attribute_names_ == ["Square", "Coin"]
    assert next(half.net.parameters()).dtype == torch.float32
    np.testing.assert_allclose(half.predict_proba(images), judge.predict_proba(images), atol=0.02)


def test_bundled_judge_loads(bundled_judge) -> None:
    from latentatlas.models.pretrained import celeba64

    judge = bundled_judge
    assert isinstance(judge, ImageJudge) and judge.name == "attributes" and judge.title
    _, store = celeba64()
    assert (
        judge.attribute_names_ == list(store.attribute_names) and len(judge.attribute_names_) == 40
    )
    assert judge.image_size == 64 and 128 <= judge.feature_dim <= 256
    assert not judge.net.training
    path = bundled_dir("celeba64") / ATTRIBUTE_JUDGE_FILE
    assert path.stat().st_size < 2e6
    manifest = json.loads((bundled_dir("celeba64") / "MANIFEST.json").read_text())
    assert manifest[ATTRIBUTE_JUDGE_FILE] == file_sha256(path)
    assert judge.meta["heldout"]["n"] == int((store.split != TRAIN).sum())


def _flip_a_weight_byte(path: Path) -> None:
    """Invert one byte in the middle of the largest stored tensor (a torch file is a zip)."""
    with zipfile.ZipFile(path) as z:
        info = max(z.infolist(), key=lambda i: i.file_size)
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack(
        "<HH", data[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.file_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_damaged_copy_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / ATTRIBUTE_JUDGE_FILE
    shutil.copy(bundled_dir("celeba64") / ATTRIBUTE_JUDGE_FILE, copy)
    load_attribute_judge(copy)  # an intact copy loads (its tensors carry their own sha256)
    _flip_a_weight_byte(copy)
    with pytest.raises(LatentAtlasError) as err:
        load_attribute_judge(copy)
    msg = str(err.value)
    assert "\n" not in msg and str(copy) in msg and "--no-verify" not in msg
    assert "damaged" in msg or "not a readable attribute-judge file" in msg
    copy.write_bytes(copy.read_bytes()[:1000])
    with pytest.raises(LatentAtlasError, match="not a readable attribute-judge file"):
        load_attribute_judge(copy)
    with pytest.raises(LatentAtlasError, match="no such file"):
        load_attribute_judge(tmp_path / "absent.pt")
    with pytest.raises(LatentAtlasError, match="not an attribute-judge file"):
        load_attribute_judge(bundled_dir("celeba64") / "model.pt")


def test_the_bundled_manifest_is_checked(tmp_path: Path, monkeypatch) -> None:
    import latentatlas.core.bundled

    bundle = tmp_path / "pretrained" / "celeba64"
    shutil.copytree(bundled_dir("celeba64"), bundle)
    monkeypatch.setattr(latentatlas.core.bundled, "ROOT", tmp_path / "pretrained")
    judge_file = bundle / ATTRIBUTE_JUDGE_FILE
    load_attribute_judge()  # the relocated, intact bundle
    # Bytes outside the tensors (the pickled metadata) changed: only the manifest sees it.
    data = judge_file.read_bytes()
    judge_file.write_bytes(data.replace(b"real images", b"REAL images", 1))
    with pytest.raises(LatentAtlasError, match="damaged: sha256 .* bundled MANIFEST.json"):
        load_attribute_judge()


def _heldout_real_images(shared_celeba: Path, tmp_path: Path, limit: int) -> tuple:
    from latentatlas.data.cache import load_cache
    from latentatlas.data.prepare import prepare
    from latentatlas.models.pretrained import celeba64

    # The first `limit` images, prepared exactly as the bundled model's cache was (the split is
    # a hash of each id, so a prefix keeps the store's split).
    prepare(shared_celeba, tmp_path / "cache", size=64, limit=limit, workers=1, progress=False)
    cache = load_cache(tmp_path / "cache")
    _, store = celeba64()
    assert np.array_equal(cache.ids, store.ids[:limit])
    assert np.array_equal(cache.split, store.split[:limit])
    held = np.flatnonzero(cache.split != TRAIN)
    return cache.images[held], cache.attributes[held], cache.attribute_names


def test_bundled_judge_beats_the_majority_on_real_held_out_faces(
    bundled_judge, shared_celeba: Path, tmp_path: Path
) -> None:
    images, attributes, names = _heldout_real_images(shared_celeba, tmp_path, limit=3000)
    assert 250 < len(images) < 350
    ev = evaluate_attribute_judge(bundled_judge, images, attributes)
    rows = {r["attribute"]: r for r in ev["attributes"]}
    for name in ("Male", "Smiling", "Wearing_Lipstick", "Eyeglasses"):
        assert rows[name]["accuracy"] > rows[name]["baseline_accuracy"], rows[name]
    for name in ("Male", "Smiling", "Wearing_Lipstick"):
        assert rows[name]["balanced_accuracy"] > 0.8, rows[name]
    assert ev["mean_balanced_accuracy"] > 0.65


def test_bundled_judge_on_decoded_held_out_codes(bundled_judge) -> None:
    from latentatlas.models.decode import decode
    from latentatlas.models.pretrained import celeba64

    model, store = celeba64()
    held = np.flatnonzero(store.split != TRAIN)[:400]
    images = decode(model, np.asarray(store.z[held], dtype=np.float32))
    male = store.attribute_names.index("Male")
    rate = float((store.attributes[held, male] > 0).mean())
    proba = bundled_judge.predict_proba(images)[:, male]
    # Reconstructions are blurrier than the real faces the judge learnt from, but a face's sex
    # survives the autoencoder: the rates agree, and so do most single faces.
    assert abs(proba.mean() - rate) < 0.1, (proba.mean(), rate)
    agree = ((proba >= 0.5) == (store.attributes[held, male] > 0)).mean()
    assert agree > 0.8, agree


def test_the_judges_package_imports_without_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import latentatlas.verdict.judges\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
