from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from report_data import FAST, synthetic_z

from latentatlas.store import save_store


@pytest.fixture(scope="session")
def z16() -> np.ndarray:
    return synthetic_z()


@pytest.fixture(scope="session")
def store16(z16: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "store"
    n = len(z16)
    split = np.zeros(n, np.uint8)
    split[480:540], split[540:] = 1, 2
    save_store(path, z16, np.array([f"{i:06d}.jpg" for i in range(n)]), split)
    return path


@pytest.fixture(scope="session")
def atlas16(store16: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from latentatlas.atlas import run_atlas
    from latentatlas.store import load_store

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
