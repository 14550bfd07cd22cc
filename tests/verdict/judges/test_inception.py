"""The Inception judge is torch-fidelity's feature space: with a randomly initialised weights file
of the same format, its Fréchet distance and KID equal ``torch_fidelity.calculate_metrics``'s on
the same images; the file is found, checked and refused in one line, never downloaded."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.files import file_sha256
from latentatlas.metrics.frechet import frechet_distance
from latentatlas.metrics.kid import kernel_inception_distance
from latentatlas.verdict.judges import available_judges, inception

# The first pooled layer (64-d, after three convolutions at 299x299): the same file, resize and
# code path as pool3 at a tenth of its cost. pool3 (2048-d) would make torch-fidelity take the
# eigenvalues of a 2,048 x 2,048 non-symmetric matrix, seconds on its own.
LAYER = "64"
KID_SUBSETS, KID_SUBSET_SIZE, KID_SEED = 10, 5, 3


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """torch-fidelity's Inception network with random values, saved as its weights file is (a
    plain state_dict), named with its own sha256 prefix as torch.hub names files."""
    module = inception.fidelity_module("feature_extractor_inceptionv3")
    extractor = module.FeatureExtractorInceptionV3
    mp = pytest.MonkeyPatch()
    # Build the network without any file: no download, no loading.
    mp.setattr(module, "load_state_dict_from_url", lambda *a, **k: {})
    mp.setattr(extractor, "load_state_dict", lambda self, *a, **k: None)
    torch.manual_seed(0)
    net = extractor("inception-v3-compat", [LAYER])
    mp.undo()
    # Variance-keeping random convolutions and batch-norm statistics, so that features are O(1)
    # (PyTorch's default initialisation shrinks them to ~1e-8 by pool3).
    for m in net.modules():
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        elif isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0.0, 0.1)
            m.running_var.uniform_(0.5, 2.0)
    path = tmp_path_factory.mktemp("inception") / "random.pth"
    torch.save(net.state_dict(), path)
    named = path.with_name(f"weights-random-{file_sha256(path)[:8]}.pth")
    path.rename(named)
    return named


@pytest.fixture
def random_prefix(random_weights: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(inception, "WEIGHTS_SHA256_PREFIX", random_weights.stem.split("-")[-1])
    return random_weights


def images(n: int, high: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, high, size=(n, 32, 32, 3), dtype=np.uint8)


class _Images(torch.utils.data.Dataset):
    """uint8 (3, H, W) tensors, what torch-fidelity reads from a Dataset."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()

    def __len__(self) -> int:
        return len(self.arr)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.arr[i]


def _stand_in_torchvision() -> dict[str, types.ModuleType]:
    """The names torch-fidelity's modules import from torchvision when they load (its datasets
    module: CIFAR10, STL10, CIFAR100, transforms.functional). None of them runs on the path of
    a Dataset input and the Inception extractor."""
    tv = types.ModuleType("torchvision")
    tv.datasets = types.ModuleType("torchvision.datasets")
    for name in ("CIFAR10", "STL10", "CIFAR100"):
        setattr(tv.datasets, name, type(name, (), {}))
    tv.transforms = types.ModuleType("torchvision.transforms")
    tv.transforms.functional = types.ModuleType("torchvision.transforms.functional")
    tv.models = types.ModuleType("torchvision.models")
    return {
        "torchvision": tv,
        "torchvision.datasets": tv.datasets,
        "torchvision.transforms": tv.transforms,
        "torchvision.transforms.functional": tv.transforms.functional,
        "torchvision.models": tv.models,
    }


