"""The explorer's work prices (``latentatlas.explore.budget``) beside the seconds the work really
takes, on the bundled celeba64 model and store, one CPU core:

    python bench/bench_explore_budget.py [--attributes Smiling Male Eyeglasses]

For each priced kind of work (a face decoded in a strip of 64, an attribute direction fitted,
each overlay generator fitted, 20,000 points drawn from it) it prints the measured seconds and
the price, then how long the issue's over-budget strip takes to be refused.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def _timed(make) -> float:
    t = time.perf_counter()
    make()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attributes", nargs="+", default=["Smiling", "Male", "Eyeglasses"])
    args = parser.parse_args()

    import torch
    from starlette.testclient import TestClient

    from latentatlas.explore import create_app, load_explorer
    from latentatlas.explore.budget import DECODE_S, FIT_S, GENERATOR_FIT, SAMPLE_S
    from latentatlas.explore.space import OVERLAY_GENERATORS
    from latentatlas.generators.registry import make_generator

    torch.set_num_threads(1)
    ex = load_explorer("celeba64", "celeba64", "cpu")
    space = ex.space
    train = np.asarray(space.z[space.train], dtype=np.float64)
    values = train.size
    size = int(ex.model.image_size)
    print(f"store: {space.n} z-points, {len(train)} train, N = {space.dim}; faces {size}x{size}")
    print(f"{'work':<34}{'measured s':>12}{'priced s':>12}")
    z = np.repeat(space.centroid[None], 64, axis=0)
    ex.decode(z)  # warm
    per_face = _timed(lambda: ex.decode(z)) / 64
    print(f"{'a face (in a strip of 64)':<34}{per_face:>12.4f}{DECODE_S * (size / 64) ** 2:>12.4f}")
    for name in args.attributes:
        took = _timed(lambda name=name: space._attribute_direction(name))
        print(f"{'attribute direction ' + name:<34}{took:>12.3f}{FIT_S * values:>12.3f}")
    for g in OVERLAY_GENERATORS:
        fitted = None

        def fit(g=g):
            nonlocal fitted
            fitted = make_generator(g).fit(train)

        took = _timed(fit)
        priced = FIT_S * values * GENERATOR_FIT.get(g, 0.25)
        print(f"{'fit ' + g:<34}{took:>12.3f}{priced:>12.3f}")
        took = _timed(lambda fitted=fitted: fitted.sample(20000, random_state=1))
        print(f"{'20,000 samples of ' + g:<34}{took:>12.3f}{20000 * space.dim * SAMPLE_S:>12.3f}")
    names = list(space.store.attribute_names)
    points = [
        {
            "base": {"generator": "kde", "n": 20000, "seed": i, "index": i},
            "moves": [[f"attr:{names[(i + j) % 39]}", 1.0] for j in range(16)],
        }
        for i in range(64)
    ]
    client = TestClient(create_app(ex), raise_server_exceptions=False)
    t = time.perf_counter()
    r = client.post("/api/strip", json={"points": points})
    took = time.perf_counter() - t
    print(f"the issue's strip: {r.status_code} in {took:.3f} s: {r.json()['error']}")


if __name__ == "__main__":
    main()
