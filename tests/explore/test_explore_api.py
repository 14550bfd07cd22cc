"""The explorer's API through Starlette's test client, on the bundled celeba64 model and store
(part of the package: no ../shared needed): every endpoint, and each bad input -> a JSON 4xx."""

from __future__ import annotations

import base64
import csv
import io
import json
import threading

import numpy as np
import pytest
from PIL import Image

from latentatlas.cli import main
from latentatlas.explore import create_app, load_explorer
from latentatlas.generators import registry
from latentatlas.models.decode import decode

PLANE = {"ax": "pc:0", "ay": "pc:1"}
JSON_BODY = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def explorer():
    return load_explorer("celeba64", "celeba64", "cpu")


@pytest.fixture(scope="module")
def client(explorer):
    from starlette.testclient import TestClient

    return TestClient(create_app(explorer), raise_server_exceptions=False)


def _image(response) -> np.ndarray:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))


def _floats(response, cols: int) -> np.ndarray:
    assert response.status_code == 200, response.text
    return np.frombuffer(response.content, dtype="<f4").reshape(-1, cols)


def test_page_and_plotly_are_served_locally(client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "<script" in page.text
    # Every script and style the page names is served by the explorer itself (no CDN).
    for ref in ("/vendor/plotly.min.js", "/static/explore.js", "/static/explore.css"):
        assert ref in page.text
        assert client.get(ref).status_code == 200
    assert "http://" not in page.text and "https://" not in page.text


def test_meta(client, explorer) -> None:
    meta = client.get("/api/meta").json()
    assert meta["n"] == 10000 and meta["dim"] == 256 and meta["image_size"] == 64
    assert sum(meta["splits"].values()) == 10000
    assert "Smiling" in meta["attributes"] and "attr:Smiling" in meta["colours"]


def test_projection_is_the_coordinates(client, explorer) -> None:
    z = np.asarray(explorer.space.z)
    xy = _floats(client.get("/api/projection", params={"ax": "z:3", "ay": "z:7"}), 2)
    np.testing.assert_array_equal(xy, z[:, [3, 7]])
    pc = _floats(client.get("/api/projection", params=PLANE), 2)
    # Principal coordinates relative to the train centroid: mean 0 over the train points, the
    # largest variance first.
    assert np.abs(pc[explorer.space.train].mean(axis=0)).max() < 1e-4 * pc.std()
    assert pc[:, 0].var() > pc[:, 1].var() > 0


def test_plane_info(client, explorer) -> None:
    info = client.get("/api/plane", params={"ax": "z:3", "ay": "z:7"}).json()
    assert info["labels"] == ["z[3]", "z[7]"] and info["components"] == [3, 7]
    assert info["origin"] == [0.0, 0.0]
    np.testing.assert_allclose(info["centroid"], explorer.space.centroid[[3, 7]])
    assert len(info["ellipses"]) == 3
    # The 2-sigma ellipse of one component's axis reaches centroid + 2 std along it.
    train = np.asarray(explorer.space.z)[explorer.space.train][:, 3].astype(float)
    xs = np.asarray(info["ellipses"][1][0])
    assert xs.max() - info["centroid"][0] == pytest.approx(2 * train.std(ddof=1), rel=1e-3)


def test_colours(client, explorer) -> None:
    for by in client.get("/api/meta").json()["colours"][:6]:
        r = client.get("/api/colour", params={"by": by})
        values = _floats(r, 1)[:, 0]
        assert len(values) == 10000 and np.isfinite(values).all(), by
        assert json.loads(r.headers["x-colour"])["kind"] in ("categorical", "continuous")
    split = _floats(client.get("/api/colour", params={"by": "split"}), 1)[:, 0]
    np.testing.assert_array_equal(split, explorer.space.split)
    smiling = _floats(client.get("/api/colour", params={"by": "attr:Smiling"}), 1)[:, 0]
    assert set(np.unique(smiling)) <= {0.0, 1.0, 2.0} and len(np.unique(smiling)) >= 2


def test_decode_puts_the_point_where_clicked(client, explorer) -> None:
    spec = {"base": 12, "axes": ["pc:0", "attr:Smiling"], "at": [30.0, -4.0]}
    r = client.post("/api/decode", json=spec)
    face = _image(r)
    assert face.shape == (64, 64, 3) and face.std() > 5  # not blank
    info = json.loads(r.headers["x-point"])
    np.testing.assert_allclose(info["coords"], [30.0, -4.0], atol=1e-6)
    assert info["mahalanobis"] > 0 and 0 <= info["further"] <= 1
    # A real point's reconstruction is exactly the decoder's output for its z.
    real = _image(client.post("/api/decode", json={"base": 12}))
    np.testing.assert_array_equal(
        real, decode(explorer.model, np.asarray(explorer.space.z[12:13]))[0]
    )
    # Sliders: a move along the Smiling direction changes the face.
    moved = _image(client.post("/api/decode", json={**spec, "moves": [["attr:Smiling", 2.0]]}))
    assert np.abs(moved.astype(int) - face).mean() > 1


def test_a_void_is_far_out(client) -> None:
    near = json.loads(client.post("/api/decode", json={"base": "centroid"}).headers["x-point"])
    far = json.loads(client.post("/api/decode", json={"base": "origin"}).headers["x-point"])
    assert near["further"] == 1.0 and near["mahalanobis"] == pytest.approx(0, abs=1e-6)
    # The README: the origin sits at Mahalanobis distance 14.5 (all 10,000 points there).
    assert 10 < far["mahalanobis"] < 20 and far["further"] < near["further"]
    edge = {"axes": ["pc:0", "pc:1"], "at": [1000.0, 1000.0]}
    out = json.loads(client.post("/api/decode", json=edge).headers["x-point"])
    assert out["further"] == 0.0


def test_real_point_and_neighbours(client, explorer) -> None:
    info = client.get("/api/real/42", params={"k": 5}).json()
    assert info["id"] == str(explorer.space.ids[42]) and info["split"] in ("train", "val", "test")
    assert set(info["attributes"].values()) <= {-1, 0, 1} and len(info["attributes"]) == 40
    z = np.asarray(explorer.space.z, dtype=np.float64)
    d = np.linalg.norm(z - z[42], axis=1)
    d[42] = np.inf
    assert [n["index"] for n in info["neighbours"]] == np.argsort(d)[:5].tolist()
    strip = _image(
        client.post(
            "/api/strip", json={"points": [{"base": n["index"]} for n in info["neighbours"]]}
        )
    )
    assert strip.shape == (68, 5 * 66 + 2, 3)


def test_path_matches_latentatlas_path(client, tmp_path) -> None:
    a = {"axes": ["pc:0", "pc:1"], "at": [-60.0, 10.0]}
    b = {"axes": ["pc:0", "pc:1"], "at": [60.0, -10.0]}
    body = client.post("/api/path", json={"a": a, "b": b, "kind": "lerp", "steps": 5}).json()
    assert len(body["coords"]) == 5
    np.testing.assert_allclose(body["coords"][2], [0.0, 0.0], atol=1e-6)
    strip = np.asarray(Image.open(io.BytesIO(base64.b64decode(body["png"].split(",")[1]))))
    # The page shows the command that draws the same strip from the shell: run it.
    cli = body["cli"].replace("--out PATH", f"--out {tmp_path / 'p'}").split()
    assert cli[:2] == ["latentatlas", "path"] and main(cli[1:]) == 0
    same = np.asarray(Image.open(tmp_path / "p" / "strip.png").convert("RGB"))
    assert strip.shape == same.shape and np.abs(strip.astype(int) - same).max() <= 1
    real = client.post(
        "/api/path", json={"a": {"base": 1}, "b": {"base": 2}, "kind": "slerp", "steps": 3}
    ).json()
    assert real["coords"] is None and "--kind slerp --between 000002.jpg 000003.jpg" in real["cli"]


def test_circle_stays_on_its_circle(client) -> None:
    a = {"axes": ["z:0", "z:1"], "at": [1.0, 2.0], "base": 7}
    b = {"axes": ["z:0", "z:1"], "at": [4.0, 6.0], "base": 7}
    body = client.post("/api/path", json={"a": a, "b": b, "kind": "circle", "steps": 8}).json()
    xy = np.asarray(body["coords"])
    np.testing.assert_allclose(np.linalg.norm(xy - [1.0, 2.0], axis=1), 5.0)
    np.testing.assert_allclose(xy[0], [4.0, 6.0])
    assert body["cli"] is None


def test_generator_samples(client, explorer) -> None:
    q = {**PLANE, "generator": "mvn", "n": 300, "seed": 3}
    xy = _floats(client.get("/api/samples", params=q), 2)
    assert xy.shape == (300, 2)
    np.testing.assert_array_equal(xy, _floats(client.get("/api/samples", params=q), 2))
    other = _floats(client.get("/api/samples", params={**q, "seed": 4}), 2)
    assert not np.array_equal(xy, other)
    # Hovering a sample decodes it: the sample's projection is the point decoded.
    base = {"generator": "mvn", "n": 300, "seed": 3, "index": 17}
    r = client.post("/api/decode", json={"base": base, "axes": ["pc:0", "pc:1"]})
    _image(r)
    np.testing.assert_allclose(json.loads(r.headers["x-point"])["coords"], xy[17], rtol=1e-5)


def test_slice_counts_the_real_points_inside(client, explorer) -> None:
    r = client.get("/api/slice", params={"ax": "z:5", "ay": "z:9", "b": 20}).json()
    z = np.asarray(explorer.space.z)
    others = np.delete(np.arange(256), [5, 9])
    want = (np.abs(z[:, others]) <= 20).all(axis=1)
    assert r["count"] == int(want.sum()) and r["n"] == 10000
    bits = np.unpackbits(np.frombuffer(base64.b64decode(r["mask"]), np.uint8), bitorder="little")
    np.testing.assert_array_equal(bits[:10000].astype(bool), want)
    default = client.get("/api/slice", params={"ax": "z:5", "ay": "z:9"}).json()
    assert default["b"] == pytest.approx(13.6, abs=0.05)  # the README's fitted cube b


def test_export(client, explorer) -> None:
    r = client.post("/api/export", json={"indices": [3, 1], "format": "csv"})
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["index", "id", "split"] and [row[1] for row in rows[1:]] == [
        str(explorer.space.ids[3]),
        str(explorer.space.ids[1]),
    ]
    r = client.post("/api/export", json={"indices": [3, 1], "format": "npy"})
    z = np.load(io.BytesIO(r.content))
    np.testing.assert_array_equal(z, np.asarray(explorer.space.z)[[3, 1]])


POINT = {"axes": ["pc:0", "pc:1"], "at": [0.0, 0.0]}
BAD_GETS = [
    ("/api/plane", {"ax": "pc:256", "ay": "pc:1"}, "index in 0..255"),
    ("/api/plane", {"ax": "pc:0", "ay": "pc:0"}, "parallel"),
    ("/api/plane", {"ax": "pc:0"}, "missing query parameter 'ay'"),
    ("/api/plane", {"ax": "attr:Nope", "ay": "pc:1"}, "no attribute"),
    ("/api/plane", {"ax": "line:3-3", "ay": "pc:1"}, "same point"),
    ("/api/plane", {"ax": "/etc/passwd", "ay": "pc:1"}, "unknown axis"),
    ("/api/projection", {"ax": "z:-1", "ay": "z:2"}, "index"),
    ("/api/colour", {"by": "nothing"}, "cannot colour"),
    ("/api/real/10000", {}, "0..9999"),
    ("/api/real/abc", {}, "integer"),
    ("/api/real/1", {"k": 1000}, "k must be"),
    ("/api/samples", {**PLANE, "generator": "flowz"}, "unknown generator"),
    ("/api/samples", {**PLANE, "generator": "mvn", "n": 10**9}, "n must be"),
    ("/api/slice", {**PLANE, "b": 10}, "two components"),
    ("/api/slice", {"ax": "z:0", "ay": "z:1", "b": "nan"}, "finite"),
    ("/api/slice", {"ax": "z:0", "ay": "z:1", "b": "-1"}, "positive"),
]
BAD_POSTS = [
    ("/api/decode", {**POINT, "at": [1e300, 0.0]}, "finite"),
    ("/api/decode", {**POINT, "at": [True, 0.0]}, "number"),
    ("/api/decode", {**POINT, "at": [1.0]}, "two numbers"),
    ("/api/decode", {"at": [1.0, 2.0]}, "'at' needs 'axes'"),
    ("/api/decode", {"base": 10000}, "0..9999"),
    ("/api/decode", {"base": "../z.npy"}, "base must be"),
    ("/api/decode", {"base": {"generator": "mvn", "n": 5, "index": 5}}, "sample index"),
    ("/api/decode", {"moves": [["pc:0", 1.0]] * 17}, "at most 16"),
    ("/api/decode", {"moves": [["pc:0", "1"]]}, "number"),
    ("/api/decode", {"path": "/etc/passwd"}, "unknown field 'path'"),
    ("/api/decode", [1, 2], "JSON object"),
    ("/api/strip", {"points": []}, "1..64"),
    ("/api/strip", {"points": [{}] * 65}, "1..64"),
    ("/api/path", {"a": {}, "b": {}, "steps": 65}, "steps must be"),
    ("/api/path", {"a": {}, "b": {}, "kind": "spiral"}, "path kind"),
    ("/api/path", {"a": {}, "b": {}, "kind": "circle"}, "circle needs"),
    ("/api/export", {"indices": [1], "format": "exe"}, "csv or npy"),
    ("/api/export", {"indices": [-1], "format": "csv"}, "0..9999"),
]


@pytest.mark.parametrize(("url", "params", "message"), BAD_GETS)
def test_bad_query_is_a_json_400(client, url, params, message) -> None:
    r = client.get(url, params=params)
    assert r.status_code == 400 and message in r.json()["error"], r.text


@pytest.mark.parametrize(("url", "body", "message"), BAD_POSTS)
def test_bad_body_is_a_json_400(client, url, body, message) -> None:
    r = client.post(url, json=body)
    assert r.status_code == 400 and message in r.json()["error"], r.text


def test_other_refusals_are_json(client) -> None:
    body = b'{"at": [NaN, 1], "axes": ["pc:0", "pc:1"]}'
    r = client.post("/api/decode", content=body, headers=JSON_BODY)
    assert r.status_code == 400 and "finite" in r.json()["error"]
    r = client.post("/api/decode", content=b"not json", headers=JSON_BODY)
    assert r.status_code == 400 and "JSON" in r.json()["error"]
    r = client.post("/api/export", content=b"[" + b"1," * 3_000_000 + b"1]", headers=JSON_BODY)
    assert r.status_code == 413 and "error" in r.json()
    assert client.get("/api/decode").status_code == 405
    assert client.get("/api/nothing").json() == {"error": "Not Found"}
    # Static files cannot escape their folder, however the path is spelled.
    for url in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fspace.py"):
        r = client.get(url)
        assert r.status_code == 404 and "LatentSpace" not in r.text, url


def test_bare_npy_store_without_attributes(tmp_path, explorer) -> None:
    from starlette.testclient import TestClient

    np.save(tmp_path / "z.npy", np.asarray(explorer.space.z[:500]))
    c = TestClient(create_app(load_explorer("celeba64", tmp_path / "z.npy", "cpu")))
    assert c.get("/api/meta").json()["attributes"] == []
    assert "no attribute" in c.get("/api/plane", params={"ax": "attr:Smiling", "ay": "pc:0"}).text
    _image(c.post("/api/decode", json=POINT))


def test_cli_errors_are_one_line(capsys, tmp_path) -> None:
    assert main(["explore", str(tmp_path / "none.pt"), "--no-browser"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["explore", "celeba64", str(tmp_path / "missing"), "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("latentatlas explore: error:") and err.count("\n") == 1


def test_port_in_use_is_one_line(capsys) -> None:
    from latentatlas.explore import bind

    sock = bind("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        assert main(["explore", "celeba64", "--port", str(port), "--no-browser"]) == 2
        err = capsys.readouterr().err
        assert "cannot listen on 127.0.0.1" in err and "--port 0" in err and err.count("\n") == 1
    finally:
        sock.close()


def test_own_model_and_store(tiny_run, tiny_cache, tmp_path) -> None:
    """Any model the other verbs take: a freshly trained tiny AE (N = 8, 16x16) and its store."""
    from starlette.testclient import TestClient

    from latentatlas.models.encode import encode

    encode(tiny_run, tiny_cache, tmp_path / "store", device="cpu", progress=False)
    c = TestClient(create_app(load_explorer(tiny_run, tmp_path / "store", "cpu")))
    meta = c.get("/api/meta").json()
    assert meta["dim"] == 8 and meta["image_size"] == 16 and meta["n"] == 96
    xy = _floats(c.get("/api/projection", params={"ax": "z:0", "ay": "pc:1"}), 2)
    assert xy.shape == (96, 2)
    face = _image(c.post("/api/decode", json={"axes": ["z:0", "z:1"], "at": [0.5, -0.5]}))
    assert face.shape == (16, 16, 3)
    assert c.get("/api/plane", params={"ax": "pc:8", "ay": "pc:1"}).status_code == 400


def test_only_local_host_names_are_answered(explorer) -> None:
    from starlette.testclient import TestClient

    from latentatlas.explore import LOCAL_HOSTS

    c = TestClient(create_app(explorer, LOCAL_HOSTS))
    # A page on another domain that resolves to 127.0.0.1 (DNS rebinding) sends its own name.
    r = c.get("/api/meta", headers={"host": "attacker.example:8765"})
    assert r.status_code == 400 and "unexpected Host" in r.json()["error"]
    for host in ("127.0.0.1:8765", "localhost:8765", "[::1]:8765"):
        assert c.get("/api/meta", headers={"host": host}).status_code == 200, host


# --- the work budget (issue 20, item 6), at the scale its prices are measured at ----------------


def test_the_issue_s_strip_is_refused_before_any_work(client, explorer, monkeypatch) -> None:
    """64 points, each on its own set of 20,000 KDE samples, with 16 moves over attributes not yet
    fitted: 152 s on the issue's machine. Refused at once, saying why and what the limit is."""
    space = explorer.space
    names = list(space.store.attribute_names)
    points = [
        {
            "base": {"generator": "kde", "n": 20000, "seed": i, "index": i},
            "moves": [[f"attr:{names[(i + j) % 39]}", 1.0] for j in range(16)],
        }
        for i in range(64)
    ]
    fits: list[str] = []
    fit = space._attribute_direction
    monkeypatch.setattr(space, "_attribute_direction", lambda a: fits.append(a) or fit(a))
    make = registry.make_generator
    monkeypatch.setattr(registry, "make_generator", lambda g: fits.append(g) or make(g))
    # Answered at once (a server that did the work would still be at it: a daemon thread).
    answer: list = []
    asked = threading.Thread(
        target=lambda: answer.append(client.post("/api/strip", json={"points": points})),
        daemon=True,
    )
    asked.start()
    asked.join(10)
    assert answer, "the strip was not refused: the server is doing its work"
    r = answer[0]
    assert r.status_code == 422 and r.headers["content-type"] == "application/json"
    error = r.json()["error"]
    assert "at most 8 s" in error and "64 sample sets to draw (1,280,000 points)" in error
    assert "attribute directions to fit" in error
    assert fits == []  # nothing was fitted (or drawn)


def test_one_fit_a_request_is_free_whatever_it_costs(explorer) -> None:
    from latentatlas.explore.budget import BUDGET_S, Work, price

    space = explorer.space
    # A mixture overlay of 20,000 points: its fit alone is ~17 s here, and the page needs it.
    overlay, _ = price(Work(faces=1, samples={("gmm", 20000, 99)}), space, 64)
    # A plane of two attribute directions not fitted yet; a full strip of cached points.
    plane, _ = price(Work(attributes={"Bald", "Mustache"}), space, 64)
    strip, _ = price(Work(faces=64), space, 64)
    assert max(overlay, plane, strip) < BUDGET_S
    many = {a for a in space.store.attribute_names if a not in space.directions}
    seconds, parts = price(Work(attributes=many), space, 64)
    assert seconds > BUDGET_S and parts == [f"{len(many)} attribute directions to fit"]


# --- bring your own image, pins, nearest real images, find, typicality ---------------------------


def _file(image: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt)
    return buf.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG file of ``width`` x ``height`` pixels by its header, without the pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"") + chunk(b"IEND", b"")


def _encode(client, data: bytes, **fields) -> object:
    return client.post("/api/encode", json={"image": base64.b64encode(data).decode(), **fields})


def test_an_uploaded_image_is_cropped_like_the_cache_encoded_and_kept(client, explorer) -> None:
    from latentatlas.data.prepare import load_image

    # Shaped like an aligned CelebA image: only CelebA's face box (dark here) is kept, as
    # `latentatlas prepare` keeps it; a square image is cropped to its centred square.
    aligned = Image.new("RGB", (178, 218), (250, 250, 250))
    aligned.paste(Image.new("RGB", (140, 140), (20, 60, 90)), (19, 39))
    data = _file(aligned)
    r = _encode(client, data, name="me.png", axes=["pc:0", "pc:1"])
    assert r.status_code == 200, r.text
    info = r.json()
    crop = np.asarray(Image.open(io.BytesIO(base64.b64decode(info["crop"].split(",")[1]))))
    expected, _ = load_image(io.BytesIO(data), 64, "celeba")
    np.testing.assert_array_equal(crop, expected)
    inside = crop[4:-4, 4:-4].astype(int)  # Lanczos reads a few pixels past the box's edges
    assert np.abs(inside - [20, 60, 90]).max() <= 2
    # The point is the encoder's, placed on the plane, kept under a key: a base and a line end.
    z = explorer.encode(expected[None])[0]
    plane = explorer.space.plane(["pc:0", "pc:1"])
    np.testing.assert_allclose(info["coords"], explorer.space.project(z, plane)[0])
    assert info["mahalanobis"] == pytest.approx(explorer.space.mahalanobis_of(z)[0])
    assert info["band"] in ("empty core", "typical shell", "tail", "beyond every real point")
    np.testing.assert_array_equal(
        _image(client.post("/api/decode", json={"base": info["key"]})),
        decode(explorer.model, z[None])[0],
    )
    line = client.get("/api/plane", params={"ax": f"line:{info['key']}-centroid", "ay": "pc:1"})
    assert line.status_code == 200, line.text
    # The same file again: the same key (one point, not a new one each upload).
    assert _encode(client, data).json()["key"] == info["key"]
    square = Image.new("RGB", (300, 200), (250, 250, 250))
    square.paste(Image.new("RGB", (200, 200), (20, 60, 90)), (50, 0))
    assert _encode(client, _file(square, "JPEG")).status_code == 200


def test_bad_uploads_are_one_line_4xx(client) -> None:
    big = _png_header(5000, 4000)  # 20 MP: refused before any pixel is decoded
    truncated = _file(Image.new("RGB", (64, 64), (1, 2, 3)), "JPEG")[:200]
    cases = [
        (client.post("/api/encode", json={"image": "%%%"}), 400, "base64"),
        (_encode(client, b"hello"), 400, "not an image"),
        (_encode(client, b""), 400, "base64"),
        (_encode(client, big), 400, "pixels"),
        (_encode(client, truncated), 400, "truncated"),
        (_encode(client, b"\0" * (3 * 2**20 + 1)), 413, "bytes"),
        (client.post("/api/encode", json={"image": "aGk=", "path": "/etc"}), 400, "unknown field"),
    ]
    for r, status, message in cases:
        assert r.status_code == status and message in r.json()["error"], r.text
        assert "\n" not in r.json()["error"]


def test_pins_are_kept_points(client, explorer) -> None:
    spec = {"base": 7, "axes": ["pc:0", "pc:2"], "at": [12.0, 1.5]}
    pin = client.post("/api/keep", json={"point": spec}).json()
    np.testing.assert_allclose(pin["coords"], [12.0, 1.5], atol=1e-9)
    # The pin decodes as the point it was made from, and reads off any plane.
    np.testing.assert_array_equal(
        _image(client.post("/api/decode", json={"base": pin["key"]})),
        _image(client.post("/api/decode", json=spec)),
    )
    again = client.post("/api/keep", json={"point": {"base": pin["key"], "axes": spec["axes"]}})
    assert again.json()["key"] == pin["key"]
    np.testing.assert_allclose(again.json()["coords"], [12.0, 1.5], atol=1e-9)
    r = client.post("/api/decode", json={"base": "p0000000000000000"})
    assert r.status_code == 400 and "no kept point" in r.json()["error"]


def test_path_coordinates_on_the_page_s_plane(client, explorer) -> None:
    a = {"base": 3, "axes": ["pc:0", "pc:1"], "at": [-20.0, 0.0]}
    b = {"base": 3, "axes": ["pc:0", "pc:1"], "at": [20.0, 0.0]}
    r = client.post("/api/path", json={"a": a, "b": b, "steps": 5, "plane": ["z:0", "z:1"]})
    assert r.status_code == 200, r.text
    space = explorer.space
    ends = [space.place(space.real(3), space.plane(["pc:0", "pc:1"]), p["at"]) for p in (a, b)]
    z = np.linspace(ends[0], ends[1], 5)
    np.testing.assert_allclose(r.json()["coords"], z[:, :2], atol=1e-6)
    np.testing.assert_allclose(r.json()["mahalanobis"], space.mahalanobis_of(z))


def test_nearest_real_images_to_any_point(client, explorer) -> None:
    spec = {"base": "centroid", "axes": ["pc:0", "pc:1"], "at": [20.0, -10.0]}
    got = client.post("/api/nearest", json={"point": spec, "k": 4}).json()["neighbours"]
    space = explorer.space
    q = space.place(space.centroid, space.plane(["pc:0", "pc:1"]), [20.0, -10.0])
    d = np.linalg.norm(np.asarray(space.z, dtype=np.float64) - q, axis=1)
    assert [n["index"] for n in got] == np.argsort(d)[:4].tolist()
    np.testing.assert_allclose([n["distance"] for n in got], np.sort(d)[:4])
    assert [n["mahalanobis"] for n in got] == space.mahalanobis[np.argsort(d)[:4]].tolist()
    r = client.post("/api/nearest", json={"point": spec, "k": 33})
    assert r.status_code == 400 and "k must be" in r.json()["error"]


def test_find_by_id_index_or_attribute(client, explorer) -> None:
    store = explorer.space.store
    smiling = (np.asarray(store.attributes[:, list(store.attribute_names).index("Smiling")]) > 0)
    r = client.get("/api/find", params={"q": "attr:smiling"}).json()
    assert r["count"] == int(smiling.sum()) and r["what"] == "attribute Smiling"
    bits = np.unpackbits(np.frombuffer(base64.b64decode(r["mask"]), np.uint8), bitorder="little")
    np.testing.assert_array_equal(bits[: len(smiling)].astype(bool), smiling)
    one = client.get("/api/find", params={"q": "#5"}).json()
    assert one["count"] == 1 and one["matches"] == [{"index": 5, "id": str(explorer.space.ids[5])}]
    part = client.get("/api/find", params={"q": "00012"}).json()
    ids = explorer.space.ids
    assert part["count"] == sum("00012" in i for i in ids) and len(part["matches"]) <= 20
    assert client.get("/api/find", params={"q": "#10000"}).status_code == 400


def test_typicality_bands_come_from_the_real_points(explorer) -> None:
    space = explorer.space
    d = np.sort(space.mahalanobis[space.train])
    low, high = np.quantile(d, [0.01, 0.99])
    assert space.typicality(0.0)["band"] == "empty core"
    assert "every real point" in space.typicality(0.0)["words"]
    assert space.typicality(float(np.median(d)))["band"] == "typical shell"
    assert space.typicality(float((high + d[-1]) / 2))["band"] == "tail"
    assert space.typicality(float(d[-1]) + 1)["band"] == "beyond every real point"
    assert space.typicality(float(low) - 1e-9)["band"] == "empty core"
    assert space.typicality(0.0)["quantiles"] == pytest.approx([low, high])
