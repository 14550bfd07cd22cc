"""A Gaussian mixture fitted to the real points (the ex-post density estimate of Ghosh et al.
2020, "From variational to deterministic autoencoders"); at high N in the top principal
coordinates plus a Gaussian rest."""

from __future__ import annotations

import numpy as np
from sklearn import mixture

from latentatlas.analysis.gaussian import single_threaded_blas
from latentatlas.core.validation import check_points
from latentatlas.generators.base import BaseGenerator, summarise_array
from latentatlas.generators.subspace import InPrincipalSubspace

__all__ = ["GaussianMixture"]

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


class GaussianMixture(InPrincipalSubspace, BaseGenerator):
    """A mixture of Gaussians fitted with :class:`sklearn.mixture.GaussianMixture`.

    Above 1,024 components the mixture is fitted to the top principal coordinates (at most 128,
    chosen by held-out likelihood) and the other directions get an isotropic Gaussian rest
    (:class:`~latentatlas.generators.subspace.InPrincipalSubspace`): K full N x N covariances
    would not fit, and EM in thousands of dimensions would not finish. Then ``means_`` and the
    covariances are in those coordinates (d = k below).

    Fitting is seeded by ``random_state`` (k-means initialisation); sampling uses the
    ``random_state`` given to :meth:`sample`, not the estimator's: each point picks a component
    with probability ``weights_`` and is drawn from that component's Gaussian.

    Parameters
    ----------
    n_components : int
    covariance_type : "full", "tied", "diag" or "spherical"
    reg_covar : float
        Added to the covariance diagonals (keeps them positive definite).
    max_iter, n_init, tol, init_params
        As in scikit-learn.
    random_state : int or None
        Seed of the fit (an int keeps fitting reproducible and the generator saveable).
    temperature : float > 0
        Scales samples about the mixture's mean: every variance x temperature**2 (see
        :class:`BaseGenerator`); ``score_samples`` follows.

    Attributes
    ----------
    weights_ : ndarray, shape (K,)
    means_ : ndarray, shape (K, d)
    covariances_ : ndarray
        (K, d, d) full, (d, d) tied, (K, d) diag, (K,) spherical.
    precisions_cholesky_ : ndarray
        Same shapes; as in scikit-learn.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
    log_likelihood_ : float
        Mean log-likelihood per training point (``estimator_.score``).
    bic_ : float
        Bayesian information criterion on the training points.
    estimator_ : sklearn.mixture.GaussianMixture
        The fitted estimator (rebuilt from the arrays when loaded).
    subspace_mean_, subspace_components_, subspace_noise_variance_
        The principal subspace above 1,024 components (None below).
    n_features_in_ : int
    """

    _fitted_arrays = ("weights_", "means_", "covariances_", "precisions_cholesky_")
    _fitted_scalars = ("converged_", "n_iter_", "lower_bound_", "log_likelihood_", "bic_")

    def __init__(
        self,
        n_components: int = 10,
        covariance_type: str = "full",
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        tol: float = 1e-3,
        init_params: str = "kmeans",
        random_state: int | None = 0,
        temperature: float = 1.0,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.tol = tol
        self.init_params = init_params
        self.random_state = random_state
        self.temperature = temperature

    def _estimator(self) -> mixture.GaussianMixture:
        if self.covariance_type not in COVARIANCE_TYPES:
            raise ValueError(
                f"covariance_type must be one of {COVARIANCE_TYPES}, got {self.covariance_type!r}"
            )
        return mixture.GaussianMixture(
            n_components=self.n_components,
            covariance_type=self.covariance_type,
            reg_covar=self.reg_covar,
            max_iter=self.max_iter,
            n_init=self.n_init,
            tol=self.tol,
            init_params=self.init_params,
            random_state=self.random_state,
        )

    def fit(self, Z, y=None) -> GaussianMixture:
        """Fit the mixture to ``Z`` of shape (n, N), n >= n_components."""
        X = check_points(Z, min_rows=2)
        N = X.shape[1]
        seed = self.random_state if self.random_state is not None else 0
        X = self._to_inner(X, random_state=seed)
        est = self._estimator()
        # EM is many mid-sized matmuls and Cholesky solves, for which threaded OpenBLAS is
        # 10-30x slower on busy cores (measured: 12 s vs 0.4 s for 2000 x 32, K = 10).
        with single_threaded_blas():
            est.fit(X)
            log_likelihood, bic = est.score(X), est.bic(X)
        self.estimator_ = est
        self.weights_ = est.weights_
        self.means_ = est.means_
        self.covariances_ = est.covariances_
        self.precisions_cholesky_ = est.precisions_cholesky_
        self.converged_ = bool(est.converged_)
        self.n_iter_ = int(est.n_iter_)
        self.lower_bound_ = float(est.lower_bound_)
        self.log_likelihood_ = float(log_likelihood)
        self.bic_ = float(bic)
        self.n_features_in_ = N
        return self

    def _restore(self) -> None:
        # Set what sklearn's own fit sets (incl. precisions_, derived like its _set_parameters),
        # so score/predict/bic work on the loaded estimator.
        est = self._estimator()
        est.weights_ = self.weights_
        est.means_ = self.means_
        est.covariances_ = self.covariances_
        est.precisions_cholesky_ = pc = self.precisions_cholesky_
        if self.covariance_type == "full":
            est.precisions_ = np.einsum("kij,klj->kil", pc, pc)
        elif self.covariance_type == "tied":
            est.precisions_ = pc @ pc.T
        else:
            est.precisions_ = pc**2
        est.converged_ = self.converged_
        est.n_iter_ = self.n_iter_
        est.lower_bound_ = self.lower_bound_
        est.n_features_in_ = self.means_.shape[1]
        self.estimator_ = est

    def _factors(self) -> np.ndarray:
        """Per-component scale: (K, N, N) Cholesky factors ("full"/"tied") or (K, N) stds."""
        K, N = self.means_.shape
        cov = self.covariances_
        if self.covariance_type == "full":
            with single_threaded_blas():
                return np.linalg.cholesky(cov)
        if self.covariance_type == "tied":
            with single_threaded_blas():
                return np.broadcast_to(np.linalg.cholesky(cov), (K, N, N))
        if self.covariance_type == "diag":
            return np.sqrt(cov)
        return np.broadcast_to(np.sqrt(cov)[:, None], (K, N))

    def _sample_inner(self, n: int, rng: np.random.Generator) -> np.ndarray:
        K, N = self.means_.shape
        # weights_ sum to 1 up to rounding; renormalise so rng.choice accepts them.
        p = self.weights_ / self.weights_.sum()
        labels = rng.choice(K, size=n, p=p)
        factors = self._factors()
        out = np.empty((n, N))
        for k in range(K):
            idx = np.flatnonzero(labels == k)
            if len(idx) == 0:
                continue
            e = rng.standard_normal((len(idx), N))
            if factors.ndim == 3:
                out[idx] = self.means_[k] + e @ factors[k].T
            else:
                out[idx] = self.means_[k] + e * factors[k]
        return out

    def _inner_center(self) -> np.ndarray:
        return (self.weights_ / self.weights_.sum()) @ self.means_

    def _score_inner(self, C: np.ndarray) -> np.ndarray:
        with single_threaded_blas():
            return self.estimator_.score_samples(C)

    def _summary(self) -> dict:
        return {
            "n_components": int(self.means_.shape[0]),
            "covariance_type": self.covariance_type,
            "weights": summarise_array(self.weights_),
            "mean_norms": summarise_array(np.linalg.norm(self.means_, axis=1)),
            "converged": self.converged_,
            "n_iter": self.n_iter_,
            "lower_bound": self.lower_bound_,
            "log_likelihood": self.log_likelihood_,
            "bic": self.bic_,
            **self._subspace_summary(),
        }
