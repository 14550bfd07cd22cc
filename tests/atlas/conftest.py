from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from report_data import FAST, synthetic_z

from latentatlas.atlas.demo import run_demo
from latentatlas.data.store import save_store


@pytest.fixture(scope="session")
def z16() -> np.ndarray:
    return synthetic_z()


@pytest.fixture(scope="session")
def store16(z16: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "store"
    n = len(z16)
    split = np.zeros(n, np.uint8)
    split[480:540], split[540:] = 1, 2
    # Attributes for the fragmentation section's table: one a threshold on a component
    # (separable), one unrelated to z, one mostly unknown (0).
    rng = np.random.default_rng(7)
    attrs = np.stack(
        [
            np.where(z16[:, 0] > np.median(z16[:, 0]), 1, -1),
            np.where(rng.random(n) < 0.4, 1, -1),
            np.where(np.arange(n) < 10, 1, 0),
        ],
        axis=1,
    )
    names = ["Left_Half", "Coin_Flip", "Rare"]
    save_store(path, z16, np.array([f"{i:06d}.jpg" for i in range(n)]), split, attrs, names)
    return path


@pytest.fixture(scope="session")
def atlas16(store16: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from latentatlas.atlas import run_atlas
    from latentatlas.data.store import load_store

    out = tmp_path_factory.mktemp("atlas") / "report"
    summary = run_atlas(
        load_store(store16),
        out,
        pairs=[(0, 1), (5, 9)],
        seed=3,
        progress=False,
        source=str(store16),
        **FAST,
    )
    return out, summary


# A reduced demo, run once for the demo test and the browser test: the collapsed N(0, I), the
# cube, mvn, the study's pca and an exact duplicate of mvn (PCAEllipsoid(bound="ball") rejects
# nothing at its q99 radius, so it draws mvn's points), small atlas samples.
DUPLICATE = "pca-ball"
REDUCED = {
    "n": 60,
    "generators": ("cube", "normal", "mvn", "pca", DUPLICATE),
    "settings": {"sample": 1000, "prdc_sample": 500, "plot_points": 1000, "mc": 2000},
}


@pytest.fixture(scope="session")
def reduced_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from latentatlas.generators import PCAEllipsoid, make_generator

    out = tmp_path_factory.mktemp("demo") / "demo"
    # Instances, not registry names: the demo judges them in a process of its own.
    generators = {g: make_generator(g) for g in REDUCED["generators"] if g != DUPLICATE}
    generators[DUPLICATE] = PCAEllipsoid(bound="ball")
    return out, run_demo(out, progress=False, **{**REDUCED, "generators": generators})
