from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest
import torch

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def toy_module_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """``toy_autoencoders:FACTORY`` importable, as a user's own package would be."""
    monkeypatch.syspath_prepend(str(HERE))


@pytest.fixture(scope="session")
def toy() -> ModuleType:
    """The ``toy_autoencoders`` module itself."""
    sys.path.insert(0, str(HERE))
    try:
        return importlib.import_module("toy_autoencoders")
    finally:
        sys.path.remove(str(HERE))


@pytest.fixture(scope="session")
def toy_weights(toy: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeded weights of ``toy_autoencoders:build`` as safetensors."""
    from safetensors.torch import save_file

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("toy") / "toy.safetensors"
    save_file(toy.build().state_dict(), str(path))
    return path


@pytest.fixture(scope="session")
def toy_script(toy: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``toy_autoencoders:build`` as a TorchScript archive (encode and decode exported)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("toy") / "toy.ts"
    torch.jit.save(torch.jit.script(toy.build()), str(path))
    return path
