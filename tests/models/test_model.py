from __future__ import annotations

import pytest
import torch

from latentatlas.models.autoencoder import AEConfig, ConvAutoencoder


@pytest.mark.parametrize(
    ("size", "latent", "channels"),
    [(64, 256, (32, 64, 128, 256)), (32, 16, (8, 16, 32, 64)), (24, 5, (4, 8, 16))],
)
def test_shapes_and_output_range(size: int, latent: int, channels: tuple[int, ...]) -> None:
    model = ConvAutoencoder(AEConfig(image_size=size, latent_dim=latent, channels=channels)).eval()
    x = torch.rand(3, 3, size, size)
    z = model.encode(x)
    assert z.shape == (3, latent)
    y = model.decode(z)
    assert y.shape == x.shape and 0 <= y.min() and y.max() <= 1
    assert torch.equal(model(x), y)


def test_latent_layer_is_plain_linear() -> None:
    model = ConvAutoencoder(AEConfig(image_size=16, latent_dim=4, channels=(4, 8)))
    assert isinstance(model.encoder.to_latent, torch.nn.Linear)
    # No activation after it: z-points take negative and large values freely.
    z = model.encode(torch.rand(64, 3, 16, 16) * 4)
    assert (z < 0).any() and (z > 0).any()


def test_config_round_trip_and_validation() -> None:
    cfg = AEConfig(image_size=48, latent_dim=7, channels=(4, 8, 16))
    assert AEConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="multiple of"):
        AEConfig(image_size=40)  # 4 stages need a multiple of 16
    with pytest.raises(ValueError, match="latent_dim"):
        AEConfig(latent_dim=0)
