"""The torch side: autoencoders behind one interface, and everything that runs them.

Modules:

    protocol     LatentModel / TorchLatentModel: the one model interface; ModelSpec names a model
    loaders      a spec -> a model: checkpoint, run dir, bundled name, package.module:factory,
                 TorchScript, diffusers folder, pythae folder (add a new kind of model here)
    autoencoder  latentatlas's own plain convolutional AE
    checkpoint   checkpoint files (config, weights, resume state, checksums)
    diffusers    diffusers' AutoencoderKL from a local folder
    pythae       a pythae model folder
    tensors      uint8 images <-> float tensors in the model's pixel range
    train        the AE's training loop (one process or torchrun)
    encode       image cache -> z-point store (one z.npy or chunk files), in batches cut to
                 a memory bound
    memory       the peak memory of one forward pass, measured, and the batch that fits a bound
    decode       z-points -> images, and the encode-decode round trip
    distributed  rank and world size under torchrun
    pairing      a model and a store used together, checked to belong together
    pretrained/  the bundled celeba64 assets and ``celeba64()``

``load_latent_model(spec)`` is the one place every verb loads a model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from latentatlas.core.lazy import lazy_exports

# Imported on first use, so that the bundled assets (pretrained/) resolve without torch.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        (
            "as_latent_model",
            "from_autoencoder",
            "input_paths",
            "load_latent_model",
            "load_weights",
            "spec_kind",
        ),
        "loaders",
    ),
    **dict.fromkeys(
        ("LatentModel", "ModelSpec", "TorchLatentModel", "as_spec", "parse_input_range"),
        "protocol",
    ),
}

__all__ = [
    "LatentModel",
    "ModelSpec",
    "TorchLatentModel",
    "as_latent_model",
    "as_spec",
    "from_autoencoder",
    "input_paths",
    "load_latent_model",
    "load_weights",
    "parse_input_range",
    "spec_kind",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from latentatlas.models.loaders import (
        as_latent_model,
        from_autoencoder,
        input_paths,
        load_latent_model,
        load_weights,
        spec_kind,
    )
    from latentatlas.models.protocol import (
        LatentModel,
        ModelSpec,
        TorchLatentModel,
        as_spec,
        parse_input_range,
    )
