"""Stores at scale: the chunked layout, memory-mapped loading without copies, block scans and
the dask view."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.rows import ChunkedZ
from latentatlas.data.store import load_store, save_store

N_ROWS, DIM = 103, 7


@pytest.fixture(scope="module")
def points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    return rng.normal(size=(N_ROWS, DIM)).astype(np.float32), (np.arange(N_ROWS) % 5 == 0)


@pytest.fixture
def chunked(points, tmp_path: Path) -> Path:
    z, held = points
    return save_store(tmp_path / "s", z, np.arange(N_ROWS).astype(str), held, chunk_rows=25)


def test_chunked_store_round_trip(chunked: Path, points) -> None:
    z, held = points
    meta = json.loads((chunked / "store.json").read_text())
    assert [c["rows"] for c in meta["chunks"]] == [25, 25, 25, 25, 3]
    assert [c["file"] for c in meta["chunks"]][:2] == ["z/00000.npy", "z/00001.npy"]
    assert not (chunked / "z.npy").exists()
    st = load_store(chunked)
    assert isinstance(st.z, ChunkedZ) and st.z.shape == (N_ROWS, DIM)
    assert np.array_equal(np.asarray(st.z), z)
    # Indexing reads across chunk boundaries exactly as on one array.
    for key in (7, -1, slice(20, 80), slice(None, None, 7), [90, 3, 26, 3], held):
        assert np.array_equal(st.z[key], z[key]), key
    assert np.array_equal(st.z[10:60, 2], z[10:60, 2])
    assert np.array_equal(st.z[:, [1, 4]], z[:, [1, 4]])
    assert np.array_equal(st.subset("heldout"), z[held])
    blocks = list(st.blocks(10))
    assert max(len(b) for _, b in blocks) == 10  # bounded, and never across a chunk
    assert np.array_equal(np.concatenate([b for _, b in blocks]), z)
    assert [s for s, _ in blocks][:4] == [0, 10, 20, 25]
    # mmap=False: the small-store path, one array in memory.
    assert np.array_equal(load_store(chunked, mmap=False).z, z)


def test_a_flipped_byte_in_one_chunk_is_refused(chunked: Path) -> None:
    victim = chunked / "z" / "00002.npy"
    data = bytearray(victim.read_bytes())
    data[-5] ^= 0x01
    victim.write_bytes(bytes(data))
    with pytest.raises(LatentAtlasError, match=r"z/00002\.npy is damaged: sha256") as e:
        load_store(chunked)
    assert "\n" not in str(e.value) and "--no-verify" in str(e.value)
    assert load_store(chunked, verify=False).n == N_ROWS


def test_chunk_records_are_checked(chunked: Path) -> None:
    meta = json.loads((chunked / "store.json").read_text())
    meta["chunks"][1]["rows"] = 24
    (chunked / "store.json").write_text(json.dumps(meta))
    with pytest.raises(LatentAtlasError, match="store.json says 24 rows"):
        load_store(chunked, verify=False)
    meta["chunks"][1]["rows"] = 25
    del meta["chunks"][2]["sha256"]  # missing checksums are refused like wrong ones
    (chunked / "store.json").write_text(json.dumps(meta))
    with pytest.raises(LatentAtlasError, match=r"records no sha256 of z/00002\.npy"):
        load_store(chunked)
    meta["chunks"][1]["file"] = "../elsewhere.npy"
    (chunked / "store.json").write_text(json.dumps(meta))
    with pytest.raises(LatentAtlasError, match="files inside the store"):
        load_store(chunked, verify=False)


def test_memory_mapped_store_is_not_copied(points, tmp_path: Path) -> None:
    z, _ = points
    path = save_store(tmp_path / "m", z, np.arange(N_ROWS).astype(str), np.zeros(N_ROWS))
    st = load_store(path)
    assert isinstance(st.z, np.memmap) and not st.z.flags.writeable
    # Every point is a train point: the split is the store's own memory map.
    assert st.subset("train") is st.z
    # A run of rows is a view of the map, not a copy.
    split = np.r_[np.zeros(50), np.ones(N_ROWS - 50)].astype(np.uint8)
    view = load_store(save_store(tmp_path / "v", z, np.arange(N_ROWS).astype(str), split))
    held = view.subset("heldout")
    assert np.shares_memory(held, view.z) and np.array_equal(held, z[50:])


def test_store_to_dask_reads_each_layout(chunked: Path, points, tmp_path: Path) -> None:
    from latentatlas.data.dask_arrays import store_to_dask

    z, _ = points
    lazy = store_to_dask(load_store(chunked))
    assert lazy.chunks[0] == (25, 25, 25, 25, 3)
    assert np.array_equal(lazy.compute(scheduler="sync"), z)
    flat = save_store(tmp_path / "f", z, np.arange(N_ROWS).astype(str), np.zeros(N_ROWS))
    lazy = store_to_dask(load_store(flat), rows=40)
    assert lazy.chunks[0] == (40, 40, 23)
    assert np.array_equal(lazy.compute(scheduler="sync"), z)
    # A worker that reads a chunk checks it against the recorded sha256 itself.
    lazy = store_to_dask(load_store(chunked))
    victim = chunked / "z" / "00004.npy"
    victim.write_bytes(victim.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(LatentAtlasError, match="00004.npy is damaged"):
        lazy.compute(scheduler="sync")
