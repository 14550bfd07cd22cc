"""The explorer's geometry and command lines without a server or a model: circle paths
(explore.space) and the ``latentatlas path`` line a strip offers (explore.commands)."""

from __future__ import annotations

import numpy as np
import pytest

from latentatlas.data.store import ZStore
from latentatlas.explore.commands import path_command
from latentatlas.explore.space import BadRequest, LatentSpace, circle_path


@pytest.mark.parametrize("steps", [2, 3, 8, 13])
def test_circle_path_goes_round_its_circle(steps) -> None:
    centre, through = np.array([1.0, 2.0]), np.array([4.0, 6.0])
    xy = circle_path(centre, through, steps)
    assert xy.shape == (steps, 2)
    # On the circle about the centre through the given point, starting at that point.
    np.testing.assert_allclose(np.linalg.norm(xy - centre, axis=1), 5.0)
    np.testing.assert_allclose(xy[0], through)
    # Evenly spaced, counter-clockwise: each step turns by one steps-th of a full turn.
    angles = np.unwrap(np.arctan2(*(xy - centre).T[::-1]))
    np.testing.assert_allclose(np.diff(angles), 2 * np.pi / steps)


def test_circle_path_needs_two_points_apart() -> None:
    with pytest.raises(BadRequest, match="two points apart"):
        circle_path(np.array([1.0, 2.0]), np.array([1.0, 2.0]), 8)


def test_space_circle_keeps_the_other_coordinates() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(50, 6)).astype(np.float32)
    space = LatentSpace(ZStore(z, np.array([f"p{i}" for i in range(50)]), np.zeros(50, int)))
    axes = space.plane(["z:1", "z:4"])
    a, b = space.real(3), space.real(7)
    path = space.circle(a, b, axes, 6)
    assert path.shape == (6, 6)
    np.testing.assert_allclose(space.project(path, axes), circle_path(a[[1, 4]], b[[1, 4]], 6))
    np.testing.assert_array_equal(path[:, [0, 2, 3, 5]], np.tile(a[[0, 2, 3, 5]], (6, 1)))


IDS = ["000001.jpg", "000002.jpg", "it's.jpg"]


def _cmd(a, b, kind="lerp", steps=5):
    return path_command(a, b, kind, steps, model="my model", store="st", ids=IDS)


def test_path_command_between_real_points() -> None:
    head = "latentatlas path 'my model' st --out PATH --steps 5"
    assert _cmd({"base": 0}, {"base": 2}, "slerp") == (
        f"{head} --kind slerp --between 000001.jpg 'it'\"'\"'s.jpg'"
    )
    assert _cmd({"base": 0, "axes": ["z:0", "z:1"]}, {"base": 1}).endswith(
        "--kind lerp --between 000001.jpg 000002.jpg"
    )


def test_path_command_segment_on_a_plane() -> None:
    a = {"axes": ["pc:0", "pc:3"], "at": [-1.5, 2]}
    b = {"axes": ["pc:0", "pc:3"], "at": [3, 0.25]}
    assert _cmd(a, b) == (
        "latentatlas path 'my model' st --out PATH --steps 5 --kind segment --plane 0,3"
        " --frame principal --base centroid --start=-1.5,2.0 --end=3.0,0.25"
    )
    za, zb = {**a, "axes": ["z:2", "z:5"], "base": 1}, {**b, "axes": ["z:2", "z:5"], "base": 1}
    assert _cmd(za, zb).endswith("--plane 2,5 --base 000002.jpg --start=-1.5,2.0 --end=3.0,0.25")


@pytest.mark.parametrize(
    ("a", "b", "kind"),
    [
        ({"axes": ["z:0", "z:1"], "at": [0, 0]}, {"axes": ["z:0", "z:1"], "at": [1, 1]}, "slerp"),
        ({"axes": ["z:0", "z:1"], "at": [0, 0]}, {"axes": ["z:0", "z:2"], "at": [1, 1]}, "lerp"),
        ({"axes": ["z:0", "pc:1"], "at": [0, 0]}, {"axes": ["z:0", "pc:1"], "at": [1, 1]}, "lerp"),
        ({"axes": ["z:0", "z:1"], "at": [0, 0], "moves": [["z:3", 1.0]]}, {"base": 1}, "lerp"),
        (
            {"axes": ["z:0", "z:1"], "at": [0, 0], "base": 1},
            {"axes": ["z:0", "z:1"], "at": [1, 1]},
            "lerp",
        ),
        ({"base": 0}, {"base": 1}, "circle"),
        ({"base": True}, {"base": 1}, "lerp"),
    ],
)
def test_path_command_none_where_the_cli_cannot_draw_it(a, b, kind) -> None:
    assert _cmd(a, b, kind) is None


def test_colour_by_a_class_label() -> None:
    # A labelled folder's store: one +1/-1 attribute per class (data.sources.class_attributes).
    names = ["label=2", "label=10", "Smiling"]
    attrs = np.array([[1, -1, 1], [-1, 1, -1], [-1, -1, 1], [1, -1, -1]], dtype=np.int8)
    z = np.random.default_rng(0).standard_normal((4, 3))
    space = LatentSpace(ZStore(z, np.array(list("abcd")), np.zeros(4, np.uint8), attrs, names))
    values, how = space.colour("attr:label")
    assert values.tolist() == [1.0, 2.0, 0.0, 1.0]
    assert how == {"kind": "categorical", "categories": ["no class", "2", "10"]}
    one, _ = space.colour("attr:label=10")  # each class also colours on its own
    assert one.tolist() == [0.0, 2.0, 0.0, 0.0]
    with pytest.raises(BadRequest, match="no attribute 'colour'"):
        space.colour("attr:colour")


def test_space_at_high_n_uses_the_low_rank_covariance() -> None:
    # N = 2,048 > HIGH_N with 120 points: top axes from the Gram matrix, one shared variance
    # for the rest; distances, sigmas and ellipses as under that explicit covariance.
    from latentatlas.analysis.ppca import LowRankGaussian

    rng = np.random.default_rng(1)
    W = rng.standard_normal((2048, 3)) * 2.0
    z = (rng.standard_normal((120, 3)) @ W.T + 0.5 * rng.standard_normal((120, 2048))).astype(
        np.float32
    )
    space = LatentSpace(ZStore(z, np.array([f"p{i}" for i in range(120)]), np.zeros(120, int)))
    assert space.pc_axes.shape == (2048, 119)
    ref = LowRankGaussian(max_components=256).fit(z.astype(np.float64))
    assert space.gaussian.rank_ == ref.rank_ == 3
    np.testing.assert_allclose(space.mahalanobis, ref.distance(z), rtol=1e-10)
    assert space.axis("pc:0").sigma == pytest.approx(np.sqrt(space.pc_var[0]), rel=1e-8)
    with pytest.raises(BadRequest, match="0..118"):
        space.axis("pc:119")
    axes = space.plane(["z:0", "pc:1"])
    u = np.stack([a.u for a in axes], axis=1)
    V, lam = ref.components_.T, ref.explained_variance_
    cov2 = (u.T @ V) * lam @ (V.T @ u) + ref.noise_variance_ * (u.T @ u - u.T @ V @ V.T @ u)
    assert space.axis("z:0").sigma == pytest.approx(np.sqrt(cov2[0, 0]), rel=1e-8)
    assert space.plane_info(axes)["ellipses"][0]
