"""The offline demo: the whole pipeline on generated cartoon faces, no dataset needed.

prepare → train → encode → analyze, each through the same library calls the CLI verbs use.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from latentatlas.data.prepare import prepare
from latentatlas.data.synthetic import make_celeba_layout
from latentatlas.encode import encode
from latentatlas.errors import LatentAtlasError
from latentatlas.store import load_store
from latentatlas.train import TrainConfig, train

DEMO_MODEL = {"latent_dim": 32, "channels": (16, 32, 64, 128)}


def run_demo(
    out: str | os.PathLike,
    n_images: int = 800,
    epochs: int = 6,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Run every stage under ``out``; returns the paths written and the final losses."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise LatentAtlasError(f"{out} already exists (pass --overwrite to replace it)")
    if out.exists():
        shutil.rmtree(out)
    images = make_celeba_layout(out / "images", n_images, size=(89, 109), seed=seed)
    prepare(images, out / "cache", size=32, progress=progress)
    result = train(
        out / "cache",
        out / "run",
        TrainConfig(epochs=epochs, batch_size=32, seed=seed),
        DEMO_MODEL,
        progress=progress,
    )
    encode(out / "run", out / "cache", out / "store", progress=progress)
    summary: dict[str, Any] = {
        "images": str(images),
        "cache": str(out / "cache"),
        "run": str(out / "run"),
        "store": str(out / "store"),
        "history": result["history"],
    }
    from latentatlas.atlas import run_atlas

    run_atlas(load_store(out / "store"), out / "atlas", seed=seed, progress=progress)
    summary["report"] = str(out / "atlas" / "index.html")
    return summary
