"""Benchmark: latentatlas's generators vs pythae's latent samplers on the same autoencoder.

pythae (https://github.com/clementchadebec/benchmark_VAE, 0.1.2) fits its samplers through a
pythae model: ``sampler.fit(train_data)`` runs ``model(batch).z`` over ``train_data`` to get the
embeddings, fits the sampler on them, and ``sampler.sample(n)`` draws z-points and returns
``model.decoder(z)["reconstruction"]``. The bundled ``celeba64`` autoencoder ships its z-points
but no images (CelebA images are never committed), so the bundled AE is wrapped like this:

- encoder: ``x -> lo + x * (hi - lo)``, with ``lo``/``hi`` the smallest/largest train z entry,
  and ``train_data`` is the train z-points mapped by the inverse, ``(z - lo) / (hi - lo)``. Every
  sampler thus sees exactly the train z-points, while ``train_data`` passes pythae's "data must
  be in [0, 1]" assertion (an identity encoder would fail it: z-points are not in [0, 1]). The
  float32 round trip's largest error is printed;
- decoder: the bundled decoder, unchanged, returning the images; it also records the z-points it
  is called with, which are the sampler's generated z-points (the latent half of the verdict
  needs them, and pythae only returns images);
- model: a pythae ``AE`` (``VAE`` for ``TwoStageVAESampler``, which only accepts VAEs: a
  deterministic AE is a VAE with zero posterior variance) whose ``forward`` returns only
  ``z = encoder(x)``. pythae's own ``forward`` would also decode the batch and take an MSE
  between images and the 256-d input, which fails on the shape mismatch and is no part of any
  sampler's fit.

pythae's samplers use their default configurations (10 GMM components, like latentatlas's
``gmm``; 2 MADE blocks of 3x128 for MAF/IAF; 2x1024 for the two-stage VAE) and pythae's default
trainer (Adam, lr 1e-4, batch 64) with two changes: ``keep_best_on_train=True``, since without
eval data pythae's trainer never records a best model (and the held-out z-points are the
verdict's, not a validation set to select on), and far fewer than pythae's 100 epochs, because
on the shared 2-core machine one epoch over the 8,968 train z-points took 14-20 s (MAF) and
20-55 s (two-stage VAE): the defaults here are 20 (MAF) and 15 (two-stage VAE) epochs, printed
with the results, and ``--epochs`` asks for more. IAF is not in the default run: its density
direction, which training needs, runs 256 sequential MADE passes per block with autograd, and
one training step (batch 64) took 42 s here, ~100 minutes per epoch; ``--pythae iaf`` runs it
anyway. Nothing in pythae is patched; pythae 0.1.2 runs unchanged on torch 2.13, numpy 2 and
pydantic 2.

latentatlas's generators are every entry of ``GENERATORS`` and ``PRIORS`` (``--ours`` picks
some), fitted and sampled exactly as ``latentatlas compare`` does. Everyone gets the same n and
seed, and the same judge (``latentatlas.verdict.scoring.judge``, against the 1,032 held-out
z-points).
The held-out log-likelihood (nats per dimension) uses ``score_samples`` for ours, the fitted
scikit-learn mixture inside pythae's GMM sampler, and ``prior.log_prob(f(z)) + log|det J|`` for
the flows; the two-stage VAE has no tractable likelihood.

    .venv/bin/pip install -e ".[bench]"   # pythae 0.1.2; see README "Benchmarks"
    .venv/bin/python bench/bench_vs_pythae.py [--n 1000] [--seed 0] [--ours gmm,kde]
        [--pythae gmm,maf,twostage,iaf] [--epochs maf=20,iaf=1,twostage=15] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import math
import sys
import tempfile
import time
from typing import Any

import numpy as np
import torch

from latentatlas.generators import GENERATORS, PRIORS, make_generator
from latentatlas.models.decode import decode, reencode
from latentatlas.models.pretrained import celeba64
from latentatlas.models.tensors import to_uint8
from latentatlas.verdict.compare import split_for_verdict
from latentatlas.verdict.scoring import judge, judging_context

PYTHAE_SAMPLERS = ("gmm", "maf", "iaf", "twostage")
DEFAULT_EPOCHS = {"maf": 20, "iaf": 1, "twostage": 15}
# The learned priors of latentatlas; MAF/IAF are matched against the best of these that ran,
# else against the best of ours.
LEARNED = tuple(PRIORS)
METRICS = (
    ("face_rate", "face"),
    ("two_sample_accuracy", "2s-acc"),
    ("mahalanobis_tail", "tail"),
    ("precision", "P"),
    ("recall", "R"),
    ("density", "D"),
    ("coverage", "C"),
    ("reencoding_drift", "drift"),
    ("copy_distance", "copy"),
    ("loglik_nats_per_dim", "ll/dim"),
)


def _quiet_pythae() -> None:
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("pythae"):
            logging.getLogger(name).setLevel(logging.WARNING)


def wrap_autoencoder(ae: torch.nn.Module, train: np.ndarray, vae: bool = False):
    """(pythae model, train_data in [0, 1]) for the bundled ``ae`` and its train z-points."""
    from pythae.models import AE, VAE, AEConfig, VAEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder

    lo, hi = float(train.min()), float(train.max())
    dim = train.shape[1]

    class ZEncoder(BaseEncoder):
        def forward(self, x: torch.Tensor) -> ModelOutput:
            return ModelOutput(embedding=lo + x.reshape(len(x), -1) * (hi - lo))

    class ZDecoder(BaseDecoder):
        def __init__(self) -> None:
            super().__init__()
            self.decoder = ae.decoder
            self.seen: list[torch.Tensor] = []

        def forward(self, z: torch.Tensor) -> ModelOutput:
            self.seen.append(z.detach().cpu())
            return ModelOutput(reconstruction=self.decoder(z))

    class ZModel(VAE if vae else AE):
        def forward(self, inputs, **kwargs) -> ModelOutput:
            return ModelOutput(z=self.encoder(inputs["data"]).embedding)

    config = (VAEConfig if vae else AEConfig)(input_dim=(dim,), latent_dim=dim)
    model = ZModel(model_config=config, encoder=ZEncoder(), decoder=ZDecoder())
    data = torch.from_numpy((train - lo) / (hi - lo)).float()
    return model, data


def fit_pythae(
    name: str, ae: torch.nn.Module, train: np.ndarray, n: int, seed: int, epochs: int
) -> dict[str, Any]:
    """Fit one pythae sampler on ``train`` and draw ``n``; z-points, images, log-lik, timings."""
    from pythae.samplers import (
        GaussianMixtureSampler,
        GaussianMixtureSamplerConfig,
        IAFSampler,
        IAFSamplerConfig,
        MAFSampler,
        MAFSamplerConfig,
        TwoStageVAESampler,
        TwoStageVAESamplerConfig,
    )
    from pythae.trainers import BaseTrainerConfig

    cls, config = {
        "gmm": (GaussianMixtureSampler, GaussianMixtureSamplerConfig),
        "maf": (MAFSampler, MAFSamplerConfig),
        "iaf": (IAFSampler, IAFSamplerConfig),
        "twostage": (TwoStageVAESampler, TwoStageVAESamplerConfig),
    }[name]
    model, data = wrap_autoencoder(ae, train, vae=name == "twostage")
    with torch.no_grad():
        back = model.encoder(data).embedding.double().numpy()
    roundtrip = float(np.abs(back - train).max())
    # pythae draws from the global torch and numpy generators (sklearn's mixture without a
    # random_state included), so both are seeded before fitting and again before sampling.
    torch.manual_seed(seed)
    np.random.seed(seed)  # noqa: NPY002
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stderr(io.StringIO()):
        sampler = cls(model=model, sampler_config=config())
        _quiet_pythae()
        if name == "gmm":
            sampler.fit(data)
        else:
            trainer = BaseTrainerConfig(
                output_dir=tmp, num_epochs=epochs, keep_best_on_train=True, seed=seed
            )
            sampler.fit(data, training_config=trainer)
    fit_s = time.perf_counter() - t0

    torch.manual_seed(seed)
    np.random.seed(seed)  # noqa: NPY002
    model.decoder.seen.clear()
    t0 = time.perf_counter()
    with torch.no_grad():
        images = sampler.sample(num_samples=n)
    sample_s = time.perf_counter() - t0
    z = torch.cat(model.decoder.seen).double().numpy()
    return {
        "sampler": sampler,
        "z": z,
        "images": to_uint8(images),
        "fit_s": fit_s,
        "sample_s": sample_s,
        "roundtrip": roundtrip,
    }


def pythae_loglik(name: str, sampler, held: np.ndarray) -> float | None:
    """Mean held-out log-density per dimension, where the sampler has one."""
    if name == "gmm":
        return float(sampler.gmm.score_samples(held).mean() / held.shape[1])
    if name in ("maf", "iaf"):
        flow = sampler.maf_model if name == "maf" else sampler.iaf_model
        with torch.no_grad():
            out = flow(torch.from_numpy(held).float())
            logp = sampler.prior.log_prob(out.out) + out.log_abs_det_jac
        return float(logp.double().mean() / held.shape[1])
    return None


def _parse_epochs(text: str) -> dict[str, int]:
    epochs = dict(DEFAULT_EPOCHS)
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        if key not in DEFAULT_EPOCHS or not value.isdigit():
            raise SystemExit(f"--epochs: expected NAME=INT with NAME in {list(DEFAULT_EPOCHS)}")
        epochs[key] = int(value)
    return epochs


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float) and math.isinf(v):
        return "-inf" if v < 0 else "inf"
    return f"{v:.3f}"


def _best(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The row whose two-sample accuracy is closest to 0.5 (then the higher face rate)."""
    if not rows:
        return None
    return min(rows, key=lambda r: (abs(r["two_sample_accuracy"] - 0.5), -r["face_rate"]))


