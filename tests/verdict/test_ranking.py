"""The winner rule: two-sample accuracy first, face rate only among ties, collapse last."""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.metrics.ranking import (
    RULE,
    rank_generators,
    spread_ratio,
    wilson_interval,
    winner_sentence,
)


def _row(name: str, acc: float, faces: float, dup: str | None = None, spread: float = 1.0) -> dict:
    return {
        "generator": name,
        "two_sample_accuracy": acc,
        "face_rate": faces,
        "duplicate_of": dup,
        "spread": spread,
    }


ROWS = [
    _row("cube", 0.95, 0.08),
    _row("normal", 0.97, 0.0, spread=0.13),
    # samples x0.1 about their mean: one average face many times, and (as measured on the
    # bundled model) a two-sample accuracy *below* the cube's
    _row("t0.1", 0.89, 0.99, spread=0.1),
    _row("mvn", 0.517, 0.967),
    _row("pca", 0.517, 0.967, dup="mvn"),
    _row("gmm", 0.482, 0.93),
    _row("percomponent", 0.645, 0.91),
]


def test_collapse_is_last_and_ties_are_marked() -> None:
    r = rank_generators(ROWS, ceiling=0.95, n_classified=600)
    assert r["order"][-2:] == ["t0.1", "normal"]  # collapsed: last, whatever the face rate
    assert r["collapsed"] == ["t0.1", "normal"] and r["ranks"]["t0.1"] < r["ranks"]["normal"]
    assert r["order"].index("cube") < r["order"].index("t0.1")
    assert r["winner"] == "mvn"  # tied with gmm on accuracy; the face rate breaks the tie
    assert r["tied_with_winner"] == ["pca", "gmm"]
    assert r["ranks"]["mvn"] == r["ranks"]["pca"] == r["ranks"]["gmm"] == 1
    assert r["ranks"]["percomponent"] == 2
    assert r["order"].index("pca") == r["order"].index("mvn") + 1
    assert r["rule"] == RULE and "two-sample accuracy" in RULE
    line = winner_sentence(r, ROWS)
    assert line.startswith("Best generator: mvn") and "tied with pca, gmm" in line


def test_face_rate_rule_would_have_picked_the_collapse() -> None:
    # The old landing-page rule (highest face rate) crowns the collapsed generator.
    assert max(ROWS, key=lambda x: x["face_rate"])["generator"] == "t0.1"


def test_small_samples_tie_more() -> None:
    rows = [_row("a", 0.52, 0.5), _row("b", 0.6, 0.9)]
    assert rank_generators(rows, 1.0, 100)["winner"] == "b"  # tied at n = 100: faces decide
    assert rank_generators(rows, 1.0, 20000)["winner"] == "a"  # separated at n = 20000


def test_wilson_interval() -> None:
    lo, hi = wilson_interval(1.0, 600)
    assert hi == 1.0 and 0.99 < lo < 1.0  # non-zero width at an accuracy of exactly 1
    lo, hi = wilson_interval(0.5, 400)
    assert hi - 0.5 == pytest.approx(1.96 * np.sqrt(0.25 / 400), rel=0.01)


def test_missing_accuracy_ranks_last() -> None:
    rows = [_row("a", 0.9, 0.1), {"generator": "b", "two_sample_accuracy": None, "face_rate": 1}]
    assert rank_generators(rows, None, 200)["order"] == ["a", "b"]


@pytest.mark.slow
def test_temperature_01_is_last_on_the_bundled_model() -> None:
    """Real numbers: mvn at temperature 1 and 0.1, and the cube, judged as compare does."""
    from latentatlas.faces import FaceDetector, face_rate
    from latentatlas.generators import make_generator
    from latentatlas.metrics.two_sample import classifier_two_sample_test
    from latentatlas.pipeline.decode import decode
    from latentatlas.pretrained import celeba64

    model, store = celeba64()
    train = np.asarray(store.subset("train"), np.float64)
    held = np.asarray(store.subset("heldout"), np.float64)[:200]
    z = make_generator("mvn").fit(train).sample(200, random_state=0)
    samples = {
        "mvn": z,
        "mvn-t0.1": z.mean(0) + 0.1 * (z - z.mean(0)),
        "cube": make_generator("cube").fit(train).sample(200, random_state=0),
    }
    det = FaceDetector()
    rows = [
        {
            "generator": name,
            "two_sample_accuracy": classifier_two_sample_test(held, s)["accuracy"],
            "face_rate": face_rate(decode(model, s), det),
            "spread": spread_ratio(s, held),
        }
        for name, s in samples.items()
    ]
    r = rank_generators(rows, ceiling=None, n_classified=400)
    faces = {x["generator"]: x["face_rate"] for x in rows}
    assert r["order"][-1] == "mvn-t0.1" and r["winner"] == "mvn", rows
    assert faces["mvn-t0.1"] > faces["cube"], rows  # face rate alone would not put it last
    accs = {x["generator"]: x["two_sample_accuracy"] for x in rows}
    assert accs["mvn-t0.1"] < 0.99, rows  # nor, reliably, the two-sample accuracy alone
    assert rows[1]["spread"] == pytest.approx(0.1 * rows[0]["spread"])
