"""The atlas: every analysis of a z-point distribution in one report (``latentatlas analyze``).

``run_atlas`` runs the analyses of :mod:`latentatlas.analysis` in the order of the study and writes
one directory, atomically::

    index.html     one self-contained page (figures embedded as base64 PNGs), sections 1-10 (11)
    *.png          every figure as a file too
    summary.json   every number on the page, plus the sample sizes, seed and b used

Modules, in the order the run uses them, then the other reports built from the same parts:

    run          run_atlas: input checks, the stages with progress, the header, writing
    context      AtlasContext, the state the sections share
    inputs       the first stage: the cube size b, the pairs, the artificial points
    sections/    one module a section, and SECTIONS, their order:
                 distribution   1 components, 2 correlations, 3 shape and position
                 radii          4 radii, 5 uniform-cube theory, 6 the generator
                 geometry       7 projections, 8 slices
                 voids          9 voids
                 fragmentation  10 fragmentation: clusters, connectivity, betweenness, attributes
                 verdict        11 the generators' verdict (only with ``verdict=``)
    conclusions  the opening conclusions, in plain words, from the summary's numbers
    figures      one function a figure (matplotlib, no pyplot)
    helpers      pair parsing, plain dicts, the BLAS thread limit

    theory_report  ``latentatlas theory``: the cube's thin-shell table, figure and JSON
    demo           ``latentatlas demo``: the verdict, two paths and the atlas of the bundled model

No torch here (the demo and section 10's decoder import it when called): the input is an
``(n, N)`` array or a :class:`~latentatlas.data.store.ZStore`.
"""

from latentatlas.atlas.helpers import check_pairs, parse_pairs
from latentatlas.atlas.run import run_atlas
from latentatlas.atlas.sections.geometry import SLICE_SIZES, origin_distance_2d
from latentatlas.atlas.sections.radii import (
    STANDARD_NS,
    THEORY_LABELS,
    UNION_FACTORS,
    normalised_radii,
    theory_rows,
)
from latentatlas.atlas.sections.verdict import load_verdict

__all__ = [
    "SLICE_SIZES",
    "STANDARD_NS",
    "THEORY_LABELS",
    "UNION_FACTORS",
    "check_pairs",
    "load_verdict",
    "normalised_radii",
    "origin_distance_2d",
    "parse_pairs",
    "run_atlas",
    "theory_rows",
]
