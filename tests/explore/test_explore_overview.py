"""The overview map, attribute filters, density images and thumbnails of the explorer's API, on
the first 400 bundled z-points; the overview's embedding is PCA here (UMAP, the default, runs
once, in its own test)."""

from __future__ import annotations

import base64
import io
import time

import numpy as np
import pytest
from PIL import Image

from latentatlas.explore import create_app
from latentatlas.explore.overview import (
    Overview,
    pca_embedding,
    principal_coordinates,
    spread_points,
)

PLANE = {"ax": "pc:0", "ay": "pc:1"}


@pytest.fixture(scope="module")
def explorer(small_explorer):
    ex = small_explorer(400)
    ex.overview = Overview(ex.space, embed=pca_embedding, points=300, fit=120)
    return ex


@pytest.fixture(scope="module")
def client(explorer):
    from starlette.testclient import TestClient

    return TestClient(create_app(explorer), raise_server_exceptions=False)


def _array(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype)


def _ready(client) -> dict:
    deadline = time.monotonic() + 30
    while True:
        r = client.get("/api/overview")
        if r.status_code == 200:
            return r.json()
        assert r.status_code == 202 and r.json()["state"] == "computing", r.text
        assert time.monotonic() < deadline, "the overview never became ready"
        time.sleep(0.02)


def test_overview_shape_links_and_seed(client, explorer) -> None:
    body = _ready(client)
    assert (body["method"], body["n"], body["count"], body["fitted"]) == ("pca", 400, 300, 120)
    idx, xy = _array(body["indices"], "<i4"), _array(body["xy"], "<f4").reshape(-1, 2)
    assert len(idx) == len(xy) == 300 and np.all(np.diff(idx) > 0) and idx.max() < 400
    assert np.isfinite(xy).all()
    # Row i of the map is real point idx[i]: same seed, same subsamples, same map.
    again = Overview(explorer.space, embed=pca_embedding, points=300, fit=120).compute()
    assert np.array_equal(again[0], idx) and np.allclose(again[1], xy)
    other = Overview(explorer.space, embed=pca_embedding, seed=1, points=300, fit=120).compute()
    assert not np.array_equal(other[0], idx)
    # With every shown point fitted, the map is the embedding of exactly those real points.
    full, fxy, fitted = Overview(explorer.space, embed=pca_embedding, points=50, fit=50).compute()
    want = pca_embedding(principal_coordinates(explorer.space, full, 32), 0)
    assert fitted == 50 and np.allclose(fxy, want, atol=1e-4)
    # Placed (not fitted) points land among their fitted neighbours, not at the origin.
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    assert np.all(xy >= lo) and np.all(xy <= hi) and np.ptp(xy[:, 0]) > 0


def test_overview_failure_is_reported(client, explorer) -> None:
    def broken(x: np.ndarray, seed: int) -> np.ndarray:
        raise ValueError("no embedding today")

    kept, explorer.overview = explorer.overview, Overview(explorer.space, embed=broken)
    try:
        deadline = time.monotonic() + 10
        while (r := client.get("/api/overview")).status_code == 202:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        explorer.overview = kept
    assert r.status_code == 500 and "no embedding today" in r.json()["error"]


def test_filter_counts(client, explorer) -> None:
    store = explorer.space.store
    names = list(store.attribute_names)
    a = np.asarray(store.attributes)
    smiling, glasses = a[:, names.index("Smiling")], a[:, names.index("Eyeglasses")]
    r = client.get("/api/filter", params={"where": "Smiling,!Eyeglasses"})
    assert r.status_code == 200, r.text
    body = r.json()
    want = (smiling > 0) & (glasses < 0)
    assert body["count"] == int(want.sum()) and body["n"] == 400 and 0 < body["count"] < 400
    mask = np.unpackbits(_array(body["mask"], "u1"), bitorder="little")[:400].astype(bool)
    assert np.array_equal(mask, want)
    assert body["counts"]["Smiling"] == body["count"] and body["counts"]["Eyeglasses"] == 0
    assert body["counts"]["Male"] == int((a[want, names.index("Male")] > 0).sum())
    assert client.get("/api/filter").json()["count"] == 400
    for bad in ("Nope", ",".join(["Smiling"] * 9)):
        r = client.get("/api/filter", params={"where": bad})
        assert r.status_code == 400 and "error" in r.json()


