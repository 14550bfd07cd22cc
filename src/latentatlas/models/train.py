"""Training loop of the autoencoder: Adam on a reconstruction loss, one checkpoint per epoch.

Runs in one process, or in several under ``torchrun`` (DistributedDataParallel: gloo on CPU,
nccl on GPU); each process then takes its share of every batch and rank 0 alone validates and
writes. A run killed at any point resumes from its last complete epoch with ``resume=True``:
the weights, the optimizer state, the epoch and step counters, the history and the RNG state are
in the checkpoint, and each epoch's shuffle is derived from (seed, epoch) alone.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from latentatlas.core import atomic
from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.imaging import image_grid, save_png
from latentatlas.core.validation import check_memory
from latentatlas.data.cache import ImageCache, load_cache
from latentatlas.data.store import TRAIN
from latentatlas.models.autoencoder import AEConfig, ConvAutoencoder
from latentatlas.models.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from latentatlas.models.distributed import Distributed, device_for_rank
from latentatlas.models.tensors import to_tensor, to_uint8


@dataclass
class TrainConfig:
    epochs: int = 12
    batch_size: int = 64  # global: split across processes under torchrun
    lr: float = 2e-3
    min_lr_ratio: float = 0.05  # cosine decay from lr to lr * min_lr_ratio over the run
    loss: str = "mse"  # "mse" or "bce"
    seed: int = 0
    device: str = "auto"
    grid_images: int = 8  # validation images in each epoch's reconstruction grid

    def __post_init__(self) -> None:
        if self.loss not in ("mse", "bce"):
            raise LatentAtlasError(f"loss must be 'mse' or 'bce', got {self.loss!r}")
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise LatentAtlasError("epochs, batch size and learning rate must be positive")


def cosine_learning_rate(lr: float, min_lr_ratio: float, step: int, total_steps: int) -> float:
    """Cosine decay from ``lr`` at step 0 to ``lr * min_lr_ratio`` from ``total_steps`` on."""
    progress = min(step / max(total_steps, 1), 1.0)
    return lr * (min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def reconstruction_loss(recon: torch.Tensor, x: torch.Tensor, kind: str) -> torch.Tensor:
    # float32 on purpose: BCE is unsafe under autocast and the loss is cheap.
    recon = recon.float()
    if kind == "bce":
        return F.binary_cross_entropy(recon, x)
    return F.mse_loss(recon, x)


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffle of one epoch, a function of (seed, epoch) only: resumes replay it exactly."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g)


@torch.no_grad()
def evaluate(
    model: ConvAutoencoder,
    cache: ImageCache,
    idx: np.ndarray,
    device: torch.device,
    batch_size: int = 256,
) -> float:
    """Mean squared error per pixel (images in [0, 1]) over the images ``idx``."""
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(idx), batch_size):
        x = to_tensor(cache.images[idx[start : start + batch_size]], device)
        total += F.mse_loss(model(x).float(), x, reduction="sum").item()
        count += x.numel()
    return total / max(count, 1)


def train(
    cache_dir: str | os.PathLike,
    run_dir: str | os.PathLike,
    cfg: TrainConfig | None = None,
    model_kwargs: dict[str, Any] | None = None,
    resume: bool = False,
    progress: bool = True,
    overwrite: bool = False,
    verify: bool = True,
) -> dict[str, Any] | None:
    """Train (or resume) a run; returns a summary on rank 0 and None on the other ranks.

    Rank 0 holds a lock on ``run_dir`` throughout, so a second run into it fails at once. Under
    torchrun, a script of one's own should end with ``models.distributed.exit_now`` as the CLI
    does (gloo's threads may abort Python's shutdown).
    """
    cfg = cfg or TrainConfig()
    run_dir = Path(run_dir)
    with ExitStack() as stack:
        # Only rank 0 writes, so only rank 0 checks the folder and locks it (the other ranks
        # would otherwise see rank 0's lock file as a foreign one).
        if int(os.environ.get("RANK", "0")) == 0:
            atomic.check_output(run_dir, (cache_dir,))
            if os.path.lexists(run_dir) and not run_dir.is_dir():
                raise LatentAtlasError(f"{run_dir} is a file, not a run folder")
            if resume and not (run_dir / CHECKPOINT_NAME).is_file() and not _own_files(run_dir):
                raise LatentAtlasError(
                    f"nothing to resume: {run_dir / CHECKPOINT_NAME} does not exist "
                    "(start the run without --resume)"
                )
            created = not run_dir.exists()
            # Locked before its contents are judged: a second run sees the lock, whatever the
            # first one has written so far.
            stack.enter_context(atomic.run_lock(run_dir))
            try:
                check_run_dir(run_dir, resume, overwrite)
            except LatentAtlasError:
                if created:
                    shutil.rmtree(run_dir, ignore_errors=True)
                raise
            for name in (CHECKPOINT_NAME, "history.json"):
                atomic.recover(run_dir / name)  # temp files of killed runs
            # A run killed before its first checkpoint has nothing to resume: it starts afresh.
            resume = resume and (run_dir / CHECKPOINT_NAME).is_file()
        return _train(cache_dir, run_dir, cfg, model_kwargs, resume, progress, verify)


# What a run writes besides its checkpoint: a run killed after writing some of these and before
# its first checkpoint is still a run of its own, not a folder of someone's files.
RUN_FILES = ("recon", "history.json")


def _own_files(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a run's own outputs and no other file (but leftovers)."""
    if not run_dir.is_dir():
        return False
    names = {p.name for p in run_dir.iterdir() if not _ignorable(p.name)}
    return bool(names) and names <= set(RUN_FILES)


