from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from latentatlas.cli import main
from latentatlas.core.errors import LatentAtlasError
from latentatlas.data import prepare as prepare_mod
from latentatlas.data.cache import load_cache
from latentatlas.data.prepare import crop_box, prepare
from latentatlas.data.synthetic import make_celeba_layout, make_image_folder


def _png_bomb(path: Path, width: int = 100_000, height: int = 100_000) -> None:
    """A tiny PNG that declares 10^10 pixels: a decompression bomb as far as the header goes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_crop_box_scales_celeba_face_box_to_the_resolution() -> None:
    assert crop_box(178, 218, "celeba") == pytest.approx((19, 39, 159, 179))
    assert crop_box(89, 109, "celeba") == pytest.approx((9.5, 19.5, 79.5, 89.5))
    assert crop_box(300, 200, "center") == pytest.approx((50, 0, 250, 200))
    assert crop_box(30, 20, "none") == (0, 0, 30, 20)


def test_full_and_half_resolution_celeba_give_the_same_face(tmp_path: Path) -> None:
    full = make_celeba_layout(tmp_path / "full", 4, size=(178, 218), seed=3)
    half = tmp_path / "half" / "img_align_celeba"
    half.mkdir(parents=True)
    for f in sorted((full / "img_align_celeba").iterdir()):
        Image.open(f).resize((89, 109), Image.Resampling.LANCZOS).save(half / f.name, quality=95)
    a = load_cache(
        prepare(full, tmp_path / "ca", size=32, workers=1, progress=False) and tmp_path / "ca"
    ).images.astype(float)
    prepare(half.parent, tmp_path / "cb", size=32, workers=1, progress=False)
    b = load_cache(tmp_path / "cb").images.astype(float)
    assert a.shape == b.shape == (4, 32, 32, 3)
    assert np.abs(a - b).mean() < 6  # same framing; only resampling noise differs


def test_folder_layout_is_recursive_and_converts_modes(tmp_path: Path) -> None:
    src = tmp_path / "imgs"
    make_image_folder(src, 6, size=(50, 40), formats=("png", "jpg", "webp", "bmp"), subfolders=2)
    Image.new("L", (30, 30), 128).save(src / "gray.png")
    Image.new("P", (30, 30), 3).save(src / "palette.gif.png")
    Image.new("RGBA", (30, 40), (255, 0, 0, 0)).save(src / "nested_alpha.png")
    manifest = prepare(src, tmp_path / "cache", size=24, workers=2, progress=False)
    cache = load_cache(tmp_path / "cache")
    assert manifest["layout"] == "folder" and manifest["crop"] == "center"
    assert cache.images.shape == (9, 24, 24, 3) and cache.images.dtype == np.uint8
    assert manifest["skipped"] == []
    alpha_row = list(cache.ids).index("nested_alpha.png")
    assert (cache.images[alpha_row] == 255).all()  # transparent pixels composited on white
    assert any(i.startswith("part1/") for i in cache.ids)
    assert cache.attributes is None


def test_class_labels_from_subfolders_or_a_label_file(tmp_path: Path) -> None:
    from latentatlas.data.conditions import where_mask
    from latentatlas.data.store import ZStore

    # The ImageFolder layout: root/<class>/<image>; classes in numeric order.
    src = tmp_path / "digits"
    for i, cls in enumerate(["10", "2", "2", "10", "7"]):
        (src / cls).mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (20, 20), (10 * i, 0, 0)).save(src / cls / f"{i}.png")
    prepare(src, tmp_path / "c1", size=8, workers=1, progress=False)
    cache = load_cache(tmp_path / "c1")
    assert cache.attribute_names == ["label=2", "label=7", "label=10"]
    by_id = dict(zip(cache.ids, np.asarray(cache.attributes).tolist(), strict=True))
    assert by_id["10/0.png"] == [-1, -1, 1] and by_id["7/4.png"] == [-1, 1, -1]
    attrs, names = cache.attributes, cache.attribute_names
    store = ZStore(np.zeros((5, 2)), cache.ids, cache.split, attrs, names)
    assert [cache.ids[i] for i in where_mask(store, {"label=2": 1}).nonzero()[0]] == [
        "2/1.png",
        "2/2.png",
    ]
    # A label file beside flat images wins: filename,label rows, a header, an unknown file, and
    # an image without a row (unknown: 0 everywhere).
    flat = tmp_path / "flat"
    flat.mkdir()
    for i in range(3):
        Image.new("RGB", (20, 20), (0, 50 * i, 0)).save(flat / f"img{i}.png")
    (flat / "labels.csv").write_text("filename,label\nimg0.png,cat\nimg1.png,dog\ngone.png,cat\n")
    prepare(flat, tmp_path / "c2", size=8, workers=1, progress=False)
    cache = load_cache(tmp_path / "c2")
    assert cache.attribute_names == ["label=cat", "label=dog"]
    assert np.asarray(cache.attributes).tolist() == [[1, -1], [-1, 1], [0, 0]]
    assert cache.manifest["attributes_missing"] == 1


def test_bad_inputs_are_skipped_with_reasons(tmp_path: Path, capsys) -> None:
    src = tmp_path / "imgs"
    make_image_folder(src, 4, formats=("jpg",))
    (src / "empty.jpg").write_bytes(b"")
    good = (src / "face00000.jpg").read_bytes()
    (src / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (src / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    (src / "notes.jpg").write_text("this is text, not an image")
    Image.new("RGB", (1, 1)).save(src / "tiny.png")
    _png_bomb(src / "bomb.png")
    rc = main(["prepare", str(src), "--out", str(tmp_path / "cache"), "--workers", "2"])
    assert rc == 0
    manifest = json.loads((tmp_path / "cache" / "manifest.json").read_text())
    reasons = {s["file"]: s["reason"] for s in manifest["skipped"]}
    assert set(reasons) == {
        "empty.jpg",
        "truncated.jpg",
        "corrupt.png",
        "notes.jpg",
        "tiny.png",
        "bomb.png",
    }
    assert reasons["empty.jpg"].startswith("empty file")
    assert reasons["truncated.jpg"].startswith("corrupt or truncated")
    assert reasons["notes.jpg"].startswith("not an image")
    assert reasons["tiny.png"].startswith("too small")
    assert "bomb" in reasons["bomb.png"]
    assert all("\n" not in r for r in reasons.values())
    assert manifest["n"] == 4 and load_cache(tmp_path / "cache").images.shape[0] == 4
    # Skipped files leave no gaps: the rows equal a cache of the good files alone.
    good = tmp_path / "good"
    good.mkdir()
    for f in src.glob("face*.jpg"):
        (good / f.name).write_bytes(f.read_bytes())
    prepare(good, tmp_path / "good_cache", workers=1, progress=False)
    assert np.array_equal(
        load_cache(tmp_path / "cache").images, load_cache(tmp_path / "good_cache").images
    )
    assert "6 skipped" in capsys.readouterr().out


def test_no_usable_image_is_a_clean_error(tmp_path: Path, capsys) -> None:
    src = tmp_path / "bad"
    src.mkdir()
    (src / "a.jpg").write_bytes(b"")
    assert main(["prepare", str(src), "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("latentatlas prepare: error:")
    assert "no usable image" in err
    assert not (tmp_path / "c").exists()
    (tmp_path / "none").mkdir()
    assert main(["prepare", str(tmp_path / "none"), "--out", str(tmp_path / "c")]) == 2
    assert main(["prepare", str(tmp_path / "missing"), "--out", str(tmp_path / "c")]) == 2
    assert not list(tmp_path.glob(".c.*"))  # no temp directory left behind


def test_celeba_layout_split_and_truncated_attributes(tmp_path: Path) -> None:
    root = make_celeba_layout(tmp_path / "celeba", 40, attribute_rows=30)
    manifest = prepare(root, tmp_path / "c", size=16, workers=1, progress=False)
    cache = load_cache(tmp_path / "c")
    # All in partition 0, like the shared subset: a hash split must hold some images out.
    assert manifest["split"]["method"] == "hash"
    assert 0 < manifest["split"]["counts"]["val"] < 40
    assert cache.attribute_names == ["Smiling", "Eyeglasses", "Dark_Background"]
    assert manifest["attributes_missing"] == 10
    assert set(np.unique(cache.attributes[:30])) <= {-1, 1} and (cache.attributes[30:] == 0).all()
    # Deterministic: same ids, same split.
    prepare(root, tmp_path / "c2", size=16, workers=2, progress=False)
    assert np.array_equal(load_cache(tmp_path / "c2").split, cache.split)
    assert np.array_equal(load_cache(tmp_path / "c2").images, cache.images)


def test_official_partition_is_used_when_it_splits(tmp_path: Path) -> None:
    root = make_celeba_layout(tmp_path / "celeba", 20, partition="official")
    manifest = prepare(root, tmp_path / "c", size=16, workers=1, progress=False)
    assert manifest["split"]["method"] == "official"
    assert manifest["split"]["counts"] == {"train": 12, "val": 4, "test": 4}


def test_interrupted_prepare_leaves_no_cache_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch
) -> None:
    src = tmp_path / "imgs"
    make_image_folder(src, 6)
    prepare(src, tmp_path / "c", size=16, workers=1, progress=False)
    before = (tmp_path / "c" / "images.npy").read_bytes()
    calls = {"n": 0}
    real = prepare_mod.load_image

    def dies_midway(*args):
        calls["n"] += 1
        if calls["n"] >= 4:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(prepare_mod, "load_image", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        prepare(src, tmp_path / "c", size=24, workers=1, progress=False, overwrite=True)
    with pytest.raises(KeyboardInterrupt):
        prepare(src, tmp_path / "fresh", size=24, workers=1, progress=False)
    assert (tmp_path / "c" / "images.npy").read_bytes() == before
    assert not (tmp_path / "fresh").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "imgs"]


def test_existing_output_is_not_overwritten_without_flag(tmp_path: Path) -> None:
    src = tmp_path / "imgs"
    make_image_folder(src, 3)
    prepare(src, tmp_path / "c", size=16, workers=1, progress=False)
    with pytest.raises(LatentAtlasError, match="--overwrite"):
        prepare(src, tmp_path / "c", size=16, workers=1, progress=False)


def test_outputs_get_ordinary_permissions(tmp_path: Path) -> None:
    import os
    import stat

    src = tmp_path / "imgs"
    make_image_folder(src, 3)
    prepare(src, tmp_path / "c", size=16, workers=1, progress=False)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "c").stat().st_mode) == 0o777 & ~mask
    assert stat.S_IMODE((tmp_path / "c" / "manifest.json").stat().st_mode) == 0o666 & ~mask


def test_shared_celeba_subset_prepares_at_its_own_resolution(
    shared_celeba: Path, tmp_path: Path
) -> None:
    manifest = prepare(shared_celeba, tmp_path / "c", size=32, limit=40, workers=2, progress=False)
    cache = load_cache(tmp_path / "c")
    assert manifest["layout"] == "celeba" and manifest["crop"] == "celeba"
    assert cache.images.shape == (40, 32, 32, 3) and manifest["skipped"] == []
    assert cache.ids[0] == "000001.jpg" and len(cache.attribute_names) == 40
    assert set(np.unique(cache.attributes)) == {-1, 1}  # the truncated file covers these rows
    # All 10k are official "train": the split must fall back to the hash split.
    assert manifest["split"]["method"] == "hash"


def test_auto_crop_of_one_image_and_images_in_memory() -> None:
    import io

    from latentatlas.data.prepare import image_crop, load_image

    assert image_crop(178, 218) == image_crop(89, 109) == image_crop(356, 436) == "celeba"
    assert image_crop(300, 200) == image_crop(178, 178) == "center"
    assert load_image(io.BytesIO(b""), 16, "auto") == (None, "empty file (0 bytes)")
    buf = io.BytesIO()
    Image.new("RGB", (40, 30)).save(buf, format="PNG")
    image, why = load_image(io.BytesIO(buf.getvalue()), 16, "auto", max_pixels=1000)
    assert image is None and why == "decompression bomb? 40x30 pixels > 1000"
    image, _ = load_image(io.BytesIO(buf.getvalue()), 16, "auto")
    assert image is not None and image.shape == (16, 16, 3)
