"""The atlas's sections, one module each; a section is ``section_x(ctx, page)``: it reads the
shared :class:`~latentatlas.atlas.context.AtlasContext`, adds its numbers to ``ctx.summary`` and
its tables and figures to the page.

``SECTIONS`` is the order of the study (section 11, the verdict, runs only when a verdict is
given). To add a section: write ``section_x`` in a module here and list it in ``SECTIONS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from latentatlas.atlas.sections.distribution import (
    section_components,
    section_correlations,
    section_shape,
)
from latentatlas.atlas.sections.fragmentation import section_fragmentation
from latentatlas.atlas.sections.geometry import section_projections, section_slices
from latentatlas.atlas.sections.radii import section_generator, section_radii, section_theory
from latentatlas.atlas.sections.spatial import section_spatial
from latentatlas.atlas.sections.verdict import section_verdict
from latentatlas.atlas.sections.voids import section_voids

if TYPE_CHECKING:
    from latentatlas.atlas.context import AtlasContext
    from latentatlas.core.html import Page

Section = Callable[["AtlasContext", "Page"], None]

# In the order of the study; the progress bar names each one.
SECTIONS: tuple[tuple[str, Section], ...] = (
    ("1 components", section_components),
    ("2 correlations", section_correlations),
    ("3 shape and position", section_shape),
    ("4 radii", section_radii),
    ("5 cube theory", section_theory),
    ("6 generator", section_generator),
    ("7 projections", section_projections),
    ("8 slices", section_slices),
    ("9 voids", section_voids),
    ("10 fragmentation", section_fragmentation),
    # Numbered apart: a store without a C x H x W latent shape shows one line here.
    ("spatial latents", section_spatial),
)
VERDICT_SECTION: tuple[str, Section] = ("11 verdict", section_verdict)

__all__ = ["SECTIONS", "VERDICT_SECTION", "Section"]
