from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from latentatlas.cli import main
from latentatlas.data.store import TRAIN
from latentatlas.models.checkpoint import file_sha256
from latentatlas.models.decode import decode, reencode
from latentatlas.models.pretrained import bundled_dir

BUNDLE = bundled_dir("celeba64")


def test_files_match_their_manifest_and_stay_small() -> None:
    manifest = json.loads((BUNDLE / "MANIFEST.json").read_text())
    assert {
        "model.pt",
        "store/z.npy",
        "store/ids.npy",
        "store/split.npy",
        "store/attributes.npy",
        "store/store.json",
    } <= set(manifest)
    for name, digest in manifest.items():
        assert file_sha256(BUNDLE / name) == digest, name
    total = sum(p.stat().st_size for p in BUNDLE.rglob("*") if p.is_file())
    assert total < 25e6
    assert not [p for p in BUNDLE.rglob("*") if p.suffix.lower() in (".jpg", ".png", ".jpeg")]


def test_model_and_store_shapes(bundled) -> None:
    model, store = bundled
    assert model.config.image_size == 64 and model.config.latent_dim == 256
    assert next(model.parameters()).dtype == torch.float32 and not model.training
    assert store.z.shape == (10000, 256) and store.z.dtype == np.float16
    assert store.ids[0] == "000001.jpg" and store.ids[-1] == "010000.jpg"
    assert store.attributes.shape == (10000, 40) and len(store.attribute_names) == 40
    assert set(np.unique(store.attributes)) == {-1, 1}
    assert 0.05 < (store.split != TRAIN).mean() < 0.15
    assert store.meta["model_sha256"]  # the float16 model that encoded these z-points


def test_decoder_output_and_round_trip(bundled) -> None:
    model, store = bundled
    z = np.asarray(store.z[:64], dtype=np.float32)
    images = decode(model, z)
    assert images.shape == (64, 64, 64, 3) and images.dtype == np.uint8
    assert images.std() > 20  # faces, not a flat colour
    # Real z-points sit near fixed points of encode∘decode; the bundled store agrees with the
    # bundled model.
    drift = np.linalg.norm(reencode(model, z) - z, axis=1)
    assert np.median(drift) < 0.5 * np.median(np.linalg.norm(z - z.mean(0), axis=1))


def test_cli_accepts_the_bundled_name(tmp_path: Path) -> None:
    assert (
        main(
            [
                "sample",
                "celeba64",
                "celeba64",
                "--generator",
                "mvn",
                "--n",
                "8",
                "--out",
                str(tmp_path / "s"),
                "--quiet",
            ]
        )
        == 0
    )
    assert np.load(tmp_path / "s" / "images.npy").shape == (8, 64, 64, 3)
