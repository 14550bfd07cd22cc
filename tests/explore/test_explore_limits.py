"""The explorer under attack (issue 20, items 6 and 8), on a small store: fits run outside the
caches' locks and once per key; caches are bounded; other sites cannot make it work; integers are
ASCII digits; deep JSON and malformed HTTP are JSON 4xx. (The work budget, priced at the bundled
store's scale, is tested in test_explore_api.py.)"""

from __future__ import annotations

import json
import socket
import threading
import time

import numpy as np
import pytest
from starlette.testclient import TestClient

from latentatlas.explore import create_app

PLANE = {"ax": "pc:0", "ay": "pc:1"}
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def client(small_explorer) -> TestClient:
    return TestClient(create_app(small_explorer()), raise_server_exceptions=False)


def _refused(r, status: int, *words: str) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"] == "application/json"
    error = r.json()["error"]
    assert all(w in error for w in words), error
    return error


# --- item 6: fits outside the locks, bounded caches ----------------------------------------------


def test_a_cached_projection_does_not_wait_behind_a_fit(small_explorer, monkeypatch) -> None:
    ex = small_explorer()
    c = TestClient(create_app(ex), raise_server_exceptions=False)
    assert c.get("/api/projection", params=PLANE).status_code == 200  # pc axes now cached
    started, release = threading.Event(), threading.Event()
    fit = ex.space._attribute_direction

    def slow_fit(name: str) -> np.ndarray:
        started.set()
        release.wait(10)
        return fit(name)

    monkeypatch.setattr(ex.space, "_attribute_direction", slow_fit)
    fitting = threading.Thread(
        target=c.get, args=("/api/plane",), kwargs={"params": {"ax": "attr:Smiling", "ay": "pc:0"}}
    )
    fitting.start()
    try:
        assert started.wait(10)
        done: list[int] = []
        t = threading.Thread(target=lambda: done.append(c.get("/api/projection", params=PLANE)))
        t.start()
        t.join(3)
        assert done and done[0].status_code == 200, "a cached projection waited for a fit"
    finally:
        release.set()
        fitting.join(10)


