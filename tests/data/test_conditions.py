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
    for bad in ("", "Smiling", "=1", "Smiling="):
        with pytest.raises(LatentAtlasError, match="--where"):
            parse_where(bad)
    # Other values name a class of a label (data.sources keeps one attribute per class).
    assert parse_where("label=cat,Smiling=1") == {"label=cat": 1, "Smiling": 1}
    assert describe(parse_where("label=cat,Smiling=0")) == "label=cat,Smiling=0"


def test_class_labels_select_by_class_name():
    names = ["label=0", "label=1", "label=3", "Smiling"]
    attrs = np.array([[1, -1, -1, 1], [-1, 1, -1, 1], [-1, -1, 1, -1], [0, 0, 0, 0]])
    store = ZStore(np.zeros((4, 2)), np.array(list("abcd")), np.zeros(4, np.uint8), attrs, names)
    assert where_mask(store, parse_where("label=3")).tolist() == [False, False, True, False]
    # Classes named 1 and 0 read like yes/no; a store without a "label" attribute means the class.
    assert where_mask(store, parse_where("label=1")).tolist() == [False, True, False, False]
    assert where_mask(store, parse_where("label=0,Smiling=1")).nonzero()[0].tolist() == [0]
    with pytest.raises(LatentAtlasError, match=r"no class 'label=7' \(label is one of 0, 1, 3\)"):
        where_mask(store, parse_where("label=7"))
    with pytest.raises(LatentAtlasError, match="must be 1 .* or 0"):
        where_mask(store, parse_where("Smiling=maybe"))


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
