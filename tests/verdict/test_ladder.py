"""The degradation ladder: its generators, the check, and (on the bundled model) every ranking
metric passing it while the Haar face rate fails."""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.verdict.catalogue import BY_KEY
from latentatlas.verdict.ladder import (
    DIAGONAL,
    LADDER_TEMPERATURES,
    SHIFTED,
    check_all,
    check_ladder,
    degradation_ladder,
    rung_name,
)


def _rows(values: dict[str, float], half: float = 0.01) -> dict[str, dict]:
    return {
        name: {"generator": name, "mmd2": v, "mmd2_ci": [v - half, v + half]}
        for name, v in values.items()
    }


GOOD = {
    rung_name(0.25): 0.5,
    rung_name(0.5): 0.2,
    rung_name(0.75): 0.05,
    rung_name(1.0): 0.0,
    rung_name(1.5): 0.1,
    DIAGONAL: 0.03,
    SHIFTED: 0.2,
}


def test_a_responsive_metric_passes() -> None:
    c = check_ladder(_rows(GOOD), BY_KEY["mmd2"])
    assert c["passed"] and c["failures"] == []


@pytest.mark.parametrize(
    "change, reason",
    [
        ({rung_name(0.5): -0.1}, "mvn@0.5 beats temperature 1"),
        ({rung_name(0.5): 0.6}, "mvn@0.25 beats mvn@0.5"),
        ({rung_name(1.5): -0.0}, "mvn@1.5 not worse than temperature 1"),
        ({DIAGONAL: -0.001}, "mvn-diagonal not worse than mvn"),
    ],
)
def test_each_failure_is_named(change: dict, reason: str) -> None:
    c = check_ladder(_rows({**GOOD, **change}), BY_KEY["mmd2"])
    assert not c["passed"] and reason in c["failures"]


def test_violations_within_the_intervals_are_forgiven() -> None:
    wobbly = {**GOOD, rung_name(0.75): -0.005}  # better than temperature 1, within 0.01
    assert check_ladder(_rows(wobbly), BY_KEY["mmd2"])["passed"]
    assert not check_ladder(_rows(wobbly, half=0.001), BY_KEY["mmd2"])["passed"]


def test_higher_is_better_and_missing_values() -> None:
    rows = {n: {"face_rate": 1 - v} for n, v in GOOD.items()}
    assert check_ladder(rows, BY_KEY["face_rate"])["passed"]
    del rows[SHIFTED]["face_rate"]
    c = check_ladder(rows, BY_KEY["face_rate"])
    assert not c["passed"] and "no value for mvn-shifted" in c["failures"]
    assert set(check_all(_rows(GOOD))) == {"mmd2"}  # only metrics the rows have


def test_ladder_generators_degrade_as_named() -> None:
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 6))
    train = rng.normal(size=(4000, 6)) @ A + 2.0
    rungs = {name: g.fit(train) for name, g in degradation_ladder().items()}
    assert list(rungs)[: len(LADDER_TEMPERATURES)] == [rung_name(t) for t in LADDER_TEMPERATURES]
    mvn = rungs[rung_name(1.0)]
    for t in LADDER_TEMPERATURES:
        z = rungs[rung_name(t)].sample(20000, random_state=1)
        assert np.trace(np.cov(z, rowvar=False)) == pytest.approx(
            t**2 * np.trace(mvn.covariance_), rel=0.05
        )
    diag = rungs[DIAGONAL].sample(20000, random_state=1)
    off = np.corrcoef(diag, rowvar=False)[np.triu_indices(6, 1)]
    assert np.abs(off).max() < 0.05
    shifted = rungs[SHIFTED]
    w, V = np.linalg.eigh(mvn.covariance_)
    moved = shifted.mean_ - mvn.mean_
    assert np.linalg.norm(moved) == pytest.approx(np.sqrt(w[-1]), rel=1e-6)
    assert abs(moved @ V[:, -1]) == pytest.approx(np.sqrt(w[-1]), rel=1e-6)


# The bundled model's ladder, judged as `compare --ladder` does, with samples small enough for
# the suite (bench/bench_ladder.py runs the full-size one).
# The face descriptor (~60 ms an image) and the image CNN two-sample test (a CNN trained per
# rung) are left out: none of their numbers is a ranking metric (verdict.catalogue).
LADDER_N, LADDER_JUDGE_N = 300, 200


@pytest.fixture(scope="module")
def bundled_ladder() -> dict:
    from latentatlas.models.pretrained import celeba64
    from latentatlas.verdict.compare import judge_ladder, split_for_verdict
    from latentatlas.verdict.scoring import judging_context

    model, store = celeba64()
    train, held = split_for_verdict(store, 0)
    ctx = judging_context(
        model,
        train,
        held,
        judges=("attributes",),
        judge_n=LADDER_JUDGE_N,
        seed=0,
    )
    return judge_ladder(model, ctx, LADDER_N, seed=0)


@pytest.mark.slow
def test_every_ranking_metric_passes_the_ladder_on_the_bundled_model(bundled_ladder) -> None:
    from latentatlas.verdict.ranking import RANKING_METRICS

    checks = bundled_ladder["checks"]
    assert len(RANKING_METRICS) == 4
    for key in [m.key for m in RANKING_METRICS]:
        assert key in checks, key
        assert checks[key]["passed"], (key, checks[key])


@pytest.mark.slow
def test_the_face_rate_fails_the_ladder(bundled_ladder) -> None:
    c = bundled_ladder["checks"]["face_rate"]
    # A collapsed generator still decodes to a face: truncation scores at least as well.
    assert not c["passed"]
    assert any(f.startswith("mvn@0.25") or f.startswith("mvn@0.5") for f in c["failures"])


def _literature_judge_missing(name: str) -> str | None:
    """Why the literature judge ``name`` cannot run here (None when it can)."""
    from latentatlas.verdict.judges import clip, dinov2, inception

    if name == "inception" and not inception.available():
        return f"no Inception weights at {inception.hub_weights_path()} (see README)"
    if name == "dinov2" and not dinov2.available():
        return f"no DINOv2 snapshot of {dinov2.REPO_ID} in Hugging Face's cache (see README)"
    if name == "clip" and not clip.available():
        return f"no CLIP snapshot of {clip.REPO_ID} in Hugging Face's cache (see README)"
    return None


@pytest.mark.slow
@pytest.mark.parametrize("name", ["inception", "dinov2", "clip"])
def test_literature_judges_on_the_ladder(name: str) -> None:
    """Where their weights are present, the literature's feature spaces are judged on the
    bundled model's ladder like the attribute CNN: their Fréchet distance and KID must see
    every rung (they are not ranking metrics until they do, on full-size runs too)."""
    reason = _literature_judge_missing(name)
    if reason:
        pytest.skip(reason)
    from latentatlas.models.pretrained import celeba64
    from latentatlas.verdict.compare import judge_ladder, split_for_verdict
    from latentatlas.verdict.scoring import judging_context

    model, store = celeba64()
    train, held = split_for_verdict(store, 0)
    ctx = judging_context(model, train, held, judges=(name,), judge_n=LADDER_JUDGE_N, seed=0)
    checks = judge_ladder(model, ctx, LADDER_N, seed=0)["checks"]
    for key in (f"image.{name}.fd", f"image.{name}.kid"):
        assert key in checks, key
        assert checks[key]["passed"], (key, checks[key])
