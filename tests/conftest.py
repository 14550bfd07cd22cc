from __future__ import annotations

import os
from pathlib import Path

import pytest

# Keep torch to one thread per test process: the suite runs on 2 shared cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")

SHARED_CELEBA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "celeba"


@pytest.fixture(scope="session")
def shared_celeba() -> Path:
    if not (SHARED_CELEBA / "img_align_celeba").is_dir():
        pytest.skip("../shared/data/celeba is not present")
    return SHARED_CELEBA
