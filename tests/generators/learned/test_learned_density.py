"""The priors learn a distribution a single Gaussian cannot fit, and the flow's density is
normalised."""

from __future__ import annotations

import numpy as np
import pytest
from prior_configs import CENTRES, TINY
from scipy import stats

from latentatlas.generators import MultivariateNormal


def _near_a_blob(X: np.ndarray) -> float:
    """Share of points within 2.1 blob standard deviations (0.7 each) of a centre (89 % of
    the blobs' own points are)."""
    d = np.min(np.linalg.norm(X[:, None, :] - CENTRES[None], axis=2), axis=1)
    return float(np.mean(d < 1.5))


@pytest.fixture(scope="module")
def mvn(blobs):
    return MultivariateNormal().fit(blobs.train)


@pytest.mark.parametrize("name", TINY)
def test_samples_land_on_the_blobs(name, fitted, mvn, blobs):
    real = _near_a_blob(blobs.heldout)
    assert real > 0.85
    gaussian = _near_a_blob(mvn.sample(2000, random_state=0))
    assert gaussian < 0.45  # most of a single Gaussian's mass falls between the blobs
    assert _near_a_blob(fitted[name].sample(2000, random_state=0)) > 0.65


@pytest.mark.parametrize("name", ["flow", "nsf-nowhiten", "vae2"])
def test_heldout_likelihood_beats_a_single_gaussian(name, fitted, mvn, blobs):
    ll = fitted[name].score_samples(blobs.heldout).mean()
    # The blobs' true mean log-density is about -2.87; the single Gaussian gets about -3.95.
    assert ll > mvn.score_samples(blobs.heldout).mean() + 0.5


def test_diffusion_bound_is_below_the_truth(fitted, blobs):
    # The DDPM bound is loose (it is not an exact density), but a lower bound it must be.
    H = blobs.heldout
    truth = np.log(
        0.5 * sum(stats.multivariate_normal(c, 0.49 * np.eye(2)).pdf(H) for c in CENTRES)
    ).mean()
    elbo = fitted["diffusion"].score_samples(H).mean()
    assert np.isfinite(elbo) and elbo < truth


@pytest.mark.parametrize("name", ["flow", "nsf-nowhiten"])
def test_flow_density_integrates_to_one(fitted, name):
    flow = fitted[name]
    # Importance sampling from a wide Gaussian over both blobs: E_q[p / q] = integral of p = 1.
    q = stats.multivariate_normal(np.zeros(2), np.diag([25.0, 6.0]))
    Y = q.rvs(size=100_000, random_state=np.random.default_rng(1))
    w = np.exp(flow.score_samples(Y) - q.logpdf(Y))
    assert w.std() / np.sqrt(len(w)) < 0.01
    assert w.mean() == pytest.approx(1.0, abs=0.03)
