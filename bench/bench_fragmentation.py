"""The fragmentation analysis (atlas section 10, ``analysis.fragmentation``) at the sizes it must
handle, timed one size at a time.

Targets (issue 22): at most 15 s for 10,000 points at N = 256 (the bundled celeba64 store when
present, else a correlated normal), at most 30 s for 3,000 x 16,384 and 2,000 x 65,536 (random
normal z, float32 as an encode writes it), on 2 cores. Each case is generated before its clock
starts; the verdict sentence is printed with the time.

    .venv/bin/python bench/bench_fragmentation.py [--sizes 10000x256 3000x16384 2000x65536]

``--sizes digits`` runs scikit-learn's handwritten digits (16 principal components, labelled):
a fragmented set, for the README's example.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

TARGETS = {(10000, 256): 15.0, (3000, 16384): 30.0, (2000, 65536): 30.0}


def digits() -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """scikit-learn's 1,797 handwritten digits (shipped with it): the top 16 principal
    components of the 8 x 8 pixels, the classes as label=<digit> attributes."""
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA

    X, y = load_digits(return_X_y=True)
    attrs = np.where(y[:, None] == np.arange(10), 1, -1).astype(np.int8)
    z = PCA(16, random_state=0).fit_transform(X)
    return z, attrs, [f"label={c}" for c in range(10)], "digits"


def points(n: int, dim: int) -> tuple[np.ndarray, object, object, str]:
    """z (n, dim) float32, attributes, names and where they came from."""
    if dim == 256:
        try:
            from latentatlas.data.store import load_store

            st = load_store("celeba64")
            if st.n >= n:
                return np.asarray(st.z[:n]), st.attributes[:n], st.attribute_names, "celeba64"
        except Exception:  # noqa: BLE001 - no bundled store: fall back to synthetic points
            pass
    rng = np.random.default_rng(0)
    z = rng.standard_normal((n, dim), dtype=np.float32)
    return z, None, None, "normal"


def main() -> None:
    from latentatlas.analysis import fragmentation

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["10000x256", "3000x16384", "2000x65536"])
    args = ap.parse_args()
    for size in args.sizes:
        if size == "digits":
            z, attrs, names, origin = digits()
            n, dim = z.shape
        else:
            n, dim = (int(x) for x in size.split("x"))
            z, attrs, names, origin = points(n, dim)
        t = time.perf_counter()
        r = fragmentation(z, attrs, names, random_state=0)
        took = time.perf_counter() - t
        target = TARGETS.get((n, dim))
        verdict = f"(target {target:.0f} s)" if target else ""
        print(f"{n} x {dim} ({origin}): {took:.1f} s {verdict}: {r.verdict['sentence']}")
        m = r.mixture
        print(f"  mixture components tried: {m['components'][-1]}, best {m['best']}")
        for row in r.agreement:
            pair = f"{row['clustering']} vs {row['labeling']}"
            print(f"  adjusted Rand index, {pair}: {row['ari']:.3f}")


if __name__ == "__main__":
    main()
