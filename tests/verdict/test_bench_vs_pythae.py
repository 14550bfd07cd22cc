"""Smoke test of bench/bench_vs_pythae.py's wrapping (only where the bench extra is installed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("pythae", reason="pythae is a bench-only extra: pip install -e '.[bench]'")

from latentatlas.models.pretrained import celeba64  # noqa: E402

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_vs_pythae.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_vs_pythae", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pythae_gmm_sees_the_train_points_and_decodes_with_our_decoder(bench):
    from pythae.samplers import GaussianMixtureSampler, GaussianMixtureSamplerConfig

    model, store = celeba64()
    train = np.asarray(store.subset("train")[:300], dtype=np.float64)
    wrapped, data = bench.wrap_autoencoder(model, train)
    assert data.min() == 0 and data.max() == 1  # pythae's own range check
    np.random.seed(0)  # noqa: NPY002 - pythae's mixture draws from the global generator
    sampler = GaussianMixtureSampler(wrapped, GaussianMixtureSamplerConfig(n_components=2))
    sampler.fit(data)
    # The mixture was fitted on the train z-points themselves, not on a transformed copy.
    gmm = sampler.gmm
    np.testing.assert_allclose(gmm.weights_ @ gmm.means_, train.mean(axis=0), atol=1e-4)
    wrapped.decoder.seen.clear()
    with torch.no_grad():
        images = sampler.sample(num_samples=5)
    z = torch.cat(wrapped.decoder.seen)
    assert z.shape == (5, train.shape[1]) and images.shape == (5, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(images, model.decode(z))


def test_matchups_pair_gmm_with_gmm_and_flows_with_our_best(bench):
    def row(name, lib, acc, face):
        return {"sampler": name, "library": lib, "two_sample_accuracy": acc, "face_rate": face}

    rows = [
        row("gmm", "latentatlas", 0.6, 0.9),
        row("kde", "latentatlas", 0.55, 0.8),
        row("gmm", "pythae", 0.7, 0.9),
        row("maf", "pythae", 0.52, 0.85),
    ]
    got = {m["pythae"]: m for m in bench.matchups(rows)}
    assert got["gmm"]["ours"] == "gmm" and got["gmm"]["verdict"] == "2s-acc ahead, face tie"
    assert got["maf"]["ours"] == "kde" and got["maf"]["verdict"] == "2s-acc behind, face behind"
