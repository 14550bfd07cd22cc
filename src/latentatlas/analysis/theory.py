"""Radius distribution of points uniform in the cube [-b, b]^N (issue section 5).

For x with N independent components uniform in [-b, b]: E[x_j^2] = b^2/3 and
Var[x_j^2] = b^4/5 - b^4/9 = 4 b^4/45, so R^2 = |x|^2 has mean N b^2/3 and variance 4 N b^4/45.
The delta method (R = sqrt(R^2)) gives sigma_R ~= sqrt(4 N b^4/45) / (2 sqrt(N b^2/3)) = b/sqrt(15),
independent of N, and E[R] = sqrt(E[R^2] - sigma_R^2) ~= b sqrt(N/3 - 1/15). The shell's relative
width sigma_R / E[R] ~= 1/sqrt(5N) shrinks: in high dimension every cube point lies at almost the
same distance from the origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from latentatlas.core.jsonable import jsonable
from latentatlas.core.rng import RandomState, as_rng

THEORY_KEYS = ("mean_r2", "mean_r", "sigma_r", "rel_width")
DEFAULT_NS = (2, 3, 10, 32, 256, 1024)
# Monte Carlo draws per chunk: bounds memory to ~16 MB whatever n and N are.
_MC_CHUNK_ELEMENTS = 2**21


def _check_N_b(N: int, b: float) -> tuple[int, float]:
    if int(N) != N or N < 1:
        raise ValueError(f"N must be a positive integer, got {N}")
    if not (np.isfinite(b) and b > 0):
        raise ValueError(f"b must be a positive number, got {b}")
    return int(N), float(b)


def cube_radius_theory(N: int, b: float) -> dict:
    """Closed-form radius moments for N i.i.d. components uniform in [-b, b].

    Returns
    -------
    dict
        ``N``, ``b``, ``mean_r2`` = N b^2/3 (exact), ``var_r2`` = 4 N b^4/45 (exact),
        ``mean_r`` ~= b sqrt(N/3 - 1/15), ``sigma_r`` ~= b/sqrt(15), ``rel_width`` ~= 1/sqrt(5N)
        (delta method; accurate for N >~ 10).
    """
    N, b = _check_N_b(N, b)
    return {
        "N": N,
        "b": b,
        "mean_r2": N * b**2 / 3.0,
        "var_r2": 4.0 * N * b**4 / 45.0,
        "mean_r": b * np.sqrt(N / 3.0 - 1.0 / 15.0),
        "sigma_r": b / np.sqrt(15.0),
        "rel_width": 1.0 / np.sqrt(5.0 * N),
    }


def cube_radii(N: int, b: float, n: int, random_state: RandomState = 0) -> np.ndarray:
    """Norms of ``n`` points uniform in [-b, b]^N, drawn in memory-bounded chunks.

    Returns
    -------
    ndarray, shape (n,)
    """
    N, b = _check_N_b(N, b)
    rng = as_rng(random_state)
    out = np.empty(int(n))
    step = max(1, _MC_CHUNK_ELEMENTS // N)
    for start in range(0, len(out), step):
        m = min(step, len(out) - start)
        U = rng.uniform(-b, b, size=(m, N))
        out[start : start + m] = np.sqrt(np.einsum("ij,ij->i", U, U))
    return out


def _measured(N: int, b: float, r: np.ndarray) -> dict:
    r2 = r**2
    mean_r = float(r.mean())
    sigma_r = float(r.std(ddof=1))
    return {
        "N": N,
        "b": b,
        "mean_r2": float(r2.mean()),
        "var_r2": float(r2.var(ddof=1)),
        "mean_r": mean_r,
        "sigma_r": sigma_r,
        "rel_width": sigma_r / mean_r,
        "n": len(r),
    }


def cube_radius_monte_carlo(
    N: int, b: float, n: int = 20000, random_state: RandomState = 0
) -> dict:
    """The same quantities as :func:`cube_radius_theory`, measured on ``n`` uniform points.

    Returns
    -------
    dict
        ``N``, ``b``, ``mean_r2``, ``var_r2``, ``mean_r``, ``sigma_r``, ``rel_width``, ``n``.
    """
    N, b = _check_N_b(N, b)
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    return _measured(N, b, cube_radii(N, b, n, random_state))


@dataclass(frozen=True, eq=False)  # arrays inside: compare to_dict() instead
class TheoryTable:
    """Theory vs Monte Carlo for several N at one b.

    ``rows``: one dict per N with ``N``, ``theory_<key>``, ``mc_<key>`` and ``relerr_<key>``
    (|mc - theory| / |theory|) for key in mean_r2, mean_r, sigma_r, rel_width.
    ``radii``: N -> (n_mc,) Monte Carlo radii (for the shell-narrowing figure; not in to_dict).
    """

    Ns: tuple[int, ...]
    b: float
    n_mc: int
    rows: list[dict]
    radii: dict[int, np.ndarray]

    def to_dict(self) -> dict:
        return jsonable({"b": self.b, "n_mc": self.n_mc, "Ns": list(self.Ns), "rows": self.rows})

    def to_text(self) -> str:
        """A fixed-width table (for the ``theory`` command)."""
        head = (
            f"{'N':>6} {'<R^2> theory':>13} {'<R^2> MC':>11} {'<R> theory':>11} {'<R> MC':>9} "
            f"{'sigma_R th.':>11} {'sigma_R MC':>10} {'width th.':>9} {'width MC':>9}"
        )
        lines = [f"uniform cube [-b, b]^N, b = {self.b:g}, {self.n_mc} Monte Carlo points", head]
        for r in self.rows:
            lines.append(
                f"{r['N']:>6d} {r['theory_mean_r2']:>13.4f} {r['mc_mean_r2']:>11.4f} "
                f"{r['theory_mean_r']:>11.4f} {r['mc_mean_r']:>9.4f} "
                f"{r['theory_sigma_r']:>11.4f} {r['mc_sigma_r']:>10.4f} "
                f"{r['theory_rel_width']:>9.4f} {r['mc_rel_width']:>9.4f}"
            )
        lines.append(f"sigma_R -> b/sqrt(15) = {self.b / np.sqrt(15):.4f}; width = 1/sqrt(5N)")
        return "\n".join(lines)


def theory_table(
    Ns: Sequence[int] = DEFAULT_NS,
    b: float = 1.0,
    n: int = 20000,
    random_state: RandomState = 0,
) -> TheoryTable:
    """Compare the closed forms with Monte Carlo for each N in ``Ns`` (one generator, in order).

    Returns
    -------
    TheoryTable
    """
    rng = as_rng(random_state)
    rows, radii = [], {}
    for N in Ns:
        th = cube_radius_theory(N, b)
        r = cube_radii(N, b, n, rng)
        mc = _measured(th["N"], th["b"], r)
        row: dict = {"N": th["N"]}
        for key in THEORY_KEYS:
            row[f"theory_{key}"] = float(th[key])
            row[f"mc_{key}"] = float(mc[key])
            row[f"relerr_{key}"] = float(abs(mc[key] - th[key]) / abs(th[key]))
        rows.append(row)
        radii[th["N"]] = r
    return TheoryTable(
        Ns=tuple(int(N) for N in Ns), b=float(b), n_mc=int(n), rows=rows, radii=radii
    )
