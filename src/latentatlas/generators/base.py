"""The generator contract (scikit-learn style): hyper-parameters in ``__init__``, ``fit(Z)``
learns attributes ending in ``_``, ``sample(n, random_state)`` draws new z-points and
``score_samples(Z)`` gives their log-density; every generator has a ``temperature``."""

from __future__ import annotations

import inspect
import math
from typing import Any, ClassVar

import numpy as np
from sklearn.exceptions import NotFittedError

from latentatlas.core.jsonable import jsonable
from latentatlas.core.rng import RandomState, as_rng
from latentatlas.core.validation import check_points, check_positive

__all__ = ["BaseGenerator", "NotFittedError", "summarise_array"]

# Arrays up to this many entries appear in full in ``fitted_params()``; longer ones are summarised.
SHORT_ARRAY = 16


class BaseGenerator:
    """Base class of z-point generators.

    Subclasses store every ``__init__`` argument under the same attribute name (no validation in
    ``__init__``: that happens in ``fit``), set ``n_features_in_`` and their other fitted
    attributes in ``fit``, and implement ``_sample(n, rng) -> (n, N) float64`` and
    ``_score_samples(Z) -> (n,)`` (log-density at temperature 1).

    Temperature: every subclass takes ``temperature`` (default 1). Samples are scaled about the
    generator's centre ``_center()`` (its mean): ``x = c + temperature * (x1 - c)``, so every
    variance is multiplied by ``temperature**2`` (StyleGAN's truncation psi is the same idea).
    ``score_samples`` is the exact log-density of those scaled samples.

    For saving (:func:`latentatlas.generators.save_generator`) a subclass lists its fitted
    attributes in ``_fitted_arrays`` (ndarrays, go to ``arrays.npz``) and ``_fitted_scalars``
    (JSON-ready values, go to ``generator.json``); together with the hyper-parameters they must
    determine ``_sample`` completely, so a loaded generator draws the same numbers. Arrays that
    only one form of a fit has (the full covariance, not kept at high N) go in
    ``_optional_arrays``: saved when not None, None when absent from a saved generator. Derived
    state that is not plain data (a scikit-learn estimator) is rebuilt in ``_restore``.
    """

    _fitted_arrays: ClassVar[tuple[str, ...]] = ()
    _optional_arrays: ClassVar[tuple[str, ...]] = ()
    _fitted_scalars: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self, deep: bool = True) -> dict:
        """The hyper-parameters, as passed to ``__init__``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params) -> BaseGenerator:
        """Change hyper-parameters (takes effect at the next ``fit``)."""
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def fit(self, Z, y=None) -> BaseGenerator:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sample(self, n: int, rng: np.random.Generator) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "n_features_in_")

    def check_is_fitted(self) -> None:
        """Raise :class:`sklearn.exceptions.NotFittedError` unless ``fit`` has run."""
        if not self.is_fitted:
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet: call fit(Z) before sample()"
            )

    def _temperature(self) -> float:
        return check_positive(getattr(self, "temperature", 1.0), "temperature")

    def _center(self) -> np.ndarray:
        """``(N,)`` the point samples are scaled about at temperature != 1 (the mean)."""
        return self.mean_

    def _density_dim(self) -> int:
        """Dimension of the space the density lives in (N; fewer for a degenerate fit)."""
        return int(self.n_features_in_)

    def sample(self, n: int, random_state: RandomState = None) -> np.ndarray:
        """Draw ``n`` new z-points.

        Parameters
        ----------
        n : int, >= 0
        random_state : int, Generator or None
            Same int, same points.

        Returns
        -------
        ndarray, shape (n, N), float64
        """
        self.check_is_fitted()
        t = self._temperature()
        if int(n) != n or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n}")
        X = self._sample(int(n), as_rng(random_state))
        if t != 1.0:
            c = self._center()
            X = c + t * (X - c)
        return X

    def score_samples(self, Z) -> np.ndarray:
        """Log-density of the generator at each row of ``Z`` (natural log, scikit-learn style).

        Parameters
        ----------
        Z : array-like, shape (n, N)

        Returns
        -------
        ndarray, shape (n,)
            ``-inf`` outside the generator's support (the cube, a truncation, or off the affine
            span of a rank-deficient fit, where the density lives in ``_density_dim()``
            dimensions).
        """
        self.check_is_fitted()
        t = self._temperature()
        X = check_points(Z, min_rows=1)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"Z has {X.shape[1]} components, the generator was fitted on {self.n_features_in_}"
            )
        if t != 1.0:
            c = self._center()
            X = c + (X - c) / t
        return self._score_samples(X) - self._density_dim() * math.log(t)

    def _score_samples(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- reporting --------------------------------------------------------------------------

    def fitted_params(self) -> dict:
        """A JSON-ready summary of what ``fit`` learned.

        Returns
        -------
        dict
            ``generator`` (class name), ``n_features_in`` and the class's own entries: scalars
            as they are, arrays of at most 16 entries as lists, longer ones summarised
            (:func:`summarise_array`). Non-finite floats become ``None``.
        """
        self.check_is_fitted()
        return jsonable(
            {
                "generator": type(self).__name__,
                "n_features_in": int(self.n_features_in_),
                **self._summary(),
            }
        )

    def _summary(self) -> dict:
        return {}

    # -- state for save/load (see latentatlas.generators.io) ---------------------------------

    def _export_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(scalars, arrays)``: every fitted attribute ``_sample`` depends on."""
        self.check_is_fitted()
        scalars = {"n_features_in_": int(self.n_features_in_)}
        scalars.update({name: getattr(self, name) for name in self._fitted_scalars})
        arrays = {name: np.asarray(getattr(self, name)) for name in self._fitted_arrays}
        for name in self._optional_arrays:
            if getattr(self, name, None) is not None:
                arrays[name] = np.asarray(getattr(self, name))
        return scalars, arrays

    def _import_state(self, scalars: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Inverse of :meth:`_export_state` (on a freshly constructed instance)."""
        for name in ("n_features_in_", *self._fitted_scalars):
            if name not in scalars:
                raise ValueError(f"saved {type(self).__name__} lacks the attribute {name!r}")
        for name in self._fitted_arrays:
            if name not in arrays:
                raise ValueError(f"saved {type(self).__name__} lacks the array {name!r}")
        for name, value in scalars.items():
            setattr(self, name, value)
        for name in self._fitted_arrays:
            setattr(self, name, arrays[name])
        for name in self._optional_arrays:
            setattr(self, name, arrays.get(name))
        self._restore()

    def _restore(self) -> None:
        """Rebuild derived state after loading (JSON lists back to tuples, estimators...)."""


def summarise_array(a: Any) -> Any:
    """An array as a list when it is short (<= 16 entries), else a few statistics.

    Parameters
    ----------
    a : array-like, any shape

    Returns
    -------
    list or dict
        The (nested) list, or ``{"shape", "min", "max", "mean", "norm"}`` (Frobenius norm).
    """
    a = np.asarray(a, dtype=np.float64)
    if a.size <= SHORT_ARRAY:
        return a.tolist()
    return {
        "shape": list(a.shape),
        "min": float(a.min()),
        "max": float(a.max()),
        "mean": float(a.mean()),
        "norm": float(np.linalg.norm(a.ravel())),
    }
