"""Models besides latentatlas's own: a torch.nn.Module factory and a TorchScript archive, each
through encode → analyze → sample → compare, from the CLI and from Python; and the one-line
errors of models that do not fit the interface."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from model_verbs import JUDGES, one_line_error, verbs_end_to_end

from latentatlas.atlas import run_atlas
from latentatlas.cli import main
from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.store import load_store
from latentatlas.generators.sampling import sample
from latentatlas.models import ModelSpec, load_latent_model
from latentatlas.models.decode import decode
from latentatlas.models.encode import encode
from latentatlas.models.tensors import to_tensor
from latentatlas.verdict.compare import run_compare

FACTORY = "toy_autoencoders:build"


def test_factory_model_from_the_cli(tiny_cache: Path, toy_weights: Path, tmp_path: Path, capsys):
    args = ["--model", FACTORY, "--weights", str(toy_weights)]
    # analyze --model decodes with the factory model too (section 10).
    meta = verbs_end_to_end(args, tiny_cache, tmp_path, capsys, analyze_args=args)
    assert meta["latent_dim"] == 8 and meta["latent_shape"] == [2, 2, 2]
    assert meta["model"] == {"source": FACTORY, "weights": str(toy_weights.resolve())}
    assert meta["channels"] == 3 and meta["image_size"] == 16
    # The z-points are the module's own encodings of the cached images, flattened.
    import toy_autoencoders
    from safetensors.torch import load_file

    module = toy_autoencoders.build()
    module.load_state_dict(load_file(str(toy_weights)))
    cache_images = np.load(tiny_cache / "images.npy")[:5]
    with torch.no_grad():
        expected = module.encode(to_tensor(cache_images, torch.device("cpu"))).flatten(1)
    z = load_store(tmp_path / "store").z[:5]
    np.testing.assert_allclose(z, expected.numpy(), rtol=1e-5, atol=1e-6)
    summary = json.loads((tmp_path / "atlas" / "summary.json").read_text())
    decoded = summary["fragmentation"]["decoded"]
    assert decoded["model"] == FACTORY
    # The toy decoder paints no faces: section 10 says the face rate does not apply, and why.
    assert decoded["faces"] is False and "face_rate" not in decoded
    assert "endpoints are not faces (Haar face rate" in decoded["reason"]
    page = (tmp_path / "atlas" / "index.html").read_text()
    assert "face rates along the segments do not apply" in page
    assert "decoded: face rate" not in page


def test_factory_model_from_python(tiny_cache: Path, toy_weights: Path, tmp_path: Path) -> None:
    spec = ModelSpec(FACTORY, weights=str(toy_weights))
    model = load_latent_model(spec)
    assert (model.image_size, model.channels, model.latent_shape) == (16, 3, (2, 2, 2))
    info = encode(spec, tiny_cache, tmp_path / "store", progress=False)
    assert info["model_sha256"] == model.checksum
    store = load_store(tmp_path / "store")
    summary = run_atlas(store, tmp_path / "atlas", sample=1500, prdc_sample=200, progress=False)
    assert summary["input"]["N"] == 8
    got = sample(model, store, tmp_path / "s", "mvn", n=4, progress=False)
    assert got["n"] == 4 and (tmp_path / "s" / "grid.png").is_file()
    verdict = run_compare(
        model, store, tmp_path / "v", generators=["cube"], n=20, judges=JUDGES, progress=False
    )
    assert verdict["checkpoint"] == FACTORY and verdict["rows"][0]["generator"] == "cube"


def test_submodules_with_input_range(tiny_cache: Path, tmp_path: Path) -> None:
    """encoder/decoder sub-modules found by default; [0, 1] images mapped to [-1, 1] and back."""
    import toy_autoencoders

    spec = ModelSpec("toy_autoencoders:build_submodules", input_range=(-1.0, 1.0), image_size=16)
    model = load_latent_model(spec)
    torch.manual_seed(0)
    module = toy_autoencoders.build_submodules()
    module.load_state_dict(model.module.state_dict())
    x = torch.rand(3, 3, 16, 16)
    with torch.no_grad():
        np.testing.assert_allclose(
            model.encode(x).numpy(), module.encoder(2 * x - 1).flatten(1).numpy(), atol=1e-6
        )
        z = model.encode(x)
        images = model.decode(z)
        expected = (module.decoder(z.reshape(3, 2, 2, 2)) + 1) / 2
    np.testing.assert_allclose(images.numpy(), expected.numpy(), atol=1e-6)
    assert float(images.min()) >= 0 and float(images.max()) <= 1  # tanh range mapped to [0, 1]


def test_grey_model_reads_grey_and_decodes_to_rgb(tiny_cache: Path, tmp_path: Path) -> None:
    info = encode(
        ModelSpec("toy_autoencoders:build_grey"), tiny_cache, tmp_path / "s", progress=False
    )
    assert info["channels"] == 1 and info["latent_dim"] == 8
    model = load_latent_model(ModelSpec("toy_autoencoders:build_grey"))
    images = decode(model, load_store(tmp_path / "s").z[:3])
    assert images.shape == (3, 16, 16, 3)
    assert (images[..., 0] == images[..., 1]).all() and (images[..., 1] == images[..., 2]).all()


def test_store_remembers_its_model(tiny_cache: Path, toy_weights: Path, tmp_path: Path, capsys):
    """A store encoded with one set of weights is refused with another, as with checkpoints."""
    from safetensors.torch import save_file

    spec = ModelSpec(FACTORY, weights=str(toy_weights))
    encode(spec, tiny_cache, tmp_path / "store", progress=False)
    torch.manual_seed(1)
    import toy_autoencoders

    other = tmp_path / "other.safetensors"
    save_file(toy_autoencoders.build().state_dict(), str(other))
    argv = ["sample", "--model", FACTORY, str(tmp_path / "store"), "--n", "4", "--quiet"]
    assert main([*argv, "--weights", str(other), "--out", str(tmp_path / "o")]) == 2
    line = one_line_error(capsys.readouterr().err, "sample")
    assert "was encoded by the model with sha256" in line and "--allow-mismatch" in line
    assert not (tmp_path / "o").exists()
    assert (
        main([*argv, "--weights", str(other), "--out", str(tmp_path / "o"), "--allow-mismatch"])
        == 0
    )
    # The same weights as a torch state dict are the same model.
    pt = tmp_path / "toy.pt"
    from safetensors.torch import load_file

    torch.save(load_file(str(toy_weights)), pt)
    assert main([*argv, "--weights", str(pt), "--out", str(tmp_path / "p"), "--quiet"]) == 0


def test_torchscript_model_from_the_cli(
    tiny_cache: Path, toy_script: Path, tmp_path: Path, capsys
) -> None:
    # Loading an archive runs its code: it is named as one (torchscript:PATH), never guessed.
    named = f"torchscript:{toy_script}"
    meta = verbs_end_to_end([named], tiny_cache, tmp_path, capsys)
    assert meta["latent_shape"] == [2, 2, 2] and meta["model"] == {"source": named}
    # As a --model option too, and from Python: the same model, the same checksum.
    out = tmp_path / "s2"
    argv = ["sample", "--model", named, str(tmp_path / "store"), "--out", str(out)]
    assert main([*argv, "--quiet"]) == 0
    assert load_latent_model(named).checksum == meta["model_sha256"]


def test_torchscript_from_python(tiny_cache: Path, toy_script: Path, tmp_path: Path) -> None:
    model = load_latent_model(f"torchscript:{toy_script}")
    encode(model, tiny_cache, tmp_path / "store", progress=False)
    store = load_store(tmp_path / "store")
    run_atlas(store, tmp_path / "atlas", sample=1500, prdc_sample=200, progress=False)
    sample(model, tmp_path / "store", tmp_path / "s", "cube", n=4, progress=False)
    verdict = run_compare(
        model, store, tmp_path / "v", generators=["cube"], n=20, judges=JUDGES, progress=False
    )
    assert verdict["rows"][0]["n"] == 20


def test_torchscript_without_decode(toy, tmp_path: Path, capsys) -> None:
    class EncodeOnly(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.image_size = 16
            self.inner = toy.build()

        @torch.jit.export
        def encode(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner.encode(x)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.inner(x)

    path = tmp_path / "enc.ts"
    torch.jit.save(torch.jit.script(EncodeOnly()), str(path))
    argv = ["sample", f"torchscript:{path}", str(tmp_path / "z.npy"), "--out", str(tmp_path / "o")]
    assert main([*argv, "--quiet"]) == 2
    line = one_line_error(capsys.readouterr().err, "sample")
    assert "exports no decode method" in line


def test_image_size_from_the_cache_and_the_store(tiny_cache: Path, tmp_path: Path, capsys):
    """A factory model without image_size takes the cache's size (saying so in one line), then
    the size its store records; with neither, it must be told."""
    factory = "toy_autoencoders:build_submodules"
    store = tmp_path / "store"
    argv = ["encode", factory, str(tiny_cache), "--out", str(store), "--quiet"]
    assert main(argv) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"{factory}: the model declares no image_size; taking 16px from the cache {tiny_cache} "
        "(--image-size sets another)"
    ]
    assert load_store(store).meta["image_size"] == 16
    # The toy model's weights are random at each build: another model than the store's.
    argv = ["sample", factory, str(store), "--out", str(tmp_path / "s"), "--n", "4"]
    assert main([*argv, "--allow-mismatch"]) == 0
    assert f"taking 16px from the store {store}" in capsys.readouterr().err
    with pytest.raises(LatentAtlasError, match="declares no image_size"):
        load_latent_model(ModelSpec(factory))


BAD = [
    ("toy_autoencoders:only_decode", [], "the model has no encode (encode or encoder"),
    (
        "toy_autoencoders:wrong_shape",
        [],
        "decode returned images of shape (3, 8, 8), expected (3, 16, 16)",
    ),
    ("toy_autoencoders:nan_encoder", [], "encode produced NaN or inf latents"),
    ("toy_autoencoders:raising", [], "the factory raised ValueError: config file missing"),
    ("toy_autoencoders:not_a_module", [], "returned int, not a torch.nn.Module"),
    ("toy_autoencoders:nowhere", [], "toy_autoencoders has no callable nowhere"),
    ("no_such_package_xyz.mod:build", [], "cannot import no_such_package_xyz.mod"),
    ("toy_autoencoders:build", ["--encode-attr", "embed"], "the model has no encode (embed;"),
    ("toy_autoencoders:build", ["--image-size", "32"], "prepare it with --size 32"),
    (
        "toy_autoencoders:build",
        ["--image-size", "20"],
        "decode returned images of shape (3, 16, 16), expected (3, 20, 20)",
    ),
    (
        "toy_autoencoders:build",
        ["--image-size", "4"],
        "encode failed on a batch of shape (2, 3, 4, 4) (RuntimeError",
    ),
]


@pytest.mark.parametrize(
    ("factory", "extra", "message"), BAD, ids=[b[0] + " ".join(b[1]) for b in BAD]
)
def test_models_that_do_not_fit(
    tiny_cache: Path, tmp_path: Path, capsys, factory: str, extra: list[str], message: str
) -> None:
    out = tmp_path / "store"
    argv = ["encode", "--model", factory, *extra, str(tiny_cache), "--out", str(out), "--quiet"]
    assert main(argv) == 2
    line = one_line_error(capsys.readouterr().err, "encode")
    assert message in line, line
    assert not out.exists()


def test_spec_mistakes(tiny_run: Path, tiny_cache: Path, toy_weights: Path, tmp_path: Path, capsys):
    out = str(tmp_path / "o")
    cases = [
        (["encode", str(tiny_run), str(tiny_cache), "--model", FACTORY], "not both"),
        (["encode", str(tiny_cache)], "no model given"),
        (
            ["encode", str(tiny_run), str(tiny_cache), "--weights", str(toy_weights)],
            "--weights applies only to a model given as package.module:factory",
        ),
        (
            ["encode", "--model", FACTORY, "--weights", str(tmp_path / "none.pt"), str(tiny_cache)],
            "no such weights file",
        ),
    ]
    cases += [
        # A missing file is the error, not the flag that cannot apply to it.
        (
            ["encode", str(tmp_path / "gone.pt"), str(tiny_cache), "--input-range=-1,1"],
            "no such checkpoint",
        ),
        (
            ["encode", str(tiny_run), str(tiny_cache), "--input-range=-1,1"],
            "a latentatlas checkpoint records its own image size and range",
        ),
    ]
    for argv, message in cases:
        assert main([*argv, "--out", out]) == 2
        assert message in one_line_error(capsys.readouterr().err, "encode")
    # Weights of another architecture: named, in one line.
    torch.save({"down.weight": torch.zeros(1)}, tmp_path / "bad.pt")
    argv = ["encode", "--model", FACTORY, "--weights", str(tmp_path / "bad.pt"), str(tiny_cache)]
    assert main([*argv, "--out", out]) == 2
    assert "weights do not fit" in one_line_error(capsys.readouterr().err, "encode")
