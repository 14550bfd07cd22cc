from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from latentatlas.atlas.demo import run_demo

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
    from latentatlas.generators import GENERATORS, PCAEllipsoid

    out = tmp_path_factory.mktemp("demo") / "demo"
    GENERATORS[DUPLICATE] = lambda: PCAEllipsoid(bound="ball")
    try:
        return out, run_demo(out, progress=False, **REDUCED)
    finally:
        del GENERATORS[DUPLICATE]
