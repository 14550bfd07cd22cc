"""The work one explorer request may ask for, estimated before any of it is done.

A request names what it needs (:class:`Work`: faces to decode, attribute directions, generator
sample sets); :func:`check` prices what is not cached yet and refuses (:class:`TooMuchWork`, a
422 that says why and what the limit is) a request whose price is over :data:`BUDGET_S`. One fit
a request (its dearest) is free: each attribute direction and generator is fitted once and then
kept, and the page needs them whatever they cost (a mixture on a large store takes longer than
the budget). What is not priced is bounded by the store's size once per request (a projection,
neighbours, a slice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from latentatlas.explore.space import BadRequest, LatentSpace

BUDGET_S = 8.0  # seconds of one CPU core a request may ask for, besides its dearest fit
# Prices in seconds of one CPU core, measured on the bundled celeba64 (8,968 train points,
# N = 256, 64x64 faces): `python bench/bench_explore_budget.py` prints them beside the estimate.
DECODE_S = 3e-3  # one 64x64 face (a face of S x S pixels: (S / 64)^2 of it)
ENCODE_S = 3e-3  # one uploaded image, encoded at 64x64 (scaled as a face)
SAMPLE_S = 6e-8  # one sampled value (a set of n points: n x N values)
FIT_S = 5e-7  # one train value of a logistic regression (an attribute: n_train x N values)
GENERATOR_FIT = {"gmm": 17.0, "kde": 4.5}  # a generator's fit in attribute fits (others 0.25)


class TooMuchWork(BadRequest):
    """A request over the budget (the server answers 422 with this message)."""


@dataclass
class Work:
    """What a request needs: faces to decode, images to encode, attribute directions (names
    without ``attr:``), generator sample sets ``(generator, n, seed)``."""

    faces: int = 0
    images: int = 0  # uploaded images to encode
    attributes: set[str] = field(default_factory=set)
    samples: set[tuple[str, int, int]] = field(default_factory=set)

    def axis(self, name: Any) -> None:
        if isinstance(name, str) and name.startswith("attr:"):
            self.attributes.add(name[5:])


def price(work: Work, space: LatentSpace, image_size: int) -> tuple[float, list[str]]:
    """Estimated seconds of ``work`` on ``space`` beyond its dearest new fit (what is cached
    costs nothing), and what they are."""
    names = set(space.store.attribute_names)  # other names are refused, not fitted
    attributes = {a for a in work.attributes if a in names and a not in space.directions}
    sets = {key for key in work.samples if key not in space.sample_sets}
    generators = {g for g, _, _ in sets if g not in space.generators}
    return cost(space, image_size, work.faces, attributes, generators, sets, work.images)


def cost(
    space: LatentSpace,
    image_size: int,
    faces: int,
    attributes: set[str],
    generators: set[str],
    sets: set[tuple[str, int, int]],
    images: int = 0,
) -> tuple[float, list[str]]:
    """Estimated seconds to decode ``faces``, encode ``images``, fit ``attributes`` and
    ``generators`` and draw ``sets`` on ``space`` beyond the dearest fit, and what they are."""
    values = space.dim * int(space.train.sum())
    fits = [FIT_S * values] * len(attributes)
    fits += [FIT_S * values * GENERATOR_FIT.get(g, 0.25) for g in generators]
    points = sum(n for _, n, _ in sets)
    pixels = (image_size / 64) ** 2
    rest = (faces * DECODE_S + images * ENCODE_S) * pixels + points * space.dim * SAMPLE_S
    parts = [
        f"{len(attributes)} attribute directions to fit" if attributes else "",
        f"{len(generators)} generators to fit" if generators else "",
        f"{len(sets)} sample sets to draw ({points:,} points)" if sets else "",
        f"{faces} faces to decode" if faces else "",
        f"{images} images to encode" if images else "",
    ]
    return sum(fits) - max(fits, default=0.0) + rest, [p for p in parts if p]


def check(work: Work, space: LatentSpace, image_size: int, limit: float = BUDGET_S) -> float:
    """The estimated seconds of ``work``; TooMuchWork if they are over ``limit``."""
    seconds, parts = price(work, space, image_size)
    if seconds > limit:
        raise TooMuchWork(
            f"this request needs about {seconds:.1f} s of computing ({', '.join(parts)}) besides"
            f" one new fit; one request may take at most {limit:g} s: ask for fewer points,"
            " moves or sample sets at a time"
        )
    return seconds
