"""The one model interface the rest of latentatlas uses, and the spec that names a model.

Every loader returns a :class:`TorchLatentModel`: ``encode`` takes a float batch (B, C, H, W)
in [0, 1] and returns flat (B, N) z-points; ``decode`` takes (B, N) and returns images in
[0, 1]. Latents of another shape (a VAE's 4x8x8 feature map) are flattened, and ``latent_shape``
keeps their shape so that ``decode`` restores it. A model is checked once when it is loaded (a
probe batch through both halves), so a model that does not fit fails with one line naming what
is wrong instead of deep inside an analysis.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import torch

from latentatlas.core.errors import LatentAtlasError

FACTORY_PATTERN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
# A TorchScript archive runs the code it holds: it is loaded when named so (or --trust-code).
TORCHSCRIPT_PREFIX = "torchscript:"


@runtime_checkable
class LatentModel(Protocol):
    """What every verb needs of an autoencoder."""

    image_size: int
    channels: int
    latent_shape: tuple[int, ...]
    name: str
    checksum: str

    def encode(self, images: torch.Tensor) -> torch.Tensor: ...

    def decode(self, z: torch.Tensor) -> torch.Tensor: ...


@dataclass(frozen=True)
class ModelSpec:
    """Which model to load: a latentatlas checkpoint, run directory or bundled name, a
    TorchScript file, a diffusers folder, or ``package.module:factory`` (with ``weights``).

    ``encode_attr``/``decode_attr`` name the methods or sub-modules of a factory's module
    (default: ``encode``/``decode`` methods, else ``encoder``/``decoder`` sub-modules);
    ``input_range`` is the pixel range the model was trained on (images are mapped from
    [0, 1] to it and back; None: the loader's default, [0, 1] but for diffusers' [-1, 1]);
    ``image_size``/``channels`` override what the model declares; ``trust_pickle`` allows a
    pythae folder's pickled custom networks (which run code when loaded); ``trust_code`` allows a
    TorchScript archive not named ``torchscript:PATH``.
    """

    source: str
    weights: str | None = None
    encode_attr: str | None = None
    decode_attr: str | None = None
    input_range: tuple[float, float] | None = None
    image_size: int | None = None
    channels: int | None = None
    trust_pickle: bool = False
    trust_code: bool = False

    @property
    def is_torchscript(self) -> bool:
        """Named ``torchscript:PATH`` (the one form that loads a TorchScript archive unasked)."""
        return self.source.startswith(TORCHSCRIPT_PREFIX)

    @property
    def path(self) -> str:
        """The file or folder the source names (``torchscript:`` taken off)."""
        return self.source.removeprefix(TORCHSCRIPT_PREFIX)

    @property
    def is_factory(self) -> bool:
        # A real file or folder of that name wins, as bundled names do.
        return (
            not self.is_torchscript
            and bool(FACTORY_PATTERN.match(self.source))
            and not os.path.lexists(self.source)
        )

    def to_json(self) -> dict[str, Any]:
        """The spec as ``store.json`` records it (defaults left out)."""
        out: dict[str, Any] = {"source": self.source}
        if self.weights is not None:
            out["weights"] = str(Path(self.weights).resolve())
        for key in ("encode_attr", "decode_attr", "image_size", "channels"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.input_range is not None:
            out["input_range"] = list(self.input_range)
        return out


def as_spec(spec: str | os.PathLike | ModelSpec) -> ModelSpec:
    return spec if isinstance(spec, ModelSpec) else ModelSpec(str(spec))


def parse_input_range(text: str) -> tuple[float, float]:
    """``"0,1"`` or ``"-1,1"``: the pixel range a model takes; ValueError (one line) otherwise."""
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"expected two numbers LO,HI such as -1,1, got {text!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"expected LO < HI, got {text!r}")
    return lo, hi


class TorchLatentModel:
    """The protocol over any pair of torch callables; shapes and values checked on the way.

    ``module`` is the underlying torch object (for ``.to``/parameters), ``info`` what a store
    records about the model besides the spec (a checkpoint's config, say).
    """

    def __init__(
        self,
        encode_fn: Callable[[torch.Tensor], Any],
        decode_fn: Callable[[torch.Tensor], Any],
        *,
        image_size: int,
        channels: int,
        name: str,
        checksum: str = "",
        device: torch.device | str = "cpu",
        input_range: tuple[float, float] | None = None,
        latent_shape: tuple[int, ...] | None = None,
        module: Any = None,
        info: dict[str, Any] | None = None,
        spec: ModelSpec | None = None,
    ) -> None:
        if channels not in (1, 3):
            raise LatentAtlasError(f"{name}: takes {channels}-channel images; 1 or 3 are supported")
        if image_size < 1:
            raise LatentAtlasError(f"{name}: image size must be positive, got {image_size}")
        self._encode, self._decode = encode_fn, decode_fn
        self.image_size, self.channels, self.name = int(image_size), int(channels), name
        self.checksum = checksum
        self.device = torch.device(device)
        lo, hi = input_range or (0.0, 1.0)
        self.input_range = (float(lo), float(hi))
        self.module, self.info, self.spec = module, dict(info or {}), spec
        self.latent_shape: tuple[int, ...] = tuple(latent_shape or ())
        if not self.latent_shape:
            self.latent_shape = self._probe()

    @property
    def source(self) -> str:
        """What the model was named by (its spec's source), as reports show it."""
        return self.spec.source if self.spec is not None else self.name

    @property
    def latent_dim(self) -> int:
        return int(math.prod(self.latent_shape))

    def _call(self, fn: Callable[[torch.Tensor], Any], x: torch.Tensor, what: str) -> torch.Tensor:
        try:
            out = fn(x)
        except LatentAtlasError:
            raise
        except Exception as e:  # any error of user code: one line, with its type
            first = (str(e).strip().splitlines() or [""])[0]
            raise LatentAtlasError(
                f"{self.name}: {what} failed on a batch of shape {tuple(x.shape)} "
                f"({type(e).__name__}: {first})"
            ) from None
        if not isinstance(out, torch.Tensor):
            raise LatentAtlasError(
                f"{self.name}: {what} returned {type(out).__name__}, not a tensor "
                "(wrap it to return the latent mean, or the images, alone)"
            )
        if out.ndim < 2 or out.shape[0] != x.shape[0]:
            raise LatentAtlasError(
                f"{self.name}: {what} returned shape {tuple(out.shape)} for a batch of "
                f"{x.shape[0]}; expected ({x.shape[0]}, ...)"
            )
        return out

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) floats in [0, 1] → (B, N) z-points."""
        lo, hi = self.input_range
        x = images if (lo, hi) == (0.0, 1.0) else images * (hi - lo) + lo
        z = self._call(self._encode, x, "encode")
        if self.latent_shape and tuple(z.shape[1:]) != self.latent_shape:
            raise LatentAtlasError(
                f"{self.name}: encode returned latents of shape {tuple(z.shape[1:])}, "
                f"expected {self.latent_shape}"
            )
        return z.reshape(len(z), -1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, N) z-points → (B, C, H, W) images in [0, 1] (not clamped)."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise LatentAtlasError(
                f"{self.name}: decode takes (B, {self.latent_dim}) z-points, got {tuple(z.shape)}"
            )
        z = z.to(self.device).reshape(len(z), *self.latent_shape)
        x = self._call(self._decode, z, "decode")
        expected = (self.channels, self.image_size, self.image_size)
        if tuple(x.shape[1:]) != expected:
            raise LatentAtlasError(
                f"{self.name}: decode returned images of shape {tuple(x.shape[1:])}, "
                f"expected {expected} (C, H, W)"
            )
        if not torch.isfinite(x).all():
            raise LatentAtlasError(f"{self.name}: decode produced NaN or inf pixels")
        lo, hi = self.input_range
        return x if (lo, hi) == (0.0, 1.0) else (x - lo) / (hi - lo)

    @torch.inference_mode()
    def _probe(self) -> tuple[int, ...]:
        """The latent shape, from one grey image through both halves: the check at load time."""
        x = torch.full((2, self.channels, self.image_size, self.image_size), 0.5)
        lo, hi = self.input_range
        z = self._call(self._encode, (x * (hi - lo) + lo).to(self.device), "encode")
        if not torch.isfinite(z).all():
            raise LatentAtlasError(f"{self.name}: encode produced NaN or inf latents")
        self.latent_shape = tuple(int(s) for s in z.shape[1:])
        self.decode(z.reshape(len(z), -1).float())
        return self.latent_shape
