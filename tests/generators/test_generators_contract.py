"""The scikit-learn-style contract, save/load and fitted_params, for every generator."""

from __future__ import annotations

import json

import numpy as np
import pytest
from generator_configs import CONFIGS

from latentatlas.generators import (
    GENERATOR_CLASSES,
    GENERATORS,
    SPATIAL,
    BaseGenerator,
    GaussianMixture,
    IsotropicNormal,
    MultivariateNormal,
    NotFittedError,
    StationaryGaussian,
    UniformCube,
    load_generator,
    make_generator,
    save_generator,
)


@pytest.fixture(scope="module")
def fitted(small):
    return {name: factory().fit(small) for name, factory in CONFIGS.items()}


@pytest.mark.parametrize("name", CONFIGS)
def test_unfitted(name):
    gen = CONFIGS[name]()
    assert isinstance(gen, BaseGenerator) and not gen.is_fitted
    with pytest.raises(NotFittedError, match="fit"):
        gen.sample(3)
    with pytest.raises(NotFittedError):
        gen.fitted_params()
    params = gen.get_params()
    assert list(params) == type(gen)._param_names()
    assert repr(gen).startswith(f"{type(gen).__name__}(")
    clone = type(gen)(**params)
    assert clone.get_params() == params
    assert gen.set_params(**params) is gen


@pytest.mark.parametrize("name", CONFIGS)
def test_sample_contract(name, fitted, small):
    gen = fitted[name]
    assert gen.n_features_in_ == small.shape[1]
    X = gen.sample(200, random_state=3)
    assert X.shape == (200, 5) and X.dtype == np.float64 and np.isfinite(X).all()
    assert np.array_equal(X, gen.sample(200, random_state=3))
    assert not np.array_equal(X, gen.sample(200, random_state=4))
    # A Generator is used as is (so a caller can thread one through several steps).
    assert np.array_equal(X, gen.sample(200, random_state=np.random.default_rng(3)))
    assert gen.sample(0, random_state=0).shape == (0, 5)
    with pytest.raises(ValueError):
        gen.sample(-1)


@pytest.mark.parametrize("name", CONFIGS)
def test_fitted_params_json(name, fitted):
    info = fitted[name].fitted_params()
    assert info["generator"] == type(fitted[name]).__name__ and info["n_features_in"] == 5
    json.dumps(info, allow_nan=False)


@pytest.mark.parametrize("name", CONFIGS)
def test_save_load_round_trip(name, fitted, small, tmp_path):
    gen = fitted[name]
    path = save_generator(gen, tmp_path / "gen")
    assert sorted(p.name for p in path.iterdir()) == sorted(
        ["generator.json"] + (["arrays.npz"] if type(gen)._fitted_arrays else [])
    )
    loaded = load_generator(path)
    assert type(loaded) is type(gen)
    assert repr(loaded) == repr(gen).replace("(0.5, 2.0)", "[0.5, 2.0]")
    assert np.array_equal(loaded.sample(300, random_state=11), gen.sample(300, random_state=11))
    assert loaded.fitted_params() == gen.fitted_params()
    # Still fits like a fresh one.
    assert np.array_equal(
        type(gen)(**loaded.get_params()).fit(small).sample(5, 0), gen.sample(5, 0)
    )


def test_cube_union_round_trip_keeps_tuple(fitted, tmp_path):
    loaded = load_generator(save_generator(fitted["cube-union"], tmp_path / "g"))
    assert loaded.b_ == (0.5, 2.0)


def test_gmm_round_trip_rebuilds_estimator(fitted, small, tmp_path):
    for ct in ("full", "tied", "diag", "spherical"):
        gen = fitted[f"gmm-{ct}"]
        loaded = load_generator(save_generator(gen, tmp_path / ct))
        est, est2 = gen.estimator_, loaded.estimator_
        assert est2.score(small) == pytest.approx(est.score(small), rel=1e-12)
        assert np.array_equal(est2.predict(small), est.predict(small))
        assert np.allclose(est2.precisions_, est.precisions_, rtol=1e-12, atol=0)


