"""pythae model folders: default networks load without running any pickle; custom networks
(pickles) only with --trust-pickle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from model_verbs import JUDGES, one_line_error, verbs_end_to_end

from latentatlas.cli import main
from latentatlas.data.store import load_store
from latentatlas.generators.sampling import sample
from latentatlas.models import ModelSpec, load_latent_model
from latentatlas.models.encode import encode
from latentatlas.models.tensors import to_tensor
from latentatlas.verdict.compare import run_compare

pm = pytest.importorskip("pythae.models")


@pytest.fixture(scope="module")
def tiny_vae(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    torch.manual_seed(0)
    vae = pm.VAE(pm.VAEConfig(input_dim=(3, 16, 16), latent_dim=8)).eval()
    folder = tmp_path_factory.mktemp("pythae") / "vae"
    vae.save(str(folder))
    return folder, vae


def test_pythae_vae_from_the_cli(tiny_cache: Path, tiny_vae, tmp_path: Path, capsys) -> None:
    folder, vae = tiny_vae
    meta = verbs_end_to_end([str(folder)], tiny_cache, tmp_path, capsys)
    assert meta["latent_shape"] == [8] and meta["pythae_model"] == "VAE"
    # z = the encoder's mean (embedding), for [0, 1] images.
    x = to_tensor(np.load(tiny_cache / "images.npy")[:4], torch.device("cpu"))
    with torch.no_grad():
        expected = vae.encoder(x).embedding
    z = load_store(tmp_path / "store").z[:4]
    np.testing.assert_allclose(z, expected.numpy(), rtol=1e-4, atol=1e-5)


def test_pythae_from_python(tiny_cache: Path, tiny_vae, tmp_path: Path) -> None:
    folder, vae = tiny_vae
    model = load_latent_model(ModelSpec(str(folder)))
    assert (model.image_size, model.channels, model.latent_shape) == (16, 3, (8,))
    encode(model, tiny_cache, tmp_path / "store", progress=False)
    sample(model, tmp_path / "store", tmp_path / "s", "cube", n=4, progress=False)
    verdict = run_compare(
        model,
        tmp_path / "store",
        tmp_path / "v",
        generators=["cube"],
        n=20,
        judges=JUDGES,
        progress=False,
    )
    assert verdict["rows"][0]["generator"] == "cube"
    with torch.no_grad():
        z = torch.randn(3, 8)
        want = vae.decoder(z).reconstruction
        np.testing.assert_allclose(model.decode(z).numpy(), want.numpy(), atol=1e-6)


def test_custom_networks_need_trust_pickle(
    tiny_cache: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    from toy_pythae import FlatEncoder

    vae = pm.VAE(pm.VAEConfig(input_dim=(3, 16, 16), latent_dim=8), encoder=FlatEncoder())
    folder = tmp_path / "custom"
    vae.save(str(folder))
    assert (folder / "encoder.pkl").is_file()
    argv = ["encode", str(folder), str(tiny_cache), "--out", str(tmp_path / "o"), "--quiet"]
    assert main(argv) == 2
    line = one_line_error(capsys.readouterr().err, "encode")
    assert "pickles" in line and "--trust-pickle" in line
    assert not (tmp_path / "o").exists()
    assert main([*argv, "--trust-pickle"]) == 0
    assert load_store(tmp_path / "o").latent_dim == 8


def test_missing_extra_is_named(tiny_cache: Path, tiny_vae, tmp_path: Path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "pythae.models", None)
    monkeypatch.setitem(sys.modules, "pythae", None)
    argv = ["encode", str(tiny_vae[0]), str(tiny_cache), "--out", str(tmp_path / "o"), "--quiet"]
    assert main(argv) == 2
    assert "latentatlas[pythae]" in one_line_error(capsys.readouterr().err, "encode")
