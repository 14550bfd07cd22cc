"""A pythae model folder (``model_config.json`` + ``model.pt``, as ``model.save`` writes it).

Default networks are rebuilt from the config and their weights read with
``weights_only=True``: nothing in the folder runs. Custom networks are cloudpickles
(``encoder.pkl``/``decoder.pkl``), i.e. code: they load through pythae's own
``AutoModel.load_from_folder`` only with ``trust_pickle`` (``--trust-pickle``).
z is the encoder's ``embedding`` (a VAE's mean; its log-variance is left out).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from latentatlas.core.errors import LatentAtlasError
from latentatlas.models.protocol import ModelSpec, TorchLatentModel

EXTRA_HINT = "pip install 'latentatlas[pythae]'"


def is_pythae_folder(path: Path) -> bool:
    return (
        path.is_dir() and (path / "model_config.json").is_file() and (path / "model.pt").is_file()
    )


def _first(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def load_pythae(spec: ModelSpec, device: torch.device) -> TorchLatentModel:
    from latentatlas.models.checkpoint import tensors_sha256

    label, folder = spec.source, Path(spec.source)
    try:
        import pythae.models as pm
        from pythae.models.auto_model import AutoConfig, AutoModel
    except ImportError:
        raise LatentAtlasError(
            f"{label} is a pythae model folder, but pythae is not installed ({EXTRA_HINT})"
        ) from None
    try:
        name = json.loads((folder / "model_config.json").read_text())["name"]
        config = AutoConfig.from_json_file(str(folder / "model_config.json"))
    except Exception as e:
        raise LatentAtlasError(f"{label}: unreadable model_config.json ({_first(e)})") from None
    custom = not (config.uses_default_encoder and config.uses_default_decoder)
    if custom and not spec.trust_pickle:
        raise LatentAtlasError(
            f"{label}: its custom encoder/decoder are pickles (encoder.pkl, decoder.pkl), which "
            "run code when loaded; pass --trust-pickle if you trust this folder"
        )
    try:
        if custom:
            model = AutoModel.load_from_folder(str(folder))
        else:
            cls = getattr(pm, name[: -len("Config")].rstrip("_"), None)
            if cls is None:
                raise ValueError(f"no pythae model class for {name}")
            state = torch.load(folder / "model.pt", map_location="cpu", weights_only=True)
            model = cls(config)
            model.load_state_dict(state["model_state_dict"])
    except Exception as e:  # pythae and torch raise many types for a bad folder
        raise LatentAtlasError(f"{label}: not a loadable pythae model ({_first(e)})") from None
    model = model.to(device).eval()
    input_dim = tuple(int(d) for d in (config.input_dim or ()))
    if len(input_dim) != 3 or input_dim[1] != input_dim[2]:
        raise LatentAtlasError(
            f"{label}: input_dim {input_dim} is not square images (channels, side, side)"
        )

    def encode(x: torch.Tensor) -> torch.Tensor:
        return model.encoder(x).embedding

    def decode(z: torch.Tensor) -> Any:
        return model.decoder(z).reconstruction.reshape(len(z), *input_dim)

    return TorchLatentModel(
        encode,
        decode,
        image_size=spec.image_size or input_dim[1],
        channels=spec.channels or input_dim[0],
        name=label,
        checksum=tensors_sha256({"model": model.state_dict()}),
        device=device,
        input_range=spec.input_range,
        module=model,
        info={"pythae_model": name.removesuffix("Config").rstrip("_")},
    )
