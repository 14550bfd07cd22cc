"""``latentatlas train CACHE --out RUN``: train the convolutional autoencoder.

Several processes (GPUs or machines) train together when launched through torchrun::

    torchrun --nproc_per_node=2 -m latentatlas train CACHE --out RUN
"""

from __future__ import annotations

import argparse

from latentatlas.cli import add_io_args, add_verify_flags, float_in, int_in, seed


def _channels(text: str) -> tuple[int, ...]:
    """Encoder widths, each bounded like every numeric option (int_in), at most 8 stages."""
    widths = tuple(int_in(1, 4096)(c) for c in text.split(","))
    if len(widths) > 8:
        raise argparse.ArgumentTypeError(f"at most 8 stages, got {len(widths)}")
    return widths


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train the convolutional autoencoder on an image cache",
        description="Train a plain convolutional autoencoder on the train split of CACHE, "
        "validate on the held-out split each epoch, checkpoint atomically after every epoch.",
    )
    add_io_args(
        p,
        ("cache", "CACHE", "image cache from `latentatlas prepare`"),
        out_metavar="RUN",
        out_help="run directory to write",
        overwrite_help="train afresh into a RUN that holds other files or an earlier run's "
        "checkpoint",
    )
    p.add_argument("--epochs", type=int_in(1, 100000), default=12, help="total epochs (default 12)")
    p.add_argument(
        "--batch-size", type=int_in(1, 65536), default=64, help="global batch size (default 64)"
    )
    p.add_argument(
        "--lr",
        type=float_in(0, 10, open_low=True),
        default=2e-3,
        help="Adam learning rate (default 2e-3)",
    )
    p.add_argument("--loss", choices=("mse", "bce"), default="mse", help="reconstruction loss")
    p.add_argument(
        "--latent-dim", type=int_in(1, 65536), default=256, help="latent dimension N (default 256)"
    )
    p.add_argument(
        "--channels",
        type=_channels,
        default=None,
        help="encoder widths, one per stride-2 stage (default 32,64,128,256)",
    )
    p.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1")
    p.add_argument("--resume", action="store_true", help="continue RUN from its last checkpoint")
    add_verify_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.models.train import TrainConfig, train

    model_kwargs = {"latent_dim": args.latent_dim}
    if args.channels:
        model_kwargs["channels"] = args.channels
    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        loss=args.loss,
        seed=args.seed,
        device=args.device,
    )
    result = train(
        args.cache,
        args.out,
        cfg,
        model_kwargs=model_kwargs,
        resume=args.resume,
        progress=not args.quiet,
        overwrite=args.overwrite,
        verify=args.verify,
    )
    if result is not None:
        last = result["history"][-1] if result["history"] else {}
        print(
            f"wrote {result['checkpoint']}: epoch {result['epoch']}, "
            f"val MSE {last.get('val_mse', float('nan')):.5f}"
        )
    return 0
