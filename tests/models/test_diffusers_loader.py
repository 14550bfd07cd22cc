"""diffusers' AutoencoderKL from a local folder: a tiny, randomly initialised one saved to a
temporary folder (never a download), through encode → analyze → sample → compare."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from model_verbs import JUDGES, one_line_error, verbs_end_to_end

from latentatlas.cli import main
from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.store import load_store
from latentatlas.generators.sampling import sample
from latentatlas.models import ModelSpec, load_latent_model
from latentatlas.models.encode import encode
from latentatlas.models.tensors import to_tensor
from latentatlas.verdict.compare import run_compare, store_generators

# diffusers takes ~1.5 s to import: the tests that run import it (the fixture below), not every
# xdist worker that collects this file.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("diffusers") is None, reason="could not import 'diffusers'"
)


@pytest.fixture(scope="module")
def diffusers() -> ModuleType:
    return importlib.import_module("diffusers")


# 16-px images, four blocks (three halvings): latents 2 x 2 x 2, N = 8.
TINY_KL = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [8, 8, 8, 8],
    "layers_per_block": 1,
    "latent_channels": 2,
    "norm_num_groups": 4,
    "sample_size": 16,
    "scaling_factor": 0.5,
}


@pytest.fixture(scope="module")
def tiny_kl(diffusers: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("kl") / "vae"
    diffusers.AutoencoderKL(**TINY_KL).save_pretrained(folder)
    return folder


def test_autoencoder_kl_from_the_cli(
    diffusers: ModuleType, tiny_cache: Path, tiny_kl: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a download attempt would fail, not hang
    meta = verbs_end_to_end([str(tiny_kl)], tiny_cache, tmp_path, capsys)
    assert meta["latent_shape"] == [2, 2, 2] and meta["latent_dim"] == 8
    assert meta["scaling_factor"] == 0.5 and meta["model"] == {"source": str(tiny_kl)}
    # z = posterior mean x scaling_factor of the images mapped to [-1, 1].
    load = diffusers.AutoencoderKL.from_pretrained
    vae = load(tiny_kl, local_files_only=True, low_cpu_mem_usage=False).eval()
    x = to_tensor(np.load(tiny_cache / "images.npy")[:4], torch.device("cpu"))
    with torch.no_grad():
        expected = vae.encode(2 * x - 1).latent_dist.mean * 0.5
    z = load_store(tmp_path / "store").z[:4]
    np.testing.assert_allclose(z, expected.flatten(1).numpy(), rtol=1e-4, atol=1e-5)
    # Decoding divides by the factor again and maps [-1, 1] back to [0, 1].
    model = load_latent_model(str(tiny_kl))
    with torch.no_grad():
        got = model.decode(torch.from_numpy(np.array(z)))
        want = (vae.decode(expected / 0.5).sample + 1) / 2
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-5)


def test_autoencoder_kl_from_python(
    tiny_cache: Path, tiny_kl: Path, tmp_path: Path, gauss_store: Path
) -> None:
    model = load_latent_model(ModelSpec(str(tiny_kl)))
    assert (model.image_size, model.channels, model.latent_shape) == (16, 3, (2, 2, 2))
    encode(model, tiny_cache, tmp_path / "store", progress=False)
    store = load_store(tmp_path / "store")
    assert store.meta["model_sha256"] == model.checksum
    # No shift_factor in the config: recorded as null (z = mean x scaling_factor).
    assert store.meta["latent_shape"] == [2, 2, 2] and store.meta["shift_factor"] is None
    sample(model, store, tmp_path / "s", "spatial", n=4, progress=False)
    settings = {"generators": ["spatial"], "n": 20, "judges": JUDGES, "progress": False}
    verdict = run_compare(str(tiny_kl), tmp_path / "store", tmp_path / "v", **settings)
    assert verdict["rows"][0]["generator"] == "spatial"
    # By default compare adds the spatial generator for a store with a C x H x W shape only.
    assert "spatial" in store_generators(None, store)
    flat = load_store(gauss_store)
    assert "spatial" not in store_generators(None, flat)
    with pytest.raises(LatentAtlasError, match="'spatial' needs a spatial latent"):
        store_generators(["spatial"], flat)


def test_missing_extra_is_named(
    tiny_cache: Path, tiny_kl: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setitem(sys.modules, "diffusers", None)  # import diffusers → ImportError
    argv = ["encode", str(tiny_kl), str(tiny_cache), "--out", str(tmp_path / "o"), "--quiet"]
    assert main(argv) == 2
    line = one_line_error(capsys.readouterr().err, "encode")
    assert "diffusers is not installed" in line and "latentatlas[diffusers]" in line


def test_damaged_folder(tiny_kl: Path, tmp_path: Path, capsys) -> None:
    broken = tmp_path / "vae"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"_class_name": "AutoencoderKL", **TINY_KL}))
    argv = ["sample", str(broken), str(tmp_path / "z.npy"), "--out", str(tmp_path / "o")]
    assert main([*argv, "--quiet"]) == 2
    assert "not a loadable AutoencoderKL" in one_line_error(capsys.readouterr().err, "sample")


def test_spatial_latents_and_scaling_verdict(
    diffusers: ModuleType, tiny_cache: Path, tmp_path: Path
) -> None:
    """SD3/FLUX's convention (a shift_factor): encode records the latent shape and both factors,
    and the atlas's spatial section states the factors that standardise the VAE's own
    posterior means."""
    from html import escape
    from types import SimpleNamespace

    from latentatlas.atlas.sections.spatial import section_spatial
    from latentatlas.core.html import Page

    torch.manual_seed(0)
    config = {**TINY_KL, "shift_factor": 0.1}
    for key in ("down_block_types", "up_block_types", "block_out_channels"):
        config[key] = config[key][:3]  # two halvings: latents 2 x 4 x 4
    vae = diffusers.AutoencoderKL(**config).eval()
    vae.save_pretrained(tmp_path / "vae")
    meta = encode(str(tmp_path / "vae"), tiny_cache, tmp_path / "store", progress=False)
    assert meta["latent_shape"] == [2, 4, 4]
    assert (meta["scaling_factor"], meta["shift_factor"]) == (0.5, 0.1)
    store = load_store(tmp_path / "store")
    assert json.loads((tmp_path / "store" / "store.json").read_text())["shift_factor"] == 0.1
    ctx = SimpleNamespace(
        store=store, z=store.z, dim=store.latent_dim, seed=0, summary={}, driver=None
    )
    page = Page("spatial")
    section_spatial(ctx, page)
    x = to_tensor(np.load(tiny_cache / "images.npy"), torch.device("cpu"))
    with torch.no_grad():
        raw = vae.encode(2 * x - 1).latent_dist.mean.double().numpy()
    sc = ctx.summary["spatial"]["scaling"]
    assert sc["scaling_factor_for_unit_std"] == pytest.approx(1 / raw.std(), rel=1e-4)
    assert sc["shift_factor_for_zero_mean"] == pytest.approx(raw.mean(), rel=1e-4, abs=1e-5)
    z = np.asarray(store.z, dtype=np.float64)
    verdict = (
        "At the configured scaling_factor 0.5 and shift_factor 0.1 the latents have mean "
        f"{z.mean():.3g} and standard deviation {z.std():.3g}"
    )
    assert ctx.summary["spatial"]["verdict"].startswith(verdict)
    assert escape(verdict) in page.render()
