"""Fault 5, damaged payloads: stores, caches and checkpoints record sha256 checksums that are
checked on load (naming the damaged file; --no-verify skips them), and store.json is honoured.
A checkpoint's checksum covers all it holds; stores and caches without checksums are refused.
Fault 6, a store from another model: refused, naming both checksums (--allow-mismatch)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from faults import one_line_error

from latentatlas.cli import main
from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.files import file_sha256
from latentatlas.data.cache import load_cache
from latentatlas.data.store import load_store, save_store
from latentatlas.models.checkpoint import (
    load_checkpoint,
    load_model,
    save_checkpoint,
    tensors_sha256,
)


@pytest.fixture
def store(tiny_run: Path, tiny_cache: Path, tmp_path: Path) -> Path:
    out = tmp_path / "store"
    argv = ["encode", str(tiny_run), str(tiny_cache), "--out", str(out), "--quiet"]
    assert main(argv) == 0
    return out


def _flip_bits(path: Path, offsets: list[int], bit: int = 6) -> None:
    data = bytearray(path.read_bytes())
    for offset in offsets:
        data[offset] ^= 1 << bit
    path.write_bytes(bytes(data))


def test_flipped_bits_in_z_are_caught_and_named(store: Path, tmp_path: Path, capsys) -> None:
    z = np.load(store / "z.npy")
    start = (store / "z.npy").stat().st_size - z.nbytes  # after the .npy header
    # 19 low mantissa bits, and the top exponent bit of a value below 1: it becomes ~1e38.
    small = int(np.flatnonzero((np.abs(z.ravel()) < 1) & (z.ravel() != 0))[0])
    _flip_bits(store / "z.npy", [start + 4 * i for i in range(19)], bit=0)
    _flip_bits(store / "z.npy", [start + 4 * small + 3], bit=6)
    damaged = np.load(store / "z.npy")
    assert np.isfinite(damaged).all() and np.abs(damaged).max() > 1e30
    with pytest.raises(LatentAtlasError, match=r"z\.npy is damaged"):
        load_store(store)
    assert main(["analyze", str(store), "--out", str(tmp_path / "atlas"), "--quiet"]) == 2
    line = one_line_error(capsys.readouterr().err, "analyze")
    assert "z.npy is damaged" in line and "--no-verify" in line
    assert not (tmp_path / "atlas").exists()
    load_store(store, verify=False)  # --no-verify: the caller's choice


@pytest.mark.parametrize("recorded", ["absent", {}, [], {"ids.npy": "0" * 64}])
def test_a_store_without_checksums_is_refused_unless_no_verify(
    store: Path, tmp_path: Path, recorded: object, capsys
) -> None:
    meta = json.loads((store / "store.json").read_text())
    meta["sha256"] = recorded  # absent, empty, not a mapping, or z.npy left out
    if recorded == "absent":
        del meta["sha256"]
    (store / "store.json").write_text(json.dumps(meta))
    _flip_bits(store / "z.npy", [(store / "z.npy").stat().st_size - 3])  # unchecked, it would pass
    assert main(["analyze", str(store), "--out", str(tmp_path / "a"), "--quiet"]) == 2
    line = one_line_error(capsys.readouterr().err, "analyze")
    assert "records no sha256" in line and "--no-verify" in line
    assert load_store(store, verify=False).n == 96


def test_checksum_keys_are_file_names_inside_the_store(store: Path, monkeypatch) -> None:
    import latentatlas.core.files as files

    hashed = []
    monkeypatch.setattr(files, "file_sha256", lambda p: hashed.append(str(p)) or "0" * 64)
    meta = json.loads((store / "store.json").read_text())
    for key in ("/etc/hostname", "../store.json", "sub/z.npy"):
        (store / "store.json").write_text(json.dumps({**meta, "sha256": {key: "0" * 64}}))
        with pytest.raises(LatentAtlasError, match="is not a file name inside"):
            load_store(store)
    assert hashed == []


def test_a_cache_manifest_without_checksums_is_refused(tiny_cache: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(tiny_cache, cache)
    manifest = json.loads((cache / "manifest.json").read_text())
    (cache / "manifest.json").write_text(json.dumps({**manifest, "sha256": {}}))
    with pytest.raises(LatentAtlasError, match="records no sha256 checksums.*--no-verify"):
        load_cache(cache)
    assert load_cache(cache, verify=False).n == 96


def test_store_json_n_and_shape_are_honoured(tmp_path: Path, capsys) -> None:
    z = np.random.default_rng(0).normal(size=(200, 4))
    save_store(tmp_path / "s", z, np.arange(200).astype(str), np.zeros(200))
    meta = json.loads((tmp_path / "s" / "store.json").read_text())
    (tmp_path / "s" / "store.json").write_text(json.dumps({**meta, "n": 5000}))
    with pytest.raises(LatentAtlasError, match=r"says n = 5000 but z.npy has shape \(200, 4\)"):
        load_store(tmp_path / "s")
    (tmp_path / "s" / "store.json").write_text("[]")
    assert main(["analyze", str(tmp_path / "s"), "--out", str(tmp_path / "a")]) == 2
    assert "not a store sidecar" in one_line_error(capsys.readouterr().err, "analyze")


def test_flipped_bits_in_checkpoint_weights_are_caught(tiny_run: Path, tmp_path: Path) -> None:
    state = torch.load(tiny_run / "checkpoint.pt", weights_only=True)
    name = next(k for k in state["model"] if k.endswith("weight"))
    weight = state["model"][name].clone().contiguous()
    weight.view(torch.int32).view(-1)[:3] ^= 1 << 29  # three exponent bits
    state["model"][name] = weight
    torch.save(state, tmp_path / "damaged.pt")  # the recorded sha256 is kept as it was
    with pytest.raises(LatentAtlasError, match="damaged: its contents differ"):
        load_model(tmp_path / "damaged.pt")
    load_checkpoint(tmp_path / "damaged.pt", verify=False)


def test_a_changed_config_in_a_checkpoint_is_caught(
    tiny_run: Path, tiny_cache: Path, tmp_path: Path, capsys
) -> None:
    # The fault the issue found: one byte of the pickled config turned negative_slope 0.2 into
    # 0.0125; the tensors were intact, so encode verified, ran, and its z were off.
    state = torch.load(tiny_run / "checkpoint.pt", weights_only=True)
    state["model_config"]["negative_slope"] = 0.0125
    torch.save(state, tmp_path / "damaged.pt")
    argv = ["encode", str(tmp_path / "damaged.pt"), str(tiny_cache), "--out", str(tmp_path / "z")]
    assert main([*argv, "--quiet"]) == 2
    line = one_line_error(capsys.readouterr().err, "encode")
    assert "damaged.pt is damaged" in line and not (tmp_path / "z").exists()


def test_a_checkpoint_without_a_whole_checksum_is_refused_and_can_be_resaved(
    tiny_run: Path, tmp_path: Path
) -> None:
    from latentatlas.models.checkpoint import resave_checkpoint

    state = torch.load(tiny_run / "checkpoint.pt", weights_only=True)
    old = {k: v for k, v in state.items() if k != "sha256"}
    old["tensors_sha256"] = tensors_sha256(old)  # as checkpoints were written before
    torch.save(old, tmp_path / "old.pt")
    with pytest.raises(LatentAtlasError, match="re-save it with python tools/resave_checkpoint"):
        load_checkpoint(tmp_path / "old.pt")
    resave_checkpoint(tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt")["epoch"] == state["epoch"]


def test_a_damaged_cache_is_named(tiny_cache: Path, tiny_run: Path, tmp_path: Path, capsys) -> None:
    cache = tmp_path / "cache"
    shutil.copytree(tiny_cache, cache)
    size = (cache / "images.npy").stat().st_size
    _flip_bits(cache / "images.npy", [size // 2])
    argv = ["encode", str(tiny_run), str(cache), "--out", str(tmp_path / "z"), "--quiet"]
    assert main(argv) == 2
    assert "images.npy is damaged" in one_line_error(capsys.readouterr().err, "encode")
    assert main([*argv, "--no-verify"]) == 0
    load_cache(cache, verify=False)


def test_the_bundled_assets_verify_against_their_manifest(monkeypatch) -> None:
    import latentatlas.core.files as files

    hashed = []
    real = files.file_sha256
    monkeypatch.setattr(files, "file_sha256", lambda p: hashed.append(Path(p).name) or real(p))
    store = load_store("celeba64")  # its store.json predates checksums: MANIFEST.json has them
    load_checkpoint("celeba64")
    assert store.n == 10000 and "sha256" not in store.meta
    assert {"z.npy", "ids.npy", "split.npy", "attributes.npy", "model.pt"} <= set(hashed)


@pytest.fixture
def other_model(tiny_run: Path, tmp_path: Path) -> Path:
    state = load_checkpoint(tiny_run)
    state.pop("format"), state.pop("tensors_sha256", None)
    state["model"] = {
        k: v + 0.01 if v.is_floating_point() else v for k, v in state["model"].items()
    }
    return save_checkpoint(tmp_path / "other.pt", state)


@pytest.mark.parametrize("verb", ["sample", "compare", "path"])
def test_a_store_from_another_model_is_refused(
    verb: str, other_model: Path, store: Path, tiny_run: Path, tmp_path: Path, capsys
) -> None:
    extra = {"sample": ["--n", "4"], "compare": ["--n", "20"], "path": ["--plane", "0,1"]}[verb]
    argv = [verb, str(other_model), str(store), "--out", str(tmp_path / "o"), *extra]
    assert main(argv) == 2
    line = one_line_error(capsys.readouterr().err, verb)
    assert file_sha256(other_model)[:16] in line
    assert file_sha256(tiny_run / "checkpoint.pt")[:16] in line
    assert "--allow-mismatch" in line and not (tmp_path / "o").exists()
    if verb == "sample":
        assert main([*argv, "--allow-mismatch", "--quiet"]) == 0


def test_analyze_with_a_model_checks_the_store_came_from_it(
    other_model: Path, store: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setattr("latentatlas.atlas.run_atlas", lambda *a, **k: pytest.fail("analysed"))
    argv = ["analyze", str(store), "--model", str(other_model), "--out", str(tmp_path / "a")]
    assert main(argv) == 2
    line = one_line_error(capsys.readouterr().err, "analyze")
    assert file_sha256(other_model)[:16] in line and "--allow-mismatch" in line
