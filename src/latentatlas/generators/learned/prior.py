"""The base of the learned (torch) priors: standardise z, hold out part of it, train a network
with early stopping, and keep the network's tensors as plain arrays for save/load."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from latentatlas.core.validation import check_points
from latentatlas.generators.base import BaseGenerator, summarise_array
from latentatlas.generators.learned import fitting
from latentatlas.generators.subspace import InPrincipalSubspace

__all__ = ["TorchPrior"]


class TorchPrior(InPrincipalSubspace, BaseGenerator):
    """A generator whose density is a torch network fitted to standardised z-points.

    Subclasses take, besides their own hyper-parameters, the shared ones read here: ``whiten``,
    ``validation_fraction``, ``max_epochs``, ``batch_size``, ``lr``, ``patience``,
    ``random_state`` (int), ``device``, ``progress``, ``temperature``; and implement

    - ``_build(n_features) -> nn.Module``;
    - ``_loss(x) -> scalar``: the training loss on a standardised float32 batch, in nats per
      dimension (negative log-likelihood or a bound on it);
    - ``_heldout_loss(x) -> scalar``: the early-stopping criterion (default ``_loss``);
    - ``_sample_std(n, rng) -> (n, N) float32 tensor`` in standardised coordinates, every random
      number drawn from the numpy ``rng`` (so one seed gives the same points everywhere);
    - ``_log_prob_std(x) -> (n,) tensor``: log-density (or its documented estimate) in
      standardised coordinates.

    The networks see ``x = (z - mean_) @ whitening_``, an affine map fitted on the fit split
    (PCA whitening, or per-component standardisation with ``whiten=False``); ``score_samples``
    adds its log-determinant ``log_det_``, so it is a density on the original z-points, and
    samples are mapped back with ``coloring_`` (the inverse).
    Sampling and scoring run on the CPU in float32 (the network is moved there after fitting),
    which makes them reproducible bit for bit, also after save and load.

    Above 1,024 components the network sees the top principal coordinates (at most 128, chosen
    by held-out likelihood) instead of z, and the other directions get an isotropic Gaussian
    rest (:class:`~latentatlas.generators.subspace.InPrincipalSubspace`, the same for every
    prior); ``mean_``, ``whitening_`` and ``coloring_`` are then over those coordinates.
    """

    _fitted_arrays: ClassVar[tuple[str, ...]] = ("mean_", "whitening_", "coloring_")
    _fitted_scalars: ClassVar[tuple[str, ...]] = (
        "log_det_",
        "n_fit_",
        "n_heldout_",
        "best_epoch_",
        "n_epochs_",
        "heldout_loss_",
        "fit_seconds_",
        "fit_device_",
        "history_",
    )

    net_: nn.Module

    # -- what subclasses provide ------------------------------------------------------------

    def _build(self, n_features: int) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    def _loss(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _heldout_loss(self, x: torch.Tensor) -> torch.Tensor:
        return self._loss(x)

    def _sample_std(self, n: int, rng: np.random.Generator) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def _log_prob_std(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- fit ----------------------------------------------------------------------------------

    def _check_common(self) -> int:
        seed = self.random_state
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise ValueError(
                f"random_state must be an int (learned priors are always seeded), got {seed!r}"
            )
        for name in ("max_epochs", "batch_size", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not (isinstance(self.lr, float | int) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        return int(seed)

    def fit(self, Z, y=None) -> TorchPrior:
        """Fit the network to ``Z`` (n, N), holding out ``validation_fraction`` of the rows for
        early stopping; the weights of the best held-out epoch are kept."""
        seed = self._check_common()
        X = check_points(Z, min_rows=3)
        N = X.shape[1]
        X = self._to_inner(X, random_state=seed)
        fit_idx, val_idx = fitting.split_holdout(len(X), self.validation_fraction, seed)
        self.mean_, self.whitening_, self.coloring_, self.log_det_ = fitting.standardise(
            X[fit_idx], bool(self.whiten)
        )
        device = fitting.choose_device(self.device)
        Xs = self._to_std(X)
        X_fit = fitting.as_tensor(Xs[fit_idx], device)
        X_val = fitting.as_tensor(Xs[val_idx], device)
        with fitting.seeded(seed, device):
            self.net_ = self._build(X.shape[1]).to(device)
            result = fitting.train(
                self.net_,
                self._loss,
                X_fit,
                X_val,
                val_loss_fn=self._heldout_loss,
                max_epochs=int(self.max_epochs),
                batch_size=int(self.batch_size),
                lr=float(self.lr),
                patience=int(self.patience),
                seed=seed,
                progress=bool(self.progress),
                desc=type(self).__name__,
            )
        self.net_ = self.net_.cpu().eval()
        self.n_fit_, self.n_heldout_ = len(fit_idx), len(val_idx)
        self.best_epoch_ = int(result.best_epoch)
        self.n_epochs_ = len(result.history)
        self.heldout_loss_ = float(result.best_loss)
        self.fit_seconds_ = float(result.seconds)
        self.fit_device_ = str(device)
        self.history_ = result.history
        self.n_features_in_ = N
        return self

    # -- sample and score ----------------------------------------------------------------------

    def _to_std(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean_) @ self.whitening_

    def _sample_inner(self, n: int, rng: np.random.Generator) -> np.ndarray:
        N = self._inner_dim()
        if n == 0:
            return np.empty((0, N))
        with torch.no_grad():
            Xs = self._sample_std(n, rng).double().numpy()
        return self.mean_ + Xs @ self.coloring_

    def _score_inner(self, X: np.ndarray) -> np.ndarray:
        xs = fitting.as_tensor(self._to_std(X))
        with torch.no_grad():
            logp = self._log_prob_std(xs).double().numpy()
        # Change of variables x = (z - mean) W: p_z(z) = p_x(x) |det W|.
        return logp + self.log_det_

    # -- save/load and reporting ---------------------------------------------------------------

    def _export_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        scalars, arrays = super()._export_state()
        arrays.update(fitting.to_arrays(self.net_))
        return scalars, arrays

    def _import_state(self, scalars: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        super()._import_state(scalars, arrays)
        with fitting.seeded(0):
            net = self._build(self._inner_dim())
        self.net_ = fitting.from_arrays(net, arrays)

    def _summary(self) -> dict:
        n_params = sum(p.numel() for p in self.net_.parameters())
        return {
            "n_parameters": int(n_params),
            "n_fit": self.n_fit_,
            "n_heldout": self.n_heldout_,
            "n_epochs": self.n_epochs_,
            "best_epoch": self.best_epoch_,
            # In nats per dimension of the standardised points (the training objective).
            "heldout_loss": self.heldout_loss_,
            "fit_seconds": self.fit_seconds_,
            "fit_device": self.fit_device_,
            "whiten": bool(self.whiten),
            "log_det": self.log_det_,
            "mean": summarise_array(self.mean_),
            **self._subspace_summary(),
        }


def log_normal(x: torch.Tensor) -> torch.Tensor:
    """Row-wise log-density of the standard normal."""
    return -0.5 * (x.pow(2).sum(-1) + x.shape[-1] * math.log(2 * math.pi))
