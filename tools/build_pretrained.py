"""Rebuild the bundled assets (src/latentatlas/models/pretrained/NAME/) from a training run.

    python tools/build_pretrained.py RUN CACHE --source ../shared/data/celeba \
        --command "latentatlas train cache64 --out run --epochs 40 --seed 0"

1. rounds the run's weights to float16 and writes ``model.pt`` (config, weights, history only);
2. encodes CACHE with *that* float16 model, so the bundled z-points are exactly what the shipped
   model produces, and writes them as a float16 store (ids, split, attributes);
3. measures the validation MSE of the float16 model on the cache's held-out split;
4. writes ``MANIFEST.json`` (sha256 of every file, for the integrity test) and ``MODEL_CARD.md``.

Nothing from the images themselves is written: only weights and latent vectors.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from latentatlas import __version__
from latentatlas.core import atomic
from latentatlas.data.cache import load_cache
from latentatlas.data.sources import find_source
from latentatlas.data.store import TRAIN, load_store, save_store
from latentatlas.models.checkpoint import file_sha256, load_checkpoint, load_model, save_checkpoint
from latentatlas.models.encode import encode
from latentatlas.models.pretrained import CHECKPOINT_FILE, STORE_DIR, bundled_dir
from latentatlas.models.train import evaluate


def source_checksum(src: Path) -> str:
    """sha256 over the sorted per-file sha256 lines (as `sha256sum $(ls | sort) | sha256sum`)."""
    files = find_source(src).files
    lines = "".join(f"{file_sha256(f)}  {f.name}\n" for f in sorted(files, key=lambda p: p.name))
    return hashlib.sha256(lines.encode()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="training run directory (or checkpoint file)")
    ap.add_argument("cache", type=Path, help="the image cache the run was trained on")
    ap.add_argument("--source", type=Path, required=True, help="the images the cache came from")
    ap.add_argument("--command", required=True, help="the exact training command, for the card")
    ap.add_argument("--note", default="", help="anything else the card should say")
    ap.add_argument("--name", default="celeba64")
    args = ap.parse_args()
    out = bundled_dir(args.name)

    state = load_checkpoint(args.run)
    half = {k: v.half() if v.is_floating_point() else v for k, v in state["model"].items()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        save_checkpoint(
            tmp / CHECKPOINT_FILE,
            {
                "model_config": state["model_config"],
                "model": half,
                "train_config": state["train_config"],
                "epoch": state["epoch"],
                "history": state["history"],
                "data": {"source": "CelebA (see MODEL_CARD.md)"},
            },
        )
        model, _ = load_model(tmp / CHECKPOINT_FILE)
        cache = load_cache(args.cache)
        val_idx = np.flatnonzero(cache.split != TRAIN)
        val_mse_fp16 = evaluate(model, cache, val_idx, torch.device("cpu"))
        encode(tmp / CHECKPOINT_FILE, args.cache, tmp / "z32", progress=False)
        z32 = load_store(tmp / "z32")
        meta = {k: z32.meta[k] for k in ("model_sha256", "image_size", "model_config")}
        meta["source"] = "CelebA img_align_celeba 000001-010000 (see MODEL_CARD.md)"
        out.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(out / CHECKPOINT_FILE, (tmp / CHECKPOINT_FILE).read_bytes())
        save_store(
            out / STORE_DIR,
            z32.z,
            z32.ids,
            z32.split,
            z32.attributes,
            z32.attribute_names,
            meta,
            overwrite=True,
            dtype=np.float16,
        )

    files = sorted(
        p
        for p in out.rglob("*")
        if p.is_file() and p.name not in ("MANIFEST.json", "MODEL_CARD.md")
    )
    manifest = {p.relative_to(out).as_posix(): file_sha256(p) for p in files}
    atomic.write_json(out / "MANIFEST.json", manifest)
    history = state["history"]
    built = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows = [
        (
            "prepare",
            "`latentatlas prepare ../shared/data/celeba --out cache64` "
            "(size 64, hash split, val fraction 0.1)",
        ),
        ("train", f"`{args.command}`"),
        ("seed", state["train_config"]["seed"]),
        ("split", f"{int((cache.split == TRAIN).sum())} train / {len(val_idx)} held out"),
        (
            "images checksum",
            f"`{source_checksum(args.source)}` (sha256 of the sorted "
            "`sha256sum` lines of the image files)",
        ),
        ("cache checksum", f"`{file_sha256(args.cache / 'images.npy')}` (sha256 of images.npy)"),
        ("epochs", state["epoch"]),
        ("final train loss", f"{history[-1]['train_loss']:.5f}"),
        ("final val MSE (float32)", f"{history[-1]['val_mse']:.5f}"),
        ("val MSE of the shipped float16 weights", f"{val_mse_fp16:.5f}"),
        (
            "training time",
            f"{sum(h['seconds'] for h in history) / 60:.1f} min of training "
            "steps on 2 shared CPU cores",
        ),
        (
            "built",
            f"{built} with latentatlas {__version__}, torch {torch.__version__}, "
            f"Python {platform.python_version()}",
        ),
    ]
    table = "\n".join(f"| {k} | {v} |" for k, v in rows)
    card = f"""# {args.name}: the bundled CelebA autoencoder

A plain convolutional autoencoder (latentatlas.models.autoencoder,
{state["model_config"]}) trained with
latentatlas's own CLI on the 10,000-image CelebA subset (`000001.jpg`-`010000.jpg`, 89x109,
face crop scaled from CelebA's 140x140 box, 64x64), and the z-points of all 10,000 images.

| | |
|---|---|
{table}

Files: `{CHECKPOINT_FILE}` (float16 weights + config;
`latentatlas.models.checkpoint.load_model` returns
a float32 model), `{STORE_DIR}/` (float16 z-points, ids, split, the 40 CelebA attributes).
`MANIFEST.json` lists the sha256 of each file; the test suite checks them.

{args.note}

Validation MSE per epoch: {", ".join(f"{h['val_mse']:.4f}" for h in history)}.

CelebA is for non-commercial research only (Liu et al., ICCV 2015). No image is bundled; the
weights and latent vectors were computed by this project from the images.
"""
    # The attribute judge's section (tools/build_attribute_judge.py) outlives a rebuild of the
    # model; the judge itself stays in the folder and in the manifest above.
    old = (out / "MODEL_CARD.md").read_text() if (out / "MODEL_CARD.md").is_file() else ""
    judge = re.search(r"<!-- attribute-judge -->.*?<!-- /attribute-judge -->", old, re.S)
    if judge:
        anchor = card.index("CelebA is for non-commercial research only")
        card = f"{card[:anchor]}{judge.group(0)}\n\n{card[anchor:]}"
    atomic.write_text(out / "MODEL_CARD.md", card)
    print(
        json.dumps(
            {
                "out": str(out),
                "val_mse_fp16": val_mse_fp16,
                "size_mb": round(sum(p.stat().st_size for p in files) / 1e6, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