def test_fid_and_kid_equal_torch_fidelity(
    random_prefix: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, fake = images(8, 256, 0), images(8, 64, 1)
    judge = inception.InceptionJudge(random_prefix, layer=LAYER)
    assert judge.weights_sha256 == file_sha256(random_prefix)
    fa, fb = judge.features(real), judge.features(fake)
    assert fa.shape == (8, 64) and fa.dtype == np.float64 and fa.std() > 1e-3
    ours_kid = kernel_inception_distance(
        fa, fb, subsets=KID_SUBSETS, subset_size=KID_SUBSET_SIZE, seed=KID_SEED
    )

    for name, module in _stand_in_torchvision().items():
        monkeypatch.setitem(sys.modules, name, module)
    # The judge put a bare package object in place of torch_fidelity's __init__: import the
    # real package now that "torchvision" imports.
    monkeypatch.delitem(sys.modules, "torch_fidelity")
    before = set(sys.modules)
    import torch_fidelity

    try:
        theirs = _their_metrics(torch_fidelity, real, fake, random_prefix)
    finally:  # torch-fidelity's modules that imported the stand-in go with it
        for name in set(sys.modules) - before:
            if name.startswith("torch_fidelity"):
                del sys.modules[name]
    fid = theirs["frechet_inception_distance"]
    assert fid > 1e-3
    assert frechet_distance(fa, fb) == pytest.approx(fid, rel=1e-6)
    assert ours_kid["kid"] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-6)
    # torch-fidelity sums its kernel matrices in float32 (its features' dtype): the spread over
    # subsets, a difference of close values, agrees to ~1e-5 only.
    assert ours_kid["kid_std"] == pytest.approx(theirs["kernel_inception_distance_std"], rel=1e-4)


def _their_metrics(torch_fidelity: types.ModuleType, real: np.ndarray, fake: np.ndarray,
                   weights: Path) -> dict[str, float]:
    return torch_fidelity.calculate_metrics(
        input1=_Images(real),
        input2=_Images(fake),
        fid=True,
        kid=True,
        feature_extractor="inception-v3-compat",
        feature_layer_fid=LAYER,
        feature_layer_kid=LAYER,
        feature_extractor_weights_path=str(weights),
        kid_subsets=KID_SUBSETS,
        kid_subset_size=KID_SUBSET_SIZE,
        rng_seed=KID_SEED,
        cuda=False,
        cache=False,
        save_cpu_ram=True,
        verbose=False,
    )


def test_loads_without_torchvision_and_never_downloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = inception.fidelity_module("feature_extractor_inceptionv3")
    assert hasattr(module, "FeatureExtractorInceptionV3")
    assert "torchvision" not in sys.modules
    # No weights anywhere: one line that says where to put the file and where it comes from,
    # and no judge by default.
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setattr(module, "load_state_dict_from_url", _no_network)
    with pytest.raises(LatentAtlasError) as err:
        inception.InceptionJudge()
    message = str(err.value)
    assert "\n" not in message
    assert str(tmp_path / "hub" / "checkpoints" / inception.WEIGHTS_FILE) in message
    assert inception.WEIGHTS_URL in message
    assert "inception" not in available_judges()
    assert "inception" in available_judges({"inception": "somewhere.pth"})
    # pytorch-fid's name for the same file is found in the same cache.
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    (tmp_path / "hub" / "checkpoints" / inception.PYTORCH_FID_FILE).write_bytes(b"")
    assert inception.locate().name == inception.PYTORCH_FID_FILE


def _no_network(*args: object, **kwargs: object) -> None:
    raise AssertionError("the judge tried to download its weights")


def test_weights_checked_against_their_name(random_weights: Path, tmp_path: Path) -> None:
    # The random file is not torch-fidelity's: its sha256 does not start with 6726825d.
    with pytest.raises(LatentAtlasError, match="does not start with 6726825d.*--no-verify"):
        inception.InceptionJudge(random_weights, layer=LAYER)
    judge = inception.InceptionJudge(random_weights, verify=False, layer=LAYER)
    assert judge.features(images(2, 256, 5)).shape == (2, 64)
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"not a state dict")
    with pytest.raises(LatentAtlasError, match="cannot load Inception weights"):
        inception.InceptionJudge(broken, verify=False, layer=LAYER)


def test_compare_without_weights_says_where_to_put_them(
    tiny_run: Path, gauss_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    from latentatlas.cli import main

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    args = ["compare", str(tiny_run), str(gauss_store), "--n", "20", "--generators", "mvn"]
    expected = tmp_path / "hub" / "checkpoints" / inception.WEIGHTS_FILE
    assert main([*args, "--judges", "inception", "--quiet", "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert err.startswith("latentatlas compare: error: no Inception weights at ")
    assert str(expected) in err and inception.WEIGHTS_URL in err
    named = tmp_path / "elsewhere.pth"
    argv = [*args, "--feature-weights", f"inception={named}", "--out", str(tmp_path / "b")]
    assert main([*argv, "--quiet"]) == 2
    assert f"no Inception weights at {named}" in capsys.readouterr().err
    assert main([*args, "--feature-weights", "swav=x.pth", "--out", str(tmp_path / "c")]) == 2
    assert "expected NAME=PATH" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
