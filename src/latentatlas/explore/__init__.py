"""``latentatlas explore``: an interactive latent-space explorer in the browser.

:func:`load_explorer` loads a model and its z-point store (as every verb does) into an
:class:`~latentatlas.explore.app.Explorer`; :func:`create_app` makes its ASGI app and
:func:`serve` runs it with uvicorn on 127.0.0.1 (:func:`bind` opens its socket).

Modules:

- :mod:`~latentatlas.explore.space`: the geometry (axes, projections, placed points, circle
  paths, distances and typicality bands, nearest real points, kept points, search, slices,
  generator overlays) over one store; numpy, no HTTP.
- :mod:`~latentatlas.explore.app`: the Starlette app: routes, request checks, answers (uploaded
  images encoded with the model).
- :mod:`~latentatlas.explore.commands`: the ``latentatlas path`` command line a path strip offers.
- :mod:`~latentatlas.explore.budget`: the work a request asks for, priced before it is done.
- :mod:`~latentatlas.explore.guard`: what the server refuses before any handler (other hosts,
  other sites, bodies not JSON, malformed HTTP), in JSON.
- :mod:`~latentatlas.explore.checks`: strict integers and depth-bounded JSON.
- :mod:`~latentatlas.explore.lru`: the bounded caches (fits made outside their lock).
- :mod:`~latentatlas.explore.overview`: the overview map (an embedding computed once in a
  background thread on a bounded subsample), attribute filters, a view box's density image and
  points, thumbnails spread over a view box.
- ``static/``: the page (HTML, JavaScript, CSS) the app serves.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import webbrowser
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from latentatlas.core.errors import LatentAtlasError

if TYPE_CHECKING:
    from latentatlas.data.store import ZStore
    from latentatlas.explore.app import Explorer
    from latentatlas.models import ModelSpec

__all__ = ["bind", "create_app", "load_explorer", "serve"]


def load_explorer(
    model: str | os.PathLike | ModelSpec,
    store: str | os.PathLike | ZStore,
    device: str = "auto",
    *,
    verify: bool = True,
    allow_mismatch: bool = False,
    model_arg: str | None = None,
    store_arg: str | None = None,
) -> Explorer:
    """The model (any loader) and the store, checked to belong together, ready to serve."""
    from latentatlas.explore.app import Explorer
    from latentatlas.explore.space import LatentSpace
    from latentatlas.models.pairing import load_model_and_store

    m, _, st = load_model_and_store(
        model, store, device, verify=verify, allow_mismatch=allow_mismatch
    )
    return Explorer(
        m,
        LatentSpace(st),
        model_arg=model_arg or str(getattr(model, "source", model)),
        store_arg=store_arg or (str(store) if isinstance(store, (str, os.PathLike)) else "STORE"),
    )


LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def create_app(explorer: Explorer, hosts: Sequence[str] | None = None) -> Any:
    """The Starlette app of ``explorer``, answering requests for ``hosts`` only (None: any)."""
    from latentatlas.explore.app import create_app as make

    return make(explorer, hosts)


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one), or a one-line error."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as e:
        hint = " (pass --port 0 for a free port)" if e.errno == 98 else ""
        raise LatentAtlasError(f"cannot listen on {host}:{port}: {e.strerror or e}{hint}") from None
    return sock


def _graphical() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def serve(
    explorer: Explorer,
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = True,
    ready: threading.Event | None = None,
) -> None:
    """Serve ``explorer`` until interrupted; prints the URL, opens a browser when asked."""
    import uvicorn

    from latentatlas.explore.guard import server_config

    sock = bind(host, port)
    actual = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{actual}/"
    print(f"latentatlas explore: serving {explorer.space.n} z-points at {url}", flush=True)
    print("  press Ctrl+C to stop", flush=True)
    if open_browser:
        if _graphical():
            # After the server is up, and never in the foreground: without a display Python
            # would fall back to a console browser (lynx, w3m) that takes over the terminal.
            threading.Timer(0.5, webbrowser.open, [url]).start()
        else:
            print("  (no graphical display: open the URL in a browser yourself)", file=sys.stderr)
    # On a local address only local names are answered; on another (--host) the machine's
    # names are not known in advance, so any.
    hosts = LOCAL_HOSTS if host in ("127.0.0.1", "localhost", "::1") else None
    server = uvicorn.Server(server_config(create_app(explorer, hosts)))
    if ready is not None:
        ready.set()
    server.run(sockets=[sock])
