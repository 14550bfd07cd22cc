"""Conditional generation: --where selects the z-points a generator is fitted on."""

from __future__ import annotations

import json

import numpy as np
import pytest

from latentatlas.cli import main
from latentatlas.core.errors import LatentAtlasError
from latentatlas.data.conditions import describe, parse_where, select, where_mask
from latentatlas.data.store import ZStore
from latentatlas.models.pretrained import celeba64


@pytest.fixture(scope="module")
def bundled() -> ZStore:
    return celeba64()[1]


def test_parse_where():
    assert parse_where("Smiling=1, Eyeglasses=0") == {"Smiling": 1, "Eyeglasses": -1}
    assert parse_where("Male=-1,Bald=yes") == {"Male": -1, "Bald": 1}
    assert describe(parse_where("Male=-1,Bald=yes")) == "Male=0,Bald=1"
    for bad in ("", "Smiling", "=1", "Smiling=2", "Smiling=maybe"):
        with pytest.raises(LatentAtlasError, match="--where"):
            parse_where(bad)


def test_mask_and_select_on_the_bundled_store(bundled):
    names = bundled.attribute_names
    A = np.asarray(bundled.attributes)
    smile, glasses = names.index("Smiling"), names.index("Eyeglasses")
    mask = where_mask(bundled, {"smiling": 1, "EYEGLASSES": -1})  # names case-insensitive
    assert np.array_equal(mask, (A[:, smile] == 1) & (A[:, glasses] == -1))
    sub = select(bundled, "Smiling=1,Eyeglasses=0")
    assert sub.n == int(mask.sum()) and 0 < sub.n < bundled.n
    assert np.all(np.asarray(sub.attributes)[:, smile] == 1)
    assert np.array_equal(np.asarray(sub.z), np.asarray(bundled.z)[mask])
    assert set(np.unique(sub.split)) == set(np.unique(bundled.split))  # every split kept
    assert sub.meta["where"] == "Smiling=1,Eyeglasses=0"
    assert select(bundled, None) is bundled
    with pytest.raises(LatentAtlasError, match="did you mean Smiling"):
        where_mask(bundled, {"Smilin": 1})
    bare = ZStore(np.zeros((3, 2)), np.array(["a", "b", "c"]), np.zeros(3, np.uint8))
    with pytest.raises(LatentAtlasError, match="attributes"):
        where_mask(bare, {"Smiling": 1})


def test_conditional_generator_moves_towards_the_condition(bundled):
    from latentatlas.generators import MultivariateNormal

    # Fitted on Eyeglasses=1 points, samples sit nearer their centroid than the others'.
    glasses = select(bundled, "Eyeglasses=1").subset("train").astype(np.float64)
    plain = select(bundled, "Eyeglasses=0").subset("train").astype(np.float64)
    z = MultivariateNormal().fit(glasses).sample(500, random_state=0)
    direction = glasses.mean(axis=0) - plain.mean(axis=0)
    proj = (z - plain.mean(axis=0)) @ direction / (direction @ direction)
    assert np.mean(proj) == pytest.approx(1.0, abs=0.1)  # 0 = plain centroid, 1 = glasses


@pytest.mark.slow
def test_sample_where_from_the_cli(tmp_path, capsys):
    out = tmp_path / "s"
    rc = main(
        [
            "sample",
            "celeba64",
            "celeba64",
            "--where",
            "Eyeglasses=1,Male=1",
            "--n",
            "8",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert rc == 0
    info = json.loads((out / "sample.json").read_text())
    _, st = celeba64()
    names, A = st.attribute_names, np.asarray(st.attributes)
    expected = int(
        np.sum(
            (st.split == 0)
            & (A[:, names.index("Eyeglasses")] == 1)
            & (A[:, names.index("Male")] == 1)
        )
    )
    assert info["where"] == {"condition": "Eyeglasses=1,Male=1", "n_train_matching": expected}
    assert f"({expected} train points)" in capsys.readouterr().out
    # Too few matches, or a misspelt attribute: one line, exit 2, nothing written.
    for where, msg in (
        ("Bald=1,Eyeglasses=1,Smiling=0,Male=0", "only 0 train"),
        ("Glasses=1", "no attribute 'Glasses'"),
    ):
        rc = main(
            [
                "sample",
                "celeba64",
                "celeba64",
                "--generator",
                "gmm",
                "--where",
                where,
                "--out",
                str(tmp_path / "bad"),
                "--quiet",
            ]
        )
        err = capsys.readouterr().err
        assert rc == 2 and msg in err and err.count("\n") == 1
        assert not (tmp_path / "bad").exists()
