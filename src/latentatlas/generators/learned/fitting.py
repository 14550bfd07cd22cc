"""What the learned priors share: device choice, seeding, standardisation of z, the training loop
(held-out early stopping, best weights restored, a progress bar) and torch state <-> numpy arrays
for save/load without pickle."""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from latentatlas.core.rng import stream

__all__ = [
    "TrainResult",
    "choose_device",
    "from_arrays",
    "seeded",
    "split_holdout",
    "standardise",
    "to_arrays",
    "train",
]

# Prefix of the network's tensors among a prior's saved arrays (the rest are its own attributes).
STATE_PREFIX = "net."
HOLDOUT_STREAM = 17  # stream purpose: which rows are held out for early stopping


def choose_device(name: str) -> torch.device:
    """``"auto"``: CUDA when present, else the CPU; anything else as torch spells it."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but CUDA is not available here")
    return device


@contextlib.contextmanager
def seeded(seed: int, device: torch.device | None = None) -> Iterator[None]:
    """Run a block under torch's global RNG seeded with ``seed``, then put the caller's RNG state
    back (weight initialisation and dropout-free losses draw from the global RNG)."""
    devices = [device] if device is not None and device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def split_holdout(
    n: int, fraction: float, seed: int, min_rows: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted ``(fit, held_out)`` row indices: a seeded random ``fraction`` is held out."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {fraction}")
    n_val = max(1, round(fraction * n))
    if n - n_val < min_rows:
        raise ValueError(f"need at least {min_rows + 1} points to hold some out, got {n}")
    perm = stream(seed, HOLDOUT_STREAM).permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def standardise(X: np.ndarray, whiten: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``(mean, W, W_inv, log|det W|)`` of the affine map ``x = (z - mean) @ W`` the networks see.

    ``whiten=False``: per-component standardisation (``W = diag(1 / std)``; a constant component
    gets scale 1 so nothing divides by zero). ``whiten=True``: PCA whitening with the fit
    points' covariance (eigenvalues floored at 1e-9 of the largest), so the networks start
    from the full-covariance Gaussian and only have to learn what departs from it.
    """
    mean = X.mean(axis=0)
    if not whiten:
        scale = X.std(axis=0)
        scale[scale <= 1e-12 * max(1.0, float(scale.max()))] = 1.0
        return mean, np.diag(1.0 / scale), np.diag(scale), -float(np.sum(np.log(scale)))
    lam, V = np.linalg.eigh(np.cov(X, rowvar=False, bias=True))
    lam = np.maximum(lam, 1e-9 * max(float(lam.max()), 1e-300))
    root = np.sqrt(lam)
    return mean, V / root, (V * root).T, -float(np.sum(np.log(root)))


@dataclass
class TrainResult:
    """How a fit went: per-epoch ``[train, held-out]`` losses, and the epoch kept."""

    history: list[list[float]] = field(default_factory=list)
    best_epoch: int = -1
    best_loss: float = math.inf
    seconds: float = 0.0


def train(
    module: nn.Module,
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    X_fit: torch.Tensor,
    X_val: torch.Tensor,
    *,
    val_loss_fn: Callable[[torch.Tensor], torch.Tensor] | None = None,
    max_epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float = 0.0,
    patience: int,
    seed: int,
    progress: bool = True,
    desc: str = "fit",
) -> TrainResult:
    """Adam on minibatches of ``X_fit``; after every epoch, the held-out loss on ``X_val``; stop
    after ``patience`` epochs without improvement and load the best weights back.

    ``loss_fn(batch)`` and ``val_loss_fn(X_val)`` return a scalar to minimise (the priors use
    negative log-likelihood or its bound, in nats per dimension). The held-out loss is computed
    under a fixed seed, so a random estimate (a VAE's, a diffusion model's) does not jitter from
    epoch to epoch and early stopping compares like with like.
    """
    val_loss_fn = val_loss_fn or loss_fn
    device = X_fit.device
    opt = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    shuffle = torch.Generator(device="cpu").manual_seed(seed)
    n = len(X_fit)
    result = TrainResult()
    best_state = _copy_state(module)
    start = time.perf_counter()
    bar = tqdm(range(max_epochs), desc=desc, file=sys.stderr, disable=not progress, leave=False)
    for epoch in bar:
        module.train()
        order = torch.randperm(n, generator=shuffle).to(device)
        total = 0.0
        for i in range(0, n, batch_size):
            batch = X_fit[order[i : i + batch_size]]
            loss = loss_fn(batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            # Flows and VAEs with a learned variance take the odd huge step early on.
            nn.utils.clip_grad_norm_(module.parameters(), 5.0)
            opt.step()
            total += float(loss.detach()) * len(batch)
        module.eval()
        with torch.no_grad(), seeded(seed + 1, device):
            val = float(val_loss_fn(X_val))
        result.history.append([total / n, val])
        if val < result.best_loss:
            result.best_loss, result.best_epoch = val, epoch
            best_state = _copy_state(module)
        bar.set_postfix(train=f"{total / n:.3f}", heldout=f"{val:.3f}", best=result.best_epoch)
        if epoch - result.best_epoch >= patience:
            break
    bar.close()
    module.load_state_dict(best_state)
    module.eval()
    result.seconds = time.perf_counter() - start
    return result


def _copy_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def to_arrays(module: nn.Module) -> dict[str, np.ndarray]:
    """The module's ``state_dict`` as named numpy arrays (dtype kept, so a reload is exact)."""
    return {
        STATE_PREFIX + k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()
    }


def from_arrays(module: nn.Module, arrays: dict[str, np.ndarray]) -> nn.Module:
    """Load arrays written by :func:`to_arrays` into a freshly built ``module`` (strictly: a
    missing or extra tensor is an error)."""
    state = {
        k[len(STATE_PREFIX) :]: torch.from_numpy(np.asarray(v).copy())
        for k, v in arrays.items()
        if k.startswith(STATE_PREFIX)
    }
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"saved network does not fit the hyper-parameters: {exc}") from None
    return module.eval()


def as_tensor(X: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """float32 tensor of a numpy array (the priors compute in float32)."""
    return torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)).to(device)


def batched(
    fn: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor, batch_size: int = 2048
) -> torch.Tensor:
    """``fn`` over row chunks of ``X`` (bounded memory; rows are independent)."""
    return torch.cat([fn(X[i : i + batch_size]) for i in range(0, len(X), batch_size)])
