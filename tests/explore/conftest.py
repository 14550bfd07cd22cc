from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest


@pytest.fixture(scope="module")
def small_explorer(bundled) -> Callable[..., object]:
    """A fresh explorer (caches empty) on the bundled model and the first ``n`` of its z-points
    with their attributes: a store small enough for fits in milliseconds."""
    from latentatlas.data.store import ZStore
    from latentatlas.explore.app import Explorer
    from latentatlas.explore.space import LatentSpace
    from latentatlas.models.pairing import load_model_and_store

    _, store = bundled
    model, _, _ = load_model_and_store("celeba64", store, "cpu", verify=False)

    def make(n: int = 400, **kwargs: object) -> Explorer:
        small = ZStore(
            np.asarray(store.z[:n]),
            np.asarray(store.ids[:n]),
            np.asarray(store.split[:n]),
            np.asarray(store.attributes[:n]),
            list(store.attribute_names),
        )
        return Explorer(model, LatentSpace(small), "celeba64", "small", **kwargs)

    return make
