"""The explorer's web server: a Starlette app with a JSON/binary API over a
:class:`~latentatlas.explore.space.LatentSpace` and a model's decoder, plus the static page.

Every API input is checked here (finite numbers, integers in ASCII digits, indices inside the
store, bounded batch sizes, path lengths and JSON nesting); no file path ever comes from the
client. A request's work is priced before any of it is done and refused over the budget
(:mod:`~latentatlas.explore.budget`); requests from other sites are refused
(:mod:`~latentatlas.explore.guard`). Errors are JSON ``{"error": ...}`` with a 4xx status (500 for
a bug, without a traceback).

Point arrays travel as little-endian float32 (``application/octet-stream``), not one JSON object
per point. A *point* in a request is a JSON object::

    {"base": "centroid" | "origin" | INDEX | KEY | {"generator": NAME, "n": N, "seed": S,
              "index": K},
     "axes": [AXIS, AXIS], "at": [X, Y], "moves": [[AXIS, AMOUNT], ...]}

``base`` gives the coordinates off the plane; ``at`` (with ``axes``) puts the point at (X, Y) on
the plane; each move then shifts it by AMOUNT standard deviations along AXIS. A KEY names a
point the server keeps (an uploaded image's, a pin's: ``/api/encode``, ``/api/keep``).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from latentatlas.core.errors import LatentAtlasError
from latentatlas.core.imaging import image_grid, png_bytes
from latentatlas.data.store import SPLIT_NAMES
from latentatlas.explore.budget import BUDGET_S, TooMuchWork, Work, check
from latentatlas.explore.checks import load_json, parse_int
from latentatlas.explore.commands import path_command
from latentatlas.explore.guard import AllowedHosts, SameSiteApi
from latentatlas.explore.lru import LruCache
from latentatlas.explore.overview import (
    MAX_THUMBNAILS,
    Overview,
    attribute_counts,
    attribute_filter,
    density_grid,
    in_box,
    spread_points,
)
from latentatlas.explore.space import (
    COLOURS,
    KEPT_PREFIX,
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
MAX_FOUND = 20  # matches of a search listed by id (all of them are marked in the plane)
MAX_IMAGE_BYTES = 3 * 2**20  # an uploaded image file (base64 in JSON: 4 MiB, MAX_BODY)
MAX_IMAGE_PIXELS = 16_000_000  # its width x height, checked before its pixels are decoded
MAX_FILTER_TERMS = 8
MAX_BINS = 512
# Beyond this many real points the page draws the plane as a density image, and the points
# themselves only in a view box that holds at most this many.
DRAW_MAX = 250_000
PATH_KINDS = ("lerp", "slerp", "circle")
BINARY = "application/octet-stream"


class Explorer:
    """What the handlers share: the space, the model (decoding and encoding serialised by a
    lock: one torch module, many request threads), how to name the inputs in a CLI command and
    the work one request may ask for (seconds, see :mod:`~latentatlas.explore.budget`)."""

    def __init__(
        self,
        model: Any,
        space: LatentSpace,
        model_arg: str = "MODEL",
        store_arg: str = "STORE",
        budget_s: float = BUDGET_S,
    ) -> None:
        self.model = model
        self.space = space
        self.model_arg, self.store_arg = model_arg, store_arg
        self.budget_s = budget_s
        self._decode_lock = threading.Lock()
        self.overview = Overview(space)  # computed when the page first asks for it
        self.draw_max = DRAW_MAX
        self.projections: LruCache[np.ndarray] = LruCache(4, 64 * 2**20)
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

    def encode(self, images: np.ndarray) -> np.ndarray:
        """uint8 (m, S, S, 3) -> float64 (m, N)."""
        from latentatlas.models.decode import encode_images

        with self._decode_lock:
            try:
                return encode_images(self.model, images).astype(np.float64)
            except LatentAtlasError as e:
                raise HTTPException(422, f"encode failed: {e}") from None

    def afford(self, work: Work) -> None:
        """Refuse ``work`` (TooMuchWork) if it is over this server's budget."""
        check(work, self.space, int(self.model.image_size), self.budget_s)