def _ignorable(name: str) -> bool:
    return name == atomic.LOCK_NAME or name.endswith((".tmp", ".old"))


def check_run_dir(run_dir: Path, resume: bool, overwrite: bool) -> None:
    """Refuse what would mix two runs in one folder (called with the folder locked); a folder
    holding only a run's own outputs without a checkpoint (killed in its first epoch) is that
    run's, and is trained into afresh."""
    ckpt_file = run_dir / CHECKPOINT_NAME
    if resume:
        return
    if overwrite:
        atomic.check_writable(ckpt_file)
        return
    if ckpt_file.exists():
        raise LatentAtlasError(
            f"{run_dir} already holds a checkpoint: pass --resume to continue it, "
            "or choose another --out"
        )
    if run_dir.is_dir() and not _own_files(run_dir):
        others = [p.name for p in run_dir.iterdir() if not _ignorable(p.name)]
        if others:
            raise LatentAtlasError(
                f"{run_dir} holds other files ({', '.join(sorted(others)[:3])}"
                f"{', ...' if len(others) > 3 else ''}): choose an empty or new --out, "
                "or pass --overwrite to train into it anyway"
            )
    atomic.check_writable(ckpt_file)


def _train(
    cache_dir: str | os.PathLike,
    run_dir: Path,
    cfg: TrainConfig,
    model_kwargs: dict[str, Any] | None,
    resume: bool,
    progress: bool,
    verify: bool,
) -> dict[str, Any] | None:
    run = _setup(cache_dir, run_dir, cfg, model_kwargs, resume, verify)
    for epoch in range(run.start_epoch, run.cfg.epochs):
        train_loss, seconds = _train_epoch(run, epoch, progress)
        # The other ranks wait here while rank 0 writes, and fail with it if it fails.
        with run.ddp.together():
            if run.ddp.main:
                _end_epoch(run, epoch, train_loss, seconds, progress)
    run.ddp.close()
    if not run.ddp.main:
        return None
    return {
        "checkpoint": str(run.ckpt_file),
        "epoch": max(run.cfg.epochs, run.start_epoch),
        "history": run.history,
    }


@dataclass
class _Run:
    """What a run carries from its setup through its epochs."""

    cfg: TrainConfig  # on resume, the stored run's (with this call's epochs and device)
    model_cfg: AEConfig
    cache_dir: str | os.PathLike
    run_dir: Path
    cache: ImageCache
    train_idx: np.ndarray
    val_idx: np.ndarray
    device: torch.device
    ddp: Distributed
    per_rank_batch: int
    steps_per_epoch: int
    model: ConvAutoencoder
    net: torch.nn.Module  # the model, wrapped in DistributedDataParallel under torchrun
    optimizer: torch.optim.Optimizer
    autocast: AbstractContextManager[Any]
    start_epoch: int
    step: int  # optimizer steps taken so far, over all epochs
    history: list[dict[str, Any]]

    @property
    def ckpt_file(self) -> Path:
        return self.run_dir / CHECKPOINT_NAME

    @property
    def global_batch(self) -> int:
        return self.per_rank_batch * self.ddp.world

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.cfg.epochs

    @property
    def grid_idx(self) -> np.ndarray:
        return self.val_idx[: self.cfg.grid_images]


# -- setup ------------------------------------------------------------------------------------


