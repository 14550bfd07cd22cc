from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from latentatlas.cli import main
from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.cache import load_cache
from latentatlas.data.store import TRAIN, load_store, save_store
from latentatlas.models.checkpoint import load_model
from latentatlas.models.encode import encode
from latentatlas.models.tensors import to_tensor


@pytest.fixture(scope="module")
def tiny_store(tiny_run: Path, tiny_cache: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("store") / "z"
    assert (
        main(
            [
                "encode",
                str(tiny_run),
                str(tiny_cache),
                "--out",
                str(out),
                "--quiet",
                "--batch-size",
                "20",
            ]
        )
        == 0
    )
    return out


def test_encode_writes_a_consistent_store(
    tiny_store: Path, tiny_run: Path, tiny_cache: Path
) -> None:
    store = load_store(tiny_store, expected_dim=8)
    cache = load_cache(tiny_cache)
    assert store.z.shape == (96, 8) and store.z.dtype == np.float32
    assert isinstance(store.z, np.memmap)
    assert list(store.ids) == list(cache.ids)
    assert np.array_equal(store.split, cache.split)
    assert np.array_equal(store.attributes, cache.attributes)
    assert store.attribute_names == cache.attribute_names
    assert store.meta["image_size"] == 16 and len(store.meta["model_sha256"]) == 64
    # Batched encoding equals encoding each image on its own.
    model, _ = load_model(tiny_run)
    with torch.no_grad():
        direct = model.encode(to_tensor(cache.images[5:6], torch.device("cpu"))).numpy()
    np.testing.assert_allclose(store.z[5:6], direct, rtol=1e-5, atol=1e-5)
    assert store.subset("train").shape[0] == int((cache.split == TRAIN).sum())
    assert store.subset("heldout").shape[0] == 96 - store.subset("train").shape[0]


def test_store_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(50, 6))
    ids = np.array([f"img{i}" for i in range(50)])
    split = (np.arange(50) % 5 == 0).astype(np.uint8)
    attrs = rng.choice([-1, 1], size=(50, 2)).astype(np.int8)
    save_store(tmp_path / "s", z, ids, split, attrs, ["A", "B"], {"note": "x"})
    s = load_store(tmp_path / "s")
    np.testing.assert_array_equal(s.z, z.astype(np.float32))
    assert list(s.ids) == list(ids) and s.attribute_names == ["A", "B"]
    assert np.array_equal(s.split, split) and np.array_equal(s.attributes, attrs)
    assert s.meta["note"] == "x" and s.meta["latent_dim"] == 6
    np.save(tmp_path / "plain.npy", z)
    plain = load_store(tmp_path / "plain.npy")
    assert plain.z.shape == (50, 6) and (plain.split == TRAIN).all()
    with pytest.raises(FileExistsError):
        save_store(tmp_path / "s", z, ids, split)


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.zeros(10), "2-D"),
        (np.zeros((4, 3), dtype=np.int64), "floating"),
        (np.zeros((0, 3)), "empty"),
        (np.array([[0.0, np.nan], [1.0, 2.0]]), "z-point 0 contains NaN"),
        (np.array([[0.0, 1.0], [np.inf, 2.0]]), "z-point 1 contains NaN or inf"),
    ],
)
def test_bad_npy_is_rejected(tmp_path: Path, array: np.ndarray, match: str) -> None:
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(LatentAtlasError, match=match):
        load_store(tmp_path / "bad.npy")


def test_store_validation_errors(tmp_path: Path) -> None:
    with pytest.raises(LatentAtlasError, match="no such store"):
        load_store(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(LatentAtlasError, match="not a z-point store"):
        load_store(tmp_path / "empty")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(LatentAtlasError, match="not a .npy file"):
        load_store(tmp_path / "junk.npy")
    z = np.random.default_rng(0).normal(size=(5, 3))
    save_store(tmp_path / "s", z, np.arange(5).astype(str), np.zeros(5))
    with pytest.raises(LatentAtlasError, match="expected N = 4"):
        load_store(tmp_path / "s", expected_dim=4)
    np.save(tmp_path / "s" / "ids.npy", np.arange(4).astype(str))
    with pytest.raises(LatentAtlasError, match="ids.npy is damaged"):
        load_store(tmp_path / "s")
    with pytest.raises(LatentAtlasError, match="ids has 4 rows"):
        load_store(tmp_path / "s", verify=False)
    meta = json.loads((tmp_path / "s" / "store.json").read_text())
    meta["latent_dim"] = 9
    (tmp_path / "s" / "store.json").write_text(json.dumps(meta))
    with pytest.raises(LatentAtlasError, match="says N = 9"):
        load_store(tmp_path / "s", verify=False)


def test_encode_cli_errors(
    tiny_run: Path, tiny_cache: Path, tiny_store: Path, tmp_path: Path, capsys
) -> None:
    assert main(["encode", str(tiny_run), str(tiny_cache), "--out", str(tiny_store)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    (tmp_path / "fake.pt").write_bytes(b"\0" * 100)
    assert (
        main(["encode", str(tmp_path / "fake.pt"), str(tiny_cache), "--out", str(tmp_path / "o")])
        == 2
    )
    assert "not a readable checkpoint" in capsys.readouterr().err
    assert main(["encode", str(tiny_run), str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "not an image cache" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_every_verb_has_help(capsys) -> None:
    from latentatlas.cli import VERBS

    for verb in VERBS:
        with pytest.raises(SystemExit) as exc:
            main([verb, "--help"])
        assert exc.value.code == 0
        assert "usage: latentatlas " + verb in capsys.readouterr().out


def test_model_size_mismatch_is_a_clean_error(tiny_run: Path, tmp_path: Path) -> None:
    from latentatlas.data.prepare import prepare
    from latentatlas.data.synthetic import make_image_folder

    make_image_folder(tmp_path / "imgs", 3)
    prepare(tmp_path / "imgs", tmp_path / "c32", size=32, workers=1, progress=False)
    with pytest.raises(LatentAtlasError, match="--size 16"):
        encode(tiny_run, tmp_path / "c32", tmp_path / "o", progress=False)
