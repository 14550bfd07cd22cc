"""Loaders: a model spec → a :class:`~latentatlas.models.protocol.TorchLatentModel`.

1. a latentatlas checkpoint, run directory or bundled name (``celeba64``);
2. ``package.module:factory`` returning any ``torch.nn.Module``, with optional ``weights``
   (``.safetensors``, or a ``.pt`` state dict loaded with ``weights_only=True``);
3. a TorchScript archive exporting ``encode`` and ``decode``, given as ``torchscript:PATH`` (or
   with ``trust_code``): loading one runs the code it holds, so it is never guessed from a file;
4. a folder holding diffusers' ``AutoencoderKL`` (the ``diffusers`` extra);
5. a pythae model folder (the ``pythae`` extra).
"""

from __future__ import annotations

import importlib
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from latentatlas.core.errors import LatentAtlasError
from latentatlas.models.protocol import ModelSpec, TorchLatentModel, as_spec


def from_autoencoder(
    model: nn.Module, *, name: str = "ConvAutoencoder", checksum: str = "", info: Any = None
) -> TorchLatentModel:
    """latentatlas's own :class:`.autoencoder.ConvAutoencoder` as the protocol."""
    cfg = model.config
    device = next(model.parameters()).device
    return TorchLatentModel(
        model.encode,
        model.decode,
        image_size=cfg.image_size,
        channels=cfg.in_channels,
        latent_shape=(cfg.latent_dim,),  # known: no probe needed
        name=name,
        checksum=checksum,
        device=device,
        module=model,
        info=info,
    )


def as_latent_model(model: Any) -> TorchLatentModel:
    """A loaded protocol model as it is; latentatlas's own autoencoder wrapped."""
    if isinstance(model, TorchLatentModel):
        return model
    if isinstance(model, nn.Module) and hasattr(model, "config"):
        return from_autoencoder(model)
    raise TypeError(f"expected a latentatlas model, got {type(model).__name__}")


def spec_kind(spec: ModelSpec) -> str:
    """``factory``, ``torchscript``, ``diffusers``, ``pythae`` or ``checkpoint`` (the default,
    today's)."""
    from latentatlas.models.diffusers import is_diffusers_folder
    from latentatlas.models.pythae import is_pythae_folder

    if spec.is_torchscript:
        return "torchscript"
    if spec.is_factory:
        return "factory"
    path = Path(spec.source)
    if is_diffusers_folder(path):
        return "diffusers"
    if is_pythae_folder(path):
        return "pythae"
    if path.is_file() and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            # torch.jit.save writes the model's code into the archive; torch.save never does.
            if any("/code/" in name for name in z.namelist()):
                if not spec.trust_code:
                    raise LatentAtlasError(
                        f"{path} is a TorchScript archive, which runs its own code when loaded: "
                        f"give it as torchscript:{path} (or pass --trust-code) to load it"
                    )
                return "torchscript"
    return "checkpoint"


def input_paths(spec: str | os.PathLike | ModelSpec | TorchLatentModel) -> list[str]:
    """The files a spec reads (so that an output never replaces one); none for a loaded model."""
    from latentatlas.models.checkpoint import checkpoint_path

    if isinstance(spec, TorchLatentModel):
        return []
    spec = as_spec(spec)
    kind = spec_kind(spec)
    paths = [] if kind == "factory" else [spec.path]
    if kind == "checkpoint":
        paths.append(str(checkpoint_path(spec.source)))
    if spec.weights:
        paths.append(spec.weights)
    return paths


def load_latent_model(
    spec: str | os.PathLike | ModelSpec | TorchLatentModel,
    device: str | torch.device = "cpu",
    verify: bool = True,
    *,
    data_size: tuple[int, str] | None = None,
) -> TorchLatentModel:
    """Load and check the model a spec names; a loaded model is returned as it is.

    ``data_size`` is (image side, where it was read): the size of the images the model will
    meet (a cache's, or the one a store records), taken, with one line on stderr saying so,
    by a factory or TorchScript model that declares no ``image_size`` when the spec gives none.
    """
    if isinstance(spec, TorchLatentModel):
        return spec
    spec = as_spec(spec)
    device = torch.device(device)
    kind = spec_kind(spec)
    if kind != "factory":
        for flag, value in (
            ("--weights", spec.weights),
            ("--encode-attr", spec.encode_attr),
            ("--decode-attr", spec.decode_attr),
        ):
            if value is not None:
                raise LatentAtlasError(
                    f"{flag} applies only to a model given as package.module:factory"
                )
    if kind == "factory":
        model = _load_factory(spec, device, data_size)
    elif kind == "torchscript":
        model = _load_torchscript(spec, device, data_size)
    elif kind == "diffusers":
        from latentatlas.models.diffusers import load_autoencoder_kl

        model = load_autoencoder_kl(spec, device)
    elif kind == "pythae":
        from latentatlas.models.pythae import load_pythae

        model = load_pythae(spec, device)
    else:
        model = _load_checkpoint(spec, device, verify)
    model.spec = spec
    return model


