"""``latentatlas compare MODEL STORE --out DIR``: every generator, judged side by side."""

from __future__ import annotations

import argparse

from latentatlas.cli import (
    add_io_args,
    add_model_args,
    add_verify_flags,
    int_in,
    model_spec,
    seed,
)
from latentatlas.generators.registry import (
    GENERATOR_NAMES,
    LITERATURE_NAMES,
    PRIOR_NAMES,
    SPATIAL_NAMES,
)
from latentatlas.verdict.judges import (
    DOMAINS,
    FACE_DOMAIN_THRESHOLD,
    FACE_N,
    IMAGE_JUDGES,
    JUDGE_N,
    WEIGHTED_JUDGES,
)


def feature_weights(text: str) -> tuple[str, str]:
    """``NAME=PATH`` for a judge whose weights the user brings -> (name, path)."""
    name, sep, path = text.partition("=")
    if not sep or name not in WEIGHTED_JUDGES or not path.strip():
        raise argparse.ArgumentTypeError(
            f"expected NAME=PATH with NAME one of {', '.join(WEIGHTED_JUDGES)}, got {text!r}"
        )
    return name, path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="fit, sample, decode and judge every generator; one verdict table",
        description="Each generator is fitted on the train z-points of STORE, sampled (--n, "
        "--seed), decoded with MODEL, and judged against the held-out z-points: face rate, "
        "classifier two-sample accuracy, Mahalanobis tail, precision/recall/density/coverage, "
        "re-encoding drift, copy distance, spread, MMD test, held-out log-likelihood; and the "
        "decoded images by independent image judges (attribute classifier, dlib face "
        "descriptor, a CNN two-sample test) against a ceiling and a floor. Ranks the generators "
        "and names a winner. Writes index.html, verdict.json and image grids.",
    )
    add_model_args(p)
    add_io_args(p)
    names = (*GENERATOR_NAMES, *SPATIAL_NAMES, *PRIOR_NAMES, *LITERATURE_NAMES)
    p.add_argument(
        "--generators",
        nargs="+",
        choices=names,
        default=None,
        metavar="NAME",
        help=f"any of: {', '.join(names)} (default: all but the slowest learned priors, "
        "diffusion and vae2, which take minutes each to fit, and the literature's samplers "
        f"({', '.join(LITERATURE_NAMES)}); spatial only for a store with a C x H x W latent shape)",
    )
    p.add_argument(
        "--n", type=int_in(20, 100000), default=1000, help="samples per generator (default 1000)"
    )
    p.add_argument("--seed", type=seed, default=0, help="random seed (default 0)")
    p.add_argument(
        "--where",
        default=None,
        metavar="COND",
        help="fit and judge on the z-points whose attributes match, e.g. 'Smiling=1,Male=0'",
    )
    p.add_argument(
        "--judges",
        nargs="*",
        choices=IMAGE_JUDGES,
        default=None,
        metavar="JUDGE",
        help=f"image judges, any of: {', '.join(IMAGE_JUDGES)} (default: every one installed; "
        "faces needs pip install 'latentatlas[judge]'; inception, dinov2 and clip run where their "
        "weights are found: --feature-weights, else torch-hub's cache (torch-fidelity's "
        "weights-inception-2015-12-05-6726825d.pth) or Hugging Face's (facebook/dinov2-large, "
        "openai/clip-vit-large-patch14), never downloaded; give --judges with no name for none)",
    )
    p.add_argument(
        "--feature-weights",
        action="append",
        type=feature_weights,
        default=None,
        metavar="NAME=PATH",
        help="weights of a literature feature judge, repeatable: inception=FILE (torch-fidelity's "
        "Inception file, checked against its published sha256 unless --no-verify), "
        "dinov2=FOLDER (a Hugging Face snapshot of facebook/dinov2-large), clip=FOLDER (one of "
        "openai/clip-vit-large-patch14); see the README",
    )
    p.add_argument(
        "--judge-n",
        type=int_in(20, 100000),
        default=JUDGE_N,
        help=f"decoded images per generator the image judges see (default {JUDGE_N})",
    )
    p.add_argument(
        "--face-n",
        type=int_in(20, 100000),
        default=FACE_N,
        help=f"of those, how many the face descriptor sees (~60 ms each; default {FACE_N})",
    )
    p.add_argument(
        "--ladder",
        action="store_true",
        help="also judge the degradation ladder (mvn at temperatures 0.25-1.5, diagonal, "
        "shifted) and leave metrics that fail it out of the ranking",
    )
    p.add_argument(
        "--domain",
        choices=DOMAINS,
        default="auto",
        help="whether the face judges (attributes, faces) and the face rate apply: auto (where "
        f"at least {FACE_DOMAIN_THRESHOLD * 100:.0f} %% of the decoded held-out images have a Haar-"
        "detected face), faces, other; where they do not, the ladder runs and only metrics that "
        "pass it rank (default auto)",
    )
    p.add_argument(
        "--save-generators",
        action="store_true",
        help="also keep each fitted generator and its samples under OUT/generators/ (a KDE "
        "keeps its train points: tens of MB)",
    )
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda")
    add_verify_flags(p, mismatch=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from latentatlas.core.open_hint import open_hint
    from latentatlas.verdict.compare import run_compare
    from latentatlas.verdict.tables import verdict_lines

    verdict = run_compare(
        model_spec(args),
        args.store,
        args.out,
        generators=args.generators,
        n=args.n,
        seed=args.seed,
        device=args.device,
        overwrite=args.overwrite,
        progress=not args.quiet,
        verify=args.verify,
        allow_mismatch=args.allow_mismatch,
        where=args.where,
        judges=args.judges,
        feature_weights=dict(args.feature_weights or ()),
        judge_n=args.judge_n,
        face_n=args.face_n,
        ladder=args.ladder,
        domain=args.domain,
        save_generators=args.save_generators,
    )
    for line in verdict_lines(verdict):
        print(line)
    print(f"wrote {args.out}/index.html and verdict.json")
    print(open_hint(f"{args.out}/index.html"))
    return 0
