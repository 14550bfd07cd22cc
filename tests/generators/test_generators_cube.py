from __future__ import annotations

import numpy as np
import pytest

from latentatlas.analysis import radii
from latentatlas.generators import BaseGenerator, NotFittedError, UniformCube


@pytest.fixture(scope="module")
def Z():
    return np.random.default_rng(0).uniform(-1.4, 1.4, (3000, 48))


def test_uniform_cube_contract(Z):
    gen = UniformCube(b=0.8)
    assert isinstance(gen, BaseGenerator)
    assert gen.get_params() == {"b": 0.8, "n_mc": 20000, "random_state": 0, "temperature": 1.0}
    with pytest.raises(NotFittedError, match="fit"):
        gen.sample(5)
    assert gen.fit(Z) is gen
    assert gen.b_ == 0.8 and gen.n_features_in_ == 48
    X = gen.sample(1000, random_state=1)
    assert X.shape == (1000, 48) and X.dtype == np.float64
    assert np.abs(X).max() <= 0.8 and np.abs(X).max() > 0.79
    assert np.array_equal(X, gen.sample(1000, random_state=1))
    assert not np.array_equal(X, gen.sample(1000, random_state=2))
    assert gen.sample(0).shape == (0, 48)
    with pytest.raises(ValueError):
        gen.sample(-1)
    assert "UniformCube(b=0.8" in repr(gen)
    assert gen.set_params(b=2.0) is gen and gen.get_params()["b"] == 2.0
    with pytest.raises(ValueError):
        gen.set_params(c=1)


def test_uniform_cube_auto_b(Z):
    gen = UniformCube(b="auto").fit(Z)
    assert gen.b_ == pytest.approx(1.4, rel=0.01)
    # Its own samples have radii matching the real ones.
    r = radii(gen.sample(3000, random_state=0))
    assert np.median(r) == pytest.approx(np.median(radii(Z)), rel=0.01)
    assert UniformCube(b="auto").fit(2 * Z).b_ == pytest.approx(2 * gen.b_, rel=1e-12)


def test_uniform_cube_union_of_cubes(Z):
    gen = UniformCube(b=[0.5, 1.0, 2.0]).fit(Z)
    assert gen.b_ == (0.5, 1.0, 2.0)
    X = gen.sample(3000, random_state=0)
    r = radii(X)
    # Three thin shells at b * sqrt(N/3) (relative width ~ 1/sqrt(5N) = 6.5 %).
    centres = np.array([0.5, 1.0, 2.0]) * np.sqrt(48 / 3)
    nearest = np.abs(r[:, None] / centres[None, :] - 1).argmin(axis=1)
    assert np.all(np.abs(r / centres[nearest] - 1) < 0.3)
    shares = np.bincount(nearest, minlength=3) / len(r)
    assert np.allclose(shares, 1 / 3, atol=0.04)
    assert np.array_equal(X, gen.sample(3000, random_state=0))


@pytest.mark.parametrize("bad", [0.0, -1.0, "big", [], [1.0, -2.0], float("nan")])
def test_uniform_cube_rejects_bad_b(Z, bad):
    with pytest.raises(ValueError):
        UniformCube(b=bad).fit(Z)
