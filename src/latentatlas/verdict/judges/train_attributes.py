"""Training and held-out evaluation of the attribute judge
(:mod:`latentatlas.verdict.judges.attributes`).

One readable loop: Adam(W) on a masked binary cross-entropy over the 40 attributes, a cosine
learning-rate decay, horizontal flips as the only augmentation (every CelebA attribute is
mirror-symmetric), a shuffle per epoch derived from (seed, epoch). Same seed, same weights.

``tools/build_attribute_judge.py`` runs it on the bundled model's image cache and bundles the
result; the functions here take plain arrays, so the tests train on synthetic images.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from latentatlas.core.errors import LatentAtlasError
from latentatlas.models.train import cosine_learning_rate
from latentatlas.verdict.judges.attributes import (
    AttributeJudge,
    AttributeNet,
    JudgeConfig,
    images_to_tensor,
)


@dataclass(frozen=True)
class JudgeTrainConfig:
    epochs: int = 15
    batch_size: int = 64
    lr: float = 2e-3
    min_lr_ratio: float = 0.05  # cosine decay from lr to lr * min_lr_ratio over the run
    weight_decay: float = 1e-4
    flip: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2 or not self.lr > 0:
            raise LatentAtlasError("epochs, learning rate and batch size (>= 2) must be positive")


def attribute_targets(attributes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Store/cache attributes int (n, A) in {+1, -1, 0 = unknown} → (targets (n, A) float32
    in {0, 1}, mask (n, A) float32: 1 where the attribute is known)."""
    a = np.asarray(attributes)
    if a.ndim != 2 or not np.issubdtype(a.dtype, np.number):
        raise LatentAtlasError(f"attributes must be a numeric (n, A) array, got shape {a.shape}")
    if not np.isin(a, (-1, 0, 1)).all():
        raise LatentAtlasError("attributes must be +1 (present), -1 (absent) or 0 (unknown)")
    return (a > 0).astype(np.float32), (a != 0).astype(np.float32)


def _check_pair(images: np.ndarray, attributes: np.ndarray, what: str) -> None:
    if len(images) != len(attributes):
        raise LatentAtlasError(
            f"{what}: {len(images)} images but {len(attributes)} rows of attributes"
        )


def train_attribute_judge(
    images: np.ndarray,
    attributes: np.ndarray,
    attribute_names: Sequence[str] | None = None,
    cfg: JudgeTrainConfig | None = None,
    judge_config: JudgeConfig | None = None,
    val_images: np.ndarray | None = None,
    val_attributes: np.ndarray | None = None,
    progress: bool = False,
) -> tuple[AttributeJudge, list[dict[str, Any]]]:
    """Train a judge on images uint8 (n, H, W, 3) with attributes int (n, A) in {+1, -1, 0}.

    Images of another size than ``judge_config.image_size`` are resized once, up front.
    Returns the judge (eval mode, float32) and one history row per epoch (train loss, seconds,
    and the validation loss / mean balanced accuracy when validation images are given).
    """
    cfg = cfg or JudgeTrainConfig()
    _check_pair(images, attributes, "training set")
    targets, mask = attribute_targets(attributes)
    n, n_attr = targets.shape
    judge_config = judge_config or JudgeConfig(n_attributes=n_attr)
    if judge_config.n_attributes != n_attr:
        raise LatentAtlasError(
            f"the judge has {judge_config.n_attributes} outputs, the data {n_attr} attributes"
        )
    names = (
        list(attribute_names)
        if attribute_names is not None
        else [f"attribute_{i}" for i in range(n_attr)]
    )
    batch = min(cfg.batch_size, n)
    if batch < 2:
        raise LatentAtlasError(f"{n} training image(s): batch norm needs at least 2")
    steps_per_epoch = n // batch
    total_steps = steps_per_epoch * cfg.epochs

    # All images as one float tensor: 9,000 64x64 images are 440 MB in float32, so they are kept
    # as uint8 (110 MB) and converted batch by batch.
    x_all = (images_to_tensor(images, judge_config.image_size) * 255).round_().to(torch.uint8)
    y_all, m_all = torch.from_numpy(targets), torch.from_numpy(mask)

    torch.manual_seed(cfg.seed)  # weights and dropout
    net = AttributeNet(judge_config)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    judge = AttributeJudge(net, names)
    history: list[dict[str, Any]] = []
    step = 0
    for epoch in range(cfg.epochs):
        net.train()
        g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
        order = torch.randperm(n, generator=g)
        flips = torch.rand(n, generator=g) < 0.5
        t0, total = time.perf_counter(), 0.0
        for i in range(steps_per_epoch):
            idx = order[i * batch : (i + 1) * batch]
            x = x_all[idx].float().div_(255.0)
            if cfg.flip:
                x = torch.where(flips[idx].view(-1, 1, 1, 1), x.flip(3), x)
            y, m = y_all[idx], m_all[idx]

            lr = cosine_learning_rate(cfg.lr, cfg.min_lr_ratio, step, total_steps)
            for group in opt.param_groups:
                group["lr"] = lr
            _, logits = net(x)
            loss_each = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
            loss = (loss_each * m).sum() / m.sum().clamp(min=1.0)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
            step += 1
        row: dict[str, Any] = {
            "epoch": epoch + 1,
            "train_loss": total / steps_per_epoch,
            "seconds": time.perf_counter() - t0,
        }
        net.eval()
        if val_images is not None and val_attributes is not None:
            ev = evaluate_attribute_judge(judge, val_images, val_attributes)
            row["val_loss"] = ev["loss"]
            row["val_mean_balanced_accuracy"] = ev["mean_balanced_accuracy"]
        history.append(row)
        if progress:
            print(
                " ".join(
                    f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()
                ),
                flush=True,
            )
    net.eval()
    return judge, history


