"""Metrics comparing generated z-points (or image features) with real ones: pure functions over
``(n, d)`` float arrays, each documented with its shapes; numpy, scipy and scikit-learn only.

Modules:

    frechet     Fréchet distance (the statistic behind FID) and its interval
    kid         kernel (Inception) distance as torch-fidelity computes it, with its standard error
    mmd         maximum mean discrepancy with a permutation p-value
    manifold    k-NN precision, recall, density and coverage (PRDC, Naeem et al. 2020)
    two_sample  classifier two-sample test (Lopez-Paz & Oquab 2017)
    fidelity    copy distance, re-encoding drift, Mahalanobis tail
    likelihood  held-out log-likelihood from a generator's score_samples
    intervals   95 % intervals: Wilson for accuracies, the bootstrap for the rest

How the verdict uses, ranks and checks them lives in :mod:`latentatlas.verdict`.
"""

from latentatlas.metrics.fidelity import copy_distance, mahalanobis_tail, reencoding_drift
from latentatlas.metrics.frechet import frechet_distance, frechet_test
from latentatlas.metrics.intervals import bootstrap_interval, wilson_interval
from latentatlas.metrics.kid import kernel_inception_distance
from latentatlas.metrics.likelihood import heldout_log_likelihood
from latentatlas.metrics.manifold import kth_neighbour_sq, prdc
from latentatlas.metrics.mmd import mmd_test
from latentatlas.metrics.two_sample import classifier_two_sample_test

__all__ = [
    "bootstrap_interval",
    "classifier_two_sample_test",
    "copy_distance",
    "frechet_distance",
    "frechet_test",
    "heldout_log_likelihood",
    "kernel_inception_distance",
    "kth_neighbour_sq",
    "mahalanobis_tail",
    "mmd_test",
    "prdc",
    "reencoding_drift",
    "wilson_interval",
]
