"""The learned priors keep the generators' contract: parameters, fit/sample/score, save/load."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from prior_configs import TINY

from latentatlas.generators import (
    PRIORS,
    BaseGenerator,
    NotFittedError,
    load_generator,
    make_generator,
    save_generator,
)
from latentatlas.generators.learned import Flow, LatentDiffusion, TwoStageVAE


def test_numpy_layer_never_imports_torch():
    code = (
        "import sys, latentatlas.generators as g\n"
        "assert 'torch' not in sys.modules, 'imported by latentatlas.generators'\n"
        "g.make_generator('mvn')\n"
        "assert 'torch' not in sys.modules, 'imported by a numpy generator'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_registry():
    assert list(PRIORS) == ["flow", "diffusion", "vae2"]
    assert isinstance(make_generator("flow"), Flow)
    assert isinstance(make_generator("diffusion", sampling_steps=10), LatentDiffusion)
    assert make_generator("diffusion", sampling_steps=10).sampling_steps == 10
    assert isinstance(make_generator("vae2"), TwoStageVAE)
    with pytest.raises(ValueError, match="gmm, kde, spatial, flow, diffusion, vae2"):
        make_generator("maf")
    with pytest.raises(ValueError, match="no parameter"):
        make_generator("flow", shrinkage=0.1)


@pytest.mark.parametrize("name", TINY)
def test_unfitted(name):
    gen = TINY[name]()
    assert isinstance(gen, BaseGenerator) and not gen.is_fitted
    with pytest.raises(NotFittedError, match="fit"):
        gen.sample(3)
    with pytest.raises(NotFittedError):
        gen.score_samples(np.zeros((2, 2)))
    with pytest.raises(NotFittedError):
        gen.fitted_params()
    params = gen.get_params()
    assert list(params) == type(gen)._param_names()
    assert type(gen)(**params).get_params() == params
    assert gen.set_params(**params) is gen


def test_bad_parameters_are_reported_at_fit(blobs):
    Z = blobs.train[:50]
    with pytest.raises(ValueError, match="random_state"):
        Flow(random_state=None, progress=False).fit(Z)
    with pytest.raises(ValueError, match="max_epochs"):
        Flow(max_epochs=0, progress=False).fit(Z)
    with pytest.raises(ValueError, match="flow must be"):
        Flow(flow="realnvp", progress=False).fit(Z)
    with pytest.raises(ValueError, match="validation_fraction"):
        TwoStageVAE(validation_fraction=1.0, progress=False).fit(Z)
    with pytest.raises(ValueError, match="sampling_steps"):
        LatentDiffusion(timesteps=10, sampling_steps=20, progress=False).fit(Z)


@pytest.mark.parametrize("name", TINY)
def test_fit_and_sample_contract(name, fitted, blobs):
    gen = fitted[name]
    assert gen.n_features_in_ == 2
    assert gen.n_fit_ + gen.n_heldout_ == len(blobs.train) and gen.n_heldout_ == 60
    assert gen.n_epochs_ == len(gen.history_) and 0 <= gen.best_epoch_ < gen.n_epochs_
    # The kept weights are those of the best held-out epoch.
    assert gen.heldout_loss_ == min(v for _, v in gen.history_)
    X = gen.sample(300, random_state=3)
    assert X.shape == (300, 2) and X.dtype == np.float64 and np.isfinite(X).all()
    assert np.array_equal(X, gen.sample(300, random_state=3))
    assert not np.array_equal(X, gen.sample(300, random_state=4))
    assert np.array_equal(X, gen.sample(300, random_state=np.random.default_rng(3)))
    assert gen.sample(0, random_state=0).shape == (0, 2)
    with pytest.raises(ValueError):
        gen.sample(-1)


@pytest.mark.parametrize("name", TINY)
def test_score_samples_is_deterministic_per_row(name, fitted, blobs):
    gen = fitted[name]
    X = gen.sample(200, random_state=0)
    s = gen.score_samples(X)
    assert s.shape == (200,) and s.dtype == np.float64 and np.isfinite(s).all()
    assert np.array_equal(s, gen.score_samples(X))
    # A row's score does not depend on the rows around it (shared, seeded noise).
    assert np.allclose(gen.score_samples(X[50:60]), s[50:60], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="components"):
        gen.score_samples(np.zeros((2, 3)))


@pytest.mark.parametrize("name", TINY)
def test_same_seed_same_fit(name, fitted, blobs):
    again = TINY[name]().set_params(max_epochs=3).fit(blobs.train)
    twice = TINY[name]().set_params(max_epochs=3).fit(blobs.train)
    assert again.history_ == twice.history_
    assert np.array_equal(again.sample(50, 1), twice.sample(50, 1))
    other = TINY[name]().set_params(max_epochs=3, random_state=1).fit(blobs.train)
    assert not np.array_equal(other.sample(50, 1), again.sample(50, 1))


@pytest.mark.parametrize("name", TINY)
def test_fitted_params_json(name, fitted):
    info = fitted[name].fitted_params()
    assert info["generator"] == type(fitted[name]).__name__ and info["n_features_in"] == 2
    assert info["n_parameters"] > 0 and info["fit_device"] == "cpu"
    json.dumps(info, allow_nan=False)


@pytest.mark.parametrize("name", TINY)
def test_save_load_is_bit_exact(name, fitted, blobs, tmp_path):
    gen = fitted[name]
    path = save_generator(gen, tmp_path / "gen")
    assert sorted(p.name for p in path.iterdir()) == ["arrays.npz", "generator.json"]
    doc = json.loads((path / "generator.json").read_text())
    assert doc["class"] == type(gen).__name__
    with np.load(path / "arrays.npz", allow_pickle=False) as f:
        assert any(k.startswith("net.") for k in f.files)
    loaded = load_generator(path)
    assert type(loaded) is type(gen) and not loaded.net_.training
    assert np.array_equal(loaded.sample(300, random_state=11), gen.sample(300, random_state=11))
    H = blobs.heldout[:200]
    assert np.array_equal(loaded.score_samples(H), gen.score_samples(H))
    assert loaded.fitted_params() == gen.fitted_params()
    # Unfitted ones round-trip too.
    fresh = load_generator(save_generator(TINY[name](), tmp_path / "fresh"))
    assert not fresh.is_fitted and fresh.get_params().keys() == gen.get_params().keys()


def test_load_rejects_a_network_that_does_not_match(fitted, tmp_path):
    path = save_generator(fitted["flow"], tmp_path / "g")
    doc = json.loads((path / "generator.json").read_text())
    doc["params"]["transforms"] = 4
    (path / "generator.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="does not fit"):
        load_generator(path)


@pytest.mark.parametrize("name", TINY)
def test_temperature_scales_about_the_mean(name, fitted):
    gen = fitted[name]
    X1 = gen.sample(200, random_state=3)
    s1 = gen.score_samples(X1)
    gen.set_params(temperature=0.5)
    try:
        Xt = gen.sample(200, random_state=3)
        c = gen._center()
        assert np.array_equal(c, gen.mean_)
        assert np.allclose(Xt - c, 0.5 * (X1 - c), atol=1e-9)
        # log p_t(c + t (x - c)) = log p_1(x) - N log t.
        assert np.allclose(gen.score_samples(Xt), s1 - 2 * np.log(0.5), rtol=1e-6, atol=1e-6)
    finally:
        gen.set_params(temperature=1.0)


def test_diffusion_eta_zero_draws_only_the_starting_noise(fitted):
    gen = fitted["diffusion"]
    assert gen.eta == 1.0
    X1 = gen.sample(100, random_state=0)
    gen.set_params(eta=0.0)
    try:
        rng = np.random.default_rng(0)
        X0 = gen.sample(100, random_state=rng)
        assert np.isfinite(X0).all() and not np.array_equal(X0, X1)
        # Deterministic DDIM consumed exactly the 100 x 2 starting normals.
        assert np.array_equal(
            rng.standard_normal(3), np.random.default_rng(0).standard_normal(203)[200:]
        )
    finally:
        gen.set_params(eta=1.0)
