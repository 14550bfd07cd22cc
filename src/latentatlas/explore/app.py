"""The explorer's web server: a Starlette app with a JSON/binary API over a
:class:`~latentatlas.explore.space.LatentSpace` and a model's decoder, plus the static page.

Every API input is checked here (finite numbers, indices inside the store, bounded batch sizes
and path lengths); no file path ever comes from the client. Errors are JSON ``{"error": ...}``
with a 4xx status (500 for a bug, without a traceback).

Point arrays travel as little-endian float32 (``application/octet-stream``), not one JSON object
per point. A *point* in a request is a JSON object::

    {"base": "centroid" | "origin" | INDEX | {"generator": NAME, "n": N, "seed": S, "index": K},
     "axes": [AXIS, AXIS], "at": [X, Y], "moves": [[AXIS, AMOUNT], ...]}

``base`` gives the coordinates off the plane; ``at`` (with ``axes``) puts the point at (X, Y) on
the plane; each move then shifts it by AMOUNT standard deviations along AXIS.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import threading
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.imaging import image_grid, png_bytes
from latentatlas.data.store import SPLIT_NAMES
from latentatlas.explore.commands import path_command
from latentatlas.explore.space import (
    COLOURS,
    OVERLAY_GENERATORS,
    Axis,
    BadRequest,
    LatentSpace,
)

STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 4 * 2**20  # bytes of a request body (an export of 200k indices is ~1.4 MB)
MAX_STRIP = 64  # points decoded in one request
MAX_PATH_STEPS = 64
MAX_SAMPLES = 20000
MAX_NEIGHBOURS = 32
MAX_MOVES = 16
MAX_COORD = 1e6  # |coordinate| and |amount| bounds: finite, and far beyond any real point
PATH_KINDS = ("lerp", "slerp", "circle")
BINARY = "application/octet-stream"


class Explorer:
    """What the handlers share: the space, the model (decoding serialised by a lock: one
    torch module, many request threads) and how to name the inputs in a CLI command."""

    def __init__(
        self, model: Any, space: LatentSpace, model_arg: str = "MODEL", store_arg: str = "STORE"
    ) -> None:
        self.model = model
        self.space = space
        self.model_arg, self.store_arg = model_arg, store_arg
        self._decode_lock = threading.Lock()
        # The first call into a torch module is slow (allocations, kernel choice): pay it here,
        # not on the user's first click.
        self.decode(space.centroid[None])

    def decode(self, z: np.ndarray) -> np.ndarray:
        """float (m, N) -> uint8 (m, S, S, 3)."""
        from latentatlas.models.decode import decode

        with self._decode_lock:
            try:
                return decode(self.model, np.atleast_2d(z))
            except LatentAtlasError as e:
                raise HTTPException(422, f"decode failed: {e}") from None


# --- input checks ------------------------------------------------------------------------------


def _number(value: Any, what: str, bound: float = MAX_COORD) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value) or abs(value) > bound:
        raise BadRequest(f"{what} must be finite and at most {bound:g} in size, got {value!r}")
    return float(value)


def _integer(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 16:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"{what} must be an integer in {low}..{high}, got {value!r}")
    return value


def _query(request: Request, name: str, default: str | None = None) -> str:
    value = request.query_params.get(name, default)
    if value is None:
        raise BadRequest(f"missing query parameter {name!r}")
    return value


def _plane(ex: Explorer, request: Request) -> tuple[Axis, Axis]:
    return ex.space.plane([_query(request, "ax"), _query(request, "ay")])


async def _body(request: Request) -> Any:
    size = request.headers.get("content-length")
    if size is not None and (not size.isdigit() or int(size) > MAX_BODY):
        raise HTTPException(413, f"request body over {MAX_BODY} bytes")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise HTTPException(413, f"request body over {MAX_BODY} bytes")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the request body must be JSON") from None


def _fields(obj: Any, what: str, allowed: Sequence[str]) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise BadRequest(f"{what} must be a JSON object")
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise BadRequest(f"{what}: unknown field {unknown[0]!r} (allowed: {', '.join(allowed)})")
    return obj


def point_z(ex: Explorer, spec: Any) -> tuple[np.ndarray, tuple[Axis, Axis] | None]:
    """The z-point (N,) a point object describes, and its plane (None without ``axes``)."""
    spec = _fields(spec, "a point", ("base", "axes", "at", "moves"))
    space = ex.space
    base = spec.get("base", "centroid")
    if base == "centroid":
        z = space.centroid.copy()
    elif base == "origin":
        z = np.zeros(space.dim)
    elif isinstance(base, dict):
        g = _fields(base, "a generator base", ("generator", "n", "seed", "index"))
        n = _integer(g.get("n"), "n", 1, MAX_SAMPLES)
        seed = _integer(g.get("seed", 0), "seed", 0, 2**31 - 1)
        name = g.get("generator")
        if not isinstance(name, str):
            raise BadRequest("a generator base needs a generator name")
        k = _integer(g.get("index"), "sample index", 0, n - 1)
        z = np.asarray(space.samples(name, n, seed)[k], dtype=np.float64)
    else:
        z = space.real(_integer(base, "base", 0, space.n - 1))
    axes = space.plane(spec["axes"]) if "axes" in spec else None
    at = spec.get("at")
    if at is not None:
        if axes is None:
            raise BadRequest("'at' needs 'axes'")
        if not isinstance(at, list) or len(at) != 2:
            raise BadRequest("'at' must be two numbers [x, y]")
        at = [_number(v, "a coordinate") for v in at]
    moves = spec.get("moves", [])
    if not isinstance(moves, list) or len(moves) > MAX_MOVES:
        raise BadRequest(f"'moves' must be a list of at most {MAX_MOVES} [axis, amount] pairs")
    parsed = []
    for m in moves:
        if not isinstance(m, list) or len(m) != 2:
            raise BadRequest("each move is [axis, amount]")
        parsed.append((space.axis(m[0]), _number(m[1], "a move's amount", 1e3)))
    return space.place(z, axes, at, parsed), axes


def _strip_png(images: np.ndarray, pad: int = 2) -> bytes:
    return png_bytes(image_grid([images], pad=pad))


def _parse_float(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{what} must be a number, got {text!r}") from None
    return _number(value, what)


# --- handlers: handler(explorer, request) -> response ------------------------------------------
# Plain functions run in Starlette's thread pool (numpy, torch); the async ones read a request
# body, then hand their blocking work to that pool themselves.


def _file(path: Path, request: Request) -> Response:
    return FileResponse(path)


def _meta(ex: Explorer, request: Request) -> Response:
    space = ex.space
    counts = np.bincount(space.split, minlength=len(SPLIT_NAMES))
    return JSONResponse(
        {
            "n": space.n,
            "dim": space.dim,
            "model": ex.model_arg,
            "store": ex.store_arg,
            "image_size": int(ex.model.image_size),
            "splits": dict(zip(SPLIT_NAMES, counts.tolist(), strict=False)),
            "attributes": list(space.store.attribute_names),
            "colours": [*COLOURS, *(f"attr:{a}" for a in space.store.attribute_names)],
            "generators": list(OVERLAY_GENERATORS),
            "principal_axes": min(space.dim, 32),
            "limits": {
                "strip": MAX_STRIP,
                "path_steps": MAX_PATH_STEPS,
                "samples": MAX_SAMPLES,
                "neighbours": MAX_NEIGHBOURS,
                "moves": MAX_MOVES,
            },
        }
    )


def _plane_info(ex: Explorer, request: Request) -> Response:
    return JSONResponse(ex.space.plane_info(_plane(ex, request)))


def _projection(ex: Explorer, request: Request) -> Response:
    xy = ex.space.projection(_plane(ex, request))
    return Response(
        xy.astype("<f4").tobytes(), media_type=BINARY, headers={"X-Count": str(len(xy))}
    )


def _colour(ex: Explorer, request: Request) -> Response:
    values, info = ex.space.colour(_query(request, "by"))
    return Response(
        values.astype("<f4").tobytes(),
        media_type=BINARY,
        headers={"X-Colour": json.dumps(info, ensure_ascii=True)},
    )


async def _decode(ex: Explorer, request: Request) -> Response:
    spec = await _body(request)
    return await run_in_threadpool(_decode_point, ex, spec)


def _decode_point(ex: Explorer, spec: Any) -> Response:
    z, axes = point_z(ex, spec)
    image = ex.decode(z[None])[0]
    info: dict[str, Any] = ex.space.stats(z)
    if axes is not None:
        info["coords"] = ex.space.project(z, axes)[0].tolist()
    return Response(png_bytes(image), media_type="image/png", headers={"X-Point": json.dumps(info)})


async def _strip(ex: Explorer, request: Request) -> Response:
    body = _fields(await _body(request), "the request", ("points",))
    points = body.get("points")
    if not isinstance(points, list) or not 1 <= len(points) <= MAX_STRIP:
        raise BadRequest(f"'points' must be a list of 1..{MAX_STRIP} points")
    return await run_in_threadpool(_decode_strip, ex, points)


def _decode_strip(ex: Explorer, points: list[Any]) -> Response:
    z = np.stack([point_z(ex, p)[0] for p in points])
    return Response(_strip_png(ex.decode(z)), media_type="image/png")


async def _path(ex: Explorer, request: Request) -> Response:
    body = _fields(await _body(request), "the request", ("a", "b", "kind", "steps"))
    return await run_in_threadpool(_decode_path, ex, body)


def _decode_path(ex: Explorer, body: dict[str, Any]) -> Response:
    from latentatlas.generators.paths import lerp, slerp

    kind = body.get("kind", "lerp")
    if kind not in PATH_KINDS:
        raise BadRequest(f"path kind must be one of {', '.join(PATH_KINDS)}, got {kind!r}")
    steps = _integer(body.get("steps", 12), "steps", 2, MAX_PATH_STEPS)
    (za, axes), (zb, _) = point_z(ex, body.get("a")), point_z(ex, body.get("b"))
    if kind == "circle":
        if axes is None:
            raise BadRequest("a circle needs point a with 'axes' (the plane it turns in)")
        z = ex.space.circle(za, zb, axes, steps)
    else:
        z = (lerp if kind == "lerp" else slerp)(za, zb, steps)
    coords = ex.space.project(z, axes).tolist() if axes is not None else None
    png = _strip_png(ex.decode(z))
    cli = path_command(
        body["a"], body["b"], kind, steps, model=ex.model_arg, store=ex.store_arg, ids=ex.space.ids
    )
    return JSONResponse(
        {
            "png": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            "coords": coords,
            "steps": steps,
            "kind": kind,
            "cli": cli,
        }
    )


def _real(ex: Explorer, request: Request) -> Response:
    space = ex.space
    i = _integer(request.path_params["index"], "point index", 0, space.n - 1)
    k = _integer(request.query_params.get("k", "6"), "k", 0, MAX_NEIGHBOURS)
    idx, dist = space.neighbours(i, k) if k else (np.zeros(0, int), np.zeros(0))
    attrs = {}
    if space.store.attributes is not None:
        row = np.asarray(space.store.attributes[i])
        attrs = {a: int(v) for a, v in zip(space.store.attribute_names, row, strict=True)}
    return JSONResponse(
        {
            "index": i,
            "id": str(space.ids[i]),
            "split": SPLIT_NAMES[int(space.split[i])],
            "attributes": attrs,
            "mahalanobis": float(space.mahalanobis[i]),
            "further": space.further_share(float(space.mahalanobis[i])),
            "radius": float(space.radius[i]),
            "neighbours": [
                {"index": int(j), "id": str(space.ids[j]), "distance": float(d)}
                for j, d in zip(idx, dist, strict=True)
            ],
        }
    )


def _samples(ex: Explorer, request: Request) -> Response:
    name = _query(request, "generator")
    n = _integer(request.query_params.get("n", "2000"), "n", 1, MAX_SAMPLES)
    seed = _integer(request.query_params.get("seed", "0"), "seed", 0, 2**31 - 1)
    axes = _plane(ex, request)
    xy = ex.space.project(ex.space.samples(name, n, seed), axes)
    return Response(xy.astype("<f4").tobytes(), media_type=BINARY, headers={"X-Count": str(n)})


def _slice(ex: Explorer, request: Request) -> Response:
    axes = _plane(ex, request)
    raw = request.query_params.get("b")
    b = ex.space.default_b() if raw in (None, "") else _parse_float(raw, "b")
    if not b > 0:
        raise BadRequest(f"b must be positive, got {raw}")
    mask = ex.space.slice_mask(axes, b)
    return JSONResponse(
        {
            "b": b,
            "count": int(mask.sum()),
            "n": ex.space.n,
            "mask": base64.b64encode(np.packbits(mask, bitorder="little").tobytes()).decode(),
        }
    )


async def _export(ex: Explorer, request: Request) -> Response:
    body = _fields(await _body(request), "the request", ("indices", "format"))
    space = ex.space
    fmt = body.get("format")
    indices = body.get("indices")
    if fmt not in ("csv", "npy"):
        raise BadRequest(f"format must be csv or npy, got {fmt!r}")
    if not isinstance(indices, list) or not 1 <= len(indices) <= space.n:
        raise BadRequest(f"'indices' must be a list of 1..{space.n} point indices")
    idx = np.array([_integer(i, "a point index", 0, space.n - 1) for i in indices], dtype=np.int64)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["index", "id", "split"])
        for i in idx:
            w.writerow([int(i), space.ids[i], SPLIT_NAMES[int(space.split[i])]])
        data, media = buf.getvalue().encode(), "text/csv"
    else:
        out = io.BytesIO()
        np.save(out, space.z[idx])
        data, media = out.getvalue(), BINARY
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="selection.{fmt}"'},
    )


# --- app -------------------------------------------------------------------------------------


async def _bad_request(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc).strip().splitlines()[0]}, status_code=400)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Never a traceback page: the server's log has the details.
    return JSONResponse({"error": f"internal error ({type(exc).__name__})"}, status_code=500)


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


# Not Starlette's TrustedHostMiddleware: it refuses in plain text ("Invalid host header"), where
# every refusal of this API is JSON; and up to Starlette 1.3 at least (pyproject allows >= 0.37)
# it cut the Host header at its first ':', so "[::1]:8765" became "[" and the IPv6 loopback could
# not be allowed (later releases parse the brackets, starlette issue #3357).
class _AllowedHosts:
    """Refuse requests whose Host header names another machine (JSON 400): a web page that
    rebinds its own domain to 127.0.0.1 must not read the explorer's answers."""

    def __init__(self, app: Any, hosts: Sequence[str]) -> None:
        self.app, self.hosts = app, {h.lower() for h in hosts}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host", "").lower()
            host = host[: host.find("]") + 1] if host.startswith("[") else host.split(":")[0]
            if host not in self.hosts:
                response = JSONResponse({"error": f"unexpected Host {host!r}"}, status_code=400)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(explorer: Explorer, hosts: Sequence[str] | None = None) -> Starlette:
    """The explorer's ASGI app; ``hosts``: the Host header names it answers (None: any)."""
    ex = explorer
    get, post = ["GET"], ["POST"]
    routes = [
        Route("/", partial(_file, STATIC / "index.html"), methods=get),
        Route("/vendor/plotly.min.js", partial(_file, _plotly_js()), methods=get),
        Route("/api/meta", partial(_meta, ex), methods=get),
        Route("/api/plane", partial(_plane_info, ex), methods=get),
        Route("/api/projection", partial(_projection, ex), methods=get),
        Route("/api/colour", partial(_colour, ex), methods=get),
        Route("/api/real/{index}", partial(_real, ex), methods=get),
        Route("/api/samples", partial(_samples, ex), methods=get),
        Route("/api/slice", partial(_slice, ex), methods=get),
        Route("/api/decode", partial(_decode, ex), methods=post),
        Route("/api/strip", partial(_strip, ex), methods=post),
        Route("/api/path", partial(_path, ex), methods=post),
        Route("/api/export", partial(_export, ex), methods=post),
        # StaticFiles resolves every path inside STATIC and refuses any that leaves it.
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [] if hosts is None else [Middleware(_AllowedHosts, hosts=hosts)]
    return Starlette(
        middleware=middleware,
        routes=routes,
        exception_handlers={
            BadRequest: _bad_request,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
