from __future__ import annotations

import numpy as np
import pytest

from latentatlas.generators import MultivariateNormal, PCAEllipsoid
from latentatlas.metrics.likelihood import heldout_log_likelihood


def test_gaussian_heldout_likelihood_is_its_entropy():
    rng = np.random.default_rng(0)
    train, held = rng.standard_normal((5000, 10)), rng.standard_normal((5000, 10))
    out = heldout_log_likelihood(MultivariateNormal().fit(train).score_samples(held), 10)
    # E[log N(x; 0, I)] per dimension = -0.5 (1 + log 2 pi) = -1.419.
    assert out["nats_per_dim"] == pytest.approx(-0.5 * (1 + np.log(2 * np.pi)), abs=0.02)
    assert out["share_in_support"] == 1.0 and out["n"] == 5000


def test_truncated_support_reports_the_share_inside():
    rng = np.random.default_rng(1)
    train, held = rng.standard_normal((5000, 3)), rng.standard_normal((4000, 3))
    gen = PCAEllipsoid(c=1.0).fit(train)
    out = heldout_log_likelihood(gen.score_samples(held), 3)
    assert out["nats_per_dim"] == -np.inf
    # Each coordinate within 1 sigma with probability 0.683: all three 0.318.
    assert out["share_in_support"] == pytest.approx(0.683**3, abs=0.03)
    assert np.isfinite(out["nats_per_dim_in_support"])
    with pytest.raises(ValueError):
        heldout_log_likelihood([np.nan], 3)
    with pytest.raises(ValueError):
        heldout_log_likelihood([], 3)