def test_density_image_and_points_in_view(client, explorer) -> None:
    xy = explorer.space.projection(explorer.space.plane(["pc:0", "pc:1"]))
    body = client.get("/api/density", params={**PLANE, "bins": 16}).json()
    counts = _array(body["counts"], "<f4").reshape(16, 16)
    assert counts.sum() == 400 == body["count"] and len(body["box"]) == 4
    assert len(_array(body["points"]["indices"], "<i4")) == 400
    box = {"x0": 0.0, "x1": float(xy[:, 0].max()), "y0": 0.0, "y1": float(xy[:, 1].max())}
    inside = np.flatnonzero((xy[:, 0] >= 0) & (xy[:, 1] >= 0))
    body = client.get("/api/density", params={**PLANE, **box, "bins": 8}).json()
    assert body["count"] == len(inside) and body["box"] == list(box.values())
    assert _array(body["counts"], "<f4").sum() == len(inside)
    points = body["points"]
    assert np.array_equal(_array(points["indices"], "<i4"), inside)
    assert np.allclose(_array(points["xy"], "<f4").reshape(-1, 2), xy[inside])
    # Over the limit: the image only.
    body = client.get("/api/density", params={**PLANE, **box, "limit": 10}).json()
    assert body["points"] is None and body["count"] == len(inside)
    for bad in ({"bins": 4}, {"x0": 1, "x1": 0, "y0": 0, "y1": 1}, {"x0": 0}, {"limit": 10**7}):
        r = client.get("/api/density", params={**PLANE, **bad})
        assert r.status_code == 400 and "error" in r.json(), bad


def test_thumbnails_bounded_spread_and_priced(client, small_explorer, explorer) -> None:
    from starlette.testclient import TestClient

    xy = explorer.space.projection(explorer.space.plane(["pc:0", "pc:1"]))
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    box = {"x0": lo[0], "x1": hi[0], "y0": lo[1], "y1": hi[1]}
    r = client.get("/api/thumbnails", params={**PLANE, **box, "k": 9})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["indices"]) == len(body["images"]) == 9
    assert np.allclose(body["xy"], xy[body["indices"]], atol=1e-5)
    png = body["images"][0].split(",", 1)[1]
    face = np.asarray(Image.open(io.BytesIO(base64.b64decode(png))).convert("RGB"))
    assert face.shape == (64, 64, 3) and face.std() > 5
    # Spread: at most one thumbnail per cell of a 3 x 3 grid over the box.
    cells = np.floor((np.asarray(body["xy"]) - lo) / (hi - lo) * 3).clip(0, 2)
    assert len({tuple(c) for c in cells.tolist()}) == 9
    assert client.get("/api/thumbnails", params={**PLANE, **box, "k": 65}).status_code == 400
    assert client.get("/api/thumbnails", params=PLANE).status_code == 400
    # Priced before any decoding: a server with a budget below 64 faces refuses 64.
    poor = TestClient(create_app(small_explorer(50, budget_s=0.05)))
    r = poor.get("/api/thumbnails", params={**PLANE, **box, "k": 64})
    assert r.status_code == 422 and "64 faces" in r.json()["error"]


def test_spread_points_empty_and_small_boxes() -> None:
    xy = np.random.default_rng(0).normal(size=(1000, 2))
    assert len(spread_points(xy, (10, 11, 10, 11), 64)) == 0
    few = spread_points(xy, (-0.1, 0.1, -0.1, 0.1), 64)
    inside = np.flatnonzero((np.abs(xy) <= 0.1).all(axis=1))
    assert 0 < len(few) <= min(64, len(inside)) and set(few) <= set(inside)
    assert len(spread_points(xy, (-4, 4, -4, 4), 64)) == 64


@pytest.mark.slow
def test_umap_overview_of_300_points(explorer) -> None:
    """The default embedding, for real (its first call compiles with numba)."""
    idx, xy, fitted = Overview(explorer.space, points=300, fit=300).compute()
    assert len(idx) == fitted == 300 and xy.shape == (300, 2) and np.isfinite(xy).all()
    # UMAP keeps neighbours together: a point's nearest map neighbours are mostly among its
    # nearest neighbours in the principal coordinates it was fitted on.
    from sklearn.neighbors import NearestNeighbors

    coords = principal_coordinates(explorer.space, idx, 32)
    near_z = NearestNeighbors(n_neighbors=11).fit(coords).kneighbors(coords)[1][:, 1:]
    near_map = NearestNeighbors(n_neighbors=11).fit(xy).kneighbors(xy)[1][:, 1:]
    kept = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(near_z, near_map, strict=True)])
    assert kept > 0.25, kept
