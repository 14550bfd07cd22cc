"""The state the atlas sections share while they run: inputs, settings and earlier results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latentatlas.data.store import ZStore


@dataclass
class AtlasContext:
    """Filled in section order: ``prepare`` sets b, the pairs and the artificial points, each
    section then adds its results (later sections reuse them) and its part of ``summary``."""

    # As stored (float32 or float64, memory-mapped for a store): the analyses read it in row
    # blocks, so no float64 copy of the whole exists.
    z: np.ndarray
    store: ZStore | None
    source: str
    b_arg: str | float
    sample: int
    seed: int
    prdc_sample: int
    plot_points: int
    mc: int
    normality_sample: int
    user_pairs: list[tuple[int, int]]
    verdict: dict[str, Any] | None = None
    verdict_link: str | None = None
    # The fragmentation section: its subsample and pair counts, and the optional decoder.
    fragment_sample: int = 5000
    fragment_pairs: int = 500
    decode_pairs: int = 200
    autoencoder: Any = None  # a loaded ConvAutoencoder (torch), only with run_atlas(model=...)
    autoencoder_source: str | None = None
    links: list[tuple[str, str]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    # filled by the sections
    pairs: list[tuple[int, int]] = field(default_factory=list)
    auto_pairs: list[tuple[int, int]] = field(default_factory=list)
    b: float = 1.0
    b_fitted: float = 1.0
    fake: np.ndarray | None = None
    radii: Any = None
    stats: Any = None
    corr: Any = None
    shape: Any = None
    model: Any = None
    plot_idx: np.ndarray | None = None
    # Runs the store's statistics over row blocks: a LocalDriver, or a DaskDriver (--dask).
    driver: Any = None
    store_stats: Any = None

    @property
    def n(self) -> int:
        return int(self.z.shape[0])

    @property
    def dim(self) -> int:
        return int(self.z.shape[1])

    @property
    def fake_plot_points(self) -> int:
        # A uniform cloud reads as such from a few thousand points; more only bloat the PNGs (a
        # scatter of random points compresses badly) and the self-contained page.
        return min(self.sample, max(1, self.plot_points // 4))
