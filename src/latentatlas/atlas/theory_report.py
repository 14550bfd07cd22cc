"""``latentatlas theory``: the radius of points uniform in [-b, b]^N, theory against Monte Carlo.

:func:`cube_theory` computes the table (for the given N and the atlas's standard ones),
:func:`theory_text` is what the verb prints, :func:`write_theory` writes ``theory.png`` (the
atlas's thin-shell figure) and ``theory.json``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from latentatlas.core.errors import LatentAtlasError

# ASCII, like TheoryTable.to_text() printed below them.
LABELS = {"mean_r2": "<R^2>", "mean_r": "<R>", "sigma_r": "sigma_R", "rel_width": "sigma_R/<R>"}


@dataclass(frozen=True)
class CubeTheory:
    """The theory table of :func:`cube_theory` and the settings that made it."""

    dim: int
    b: float
    mc: int
    seed: int
    table: Any  # latentatlas.analysis.TheoryTable

    def to_dict(self) -> dict[str, Any]:
        """The table's dict plus the cube half-width, the Monte Carlo draws and the seed."""
        return self.table.to_dict() | {"b": self.b, "mc": self.mc, "seed": self.seed}

    def row(self) -> dict[str, Any]:
        """The table's row of ``dim``."""
        return next(r for r in self.table.to_dict()["rows"] if r["N"] == self.dim)


def cube_theory(dim: int, *, b: float = 1.0, mc: int = 20000, seed: int = 0) -> CubeTheory:
    """Radius theory of the cube [-b, b]^N against ``mc`` Monte Carlo draws (seeded by ``seed``)
    for N = ``dim`` and the atlas's standard dimensions. One-line LatentAtlasError for bad
    settings."""
    from latentatlas.analysis import theory_table
    from latentatlas.atlas import STANDARD_NS

    if dim < 1:
        raise LatentAtlasError(f"--N must be at least 1, got {dim}")
    if not math.isfinite(b) or b <= 0:
        raise LatentAtlasError(f"--b must be a positive number, got {b}")
    if mc < 100:
        raise LatentAtlasError(f"--mc must be at least 100, got {mc}")
    ns = tuple(sorted(set(STANDARD_NS) | {dim}))
    try:
        tt = theory_table(Ns=ns, b=b, n=mc, random_state=seed)
    except ValueError as e:
        raise LatentAtlasError(str(e)) from None
    return CubeTheory(dim=dim, b=b, mc=mc, seed=seed, table=tt)


def theory_text(theory: CubeTheory) -> str:
    """The given N's theory, Monte Carlo value and relative error per quantity, a blank line,
    then the table of every N."""
    row = theory.row()
    lines = [
        f"N = {theory.dim}, b = {theory.b:g}: radius R = |z| of points uniform in [-b, b]^N, "
        f"theory vs Monte Carlo ({theory.mc} points, seed {theory.seed})",
        f"{'':>12} {'theory':>12} {'Monte Carlo':>12} {'rel. error':>11}",
    ]
    for key, label in LABELS.items():
        lines.append(
            f"{label:>12} {row[f'theory_{key}']:>12.6g} {row[f'mc_{key}']:>12.6g} "
            f"{row[f'relerr_{key}']:>11.2e}"
        )
    lines += ["", theory.table.to_text()]
    return "\n".join(lines)


def write_theory(theory: CubeTheory, out: str | os.PathLike, *, overwrite: bool = False) -> None:
    """Write ``out/theory.png`` (the normalised radii per N: the thin shell) and
    ``out/theory.json``, atomically; an existing ``out`` is replaced only with ``overwrite``."""
    from latentatlas.atlas import normalised_radii
    from latentatlas.atlas.figures import shell_figure
    from latentatlas.core import atomic
    from latentatlas.core.html import figure_png
    from latentatlas.core.jsonable import jsonable

    try:
        with atomic.atomic_dir(out, overwrite=overwrite) as tmp:
            fig = shell_figure(normalised_radii(theory.table, theory.b))
            atomic.write_bytes(tmp / "theory.png", figure_png(fig))
            atomic.write_json(tmp / "theory.json", jsonable(theory.to_dict()))
    except FileExistsError:
        raise LatentAtlasError(f"{out} exists; use --overwrite to replace it") from None
