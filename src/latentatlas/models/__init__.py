"""Autoencoders behind one interface: latentatlas's own, any ``torch.nn.Module``, TorchScript.

``load_latent_model(spec)`` is the one place every verb loads a model; see
:mod:`latentatlas.models.protocol` for the interface and :mod:`latentatlas.models.loaders` for
what a spec may name.
"""

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
