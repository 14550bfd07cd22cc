from __future__ import annotations

import json

import numpy as np
import pytest

from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.jsonable import jsonable
from latentatlas.core.rng import as_rng, draw_seed, stream
from latentatlas.core.validation import check_images, check_points


def test_check_points_converts_and_validates():
    X = check_points(np.arange(6, dtype=np.float32).reshape(3, 2))
    assert X.dtype == np.float64 and X.flags.c_contiguous and X.shape == (3, 2)
    assert check_points([[1, 2], [3, 4]]).dtype == np.float64
    with pytest.raises(ValueError, match="2-D"):
        check_points(np.zeros(5))
    with pytest.raises(ValueError, match="at least 3 points"):
        check_points(np.zeros((2, 4)), min_rows=3)
    with pytest.raises(ValueError, match=r"NaN or inf \(row 1\)"):
        check_points(np.array([[0.0, 1.0], [np.inf, 0.0]]))
    with pytest.raises(ValueError, match="no components"):
        check_points(np.zeros((4, 0)))
    with pytest.raises(ValueError, match="numeric"):
        check_points([["a", "b"], ["c", "d"]])


def test_as_rng_same_seed_same_stream():
    assert as_rng(3).random() == as_rng(3).random()
    g = np.random.default_rng(0)
    assert as_rng(g) is g
    assert isinstance(as_rng(None), np.random.Generator)
    with pytest.raises(ValueError):
        as_rng("seed")
    with pytest.raises(ValueError):
        as_rng(1.5)


def test_stream_is_one_per_purpose_and_draw_seed_an_int():
    assert stream(3, 1).random() == np.random.default_rng([3, 1]).random()
    assert stream(np.int64(3), 1).random() == stream(3, 1).random()
    assert stream(3, 1).random() != stream(3, 2).random()
    seed = draw_seed(np.random.default_rng(0))
    assert isinstance(seed, int) and 0 <= seed < 2**31 - 1
    assert seed == draw_seed(np.random.default_rng(0))


def test_check_images_says_what_is_wrong_in_the_callers_words():
    ok = np.zeros((2, 16, 16, 3), np.uint8)
    assert check_images(ok) is ok
    assert check_images(list(ok)).shape == (2, 16, 16, 3)  # a list of images is converted
    with pytest.raises(ValueError, match=r"images_a must be RGB images \(n, H, W, 3\)"):
        check_images(ok[..., 0], "images_a")
    assert check_images(ok[..., 0], grey=True).shape == (2, 16, 16)
    assert check_images(ok[..., :1], grey=True).shape == (2, 16, 16, 1)
    with pytest.raises(ValueError, match="must be uint8 images"):
        check_images(ok.astype(np.float32))
    with pytest.raises(LatentAtlasError, match="square RGB images"):
        check_images(ok[:, :, :12], square=True, error=LatentAtlasError)
    with pytest.raises(ValueError, match="too small: 4x4 px, at least 8x8"):
        check_images(ok[:, :4, :4], min_side=8)
    with pytest.raises(ValueError, match="got shape None"):
        check_images([[0]], array_only=True)


def test_jsonable_is_strict_json():
    obj = {
        "a": np.float32(1.5),
        "b": np.arange(3),
        1.25: (np.int64(2), np.bool_(True)),
        "nan": np.nan,
        "nested": [np.array([[1.0, np.inf]])],
    }
    out = jsonable(obj)
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == {
        "a": 1.5,
        "b": [0, 1, 2],
        "1.25": [2, True],
        "nan": None,
        "nested": [[[1.0, None]]],
    }