def test_two_requests_for_one_missing_fit_fit_once(small_explorer, monkeypatch) -> None:
    ex = small_explorer()
    calls, fit = [], ex.space._attribute_direction

    def counted(name: str) -> np.ndarray:
        calls.append(name)
        time.sleep(0.2)
        return fit(name)

    monkeypatch.setattr(ex.space, "_attribute_direction", counted)
    threads = [threading.Thread(target=ex.space.axis, args=("attr:Male",)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert calls == ["Male"]


def test_caches_are_bounded(small_explorer) -> None:
    from latentatlas.explore.space import MAX_AXES, MAX_SAMPLE_SETS

    space = small_explorer().space
    # The issue: 40,000 distinct line:A-B names grew the axes cache by 100 MB, never freed.
    for i in range(MAX_AXES + 200):
        space.axis(f"line:{i % 400}-{(i + i // 400 + 1) % 400}")
    assert len(space.axes) == MAX_AXES
    assert space.axes.bytes <= MAX_AXES * space.dim * 8
    for seed in range(MAX_SAMPLE_SETS + 4):
        space.samples("normal", 50, seed)
    assert len(space.sample_sets) == MAX_SAMPLE_SETS
    # Least recently used leave first: a set just used again stays.
    space.samples("normal", 50, 5)
    space.samples("normal", 50, 99)
    assert ("normal", 50, 5) in space.sample_sets and ("normal", 50, 4) not in space.sample_sets


def test_lru_cache_keeps_to_its_bounds_and_forgets_failures() -> None:
    from latentatlas.explore.lru import LruCache

    cache: LruCache[np.ndarray] = LruCache(3, max_bytes=100)
    for k in range(3):
        cache.get(k, lambda: np.zeros(2))  # 16 bytes each
    cache.get(0, lambda: np.ones(2))  # a hit: 0 becomes the most recent
    cache.get(3, lambda: np.zeros(2))
    assert 1 not in cache and 0 in cache and len(cache) == 3
    cache.get("big", lambda: np.zeros(10))  # 80 bytes: the oldest go until it fits
    assert len(cache) == 2 and cache.bytes == 96
    assert len(cache.get("huge", lambda: np.zeros(20))) == 20 and "huge" not in cache

    def fail() -> np.ndarray:
        raise ValueError("no")

    with pytest.raises(ValueError):
        cache.get("x", fail)
    assert cache.get("x", lambda: np.zeros(1)).shape == (1,)


# --- item 6: other sites ------------------------------------------------------------------------


def test_cross_site_requests_are_refused(client) -> None:
    c = client
    body = json.dumps({"base": 1})
    # The attack: a page on evil.com posts text/plain (no preflight) to /api/decode.
    evil = {"origin": "http://evil.com", "content-type": "text/plain"}
    _refused(c.post("/api/decode", content=body, headers=evil), 403, "another origin")
    r = c.post("/api/decode", content=body, headers={**evil, "content-type": "application/json"})
    _refused(r, 403, "evil.com")
    _refused(c.post("/api/decode", content=body, headers={"origin": "null"}), 403)
    cross = {"sec-fetch-site": "cross-site"}
    _refused(c.get("/api/samples", params={**PLANE, "generator": "gmm"}, headers=cross), 403)
    # A body not declared JSON is refused whoever sends it.
    r = c.post("/api/decode", content=body, headers={"content-type": "text/plain"})
    _refused(r, 415, "application/json")
    _refused(c.post("/api/export", content=body), 415, "no Content-Type")
    # The page's own requests pass: same origin, JSON.
    own = {
        "origin": "http://testserver",
        "sec-fetch-site": "same-origin",
        "content-type": "application/json; charset=utf-8",
    }
    assert c.post("/api/decode", content=body, headers=own).status_code == 200
    assert c.get("/api/meta", headers={"sec-fetch-site": "none"}).status_code == 200
    # A link from elsewhere may open the page itself (not the API).
    assert c.get("/", headers=cross).status_code == 200


# --- item 8: strict integers, deep JSON, malformed HTTP -------------------------------------------

SUPERSCRIPT_TWO = "\u00b2"  # isdigit() says yes, int() says no


@pytest.mark.parametrize(
    ("method", "url", "payload"),
    [
        ("get", "/api/real/\u00b2", {}),
        ("get", "/api/real/1", {"k": "\u00b2"}),
        ("get", "/api/samples", {**PLANE, "generator": "mvn", "n": "\u00b2"}),
        ("get", "/api/samples", {**PLANE, "generator": "mvn", "seed": "\u00b2"}),
        ("get", "/api/plane", {"ax": "pc:\u00b2", "ay": "pc:1"}),
        ("get", "/api/plane", {"ax": "z:\u00b2", "ay": "pc:1"}),
        ("get", "/api/plane", {"ax": "line:\u00b2-1", "ay": "pc:1"}),
        ("post", "/api/decode", {"base": "\u00b2"}),
        ("post", "/api/decode", {"base": {"generator": "mvn", "n": "\u00b2", "index": 0}}),
        ("post", "/api/decode", {"base": {"generator": "mvn", "n": 5, "seed": "\u00b2"}}),
        ("post", "/api/decode", {"base": {"generator": "mvn", "n": 5, "index": "\u00b2"}}),
        ("post", "/api/path", {"a": {}, "b": {}, "steps": "\u00b2"}),
        ("post", "/api/export", {"indices": ["\u00b2"], "format": "csv"}),
    ],
)
def test_integers_are_ascii_digits(client, method, url, payload) -> None:
    c = client
    r = c.get(url, params=payload) if method == "get" else c.post(url, json=payload)
    _refused(r, 400, SUPERSCRIPT_TWO)


def test_a_content_length_not_in_ascii_digits_is_a_400(client) -> None:
    c = client
    for size in (SUPERSCRIPT_TWO, "-1", "1e3"):
        length = size.encode("latin-1")  # as a client may send it
        r = c.post("/api/decode", content=b"{}", headers={"content-length": length, **JSON})
        _refused(r, 400, "Content-Length")


def test_deeply_nested_json_is_a_400(client) -> None:
    c = client
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000):
        _refused(c.post("/api/strip", content=body, headers=JSON), 400, "100000 levels deep")
    # Brackets inside strings are not nesting.
    r = c.post("/api/decode", content=json.dumps({"base": "[[[[" * 50}).encode(), headers=JSON)
    _refused(r, 400, "base must be")


def _raw(port: int, request: bytes) -> tuple[bytes, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def test_malformed_http_is_answered_in_json(small_explorer) -> None:
    """What uvicorn refuses before the app sees it (a duplicate Host header, Content-Length -1),
    answered in JSON by the server ``latentatlas explore`` runs."""
    import uvicorn

    from latentatlas.explore import LOCAL_HOSTS, bind
    from latentatlas.explore.guard import server_config

    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(server_config(create_app(small_explorer(), LOCAL_HOSTS)))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        host = f"Host: 127.0.0.1:{port}\r\n".encode()
        for request in (
            b"GET /api/meta HTTP/1.1\r\n" + host + host + b"\r\n",
            b"POST /api/decode HTTP/1.1\r\n" + host + b"Content-Length: -1\r\n\r\n{}",
            b"NOT HTTP\r\n\r\n",
        ):
            head, body = _raw(port, request)
            assert head.startswith(b"HTTP/1.1 400"), head
            assert b"content-type: application/json" in head.lower(), head
            assert "malformed HTTP request" in json.loads(body)["error"]
        head, body = _raw(port, b"GET /api/meta HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and json.loads(body)["n"] == 400
    finally:
        server.should_exit = True
        thread.join(10)