def evaluate_attribute_judge(
    judge: AttributeJudge, images: np.ndarray, attributes: np.ndarray
) -> dict[str, Any]:
    """Held-out accuracy of ``judge`` on images uint8 (n, H, W, 3) with attributes (n, A).

    Per attribute: the positive rate, the majority-class baseline's accuracy (always predict the
    more frequent class *of these images*, which flatters the baseline), the judge's accuracy at
    threshold 0.5 and its balanced accuracy (mean of the true-positive and true-negative rates;
    0.5 for any constant predictor; NaN when the images hold one class only, and then left out
    of the mean). Unknown labels (0) are left out.
    """
    _check_pair(images, attributes, "evaluation set")
    targets, mask = attribute_targets(attributes)
    proba = judge.predict_proba(images)
    if proba.shape[1] != targets.shape[1]:
        raise LatentAtlasError(
            f"the judge has {proba.shape[1]} outputs, the data {targets.shape[1]} attributes"
        )
    eps = 1e-7
    p = np.clip(proba, eps, 1 - eps)
    bce = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    pred = proba >= 0.5
    rows = []
    for j, name in enumerate(judge.attribute_names_):
        known = mask[:, j] > 0
        t, yhat = targets[known, j] > 0, pred[known, j]
        n_pos, n_neg = int(t.sum()), int((~t).sum())
        rate = n_pos / max(len(t), 1)
        tpr = float((yhat & t).sum() / n_pos) if n_pos else float("nan")
        tnr = float((~yhat & ~t).sum() / n_neg) if n_neg else float("nan")
        rows.append(
            {
                "attribute": name,
                "n": int(len(t)),
                "positive_rate": rate,
                "baseline_accuracy": max(rate, 1 - rate),
                "accuracy": float((yhat == t).mean()) if len(t) else float("nan"),
                # undefined (NaN) when these images hold only one class of the attribute
                "balanced_accuracy": (tpr + tnr) / 2,
                "mean_probability": float(proba[known, j].mean()) if len(t) else float("nan"),
            }
        )
    return {
        "n": int(len(images)),
        "loss": float((bce * mask).sum() / max(mask.sum(), 1.0)),
        "mean_accuracy": float(np.nanmean([r["accuracy"] for r in rows])),
        "mean_baseline_accuracy": float(np.nanmean([r["baseline_accuracy"] for r in rows])),
        "mean_balanced_accuracy": float(np.nanmean([r["balanced_accuracy"] for r in rows])),
        "attributes": rows,
    }