def test_save_unfitted_and_overwrite(tmp_path):
    gen = MultivariateNormal(shrinkage="ledoit-wolf")
    path = save_generator(gen, tmp_path / "g")
    assert [p.name for p in path.iterdir()] == ["generator.json"]
    loaded = load_generator(path)
    assert not loaded.is_fitted and loaded.get_params() == gen.get_params()
    with pytest.raises(FileExistsError):
        save_generator(gen, path)
    save_generator(IsotropicNormal(3.0), path, overwrite=True)
    assert load_generator(path).scale == 3.0


def test_load_errors(fitted, tmp_path):
    path = save_generator(fitted["mvn"], tmp_path / "g")
    doc = json.loads((path / "generator.json").read_text())

    with pytest.raises(FileNotFoundError):
        load_generator(tmp_path / "nothing")

    (path / "generator.json").write_text(json.dumps({**doc, "class": "Pickled"}))
    with pytest.raises(ValueError, match="unknown generator class 'Pickled'"):
        load_generator(path)

    (path / "generator.json").write_text(json.dumps({**doc, "format": "other"}))
    with pytest.raises(ValueError, match="not a saved"):
        load_generator(path)

    (path / "generator.json").write_text(json.dumps({**doc, "params": {"bogus": 1}}))
    with pytest.raises(ValueError, match="bad parameters"):
        load_generator(path)

    (path / "generator.json").write_text(json.dumps({**doc, "arrays": [*doc["arrays"], "extra_"]}))
    with pytest.raises(ValueError, match="lacks the arrays"):
        load_generator(path)

    (path / "generator.json").write_text(
        json.dumps({**doc, "arrays": [a for a in doc["arrays"] if a != "factor_"]})
    )
    with pytest.raises(ValueError, match="factor_"):
        load_generator(path)

    (path / "generator.json").write_text(json.dumps(doc))
    load_generator(path)  # intact again
    (path / "arrays.npz").unlink()
    with pytest.raises(ValueError, match="arrays.npz is missing"):
        load_generator(path)


def test_save_rejects_unserialisable_params(small, tmp_path):
    gen = GaussianMixture(n_components=2, random_state=np.random.RandomState(0)).fit(small)
    with pytest.raises(ValueError, match="JSON"):
        save_generator(gen, tmp_path / "g")
    assert not (tmp_path / "g").exists()


def test_registry():
    assert list(GENERATORS) == [
        "cube",
        "normal",
        "normal-fit",
        "percomponent",
        "mvn",
        "pca",
        "gmm",
        "kde",
    ]
    assert repr(GENERATORS["cube"]()) == repr(UniformCube(b="auto"))
    assert GENERATORS["normal-fit"]().scale == "fit"
    # ShiftedNormal is the degradation ladder's, not a generator anyone should pick.
    assert {type(f()).__name__ for f in [*GENERATORS.values(), *SPATIAL.values()]} == set(
        GENERATOR_CLASSES
    ) - {"ShiftedNormal"}
    gen = make_generator("mvn", shrinkage=0.2)
    assert isinstance(gen, MultivariateNormal) and gen.shrinkage == 0.2
    assert make_generator("pca") is not make_generator("pca")
    with pytest.raises(ValueError, match="cube, normal, normal-fit, percomponent, mvn, pca, gmm"):
        make_generator("vae")
    # The spatial generator takes the store's latent shape, and says so when there is none.
    assert make_generator("spatial", latent_shape=(4, 8, 8)).latent_shape == [4, 8, 8]
    assert isinstance(make_generator("spatial", latent_shape=(4, 8, 8)), StationaryGaussian)
    mvn = make_generator("mvn", latent_shape=(4, 8, 8))
    assert mvn.get_params() == MultivariateNormal().get_params()
    with pytest.raises(ValueError, match="'spatial' needs a spatial latent"):
        make_generator("spatial")
    with pytest.raises(ValueError, match="no parameter"):
        make_generator("normal", shrinkage=0.1)