def _setup(
    cache_dir: str | os.PathLike,
    run_dir: Path,
    cfg: TrainConfig,
    model_kwargs: dict[str, Any] | None,
    resume: bool,
    verify: bool,
) -> _Run:
    """Data, processes, configs, model and optimizer: a new run's, or the checkpoint's."""
    ckpt_file = run_dir / CHECKPOINT_NAME
    cache = load_cache(cache_dir, verify=verify)
    train_idx = np.flatnonzero(cache.split == TRAIN)
    val_idx = np.flatnonzero(cache.split != TRAIN)
    device = device_for_rank(cfg.device)
    ddp = Distributed(device)
    per_rank_batch = max(1, cfg.batch_size // ddp.world)
    steps_per_epoch = len(train_idx) // (per_rank_batch * ddp.world)
    if steps_per_epoch == 0:
        raise LatentAtlasError(
            f"{cache_dir}: {len(train_idx)} training images, fewer than one batch of "
            f"{per_rank_batch * ddp.world}"
        )

    state = load_checkpoint(ckpt_file, verify=verify) if resume else None
    cfg, model_cfg = _configs(state, cfg, model_kwargs, cache, cache_dir, ckpt_file)
    _check_memory(model_cfg, per_rank_batch)

    torch.manual_seed(cfg.seed)
    model = ConvAutoencoder(model_cfg).to(device).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    start_epoch, step, history = 0, 0, []
    if state is not None:
        start_epoch, step, history = _restore(state, model, optimizer, ckpt_file)
        if ddp.main:
            # A kill between the checkpoint and history.json leaves the latter one epoch behind.
            atomic.write_json(run_dir / "history.json", history)
    net = model
    if ddp.active:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext()
    )
    if ddp.main:
        run_dir.mkdir(parents=True, exist_ok=True)
    return _Run(
        cfg=cfg,
        model_cfg=model_cfg,
        cache_dir=cache_dir,
        run_dir=run_dir,
        cache=cache,
        train_idx=train_idx,
        val_idx=val_idx,
        device=device,
        ddp=ddp,
        per_rank_batch=per_rank_batch,
        steps_per_epoch=steps_per_epoch,
        model=model,
        net=net,
        optimizer=optimizer,
        autocast=autocast,
        start_epoch=start_epoch,
        step=step,
        history=history,
    )


def _configs(
    state: dict[str, Any] | None,
    cfg: TrainConfig,
    model_kwargs: dict[str, Any] | None,
    cache: ImageCache,
    cache_dir: str | os.PathLike,
    ckpt_file: Path,
) -> tuple[TrainConfig, AEConfig]:
    """The run's training and model configs: the checkpoint's on resume, else the given ones."""
    if state is not None:
        try:
            model_cfg = AEConfig.from_dict(state["model_config"])
            # The stored run keeps its hyper-parameters; only the epoch count may be extended.
            cfg = TrainConfig(
                **{**state["train_config"], "epochs": cfg.epochs, "device": cfg.device}
            )
        except (KeyError, TypeError, ValueError) as e:
            raise LatentAtlasError(f"{ckpt_file}: cannot resume ({_first_line(e)})") from None
    else:
        try:
            model_cfg = AEConfig(image_size=cache.size, **(model_kwargs or {}))
        except ValueError as e:
            raise LatentAtlasError(f"model does not fit {cache_dir}: {e}") from None
    if model_cfg.image_size != cache.size:
        raise LatentAtlasError(
            f"the model takes {model_cfg.image_size}px images but {cache_dir} holds {cache.size}px"
        )
    return cfg, model_cfg