# --- input checks ------------------------------------------------------------------------------


def _number(value: Any, what: str, bound: float = MAX_COORD) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadRequest(f"{what} must be a number, got {value!r}")
    if not math.isfinite(value) or abs(value) > bound:
        raise BadRequest(f"{what} must be finite and at most {bound:g} in size, got {value!r}")
    return float(value)


def _integer(value: Any, what: str, low: int, high: int) -> int:
    parsed = parse_int(value, 15) if isinstance(value, str) else value
    if isinstance(parsed, bool) or not isinstance(parsed, int) or not low <= parsed <= high:
        raise BadRequest(f"{what} must be an integer in {low}..{high}, got {value!r}")
    return parsed


def _generator(name: Any) -> str:
    """A generator's name, checked before its fit and samples are priced."""
    if not isinstance(name, str) or name not in OVERLAY_GENERATORS:
        raise BadRequest(f"unknown generator {name!r}: use {', '.join(OVERLAY_GENERATORS)}")
    return name


def _query(request: Request, name: str, default: str | None = None) -> str:
    value = request.query_params.get(name, default)
    if value is None:
        raise BadRequest(f"missing query parameter {name!r}")
    return value


def _plane(ex: Explorer, request: Request, work: Work | None = None) -> tuple[Axis, Axis]:
    """The plane of the query's ``ax`` and ``ay``, its fits priced (with ``work``) first."""
    names = [_query(request, "ax"), _query(request, "ay")]
    work = work or Work()
    for name in names:
        work.axis(name)
    ex.afford(work)
    return ex.space.plane(names)


async def _body(request: Request) -> Any:
    size = request.headers.get("content-length")
    length = None if size is None else parse_int(size, 15, signed=False)
    if size is not None and length is None:
        raise BadRequest(f"Content-Length must be a byte count, got {size[:20]!r}")
    if length is not None and length > MAX_BODY:
        raise HTTPException(413, f"request body over {MAX_BODY} bytes")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise HTTPException(413, f"request body over {MAX_BODY} bytes")
    try:
        return load_json(raw)
    except ValueError as e:
        raise BadRequest(str(e)) from None


def _fields(obj: Any, what: str, allowed: Sequence[str]) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise BadRequest(f"{what} must be a JSON object")
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise BadRequest(f"{what}: unknown field {unknown[0]!r} (allowed: {', '.join(allowed)})")
    return obj


@dataclass(frozen=True)
class Point:
    """A checked point object of a request, nothing computed yet: its ``base`` ("centroid",
    "origin", a real point's index or ``(generator, n, seed, index)``), plane axes, ``at`` and
    ``moves`` ((axis name, amount) pairs)."""

    base: str | int | tuple[str, int, int, int]  # a str: centroid, origin or a kept key
    axes: Any = None
    at: tuple[float, float] | None = None
    moves: tuple[tuple[Any, float], ...] = ()

    def work(self, work: Work) -> None:
        """Add what this point needs to ``work``."""
        for name in [*(self.axes or []), *(name for name, _ in self.moves)]:
            work.axis(name)
        if isinstance(self.base, tuple):
            work.samples.add(self.base[:3])


def parse_point(ex: Explorer, spec: Any) -> Point:
    """The point a point object of the API describes, checked (axes are checked when made)."""
    spec = _fields(spec, "a point", ("base", "axes", "at", "moves"))
    base = spec.get("base", "centroid")
    if isinstance(base, dict):
        g = _fields(base, "a generator base", ("generator", "n", "seed", "index"))
        n = _integer(g.get("n"), "n", 1, MAX_SAMPLES)
        seed = _integer(g.get("seed", 0), "seed", 0, 2**31 - 1)
        k = _integer(g.get("index"), "sample index", 0, n - 1)
        base = (_generator(g.get("generator")), n, seed, k)
    elif isinstance(base, str) and base.startswith(KEPT_PREFIX):
        ex.space.kept_point(base)  # known, or a 400 now
    elif base not in ("centroid", "origin"):
        base = _integer(base, "base", 0, ex.space.n - 1)
    axes = spec.get("axes")
    if "axes" in spec and (not isinstance(axes, list) or len(axes) != 2):
        raise BadRequest("a plane needs two axes")
    at = spec.get("at")
    if at is not None:
        if axes is None:
            raise BadRequest("'at' needs 'axes'")
        if not isinstance(at, list) or len(at) != 2:
            raise BadRequest("'at' must be two numbers [x, y]")
        at = (_number(at[0], "a coordinate"), _number(at[1], "a coordinate"))
    moves = spec.get("moves", [])
    if not isinstance(moves, list) or len(moves) > MAX_MOVES:
        raise BadRequest(f"'moves' must be a list of at most {MAX_MOVES} [axis, amount] pairs")
    parsed = []
    for m in moves:
        if not isinstance(m, list) or len(m) != 2:
            raise BadRequest("each move is [axis, amount]")
        parsed.append((m[0], _number(m[1], "a move's amount", 1e3)))
    return Point(base, axes, at, tuple(parsed))


