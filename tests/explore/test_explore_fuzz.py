"""Every explorer endpoint's parameters fuzzed (Hypothesis, derandomized, bounded): whatever is
asked, the answer is a JSON 4xx with a one-line error, or a 200 after no more work than the
budget allows, the work counted as it is really done (each fit made, sample set drawn, face
decoded), not as it was estimated."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from latentatlas.core.imaging import png_bytes
from latentatlas.explore import create_app
from latentatlas.explore.budget import cost

BUDGET_S = 0.1  # on a small store: a strip of 64 faces or 20,000 samples is over it
JSON = {"content-type": "application/json"}

# --- strategies ---------------------------------------------------------------------------------

ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


def _mostly(good: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    """Nine draws in ten from ``good`` (so that requests with several fields get far), one from
    ``bad``."""
    return st.integers(0, 9).flatmap(lambda i: bad if i == 0 else good)


BAD_TEXT = st.sampled_from(
    ["", "\u00b2", "\u0661\u0662", " 1", "1e3", "0x10", "-0", "1" * 25, "7\n", "-5", "300"]
) | st.text(max_size=4)
INDEX = _mostly(st.integers(0, 299), st.integers(-3, 10**6) | BAD_TEXT | ANY_JSON)
INDEX_TEXT = _mostly(st.integers(0, 299).map(str), BAD_TEXT)
AXIS = _mostly(
    st.sampled_from(["pc:0", "pc:1", "z:3", "attr:Smiling", "attr:Male", "line:1-2"]),
    st.sampled_from(["attr:Nope", "line:3-3", "pc:256", "z:\u00b2", "attr:", "line:1", "q:1"])
    | st.text(max_size=8),
)
Z_AXIS = _mostly(st.integers(0, 255).map(lambda j: f"z:{j}"), AXIS)
GENERATOR = _mostly(st.sampled_from(["normal", "mvn", "percomponent"]), st.text(max_size=4))
COORD = _mostly(st.floats(-50, 50), st.sampled_from([float("nan"), 1e300, True, "1", None]))
N = _mostly(st.integers(1, 500), st.sampled_from([20000, 20001, 0]) | BAD_TEXT)
BASE = _mostly(
    st.sampled_from(["centroid", "origin"])
    | st.integers(0, 299)
    | st.fixed_dictionaries(
        {"generator": GENERATOR, "n": N, "index": st.integers(0, 20)}, optional={"seed": INDEX}
    ),
    ANY_JSON | BAD_TEXT,
)
POINT = _mostly(
    st.fixed_dictionaries(
        {},
        optional={
            "base": BASE,
            "axes": _mostly(st.lists(AXIS, min_size=2, max_size=2), ANY_JSON),
            "at": _mostly(st.lists(COORD, min_size=2, max_size=2), ANY_JSON),
            "moves": st.lists(_mostly(st.tuples(AXIS, COORD).map(list), ANY_JSON), max_size=3),
        },
    ),
    ANY_JSON,
)
POINTS = _mostly(
    st.lists(POINT, min_size=1, max_size=4) | st.just([{}] * 64), st.just([{}] * 65) | ANY_JSON
)


# An image file in base64: a small PNG (a data: URL or bare), else anything.
_PNG = base64.b64encode(png_bytes(np.full((20, 24, 3), 128, np.uint8))).decode()
IMAGE = _mostly(
    st.sampled_from([_PNG, "data:image/png;base64," + _PNG]),
    st.sampled_from(["", "aGVsbG8=", "%%%", _PNG[:40]]) | ANY_JSON,
)


PLANE_AXES = st.lists(AXIS, min_size=2, max_size=2)


def _query(**fields: st.SearchStrategy) -> st.SearchStrategy:
    """Query parameters: mostly all of ``fields``, else any of them."""
    return _mostly(st.fixed_dictionaries(fields), st.fixed_dictionaries({}, optional=fields))


PLANE = {"ax": AXIS, "ay": AXIS}
EDGE = _mostly(st.floats(-50, 50).map(str), BAD_TEXT | st.sampled_from(["nan", "inf", "1e400"]))
BOX = {"x0": EDGE, "x1": EDGE, "y0": EDGE, "y1": EDGE}
# Every endpoint: its method, its URL (the path may hold a parameter) and its parameters (a query
# for GET, a JSON body for POST).
ENDPOINTS = {
    "meta": ("GET", st.just("/api/meta"), st.just({})),
    "plane": ("GET", st.just("/api/plane"), _query(**PLANE)),
    "projection": ("GET", st.just("/api/projection"), _query(**PLANE)),
    "colour": (
        "GET",
        st.just("/api/colour"),
        _query(by=_mostly(st.sampled_from(["split", "radius", "attr:Smiling"]), st.text())),
    ),
    "real": (
        "GET",
        INDEX_TEXT.map(lambda i: "/api/real/" + quote(i, safe="")),
        _query(k=_mostly(st.integers(0, 32).map(str), BAD_TEXT)),
    ),
    "samples": (
        "GET",
        st.just("/api/samples"),
        _query(**PLANE, generator=GENERATOR, n=N.map(str), seed=INDEX_TEXT),
    ),
    "slice": (
        "GET",
        st.just("/api/slice"),
        _query(ax=Z_AXIS, ay=Z_AXIS, b=_mostly(st.sampled_from(["", "5"]), BAD_TEXT)),
    ),
    "decode": ("POST", st.just("/api/decode"), POINT),
    "strip": (
        "POST",
        st.just("/api/strip"),
        _mostly(st.fixed_dictionaries({"points": POINTS}), ANY_JSON),
    ),
    "path": (
        "POST",
        st.just("/api/path"),
        st.fixed_dictionaries(
            {"a": POINT, "b": POINT},
            optional={
                "kind": _mostly(st.sampled_from(["lerp", "slerp", "circle"]), ANY_JSON),
                "steps": _mostly(st.integers(2, 12), INDEX | st.integers(0, 70)),
            },
        ),
    ),
    "keep": (
        "POST",
        st.just("/api/keep"),
        _mostly(st.fixed_dictionaries({"point": POINT}), ANY_JSON),
    ),
    "nearest": (
        "POST",
        st.just("/api/nearest"),
        _mostly(
            st.fixed_dictionaries({"point": POINT}, optional={"k": INDEX}),
            ANY_JSON,
        ),
    ),
    "find": (
        "GET",
        st.just("/api/find"),
        _query(q=_mostly(st.sampled_from(["Smiling", "attr:male", "#3", "00001"]), BAD_TEXT)),
    ),
    "encode": (
        "POST",
        st.just("/api/encode"),
        _mostly(
            st.fixed_dictionaries(
                {"image": IMAGE},
                optional={"name": st.text(max_size=6), "axes": PLANE_AXES},
            ),
            ANY_JSON,
        ),
    ),
    "filter": (
        "GET",
        st.just("/api/filter"),
        _query(
            where=_mostly(
                st.lists(st.sampled_from(["Smiling", "!Male", "Eyeglasses"]), max_size=3).map(
                    ",".join
                ),
                st.text(max_size=8) | st.just(",".join(["Male"] * 9)),
            )
        ),
    ),
    "density": (
        "GET",
        st.just("/api/density"),
        _query(**PLANE, **BOX, bins=N.map(str), limit=N.map(str)),
    ),
    "thumbnails": (
        "GET",
        st.just("/api/thumbnails"),
        _query(**PLANE, **BOX, k=_mostly(st.integers(1, 64).map(str), BAD_TEXT)),
    ),
    "export": (
        "POST",
        st.just("/api/export"),
        _mostly(
            _query(indices=st.lists(INDEX, max_size=4), format=st.sampled_from(["csv", "npy"])),
            ANY_JSON,
        ),
    ),
}


# --- the work really done -----------------------------------------------------------------------


class Meter:
    """Counts what the explorer really makes: each cache fill (a fit, a sample set) and each
    decoded face."""

    def __init__(self, ex, monkeypatch: pytest.MonkeyPatch) -> None:
        self.made: dict[str, list] = {}
        self.faces = self.images = 0
        space = ex.space
        for name in ("directions", "generators", "sample_sets"):
            cache = getattr(space, name)
            monkeypatch.setattr(cache, "get", self._counting(name, cache.get))
        decode = ex.decode

        def counted(z):
            out = decode(z)
            self.faces += len(out)
            return out

        monkeypatch.setattr(ex, "decode", counted)
        encode = ex.encode

        def counted_images(images):
            self.images += len(images)
            return encode(images)

        monkeypatch.setattr(ex, "encode", counted_images)

    def _counting(self, name: str, get):
        def wrapped(key, make):
            def made():
                self.made.setdefault(name, []).append(key)
                return make()

            return get(key, made)

        return wrapped

    def reset(self) -> None:
        self.made, self.faces, self.images = {}, 0, 0


@pytest.fixture(scope="module")
def fuzzed(small_explorer):
    ex = small_explorer(300, budget_s=BUDGET_S)
    with pytest.MonkeyPatch.context() as mp:
        yield ex, TestClient(create_app(ex), raise_server_exceptions=False), Meter(ex, mp)


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_answer_is_json_4xx_or_200_within_the_budget(fuzzed, endpoint, data) -> None:
    ex, client, meter = fuzzed
    method, urls, payloads = ENDPOINTS[endpoint]
    url, payload = data.draw(urls, "url"), data.draw(payloads, "parameters")
    request = (method, url, payload)
    meter.reset()
    if method == "GET":
        r = client.get(url, params=payload)
    else:  # json.dumps writes NaN and Infinity, as a careless client might
        r = client.post(url, content=json.dumps(payload), headers=JSON)
    event(str(r.status_code))  # --hypothesis-show-statistics
    if r.status_code != 200:
        assert 400 <= r.status_code < 500, (request, r.status_code, r.text)
        assert r.headers["content-type"] == "application/json"
        error = r.json()["error"]
        assert isinstance(error, str) and error and "\n" not in error
        return
    made = meter.made
    attributes = set(made.get("directions", []))
    generators = set(made.get("generators", []))
    sets = set(made.get("sample_sets", []))
    # Each thing is made at most once a request, and all of it costs no more than the budget.
    assert all(len(keys) == len(set(keys)) for keys in made.values()), made
    size = int(ex.model.image_size)
    spent, parts = cost(ex.space, size, meter.faces, attributes, generators, sets, meter.images)
    assert spent <= BUDGET_S, (request, parts)
