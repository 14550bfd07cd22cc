"""encode at scale: a batch cut to --max-memory from one measured image, and chunked stores
written by one process or by each rank of a torchrun."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from latentatlas.cli.encode import memory_size
from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.rows import ChunkedZ
from latentatlas.data.store import load_store
from latentatlas.models import TorchLatentModel, load_latent_model
from latentatlas.models import encode as encode_module
from latentatlas.models.distributed import Distributed
from latentatlas.models.encode import _batch_within, _encode, encode
from latentatlas.models.memory import forward_peak_bytes

MB = 1 << 20


def _conv_model(size: int) -> TorchLatentModel:
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(16, 1, 3, stride=4, padding=1),
        torch.nn.Flatten(),
    )
    return TorchLatentModel(
        net,
        net,
        image_size=size,
        channels=3,
        name="conv",
        device=torch.device("cpu"),
        latent_shape=((size // 4) ** 2,),
    )


def test_memory_size_parses_units() -> None:
    assert memory_size("2GB") == 2 << 30 and memory_size("512mb") == 512 << 20
    assert memory_size("1.5G") == 3 << 29 and memory_size("1000") == 1000
    for bad in ("", "-1GB", "2 parsecs", "0"):
        with pytest.raises(Exception, match="positive size"):
            memory_size(bad)


def test_max_memory_picks_a_smaller_batch_for_bigger_images(monkeypatch) -> None:
    x = torch.rand(1, 3, 64, 64)
    # Each 16-channel float map of the image is alive at once with the next layer's input.
    assert forward_peak_bytes(_conv_model(64).encode, x) >= 16 * 64 * 64 * 4
    monkeypatch.setattr(encode_module, "held_bytes", lambda device: 256 * MB)
    images = {s: np.zeros((2, s, s, 3), np.uint8) for s in (32, 64, 128)}
    batch = {
        s: _batch_within(_conv_model(s), images[s], cap=10_000, max_memory=300 * MB)
        for s in images
    }
    assert batch[32] > batch[64] > batch[128] >= 1
    assert 3 <= batch[32] / batch[64] <= 5  # activations grow with the pixels: 4x
    assert _batch_within(_conv_model(32), images[32], cap=7, max_memory=300 * MB) == 7
    with pytest.raises(LatentAtlasError, match="--max-memory 256 MB is too small"):
        _batch_within(_conv_model(128), images[128], cap=10, max_memory=256 * MB)


class _ThreadRanks(Distributed):
    """The collectives of a torchrun, for ranks that are threads of this process."""

    def __init__(self, rank: int, world: int, shared: dict) -> None:
        self.rank, self.world, self.active = rank, world, True
        self.shared = shared

    def _exchange(self, obj):
        slots, barrier = self.shared["slots"], self.shared["barrier"]
        slots[self.rank] = obj
        barrier.wait()
        seen = list(slots)
        barrier.wait()
        return seen

    def barrier(self) -> None:
        self.shared["barrier"].wait()

    def broadcast(self, obj):
        return self._exchange(obj)[0]

    def all_gather(self, obj):
        return self._exchange(obj)

    def agree(self, error) -> None:
        failed = any(e is not None for e in self._exchange(error))
        if error is not None:
            raise error
        if failed:
            raise LatentAtlasError("another rank failed")

    def close(self) -> None:
        pass


def test_each_rank_writes_its_own_chunks(tiny_run: Path, tiny_cache: Path, tmp_path: Path) -> None:
    model = load_latent_model(tiny_run, torch.device("cpu"))
    encode(model, tiny_cache, tmp_path / "flat", batch_size=20, progress=False)
    flat = load_store(tmp_path / "flat")
    shared = {"slots": [None, None], "barrier": threading.Barrier(2, timeout=60)}
    out, results = tmp_path / "chunked", [None, None]

    def rank(r: int) -> None:
        try:
            args = (model, tiny_cache, out, 20, "cpu", False, False, True, 2 << 30, 30)
            results[r] = _encode(_ThreadRanks(r, 2, shared), *args)
        except Exception as e:  # surfaced below
            results[r] = e

    threads = [threading.Thread(target=rank, args=(r,)) for r in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert isinstance(results[0], dict) and results[1] is None, results
    st = load_store(out)
    # 96 rows in batches of 20: rank 0 rows 0-39, rank 1 rows 40-95, each cut every 30 rows.
    assert [c["rows"] for c in st.meta["chunks"]] == [30, 10, 30, 26]
    assert isinstance(st.z, ChunkedZ) and np.array_equal(np.asarray(st.z), flat.z)
    assert np.array_equal(st.ids, flat.ids) and np.array_equal(st.split, flat.split)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunked", "flat"]  # no temp left