def points_z(
    ex: Explorer, points: Sequence[Point]
) -> tuple[np.ndarray, list[tuple[Axis, Axis] | None]]:
    """The z-points (m, N) of checked points, and the plane of each (None without axes). Each
    generator sample set is drawn once however many points take their base from it."""
    space = ex.space
    bases: list[np.ndarray | None] = [None] * len(points)
    by_set: dict[tuple[str, int, int], list[int]] = {}
    for i, p in enumerate(points):
        if isinstance(p.base, tuple):
            by_set.setdefault(p.base[:3], []).append(i)
        elif p.base == "centroid":
            bases[i] = space.centroid.copy()
        elif p.base == "origin":
            bases[i] = np.zeros(space.dim)
        elif isinstance(p.base, str):
            bases[i] = space.kept_point(p.base)
        else:
            bases[i] = space.real(p.base)
    for key, members in by_set.items():
        drawn = space.samples(*key)
        for i in members:
            bases[i] = np.asarray(drawn[points[i].base[3]], dtype=np.float64)
    z, planes = [], []
    for p, base in zip(points, bases, strict=True):
        axes = space.plane(p.axes) if p.axes is not None else None
        moves = [(space.axis(name), amount) for name, amount in p.moves]
        z.append(space.place(base, axes, p.at, moves))
        planes.append(axes)
    return np.stack(z), planes


