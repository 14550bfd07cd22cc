"""Classifier two-sample test on images (Lopez-Paz & Oquab 2017), with no pretrained weights.

A small CNN is trained to tell image set A (e.g. decoded held-out codes) from set B (e.g. decoded
generated samples) and scored on images it did not train on: ``folds``-fold cross-validation,
so every kept image is predicted exactly once. Under the null hypothesis (A and B come from one
distribution) the ``n`` out-of-fold predictions are fair coin flips, accuracy ~ N(1/2, 1/(4n));
an accuracy well above 1/2 says the CNN found a difference in *pixels*, which the z-space test
(:mod:`latentatlas.metrics.two_sample`) cannot see (what the decoder does with a point).

It is the image counterpart of that z-space test and returns the same keys (``accuracy``,
``accuracy_std``, ``fold_accuracies``, ``chance``, ``p_value``, ``n_per_class``, ``cv``,
``random_state``), plus ``ci95``, ``n_a``/``n_b``, ``size`` and ``epochs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.rng import RandomState, as_rng, draw_seed, subsample_indices
from latentatlas.core.validation import check_images
from latentatlas.metrics.intervals import wilson_interval

if TYPE_CHECKING:
    import torch


def image_two_sample_test(
    images_a: Any,
    images_b: Any,
    random_state: RandomState = 0,
    folds: int = 2,
    epochs: int = 8,
    size: int = 32,
    *,
    batch_size: int = 32,
    lr: float = 3e-3,
    max_per_class: int | None = None,
) -> dict:
    """Cross-validated accuracy of a small CNN telling ``images_b`` from ``images_a``.

    Both sets are resized to ``size`` x ``size`` (antialiased bilinear), the larger set is
    subsampled (seeded) to the size of the smaller one so chance is exactly 1/2, and each class
    is split into ``folds`` parts; for every fold a fresh CNN (seeded) trains for ``epochs`` on
    the other parts of both classes and predicts this one. Pixel scaling is fitted on the
    training part only. Torch runs on one thread inside the call (restored afterwards), so the
    same seed gives the same numbers. 500 vs 500 64x64 images took 2.6-2.9 s per test
    (``python bench/bench_image_two_sample.py``, load average 6.3 on 2 cores).

    Parameters
    ----------
    images_a, images_b : array-like, shape (n, H, W, 3) and (m, H', W', 3), uint8
        The two image sets (any sizes: both are resized to ``size``).
    random_state : int or numpy Generator
        Seeds the subsampling, the folds, the CNNs' initial weights and the batch order.
    folds : int
        Number of folds (>= 2): with 2, each half of each set is predicted by a CNN trained on
        the other half.
    epochs : int
        Training passes over each training part (no early stopping: held-out accuracy is the
        statistic whether or not the CNN overfits, and overfitting only pulls it towards 1/2).
    size : int
        Side the images are resized to (>= 8); 32 keeps a 64x64 face's structure and costs a
        quarter of the pixels.
    batch_size, lr : int, float
        Adam mini-batch size and learning rate.
    max_per_class : int, optional
        Cap on images per class (after balancing), for speed on large sets.

    Returns
    -------
    dict
        ``accuracy`` (pooled out-of-fold hits / ``2 * n_per_class``), ``fold_accuracies``,
        ``accuracy_std`` (std over folds), ``chance`` (0.5), ``p_value`` (one-sided *exact*
        binomial test, ``scipy.stats.binomtest``, of the pooled hits against 1/2; folds share
        training images, so treat it as indicative), ``ci95`` (95 % Wilson interval of the
        accuracy on ``2 * n_per_class`` predictions), ``n_a`` / ``n_b`` (images given),
        ``n_per_class`` (images used per set), ``cv`` (= ``folds``), ``size``, ``epochs``,
        ``random_state``.
    """
    A = check_images(images_a, "images_a", error=LatentAtlasError)
    B = check_images(images_b, "images_b", error=LatentAtlasError)
    folds, epochs, size, batch_size = int(folds), int(epochs), int(size), int(batch_size)
    if folds < 2:
        raise LatentAtlasError(f"folds must be at least 2, got {folds}")
    if epochs < 1:
        raise LatentAtlasError(f"epochs must be at least 1, got {epochs}")
    if size < 8:
        raise LatentAtlasError(f"size must be at least 8, got {size}")
    if batch_size < 1 or not lr > 0:
        raise LatentAtlasError(f"need batch_size >= 1 and lr > 0, got {batch_size} and {lr}")
    rng = as_rng(random_state)
    k = min(len(A), len(B))
    if max_per_class is not None:
        k = min(k, int(max_per_class))
    if k < 2 * folds:
        raise LatentAtlasError(f"need at least {2 * folds} images in each set, got {k}")
    A = A[subsample_indices(len(A), k, rng)]
    B = B[subsample_indices(len(B), k, rng)]
    # Each class split into `folds` parts separately: every fold is balanced, as in the
    # stratified folds of the z-space test.
    part = [np.array_split(rng.permutation(k), folds) for _ in range(2)]
    seed = draw_seed(rng)

    import torch

    from latentatlas.models.tensors import to_tensor_resized

    threads = torch.get_num_threads()
    # One thread: small convolutions gain little from more, and a sum's order (hence the last
    # bit of a weight, hence an occasional prediction) may depend on the thread count.
    torch.set_num_threads(1)
    try:
        X = torch.cat([to_tensor_resized(A, size), to_tensor_resized(B, size)])
        y = torch.cat([torch.zeros(k), torch.ones(k)])
        accs: list[float] = []
        hits = 0
        for f in range(folds):
            test = np.r_[part[0][f], k + part[1][f]]
            train = np.setdiff1d(np.arange(2 * k), test)
            correct = _fit_predict(
                X[train], y[train], X[test], y[test], seed + f, epochs, batch_size, lr
            )
            accs.append(float(correct.mean()))
            hits += int(correct.sum())
    finally:
        torch.set_num_threads(threads)
    n = 2 * k
    test_result = stats.binomtest(hits, n, 0.5, alternative="greater")
    lo, hi = wilson_interval(hits / n, n)
    return {
        "accuracy": hits / n,
        "accuracy_std": float(np.std(accs)),
        "fold_accuracies": accs,
        "chance": 0.5,
        "p_value": float(test_result.pvalue),
        "ci95": [lo, hi],
        "n_a": len(np.asarray(images_a)),
        "n_b": len(np.asarray(images_b)),
        "n_per_class": int(k),
        "cv": folds,
        "size": size,
        "epochs": epochs,
        "random_state": random_state if isinstance(random_state, int) else None,
    }


def _make_cnn() -> torch.nn.Module:
    from torch import nn

    # Three 3x3 conv blocks and a global average: enough to see blur (high frequencies), colour
    # and layout; small enough that 8 epochs on 500 images take about a second on one core.
    # BatchNorm: without it, 8 epochs often left the CNN predicting one class for every image
    # (blurred vs sharp noise fields, 300 per class: accuracy 0.54 and 0.75 for seeds 0 and 1,
    # 1.00 and 0.998 with it; same-distribution sets stayed at 0.50-0.52).
    def block(c_in: int, c_out: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]

    return nn.Sequential(
        *block(3, 16),
        nn.MaxPool2d(2),
        *block(16, 32),
        nn.MaxPool2d(2),
        *block(32, 32),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 1),
    )


def _fit_predict(
    X: torch.Tensor,
    y: torch.Tensor,
    X_test: torch.Tensor,
    y_test: torch.Tensor,
    seed: int,
    epochs: int,
    batch_size: int,
    lr: float,
) -> np.ndarray:
    """Train a fresh CNN on (X, y); bool (n_test,) whether each test image is classified right."""
    import torch

    # Per-channel standardisation from the training part only (no leakage into the test part).
    mean = X.mean(dim=(0, 2, 3), keepdim=True)
    std = X.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-3)
    X, X_test = (X - mean) / std, (X_test - mean) / std
    gen = torch.Generator().manual_seed(seed)
    # fork_rng: the initial weights come from this seed without moving the caller's global RNG.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = _make_cnn()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=gen)
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            loss = loss_fn(net(X[idx]).squeeze(1), y[idx])
            loss.backward()
            opt.step()
    net.eval()
    with torch.inference_mode():
        pred = net(X_test).squeeze(1) > 0
    return (pred == y_test.bool()).numpy()
