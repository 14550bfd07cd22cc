from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from latentatlas.demo import run_demo

# A reduced demo, run once for the demo test and the browser test: the collapsed N(0, I), the
# cube, mvn and its duplicate pca, small atlas samples.
REDUCED = {
    "n": 60,
    "generators": ("cube", "normal", "mvn", "pca"),
    "settings": {"sample": 1000, "prdc_sample": 500, "plot_points": 1000, "mc": 2000},
}


@pytest.fixture(scope="session")
def reduced_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo") / "demo"
    return out, run_demo(out, progress=False, **REDUCED)