def _priced(ex: Explorer, points: Sequence[Point], faces: int, images: int = 0) -> None:
    work = Work(faces=faces, images=images)
    for p in points:
        p.work(work)
    ex.afford(work)


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
            "bands": space.typicality(0.0)["quantiles"],
            "limits": {
                "strip": MAX_STRIP,
                "path_steps": MAX_PATH_STEPS,
                "samples": MAX_SAMPLES,
                "neighbours": MAX_NEIGHBOURS,
                "moves": MAX_MOVES,
                "work_s": ex.budget_s,
                "points_drawn": ex.draw_max,
                "thumbnails": MAX_THUMBNAILS,
                "image_bytes": MAX_IMAGE_BYTES,
                "image_pixels": MAX_IMAGE_PIXELS,
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
    point = parse_point(ex, spec)
    _priced(ex, [point], faces=1)
    (z,), (axes,) = points_z(ex, [point])
    image = ex.decode(z[None])[0]
    info = _where(ex, z, axes)
    return Response(
        png_bytes(image),
        media_type="image/png",
        headers={"X-Point": json.dumps(info, ensure_ascii=True)},
    )


def _where(ex: Explorer, z: np.ndarray, axes: tuple[Axis, Axis] | None) -> dict[str, Any]:
    """How far out the point z (N,) lies (distance, share further out, typicality band, radius)
    and its coordinates on ``axes`` (when given)."""
    info: dict[str, Any] = ex.space.stats(z)
    info.update(ex.space.typicality(info["mahalanobis"]))
    if axes is not None:
        info["coords"] = ex.space.project(z, axes)[0].tolist()
    return info


async def _strip(ex: Explorer, request: Request) -> Response:
    body = _fields(await _body(request), "the request", ("points",))
    points = body.get("points")
    if not isinstance(points, list) or not 1 <= len(points) <= MAX_STRIP:
        raise BadRequest(f"'points' must be a list of 1..{MAX_STRIP} points")
    return await run_in_threadpool(_decode_strip, ex, points)


def _decode_strip(ex: Explorer, specs: list[Any]) -> Response:
    points = [parse_point(ex, p) for p in specs]
    _priced(ex, points, faces=len(points))
    z, _ = points_z(ex, points)
    return Response(_strip_png(ex.decode(z)), media_type="image/png")


async def _path(ex: Explorer, request: Request) -> Response:
    body = _fields(await _body(request), "the request", ("a", "b", "kind", "steps", "plane"))
    return await run_in_threadpool(_decode_path, ex, body)


def _decode_path(ex: Explorer, body: dict[str, Any]) -> Response:
    from latentatlas.generators.paths import lerp, slerp

    kind = body.get("kind", "lerp")
    if kind not in PATH_KINDS:
        raise BadRequest(f"path kind must be one of {', '.join(PATH_KINDS)}, got {kind!r}")
    steps = _integer(body.get("steps", 12), "steps", 2, MAX_PATH_STEPS)
    ends = [parse_point(ex, body.get("a")), parse_point(ex, body.get("b"))]
    # The coordinates come on the page's plane when it names one, else on a's.
    view = parse_point(ex, {"axes": body["plane"]}) if "plane" in body else None
    _priced(ex, [*ends, *([view] if view else [])], faces=steps)
    (za, zb), (axes, _) = points_z(ex, ends)
    if kind == "circle":
        if axes is None:
            raise BadRequest("a circle needs point a with 'axes' (the plane it turns in)")
        z = ex.space.circle(za, zb, axes, steps)
    else:
        z = (lerp if kind == "lerp" else slerp)(za, zb, steps)
    shown = ex.space.plane(view.axes) if view is not None else axes
    coords = ex.space.project(z, shown).tolist() if shown is not None else None
    png = _strip_png(ex.decode(z))
    cli = path_command(
        body["a"], body["b"], kind, steps, model=ex.model_arg, store=ex.store_arg, ids=ex.space.ids
    )
    return JSONResponse(
        {
            "png": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            "coords": coords,
            "mahalanobis": ex.space.mahalanobis_of(z).tolist(),
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
            **space.typicality(float(space.mahalanobis[i])),
            "radius": float(space.radius[i]),
            "neighbours": _neighbour_list(ex, idx, dist),
        }
    )


def _samples(ex: Explorer, request: Request) -> Response:
    name = _query(request, "generator")
    n = _integer(request.query_params.get("n", "2000"), "n", 1, MAX_SAMPLES)
    seed = _integer(request.query_params.get("seed", "0"), "seed", 0, 2**31 - 1)
    axes = _plane(ex, request, Work(samples={(_generator(name), n, seed)}))
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


async def _keep(ex: Explorer, request: Request) -> Response:
    body = _fields(await _body(request), "the request", ("point",))
    return await run_in_threadpool(_keep_point, ex, body.get("point"))


def _keep_point(ex: Explorer, spec: Any) -> Response:
    """Keep a point (a pin) under a key: later requests name it as a base or a line's end."""
    point = parse_point(ex, spec)
    _priced(ex, [point], faces=0)
    (z,), (axes,) = points_z(ex, [point])
    return JSONResponse({"key": ex.space.keep(z), **_where(ex, z, axes)})


async def _nearest(ex: Explorer, request: Request) -> Response:
    body = _fields(await _body(request), "the request", ("point", "k"))
    return await run_in_threadpool(_nearest_real, ex, body)


def _nearest_real(ex: Explorer, body: dict[str, Any]) -> Response:
    """The real points nearest to any point (decoded, kept, on a path), with distances."""
    point = parse_point(ex, body.get("point"))
    k = _integer(body.get("k", 6), "k", 1, MAX_NEIGHBOURS)
    _priced(ex, [point], faces=0)
    (z,), _ = points_z(ex, [point])
    idx, dist = ex.space.nearest(z, k)
    return JSONResponse({"neighbours": _neighbour_list(ex, idx, dist)})


def _neighbour_list(ex: Explorer, idx: np.ndarray, dist: np.ndarray) -> list[dict[str, Any]]:
    return [
        {
            "index": int(j),
            "id": str(ex.space.ids[j]),
            "distance": float(d),
            "mahalanobis": float(ex.space.mahalanobis[j]),
        }
        for j, d in zip(idx, dist, strict=True)
    ]


def _find(ex: Explorer, request: Request) -> Response:
    space = ex.space
    mask, what = space.find(_query(request, "q"))
    found = np.flatnonzero(mask)
    return JSONResponse(
        {
            "what": what,
            "count": int(len(found)),
            "n": space.n,
            "matches": [{"index": int(i), "id": str(space.ids[i])} for i in found[:MAX_FOUND]],
            "mask": base64.b64encode(np.packbits(mask, bitorder="little").tobytes()).decode(),
        }
    )


async def _encode(ex: Explorer, request: Request) -> Response:
    body = _fields(await _body(request), "the request", ("image", "name", "axes"))
    return await run_in_threadpool(_encode_image, ex, body)


def _encode_image(ex: Explorer, body: dict[str, Any]) -> Response:
    """An uploaded image file (base64, optionally a data: URL): cropped and resized as
    ``latentatlas prepare`` does, encoded, kept under a key, placed on the plane ``axes``."""
    from latentatlas.data.prepare import load_image

    raw = body.get("image")
    if not isinstance(raw, str) or not raw:
        raise BadRequest("'image' must be an image file's bytes in base64")
    name = body.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        raise BadRequest("'name' must be a file name of at most 200 characters")
    axes = body.get("axes")
    point = parse_point(ex, {"base": "origin", **({"axes": axes} if "axes" in body else {})})
    _priced(ex, [point], faces=0, images=1)
    text = raw.split(",", 1)[1] if raw.startswith("data:") else raw
    if len(text) > (MAX_IMAGE_BYTES + 2) // 3 * 4:
        raise HTTPException(413, f"an image file may have at most {MAX_IMAGE_BYTES} bytes")
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        raise BadRequest("'image' is not valid base64") from None
    size = int(ex.model.image_size)
    image, why = load_image(io.BytesIO(data), size, "auto", max_pixels=MAX_IMAGE_PIXELS)
    if image is None:
        raise BadRequest(f"{name[:60] or 'the image'}: {why}")
    z = ex.encode(image[None])[0]
    plane = ex.space.plane(point.axes) if point.axes is not None else None
    crop = "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")
    info = _where(ex, z, plane)
    return JSONResponse({"key": ex.space.keep(z), "name": name, "crop": crop, **info})


