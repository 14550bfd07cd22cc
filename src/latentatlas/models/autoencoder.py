"""A plain convolutional autoencoder: stride-2 conv stages, a linear latent layer, sigmoid output.

"Plain" matters: the latent layer has no activation and no regularisation (no KL term, no noise),
which is exactly the kind of AE whose latent space latentatlas maps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class AEConfig:
    """Architecture of a :class:`ConvAutoencoder`; stored in every checkpoint."""

    image_size: int = 64
    latent_dim: int = 256
    channels: tuple[int, ...] = (32, 64, 128, 256)
    in_channels: int = 3
    negative_slope: float = 0.2

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        stages = len(self.channels)
        if stages < 1:
            raise ValueError("channels must name at least one stage")
        if self.image_size % (2**stages) or self.image_size < 2**stages:
            raise ValueError(
                f"image_size {self.image_size} must be a multiple of 2**{stages} "
                f"(one halving per channel stage)"
            )
        if self.latent_dim < 1:
            raise ValueError("latent_dim must be positive")

    @property
    def bottom_size(self) -> int:
        return self.image_size // 2 ** len(self.channels)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AEConfig:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


def _down(cin: int, cout: int, slope: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.LeakyReLU(slope, inplace=True),
    )


def _up(cin: int, cout: int, slope: float) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.LeakyReLU(slope, inplace=True),
    )


class Encoder(nn.Module):
    """(B, C, H, W) images in [0, 1] → (B, latent_dim) z-points."""

    def __init__(self, cfg: AEConfig) -> None:
        super().__init__()
        widths = (cfg.in_channels, *cfg.channels)
        self.features = nn.Sequential(
            *(_down(a, b, cfg.negative_slope) for a, b in zip(widths[:-1], widths[1:], strict=True))
        )
        self.to_latent = nn.Linear(cfg.channels[-1] * cfg.bottom_size**2, cfg.latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.to_latent(self.features(x).flatten(1))


class Decoder(nn.Module):
    """(B, latent_dim) z-points → (B, C, H, W) images in [0, 1]."""

    def __init__(self, cfg: AEConfig) -> None:
        super().__init__()
        self._shape = (cfg.channels[-1], cfg.bottom_size, cfg.bottom_size)
        self.from_latent = nn.Linear(cfg.latent_dim, cfg.channels[-1] * cfg.bottom_size**2)
        widths = tuple(reversed(cfg.channels))
        self.features = nn.Sequential(
            nn.LeakyReLU(cfg.negative_slope),
            *(_up(a, b, cfg.negative_slope) for a, b in zip(widths[:-1], widths[1:], strict=True)),
            nn.ConvTranspose2d(widths[-1], cfg.in_channels, 4, stride=2, padding=1),
            nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.features(self.from_latent(z).view(-1, *self._shape))


class ConvAutoencoder(nn.Module):
    """Encoder and decoder of one :class:`AEConfig`; each usable on its own."""

    def __init__(self, cfg: AEConfig | None = None) -> None:
        super().__init__()
        self.config = cfg or AEConfig()
        self.encoder = Encoder(self.config)
        self.decoder = Decoder(self.config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)