def _load_checkpoint(spec: ModelSpec, device: torch.device, verify: bool) -> TorchLatentModel:
    from latentatlas.core.files import file_sha256
    from latentatlas.models.checkpoint import checkpoint_path, load_model

    # Loaded first: a missing or unreadable file is the error to report, not the flags.
    ae, state = load_model(spec.source, device, verify=verify)
    if spec.input_range is not None or spec.image_size or spec.channels:
        raise LatentAtlasError(
            f"{spec.source}: a latentatlas checkpoint records its own image size and range"
        )
    path = checkpoint_path(spec.source)
    info = {"checkpoint": str(path.resolve()), "model_config": state["model_config"]}
    return from_autoencoder(ae, name=str(path), checksum=file_sha256(path), info=info)


def _pick(module: Any, names: tuple[str, ...], what: str, label: str) -> Any:
    for attr in names:
        fn = getattr(module, attr, None)
        if callable(fn):
            return fn
    raise LatentAtlasError(
        f"{label}: the model has no {what} ({' or '.join(names)}; name another with --{what}-attr)"
    )


def _size(
    spec: ModelSpec, module: Any, label: str, data_size: tuple[int, str] | None
) -> tuple[int, int]:
    size = spec.image_size or getattr(module, "image_size", None)
    declared = isinstance(size, int) and not isinstance(size, bool)
    if not declared and data_size is not None:
        size, where = data_size
        print(
            f"{label}: the model declares no image_size; taking {size}px from {where} "
            "(--image-size sets another)",
            file=sys.stderr,
        )
    elif not declared:
        raise LatentAtlasError(
            f"{label}: the model declares no image_size (an int attribute); pass --image-size"
        )
    channels = spec.channels or getattr(module, "channels", None)
    channels = channels if isinstance(channels, int) else getattr(module, "in_channels", 3)
    return size, int(channels)


def _load_factory(
    spec: ModelSpec, device: torch.device, data_size: tuple[int, str] | None
) -> TorchLatentModel:
    from latentatlas.models.checkpoint import tensors_sha256

    label = spec.source
    module_name, factory_name = spec.source.split(":")
    try:
        mod = importlib.import_module(module_name)
    except Exception as e:
        raise LatentAtlasError(
            f"{label}: cannot import {module_name} ({type(e).__name__}: {e}); is it on PYTHONPATH?"
        ) from None
    factory = getattr(mod, factory_name, None)
    if not callable(factory):
        raise LatentAtlasError(f"{label}: {module_name} has no callable {factory_name}")
    try:
        module = factory()
    except Exception as e:
        first = (str(e).strip().splitlines() or [""])[0]
        raise LatentAtlasError(f"{label}: the factory raised {type(e).__name__}: {first}") from None
    if not isinstance(module, nn.Module):
        raise LatentAtlasError(
            f"{label}: the factory returned {type(module).__name__}, not a torch.nn.Module"
        )
    if spec.weights is not None:
        state = load_weights(spec.weights)
        try:
            module.load_state_dict(state)
        except RuntimeError as e:
            first = str(e).strip().splitlines()[0]
            raise LatentAtlasError(
                f"{spec.weights}: weights do not fit {label} ({first})"
            ) from None
    module = module.to(device).eval()
    encode = _pick(
        module, (spec.encode_attr,) if spec.encode_attr else ("encode", "encoder"), "encode", label
    )
    decode = _pick(
        module, (spec.decode_attr,) if spec.decode_attr else ("decode", "decoder"), "decode", label
    )
    size, channels = _size(spec, module, label, data_size)
    # Identified by its weights, whatever file they came from (and its factory's name).
    checksum = tensors_sha256({"model": {"factory": spec.source, **module.state_dict()}})
    return TorchLatentModel(
        encode,
        decode,
        image_size=size,
        channels=channels,
        name=label,
        checksum=checksum,
        device=device,
        input_range=spec.input_range,
        module=module,
    )


def load_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A state dict from ``.safetensors`` or a torch file, never running code from it."""
    path = Path(path)
    if not path.is_file():
        raise LatentAtlasError(f"{path}: no such weights file")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise LatentAtlasError(f"{path}: not readable weights ({first})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise LatentAtlasError(f"{path}: not a state dict (a dict of tensors)")
    return state


def _load_torchscript(
    spec: ModelSpec, device: torch.device, data_size: tuple[int, str] | None
) -> TorchLatentModel:
    from latentatlas.core.files import file_sha256

    label = spec.path
    if not Path(label).is_file():
        raise LatentAtlasError(f"{label}: no such TorchScript archive")
    try:
        module = torch.jit.load(label, map_location=device)
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise LatentAtlasError(f"{label}: not a loadable TorchScript archive ({first})") from None
    module.eval()
    for what in ("encode", "decode"):
        if not hasattr(module, what):
            raise LatentAtlasError(
                f"{label}: the TorchScript archive exports no {what} method "
                "(mark it @torch.jit.export)"
            )
    size, channels = _size(spec, module, label, data_size)
    return TorchLatentModel(
        module.encode,
        module.decode,
        image_size=size,
        channels=channels,
        name=label,
        checksum=file_sha256(Path(label)),
        device=device,
        input_range=spec.input_range,
        module=module,
    )