def _b64(array: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def _overview(ex: Explorer, request: Request) -> Response:
    """The overview map once ready (200); until then its state (202), started by this call."""
    state = ex.overview.start()
    result = ex.overview.result()
    if result is None:
        if state == "failed":
            raise HTTPException(500, f"the overview failed: {ex.overview.error}")
        return JSONResponse({"state": state}, status_code=202)
    indices, xy, fitted = result
    return JSONResponse(
        {
            "state": "ready",
            "method": ex.overview.method,
            "n": ex.space.n,
            "count": len(indices),
            "fitted": fitted,
            "indices": _b64(indices, "<i4"),
            "xy": _b64(xy, "<f4"),
        }
    )


def _filter(ex: Explorer, request: Request) -> Response:
    """Real points with (NAME) and without (!NAME) the attributes of ``where`` (comma-separated):
    their count, a bit mask and how many of them have each attribute."""
    raw = request.query_params.get("where", "")
    terms = [t for t in raw.split(",") if t]
    if len(terms) > MAX_FILTER_TERMS:
        raise BadRequest(f"a filter has at most {MAX_FILTER_TERMS} attributes")
    mask = attribute_filter(ex.space, terms)
    return JSONResponse(
        {
            "where": terms,
            "count": int(mask.sum()),
            "n": ex.space.n,
            "counts": attribute_counts(ex.space, mask),
            "mask": base64.b64encode(np.packbits(mask, bitorder="little").tobytes()).decode(),
        }
    )


def _plane_xy(ex: Explorer, axes: tuple[Axis, Axis]) -> np.ndarray:
    """Every real point on the plane (n, 2), kept for the last few planes (a view box moves)."""
    return ex.projections.get((axes[0].name, axes[1].name), lambda: ex.space.projection(axes))


def _box(request: Request) -> tuple[float, float, float, float] | None:
    names = ("x0", "x1", "y0", "y1")
    given = [request.query_params.get(k) for k in names]
    if all(v is None for v in given):
        return None
    if any(v is None for v in given):
        raise BadRequest("a view box needs all of x0, x1, y0, y1")
    x0, x1, y0, y1 = (_parse_float(v, k) for v, k in zip(given, names, strict=True))
    if not (x0 < x1 and y0 < y1):
        raise BadRequest("a view box needs x0 < x1 and y0 < y1")
    return x0, x1, y0, y1


def _density(ex: Explorer, request: Request) -> Response:
    """The density image (a bins x bins histogram) of the plane's view box, and the points in it
    (indices, xy) when there are at most ``limit`` of them."""
    axes = _plane(ex, request)
    bins = _integer(request.query_params.get("bins", "256"), "bins", 8, MAX_BINS)
    limit = _integer(request.query_params.get("limit", str(ex.draw_max)), "limit", 0, ex.draw_max)
    box = _box(request)
    xy = _plane_xy(ex, axes)
    grid = density_grid(xy, box, bins)
    inside = in_box(xy, grid["box"]) if box is not None else np.arange(ex.space.n)
    body: dict[str, Any] = {
        "box": grid["box"],
        "bins": bins,
        "counts": _b64(grid["counts"], "<f4"),
        "count": len(inside),
        "points": None,
    }
    if len(inside) <= limit:
        body["points"] = {"indices": _b64(inside, "<i4"), "xy": _b64(xy[inside], "<f4")}
    return JSONResponse(body)


def _thumbnails(ex: Explorer, request: Request) -> Response:
    """Reconstructions of up to ``k`` real points spread over the plane's view box."""
    k = _integer(request.query_params.get("k", str(MAX_THUMBNAILS)), "k", 1, MAX_THUMBNAILS)
    box = _box(request)
    if box is None:
        raise BadRequest("thumbnails need a view box (x0, x1, y0, y1)")
    # Priced at k faces before the plane's points are even looked at.
    axes = _plane(ex, request, Work(faces=k))
    xy = _plane_xy(ex, axes)
    picked = spread_points(xy, box, k)
    images = ex.decode(ex.space.z[picked]) if len(picked) else []
    return JSONResponse(
        {
            "indices": picked.tolist(),
            "xy": xy[picked].astype(np.float64).round(6).tolist(),
            "images": [
                "data:image/png;base64," + base64.b64encode(png_bytes(im)).decode("ascii")
                for im in images
            ],
        }
    )


# --- app -------------------------------------------------------------------------------------


async def _bad_request(request: Request, exc: Exception) -> Response:
    status = 422 if isinstance(exc, TooMuchWork) else 400
    return JSONResponse({"error": str(exc).strip().splitlines()[0]}, status_code=status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Never a traceback page: the server's log has the details.
    return JSONResponse({"error": f"internal error ({type(exc).__name__})"}, status_code=500)


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


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
        Route("/api/keep", partial(_keep, ex), methods=post),
        Route("/api/nearest", partial(_nearest, ex), methods=post),
        Route("/api/encode", partial(_encode, ex), methods=post),
        Route("/api/find", partial(_find, ex), methods=get),
        Route("/api/overview", partial(_overview, ex), methods=get),
        Route("/api/filter", partial(_filter, ex), methods=get),
        Route("/api/density", partial(_density, ex), methods=get),
        Route("/api/thumbnails", partial(_thumbnails, ex), methods=get),
        # StaticFiles resolves every path inside STATIC and refuses any that leaves it.
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(SameSiteApi)]
    if hosts is not None:
        middleware.insert(0, Middleware(AllowedHosts, hosts=hosts))
    return Starlette(
        middleware=middleware,
        routes=routes,
        exception_handlers={
            BadRequest: _bad_request,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
