"""Train the attribute judge on the real images of a bundled model's train split and bundle it.

    latentatlas prepare ../shared/data/celeba --out /tmp/cache64
    python tools/build_attribute_judge.py /tmp/cache64 --seed 0                 # train, bundle
    python tools/build_attribute_judge.py /tmp/cache64 --out /tmp/judge.pt      # train, try
    python tools/build_attribute_judge.py /tmp/cache64 --bundle /tmp/judge.pt   # bundle a try

1. checks that CACHE holds the bundled store's images (same ids, split and attributes), so the
   judge's held-out images are the autoencoder's held-out images;
2. trains :func:`latentatlas.verdict.judges.train_attributes.train_attribute_judge` on the train
   split (real images, not reconstructions);
3. rounds the weights to float16, reloads them and measures accuracy per attribute on the
   held-out split against the majority-class baseline;
4. writes ``attribute_judge.pt`` beside the model, its sha256 into ``MANIFEST.json`` and a section
   into ``MODEL_CARD.md`` (with ``--out FILE``: only the judge file there, and the numbers).

Nothing from the images themselves is written: only weights and numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import tempfile
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from latentatlas import __version__
from latentatlas.core import atomic
from latentatlas.core.bundled import ATTRIBUTE_JUDGE_FILE, bundled_dir
from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.files import file_sha256
from latentatlas.data.cache import load_cache
from latentatlas.data.store import TRAIN, load_store
from latentatlas.models.decode import decode
from latentatlas.models.pretrained import celeba64
from latentatlas.verdict.judges.attributes import (
    JudgeConfig,
    load_attribute_judge,
    save_attribute_judge,
)
from latentatlas.verdict.judges.train_attributes import (
    JudgeTrainConfig,
    evaluate_attribute_judge,
    train_attribute_judge,
)

BEGIN, END = "<!-- attribute-judge -->", "<!-- /attribute-judge -->"


def card_section(
    command: str, result: dict, judge_cfg: JudgeConfig, n_params: int, note: str = ""
) -> str:
    ev, dec = result["heldout"], result["decoded"]
    rows = "\n".join(
        f"| {r['attribute']} | {r['positive_rate']:.3f} | {r['baseline_accuracy']:.3f} "
        f"| {r['accuracy']:.3f} | {r['balanced_accuracy']:.3f} |"
        for r in ev["attributes"]
    )
    history = result["history"]
    side = f"{judge_cfg.image_size}x{judge_cfg.image_size}"
    minutes = sum(h["seconds"] for h in history) / 60
    wall = ""
    if result["wall_s"] is not None:
        wall = f" ({result['wall_s'] / 60:.1f} min with the per-epoch held-out evaluation)"
    versions = (
        f"latentatlas {__version__}, torch {torch.__version__}, Python {platform.python_version()}"
    )
    return f"""{BEGIN}
## attribute_judge.pt: the attribute judge