def _ahead(ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    def word(a: float, b: float) -> str:
        return "ahead" if a < b else "behind" if a > b else "tie"

    acc = word(abs(ours["two_sample_accuracy"] - 0.5), abs(theirs["two_sample_accuracy"] - 0.5))
    face = word(-ours["face_rate"], -theirs["face_rate"])
    return f"2s-acc {acc}, face {face}"


def matchups(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Each pythae sampler against its latentatlas counterpart: is ours ahead?"""
    ours = {r["sampler"]: r for r in rows if r["library"] == "latentatlas"}
    learned = [ours[k] for k in LEARNED if k in ours]
    out = []
    for r in rows:
        if r["library"] != "pythae":
            continue
        key = r["sampler"]
        if key == "gmm" and "gmm" in ours:
            mine, why = ours["gmm"], "same model class"
        elif key in ("maf", "iaf") and learned:
            mine, why = _best(learned), "best learned prior of ours"
        elif key == "twostage" and "vae2" in ours:
            mine, why = ours["vae2"], "same model class"
        else:
            mine, why = _best(list(ours.values())), "best of ours (no counterpart ran)"
        if mine is not None:
            out.append(
                {
                    "pythae": key,
                    "ours": mine["sampler"],
                    "why": why,
                    "verdict": _ahead(mine, r),
                }
            )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="z-points drawn from every sampler")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--ours", default=",".join([*GENERATORS, *PRIORS]), help="latentatlas generators"
    )
    ap.add_argument("--pythae", default="gmm,maf,twostage", help="pythae samplers (iaf: see above)")
    ap.add_argument("--epochs", default="", help="e.g. maf=100,twostage=100 (default 20 and 15)")
    ap.add_argument("--json", default=None, help="also write the table here")
    args = ap.parse_args()

    try:
        import pythae  # noqa: F401
    except ImportError:
        print("pythae is not installed: .venv/bin/pip install -e '.[bench]'", file=sys.stderr)
        return 2
    ours = [g for g in args.ours.split(",") if g]
    theirs = [s for s in args.pythae.split(",") if s]
    known = [*GENERATORS, *PRIORS]
    bad = [g for g in ours if g not in known] + [s for s in theirs if s not in PYTHAE_SAMPLERS]
    if bad:
        raise SystemExit(f"unknown sampler {bad[0]!r}")
    epochs = _parse_epochs(args.epochs)

    t_start = time.perf_counter()
    model, store = celeba64()
    train, held = split_for_verdict(store, args.seed)
    ctx = judging_context(model, train, held, judges=())  # z-space numbers, as before
    dim = train.shape[1]
    print(
        f"celeba64: {len(train)} train / {len(held)} held-out z-points, N={dim}; "
        f"n={args.n}, seed={args.seed}, torch threads={torch.get_num_threads()}"
    )

    rows: list[dict[str, Any]] = []
    for name in ours:
        t0 = time.perf_counter()
        gen = make_generator(name).fit(train)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        z = gen.sample(args.n, random_state=args.seed)
        sample_s = time.perf_counter() - t0
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            ll = float(np.mean(gen.score_samples(held)) / dim)
        row = {"sampler": name, "library": "latentatlas", "class": type(gen).__name__}
        row.update(judge(z, decode(model, z), reencode(model, z), ctx, args.seed))
        row.update(fit_s=fit_s, sample_s=sample_s, loglik_nats_per_dim=ll)
        rows.append(row)
        print(f"  ours   {name:<12} fit {fit_s:7.1f} s", flush=True)

    for name in theirs:
        got = fit_pythae(name, model, train, args.n, args.seed, epochs.get(name, 0))
        sampler = got["sampler"]
        row = {"sampler": name, "library": "pythae", "class": type(sampler).__name__}
        row.update(judge(got["z"], got["images"], reencode(model, got["z"]), ctx, args.seed))
        row.update(
            fit_s=got["fit_s"],
            sample_s=got["sample_s"],
            loglik_nats_per_dim=pythae_loglik(name, sampler, held),
            epochs=epochs.get(name),
            train_roundtrip_max_error=got["roundtrip"],
        )
        rows.append(row)
        ep = f", {epochs[name]} epochs" if name in epochs else ""
        print(
            f"  pythae {name:<12} fit {got['fit_s']:7.1f} s{ep} "
            f"(z round trip max error {got['roundtrip']:.1e})",
            flush=True,
        )

    header = ["sampler", "library", "fit s"] + [short for _, short in METRICS]
    table = [
        [r["sampler"], r["library"], f"{r['fit_s']:.1f}"] + [_fmt(r.get(k)) for k, _ in METRICS]
        for r in rows
    ]
    widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(header)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for t in table:
        print("  ".join(c.ljust(w) for c, w in zip(t, widths, strict=True)))
    print("\nIs ours ahead? (2s-acc: closer to 0.5 is better; face: higher is better)")
    vs = matchups(rows)
    for m in vs:
        print(f"  pythae {m['pythae']:<9} vs ours {m['ours']:<12} ({m['why']}): {m['verdict']}")
    total = time.perf_counter() - t_start
    print(f"\ntotal {total:.0f} s")

    if args.json:

        def clean(v: Any) -> Any:
            return None if isinstance(v, float) and not math.isfinite(v) else v

        with open(args.json, "w") as f:
            json.dump(
                {
                    "n": args.n,
                    "seed": args.seed,
                    "n_train": len(train),
                    "n_heldout": len(held),
                    "epochs": {k: v for k, v in epochs.items() if k in theirs},
                    "rows": [{k: clean(v) for k, v in r.items()} for r in rows],
                    "matchups": vs,
                    "seconds": round(total, 1),
                },
                f,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
