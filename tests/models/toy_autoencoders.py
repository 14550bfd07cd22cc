"""Tiny third-party-style autoencoders for the loader tests, importable as
``toy_autoencoders:FACTORY`` once this folder is on ``sys.path``.

Each factory returns a fresh, randomly initialised module; weights are saved and reloaded by
the tests. Images are 16 x 16 (the tiny cache's size) and latents 2 x 2 x 2 (N = 8), kept as
a feature map so that flattening and restoring the shape is exercised.
"""

from __future__ import annotations

import torch
from torch import nn

SIZE = 16


class MethodsAE(nn.Module):
    """``encode``/``decode`` methods, [0, 1] images, an ``image_size`` attribute."""

    def __init__(self, channels: int = 3) -> None:
        super().__init__()
        # Instance attributes: TorchScript keeps these (not class-level ones).
        self.image_size = SIZE
        self.channels = channels
        self.down = nn.Conv2d(channels, 2, 8, stride=8)
        self.up = nn.ConvTranspose2d(2, channels, 8, stride=8)

    @torch.jit.export
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(x)

    @torch.jit.export
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.up(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class SubmodulesAE(nn.Module):
    """``encoder``/``decoder`` sub-modules working on [-1, 1] images; no size attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 2, 8, stride=8))
        self.decoder = nn.Sequential(nn.ConvTranspose2d(2, 3, 8, stride=8), nn.Tanh())


class OnlyDecode(nn.Module):
    image_size = SIZE

    def __init__(self) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(2, 3, 8, stride=8)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.up(z)


class WrongShape(MethodsAE):
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return super().decode(z)[:, :, :8, :8]


class NaNEncoder(MethodsAE):
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return super().encode(x) * float("nan")


def build() -> nn.Module:
    return MethodsAE()


def build_grey() -> nn.Module:
    return MethodsAE(channels=1)


def build_submodules() -> nn.Module:
    return SubmodulesAE()


def only_decode() -> nn.Module:
    return OnlyDecode()


def wrong_shape() -> nn.Module:
    return WrongShape()


def nan_encoder() -> nn.Module:
    return NaNEncoder()


def raising() -> nn.Module:
    raise ValueError("config file missing")


def not_a_module() -> object:
    return 42
