"""The face judges run only where the reference images are faces (issue 21): on coloured stripes
the verdict names no face metric in its ranking, says why in one line, and the ladder it ran
itself validates every metric that ranks; on the bundled CelebA model the face judges run."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from latentatlas.models.protocol import TorchLatentModel
from latentatlas.verdict.catalogue import BY_KEY, METRICS
from latentatlas.verdict.judges import FACE_DOMAIN_THRESHOLD, FACE_JUDGES
from latentatlas.verdict.judges.haar import FaceDetector
from latentatlas.verdict.ranking import RANKING_METRICS, candidate_metrics
from latentatlas.verdict.scoring import face_domain

SIZE, N = 16, 8


def stripes_model() -> TorchLatentModel:
    """A linear "autoencoder" whose decoder paints N coloured stripe patterns (angles and
    frequencies differ), squashed to [0, 1]: images that are no faces, with no training."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    waves = [
        np.sin(2 * np.pi * (1 + k % 3) * (xx * np.cos(np.pi * k / N) + yy * np.sin(np.pi * k / N)))
        for k in range(N)
    ]
    colours = rng.uniform(0.2, 1.0, size=(N, 3, 1, 1))
    basis = torch.tensor((np.stack(waves)[:, None] * colours).reshape(N, -1), dtype=torch.float32)
    pinv = torch.linalg.pinv(basis)

    def decode(z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(0.5 * z @ basis).reshape(len(z), 3, SIZE, SIZE)

    def encode(x: torch.Tensor) -> torch.Tensor:
        return torch.logit(x.reshape(len(x), -1).clamp(1e-4, 1 - 1e-4)) @ pinv / 0.5

    return TorchLatentModel(
        encode, decode, image_size=SIZE, channels=3, name="stripes", latent_shape=(N,)
    )


def test_the_face_rate_decides_and_can_be_overruled() -> None:
    model = stripes_model()
    z = np.random.default_rng(0).normal(size=(20, N)) * 3
    from latentatlas.models.decode import decode

    stripes = decode(model, z)
    auto = face_domain(stripes, FaceDetector(), skipped=["attributes"])
    assert auto["faces"] is False and auto["reference_face_rate"] < FACE_DOMAIN_THRESHOLD
    assert auto["skipped_judges"] == ["attributes"] and auto["decided_by"] == "Haar face rate"
    assert auto["reason"].startswith("decoded held-out images are not faces (Haar face rate")
    given = face_domain(stripes, FaceDetector(), "faces", skipped=["attributes"])
    assert given["faces"] is True and given["skipped_judges"] == []
    assert given["decided_by"] == "given"
    with pytest.raises(ValueError, match="domain must be one of"):
        face_domain(stripes, FaceDetector(), "digits")


def test_face_metrics_never_rank_off_faces() -> None:
    # On faces without a ladder run: the metrics checked on the bundled model, as before.
    assert candidate_metrics(True) == list(RANKING_METRICS)
    everything = {m.key: {"passed": True} for m in METRICS}
    off = candidate_metrics(False, everything)
    assert off and not any(m.face for m in off)
    assert {m.key for m in off} == {m.key for m in METRICS if (m.ranking or m.if_validated)} - {
        m.key for m in METRICS if m.face
    }
    # Off faces nothing ranks without passing this verdict's ladder.
    assert candidate_metrics(False) == []
    failed = {**everything, "mmd2": {"passed": False}}
    assert "mmd2" not in {m.key for m in candidate_metrics(True, failed)}
    # An if-validated metric ranks on faces only once this run's ladder passed it.
    cnn = "image.cnn.two_sample_accuracy"
    assert BY_KEY[cnn].if_validated and cnn not in {m.key for m in candidate_metrics(True)}
    assert cnn in {m.key for m in candidate_metrics(True, everything)}
    assert all(BY_KEY[f"image.{j}.fd"].face for j in FACE_JUDGES)


def test_compare_on_stripes_names_no_face_judge(gauss_store: Path, tmp_path: Path) -> None:
    from latentatlas.verdict.compare import run_compare
    from latentatlas.verdict.tables import verdict_lines

    verdict = run_compare(
        stripes_model(),
        gauss_store,
        tmp_path / "v",
        generators=["cube", "mvn"],
        n=40,
        judge_n=20,
        # Named explicitly, the face judge is still not run (the CNN two-sample test, which
        # would, costs 3 s here; candidate_metrics is tested above).
        judges=["attributes"],
        progress=False,
    )
    domain = verdict["domain"]
    assert domain["faces"] is False and domain["skipped_judges"] == ["attributes"]
    assert domain["threshold"] == FACE_DOMAIN_THRESHOLD and domain["n"] == 20
    assert "do not apply" in domain["reason"]
    assert verdict["image_reference"] is None
    assert all(r["face_rate"] is None and "image" not in r for r in verdict["rows"])
    used = verdict["ranking"]["metrics"]
    assert not any(BY_KEY[k].face for k in used)
    # The ladder ran without being asked, and every metric that ranks passed it here.
    ladder = verdict["ladder"]
    assert ladder["automatic"] is True and len(ladder["rows"]) == 7
    assert set(used) <= {k for k, c in ladder["checks"].items() if c["passed"]}
    assert "face_rate" not in ladder["checks"]
    saved = json.loads((tmp_path / "v" / "verdict.json").read_text())
    assert saved["domain"] == domain and saved["ranking"] == verdict["ranking"]
    printed = verdict_lines(verdict)
    header = next(line for line in printed if line.startswith("rank"))
    assert domain["reason"] + "." in printed and "face rate" not in header
    assert any(line.startswith("The degradation ladder ran automatically") for line in printed)
    page = (tmp_path / "v" / "index.html").read_text()
    assert html.escape(f"Face judges: {domain['reason']}.") in page
    assert "ran automatically" in page and "The latent metrics and the face rate agree" not in page
    # The atlas's section 11 reads the verdict back and ranks it by the same rule.
    from latentatlas.atlas.sections.verdict import load_verdict
    from latentatlas.verdict.ranking import rank_verdict

    loaded, _ = load_verdict(tmp_path / "v")
    assert loaded["domain"] == {"faces": False, "reason": domain["reason"]}
    assert rank_verdict(loaded)["metrics"] == used


def test_face_judges_run_on_the_bundled_faces(bundled) -> None:
    from latentatlas.verdict.compare import split_for_verdict
    from latentatlas.verdict.scoring import judging_context

    model, store = bundled
    train, held = split_for_verdict(store, 0)
    # A few points are enough: only the decoded held-out images decide. (The judges' own
    # numbers on this model are tested in tests/verdict/test_ladder.py and the demo's tests.)
    ctx = judging_context(model, train[:60], held[:20], judges=(), judge_n=20)
    assert ctx["domain"]["faces"] is True and ctx["domain"]["decided_by"] == "Haar face rate"
    assert ctx["domain"]["reference_face_rate"] >= FACE_DOMAIN_THRESHOLD
    kept = face_domain(ctx["ref_images"], ctx["detector"], skipped=list(FACE_JUDGES))
    assert kept["faces"] is True and kept["skipped_judges"] == []
