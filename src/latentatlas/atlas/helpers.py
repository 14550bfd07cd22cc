"""Pure helpers of the atlas run: component pairs, BLAS threads, plain dicts, the origin's
place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from latentatlas.core.numbers import fmt

# The origin's place among the real points, said one way on every page (the conclusions say
# "further out than 41.2 % of real points"; a table "closer to the centre than the origin 41.2 %").
ORIGIN_PLACE = "real points closer to the centre than the origin"


def closer_than_origin(share_further: float) -> str:
    """``"41.2 %"``: the share of real points closer to the centre than the origin, from the
    share further out (summary.json's ``share_further_than_origin``)."""
    return f"{fmt(100 * (1 - float(share_further)))} %"


def parse_pairs(specs: Sequence[str]) -> list[tuple[int, int]]:
    """Parse ``["30,118", "177,242"]`` into index pairs; ValueError (one line) when malformed."""
    pairs = []
    for spec in specs:
        parts = spec.replace(" ", "").split(",")
        if len(parts) != 2 or not all(p.lstrip("-").isdigit() for p in parts):
            raise ValueError(f"bad pair {spec!r}: expected two component indices like 30,118")
        pairs.append((int(parts[0]), int(parts[1])))
    return pairs


def check_pairs(pairs: Sequence[Sequence[int]], dim: int) -> list[tuple[int, int]]:
    """Validate pairs against the latent dimension N.

    Duplicates are dropped, also reversed ones ((5, 2) after (2, 5)): the first orientation given
    decides which component is plotted on x.
    """
    out: list[tuple[int, int]] = []
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"bad pair {tuple(pair)}: a pair has exactly two component indices")
        j1, j2 = (int(j) for j in pair)
        if not (0 <= j1 < dim and 0 <= j2 < dim):
            raise ValueError(f"pair ({j1}, {j2}) is out of range: components are 0..{dim - 1}")
        if j1 == j2:
            raise ValueError(f"pair ({j1}, {j2}) needs two different components")
        if (j1, j2) not in out and (j2, j1) not in out:
            out.append((j1, j2))
    return out


def plain(d: dict[str, Any]) -> dict[str, Any]:
    """The numeric entries of a result dict (e.g. ``prdc``'s), for tables and the summary."""
    return {k: v for k, v in d.items() if isinstance(v, (int, float, np.integer, np.floating))}


def blas_limit(threads: int | None) -> int | None:
    """How many BLAS threads the run may use (None: leave the library's setting alone).

    Default: one. The analyses are many medium-sized matrix products on (8192, N) blocks; when
    other processes keep the cores busy, multi-threaded OpenBLAS spins against them (measured on
    2 loaded cores: the 200,000 x 256 atlas took 58 s wall with 2 BLAS threads and 27 s with 1).
    A fixed count also keeps the numbers independent of the machine's load: a different thread
    count changes BLAS summation order and so the last bits. ``threads`` never raises the count
    above the BLAS library's setting (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS stay respected).
    """
    from threadpoolctl import threadpool_info

    threads = max(1, int(1 if threads is None else threads))
    current = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return threads if current and threads < max(current) else None