def _check_memory(model_cfg: AEConfig, batch: int) -> None:
    """Refuse, before building it, a model whose weights, gradients and Adam moments (4 float32
    copies) or whose batch activations cannot fit in memory."""
    with torch.device("meta"):  # shapes only: no memory, whatever the size
        params = sum(p.numel() for p in ConvAutoencoder(model_cfg).parameters())
    widths = model_cfg.channels
    # Each stride-2 stage's output, in the encoder and the decoder, kept for backward (float32).
    side = model_cfg.image_size
    activations = 0
    for width in widths:
        side = max(1, side // 2)
        activations += 2 * 2 * 4 * batch * width * side**2
    check_memory(
        16 * params + activations,
        f"a model of {params:,} parameters (--latent-dim {model_cfg.latent_dim}, --channels "
        f"{','.join(map(str, widths))})",
        "lower --latent-dim or --channels",
    )


def _restore(
    state: dict[str, Any],
    model: ConvAutoencoder,
    optimizer: torch.optim.Optimizer,
    ckpt_file: Path,
) -> tuple[int, int, list[dict[str, Any]]]:
    """Load the checkpoint's weights, optimizer and torch RNG state; its (epoch, step, history)."""
    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, step, history = state["epoch"], state["step"], list(state["history"])
        torch.set_rng_state(state["torch_rng"])
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise LatentAtlasError(
            f"{ckpt_file}: cannot resume, its config and weights disagree ({_first_line(e)})"
        ) from None
    return start_epoch, step, history


# -- one epoch --------------------------------------------------------------------------------


def _train_epoch(run: _Run, epoch: int, progress: bool) -> tuple[float, float]:
    """One pass over the epoch's shuffle; (the smoothed training loss, seconds taken)."""
    run.net.train()
    order = run.train_idx[epoch_order(len(run.train_idx), run.cfg.seed, epoch).numpy()]
    t0, running = time.perf_counter(), None
    bar = tqdm(
        range(run.steps_per_epoch),
        desc=f"epoch {epoch + 1}/{run.cfg.epochs}",
        unit="batch",
        disable=not (progress and run.ddp.main),
        leave=False,
    )
    for i in bar:
        loss = _train_step(run, _my_batch(run, order, i))
        running = loss if running is None else 0.95 * running + 0.05 * loss
        bar.set_postfix(loss=f"{running:.5f}")
    bar.close()
    assert running is not None  # steps_per_epoch >= 1
    return running, time.perf_counter() - t0


def _my_batch(run: _Run, order: np.ndarray, i: int) -> torch.Tensor:
    """This process's share of the epoch's ``i``-th global batch, on its device."""
    batch = order[i * run.global_batch : (i + 1) * run.global_batch]
    mine = np.sort(batch[run.ddp.rank :: run.ddp.world])  # sorted: sequential memmap reads
    return to_tensor(run.cache.images[mine], run.device)


def _train_step(run: _Run, x: torch.Tensor) -> float:
    """One optimizer step on the batch ``x``; its loss."""
    for group in run.optimizer.param_groups:
        group["lr"] = cosine_learning_rate(
            run.cfg.lr, run.cfg.min_lr_ratio, run.step, run.total_steps
        )
    with run.autocast:
        recon = run.net(x)
    loss = reconstruction_loss(recon, x, run.cfg.loss)
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    run.optimizer.step()
    run.step += 1
    return loss.item()


# -- end of an epoch (rank 0) -----------------------------------------------------------------


def _end_epoch(run: _Run, epoch: int, train_loss: float, seconds: float, progress: bool) -> None:
    """Validate, then write the reconstruction grid, the checkpoint and history.json."""
    val_mse = (
        evaluate(run.model, run.cache, run.val_idx, run.device)
        if len(run.val_idx)
        else float("nan")
    )
    run.history.append(
        {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            "val_mse": val_mse,
            "seconds": round(seconds, 2),
            "images_per_second": round(run.steps_per_epoch * run.global_batch / seconds, 1),
        }
    )
    if len(run.grid_idx):
        _save_grid(
            run.model,
            run.cache,
            run.grid_idx,
            run.device,
            run.run_dir / "recon" / f"epoch_{epoch + 1:03d}.png",
        )
    save_checkpoint(run.ckpt_file, _checkpoint(run, epoch))
    atomic.write_json(run.run_dir / "history.json", run.history)
    if progress:
        tqdm.write(
            f"epoch {epoch + 1}/{run.cfg.epochs}: train {run.cfg.loss} {train_loss:.5f}, "
            f"val MSE {val_mse:.5f}, {seconds:.0f}s"
        )


def _checkpoint(run: _Run, epoch: int) -> dict[str, Any]:
    """Everything a resume after ``epoch`` needs, and where the data came from."""
    return {
        "model_config": run.model_cfg.to_dict(),
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "train_config": asdict(run.cfg),
        "epoch": epoch + 1,
        "step": run.step,
        "history": run.history,
        "torch_rng": torch.get_rng_state(),
        "data": {
            "cache": str(Path(run.cache_dir).resolve()),
            "source": run.cache.manifest.get("source"),
            "n_train": len(run.train_idx),
            "n_val": len(run.val_idx),
        },
        "world_size": run.ddp.world,
        "saved": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


@torch.no_grad()
def _save_grid(
    model: ConvAutoencoder, cache: ImageCache, idx: np.ndarray, device: torch.device, path: Path
) -> None:
    model.eval()
    originals = np.asarray(cache.images[idx])
    recon = to_uint8(model(to_tensor(originals, device)))
    save_png(image_grid([originals, recon]), path)