An image judge for `latentatlas compare`, independent of the autoencoder: a small CNN
(`latentatlas.verdict.judges.attributes`: {len(judge_cfg.channels)} blocks of 3x3 conv with
stride 2, batch norm and ReLU, channels {list(judge_cfg.channels)}, on {side} input;
flattened, one linear layer to {judge_cfg.feature_dim} penultimate features (ReLU, the
judge's `features`), one linear layer to the 40 attribute logits; {n_params:,} parameters,
float16) trained on the **real** images of the {result["n_train"]} train-split images (never on
reconstructions), with a masked binary cross-entropy, AdamW, cosine learning rate and
horizontal flips. `latentatlas.verdict.judges.attributes.load_attribute_judge()` loads it and checks
its sha256; images of another size are resized bilinearly to {side}.

| | |
|---|---|
| prepare | `latentatlas prepare ../shared/data/celeba --out cache64` (the cache above) |
| train | `{command}` |
| cache checksum | `{result["cache_sha256"]}` (sha256 of images.npy) |
| training | {result["config"]} |
| training time | {minutes:.1f} min of training steps{wall} on 2 shared CPU cores |
| held-out images | {ev["n"]} (the autoencoder's held-out split) |
| mean accuracy (40 attributes) | {ev["mean_accuracy"]:.3f} \
(majority baseline {ev["mean_baseline_accuracy"]:.3f}) |
| mean balanced accuracy | {ev["mean_balanced_accuracy"]:.3f} (any constant predictor: 0.500) |
| on decoded held-out z-points | mean balanced accuracy {dec["mean_balanced_accuracy"]:.3f}; \
attribute-marginal gap (mean over the 40 attributes of the absolute difference of mean p \
and held-out rate) \
{result["decoded_gap"]:.3f}: the floor of perfect codes through `model.pt`'s decoder |
| built | {result["built"]} with {versions} |

Held-out loss per epoch: {", ".join(f"{h['val_loss']:.4f}" for h in history)}; mean balanced
accuracy per epoch: {", ".join(f"{h['val_mean_balanced_accuracy']:.3f}" for h in history)}.
{note}

Per attribute on the held-out images (float16 weights, threshold 0.5): the positive rate, the
accuracy of always answering the held-out majority class, the judge's accuracy and its balanced
accuracy (mean of true-positive and true-negative rates; 0.5 for any constant answer).

| attribute | positive rate | majority baseline | accuracy | balanced accuracy |
|---|---|---|---|---|
{rows}
{END}"""


def write_card_section(card_path: Path, section: str) -> None:
    """Replace the card's attribute-judge section (or insert it before the licence note)."""
    card = card_path.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if pattern.search(card):
        card = pattern.sub(lambda _: section, card)
    else:
        anchor = card.find("CelebA is for non-commercial research only")
        anchor = anchor if anchor >= 0 else len(card)
        card = f"{card[:anchor]}{section}\n\n{card[anchor:]}"
    atomic.write_text(card_path, card)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cache", type=Path, help="the image cache the bundled model was trained on")
    ap.add_argument("--name", default="celeba64", help="the bundled model to judge beside")
    ap.add_argument("--epochs", type=int, default=JudgeTrainConfig.epochs)
    ap.add_argument("--batch-size", type=int, default=JudgeTrainConfig.batch_size)
    ap.add_argument("--lr", type=float, default=JudgeTrainConfig.lr)
    ap.add_argument("--weight-decay", type=float, default=JudgeTrainConfig.weight_decay)
    ap.add_argument("--dropout", type=float, default=JudgeConfig.dropout)
    ap.add_argument("--seed", type=int, default=JudgeTrainConfig.seed)
    ap.add_argument("--out", type=Path, help="write the judge here instead of into the bundle")
    ap.add_argument("--note", default="", help="anything else the card should say")
    ap.add_argument(
        "--bundle",
        type=Path,
        metavar="FILE",
        help="bundle a judge that an earlier run wrote with --out (no training; its held-out "
        "numbers are measured again)",
    )
    args = ap.parse_args()

    cache = load_cache(args.cache)
    store = load_store(args.name)
    same = (
        cache.attributes is not None
        and store.attributes is not None
        and cache.attribute_names == list(store.attribute_names)
        and np.array_equal(cache.ids, store.ids)
        and np.array_equal(cache.split, store.split)
        and np.array_equal(cache.attributes, store.attributes)
    )
    if not same:
        raise LatentAtlasError(
            f"{args.cache}: not the images of the bundled {args.name} store (ids, split or "
            "attributes differ); prepare it with the command in its MODEL_CARD.md"
        )
    train_idx = np.flatnonzero(cache.split == TRAIN)
    held_idx = np.flatnonzero(cache.split != TRAIN)
    # Read once: the memmap's fancy indexing would otherwise reread the file every epoch.
    train_images, held_images = cache.images[train_idx], cache.images[held_idx]
    cache_sha256 = file_sha256(args.cache / "images.npy")
    if args.bundle is None:
        cfg = JudgeTrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            weight_decay=args.weight_decay,
            seed=args.seed,
        )
        judge_cfg = JudgeConfig(
            image_size=cache.size, n_attributes=len(cache.attribute_names), dropout=args.dropout
        )
        t0 = time.perf_counter()
        judge, history = train_attribute_judge(
            train_images,
            cache.attributes[train_idx],
            cache.attribute_names,
            cfg,
            judge_cfg,
            val_images=held_images,
            val_attributes=cache.attributes[held_idx],
            progress=True,
        )
        judge.meta = {
            "trained_on": f"{len(train_idx)} real images of the {args.name} train split",
            "cache_sha256": cache_sha256,
            "train_config": asdict(cfg),
            "history": history,
            "wall_s": time.perf_counter() - t0,
        }
    else:
        judge = load_attribute_judge(args.bundle)
        if judge.meta.get("cache_sha256") != cache_sha256:
            raise LatentAtlasError(f"{args.bundle}: not trained on {args.cache}")
        cfg = JudgeTrainConfig(**judge.meta["train_config"])
        judge_cfg, history = judge.net.cfg, judge.meta["history"]
    command = "python tools/build_attribute_judge.py cache64" + (
        f" --epochs {cfg.epochs} --seed {cfg.seed}"
        + (f" --batch-size {cfg.batch_size}" if cfg.batch_size != 64 else "")
        + (f" --lr {cfg.lr:g}" if cfg.lr != JudgeTrainConfig.lr else "")
        + f" --weight-decay {cfg.weight_decay:g} --dropout {judge_cfg.dropout:g}"
    )
    if args.bundle is not None:
        command = (
            f"{command} --out judge.pt`, then "
            "`python tools/build_attribute_judge.py cache64 --bundle judge.pt"
        )
    with tempfile.TemporaryDirectory() as tmp:
        # The numbers are those of the shipped float16 weights, reloaded from the file.
        tmp_file = save_attribute_judge(Path(tmp) / ATTRIBUTE_JUDGE_FILE, judge, half=True)
        shipped = load_attribute_judge(tmp_file)
        heldout = evaluate_attribute_judge(shipped, held_images, cache.attributes[held_idx])
        judge.meta["heldout"] = {
            k: heldout[k]
            for k in ("n", "mean_accuracy", "mean_baseline_accuracy", "mean_balanced_accuracy")
        }
        judge.meta["heldout_attributes"] = heldout["attributes"]
        data = save_attribute_judge(Path(tmp) / ATTRIBUTE_JUDGE_FILE, judge).read_bytes()

    # The same held-out faces, encoded and decoded by the bundled autoencoder: what a perfect
    # generator of z-points would score, through this decoder.
    if args.name != "celeba64":
        raise LatentAtlasError(f"no loader for the bundled model {args.name!r}")
    model, _ = celeba64()
    decoded = decode(model, np.asarray(store.z[held_idx], dtype=np.float32))
    decoded_ev = evaluate_attribute_judge(shipped, decoded, cache.attributes[held_idx])
    rates = np.array([r["positive_rate"] for r in decoded_ev["attributes"]])
    means = np.array([r["mean_probability"] for r in decoded_ev["attributes"]])
    decoded_gap = float(np.abs(means - rates).mean())

    out = args.out or bundled_dir(args.name) / ATTRIBUTE_JUDGE_FILE
    atomic.write_bytes(out, data)
    load_attribute_judge(out)  # what was written loads
    result = {
        "out": str(out),
        "size_mb": round(out.stat().st_size / 1e6, 3),
        "wall_s": judge.meta.get("wall_s"),
        "n_train": int(len(train_idx)),
        "cache_sha256": cache_sha256,
        "config": ", ".join(f"{k} {v}" for k, v in asdict(cfg).items()),
        "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "history": history,
        "heldout": heldout,
        "decoded": decoded_ev,
        "decoded_gap": decoded_gap,
    }
    if args.out is None:
        bundle = bundled_dir(args.name)
        manifest_path = bundle / "MANIFEST.json"
        manifest = json.loads(manifest_path.read_text())
        manifest[ATTRIBUTE_JUDGE_FILE] = file_sha256(out)
        atomic.write_json(manifest_path, dict(sorted(manifest.items())))
        n_params = sum(p.numel() for p in judge.net.parameters())
        write_card_section(
            bundle / "MODEL_CARD.md", card_section(command, result, judge_cfg, n_params, args.note)
        )
    print(json.dumps({k: result[k] for k in ("out", "size_mb", "wall_s")}))
    print(
        f"held out: mean accuracy {heldout['mean_accuracy']:.3f} "
        f"(baseline {heldout['mean_baseline_accuracy']:.3f}), "
        f"mean balanced accuracy {heldout['mean_balanced_accuracy']:.3f}"
    )
    print(
        f"decoded held-out z-points: mean balanced accuracy "
        f"{decoded_ev['mean_balanced_accuracy']:.3f}, attribute-marginal gap {decoded_gap:.3f}"
    )
    for r in heldout["attributes"]:
        print(
            f"  {r['attribute']:20s} rate {r['positive_rate']:.3f} "
            f"baseline {r['baseline_accuracy']:.3f} acc {r['accuracy']:.3f} "
            f"balanced {r['balanced_accuracy']:.3f}"
        )


if __name__ == "__main__":
    try:
        main()
    except LatentAtlasError as e:
        raise SystemExit(f"error: {e}") from None
