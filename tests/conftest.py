from __future__ import annotations

import os

# One BLAS/OpenMP thread per test process (and its subprocesses): the suite runs one process per
# core, and a second OpenBLAS thread per process spins against the other worker (a 256 x 256
# eigh took 6x longer with 2 threads than with 1 on 2 busy cores). Set before numpy loads
# OpenBLAS; threadpool_limits below covers a BLAS that a plugin loaded earlier.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import shutil  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from latentatlas.data.prepare import prepare  # noqa: E402
from latentatlas.data.store import save_store  # noqa: E402
from latentatlas.data.synthetic import make_celeba_layout  # noqa: E402
from latentatlas.models.train import TrainConfig, train  # noqa: E402

# Keep torch to one thread per test process too.
torch.set_num_threads(1)
threadpool_limits(limits=1)


SHARED_CELEBA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "celeba"


@pytest.fixture(scope="session")
def shared_celeba() -> Path:
    if not (SHARED_CELEBA / "img_align_celeba").is_dir():
        pytest.skip("../shared/data/celeba is not present")
    return SHARED_CELEBA


# Headless Chromium for the browser tests: Debian's system binary, driven by playwright-python,
# offline (playwright's own browser download is never used).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        "no chromium binary on PATH: install Debian's `chromium` (.ci/run does when apt works)"
    )


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright-python is not installed (pip install -e .[dev])"
    )
    executable = _chromium()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


TINY_MODEL = {"latent_dim": 8, "channels": (8, 16)}


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """96 cartoon faces in the CelebA layout, prepared at 16x16."""
    root = tmp_path_factory.mktemp("celeba")
    make_celeba_layout(root, 96, size=(45, 55), seed=1)
    out = root.parent / "tiny_cache"
    prepare(root, out, size=16, workers=1, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_run(tiny_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    train(
        tiny_cache, out, TrainConfig(epochs=3, batch_size=16, lr=5e-3), TINY_MODEL, progress=False
    )
    return out


@pytest.fixture(scope="session")
def gauss_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 correlated z-points in N = 8 (the tiny model's latent size), 30 % held out."""
    rng = np.random.default_rng(0)
    A = rng.normal(size=(8, 8))
    z = rng.normal(size=(300, 8)) @ A + 3.0
    split = (np.arange(300) % 10 < 3).astype(np.uint8)
    out = tmp_path_factory.mktemp("gs") / "store"
    save_store(out, z, np.array([f"img{i:03d}" for i in range(300)]), split)
    return out


@dataclass(frozen=True)
class SpatialField:
    """Spatial latents (n, C*H*W), C-major, with known statistics: channel c is mean[c] +
    std[c] x a unit-variance separable AR(1) field with neighbour correlation rho[c] (at lag
    (dy, dx) exactly rho**(|dy| + |dx|)); channels 0 and 2 share their filter and innovations
    correlated by ``cross``, so their correlation is exactly ``cross``; channel 1 is independent."""

    z: np.ndarray
    shape: tuple[int, int, int]
    mean: np.ndarray
    std: np.ndarray
    rho: np.ndarray
    cross: float


def _ar1(e: np.ndarray, rho: np.ndarray, axis: int) -> np.ndarray:
    """A stationary, unit-variance AR(1) along ``axis`` of white noise ``e`` (n, C, H, W)."""
    e = np.moveaxis(e, axis, 0)
    out = e.copy()
    r = rho[None, :, None]
    for i in range(1, len(e)):
        out[i] = r * out[i - 1] + np.sqrt(1 - r**2) * e[i]
    return np.moveaxis(out, 0, axis)


@pytest.fixture(scope="session")
def spatial_field() -> SpatialField:
    rng = np.random.default_rng(18)
    n, shape, cross = 240, (3, 16, 16), 0.6
    mean, std = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 0.5])
    rho = np.array([0.8, 0.3, 0.8])
    e = rng.standard_normal((n, *shape))
    e[:, 2] = cross * e[:, 0] + np.sqrt(1 - cross**2) * e[:, 2]
    field = _ar1(_ar1(e, rho, 2), rho, 3)
    z = field * std[None, :, None, None] + mean[None, :, None, None]
    return SpatialField(z.reshape(n, -1), shape, mean, std, rho, cross)


@pytest.fixture(scope="session")
def bundled():
    """The bundled celeba64 model and store, loaded once per test process."""
    from latentatlas.models.pretrained import celeba64

    return celeba64()


# The longest files, longest first (`pytest --durations=0`, summed per file). With
# `--dist loadfile` a file runs on one worker, so a long file started last leaves the other
# worker idle at the end; these start first and the many short files fill in around them.
LONGEST_FILES = (
    "verdict/test_compare.py",
    "atlas/test_demo.py",
    "models/test_model_loaders.py",
    "verdict/test_ladder.py",
    "explore/test_explore_browser.py",
    "generators/learned/test_learned_contract.py",
    "atlas/test_atlas_cli.py",
    "generators/test_generators_density.py",
    "models/test_train.py",
    "atlas/test_atlas_verdict_section.py",
    "verdict/test_ranking.py",
    "models/test_diffusers_loader.py",
)


def pytest_configure(config: pytest.Config) -> None:
    # xdist's loadfile/loadscope otherwise reorders files by their number of tests, which puts
    # the few-test, long end-to-end files last.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent

    def rank(item: pytest.Item) -> int:
        name = item.path.relative_to(tests).as_posix() if item.path.is_relative_to(tests) else ""
        return LONGEST_FILES.index(name) if name in LONGEST_FILES else len(LONGEST_FILES)

    items.sort(key=rank)  # stable: every other file keeps its place
